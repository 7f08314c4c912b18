"""The CLI's side of progress and logs: bars on the terminal, and the lower layers' log lines on stderr."""

from __future__ import annotations

import logging
from types import TracebackType

from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ouroboros.console import err_console

# The project's layers below the CLI log under these names; the CLI shows their INFO lines.
PROJECT_LOGGERS: tuple[str, ...] = ("flows", "graph", "extractors")


def show_project_logs(level: int = logging.INFO) -> None:
    """Print the lower layers' log records on stderr (once per process)."""
    handler = RichHandler(console=err_console, show_time=False, show_path=False, markup=False)
    for name in PROJECT_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, RichHandler) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


class StageBars:
    """A bar per ingestion stage (a ``flows.progress.ProgressListener``), drawn only on a terminal."""

    def __init__(self, stages: tuple[str, ...]) -> None:
        self._progress = Progress(
            TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err_console, disable=not err_console.is_terminal, transient=False,
        )
        self._stages = stages
        self._bars: dict[str, TaskID] = {}

    def __enter__(self) -> StageBars:
        self._progress.start()
        self._bars = {stage: self._progress.add_task(stage, total=None) for stage in self._stages}
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def expect(self, stage: str, total: int) -> None:
        """Set the bar's total."""
        self._progress.update(self._bars[stage], total=total)

    def advance(self, stage: str, count: int) -> None:
        """Move the bar."""
        self._progress.update(self._bars[stage], advance=count)
