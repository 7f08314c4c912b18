"""Progress of an ingestion run: a rich progress display on the terminal, counts in the run logs."""

from __future__ import annotations

import logging
from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ouroboros.console import err_console

STAGES: tuple[str, ...] = ("fetched", "extracted", "loaded")


class IngestProgress:
    """Counts documents per stage; shows bars when stderr is a terminal and logs each stage's count."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
        self.logger = logger
        self.counts: dict[str, int] = dict.fromkeys(STAGES, 0)
        self._progress = Progress(
            TextColumn("{task.description:>9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=not err_console.is_terminal,
            transient=False,
        )
        self._bars: dict[str, TaskID] = {}

    def __enter__(self) -> IngestProgress:
        self._progress.start()
        self._bars = {stage: self._progress.add_task(stage, total=None) for stage in STAGES}
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()

    def expect(self, stage: str, total: int) -> None:
        """Set how many documents ``stage`` will see."""
        self._progress.update(self._bars[stage], total=total)

    def advance(self, stage: str, count: int = 1) -> None:
        """``count`` more documents passed ``stage``."""
        self.counts[stage] += count
        self._progress.update(self._bars[stage], advance=count)

    def log(self, stage: str, detail: str = "") -> None:
        """Write the stage's count to the run log."""
        self.logger.info("documents %s: %d%s", stage, self.counts[stage], f" ({detail})" if detail else "")
