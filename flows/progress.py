"""Progress of an ingestion run: counts per stage in the run log, and events for whoever listens.

The flow never draws on the terminal (only the CLI does): it counts documents per stage, logs each
stage's count, and tells the listener installed with ``listening(...)`` (the CLI's progress bars)
how far it got. Without a listener, as under ``serve`` or a deployment, only the log remains.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Protocol

STAGES: tuple[str, ...] = ("fetched", "extracted", "loaded")


class ProgressListener(Protocol):
    """Receives stage totals and advances (the CLI draws them as bars)."""

    def expect(self, stage: str, total: int) -> None:
        """``stage`` will see ``total`` documents."""

    def advance(self, stage: str, count: int) -> None:
        """``count`` more documents passed ``stage``."""


_listener: ContextVar[ProgressListener | None] = ContextVar("ouroboros_progress_listener", default=None)


@contextlib.contextmanager
def listening(listener: ProgressListener) -> Iterator[None]:
    """Send the progress of flows run inside this block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


class IngestProgress:
    """Counts documents per stage, logs each stage's count and forwards events to the listener."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> None:
        self.logger = logger
        self.counts: dict[str, int] = dict.fromkeys(STAGES, 0)
        self._listener = _listener.get()

    def expect(self, stage: str, total: int) -> None:
        """Set how many documents ``stage`` will see."""
        if self._listener is not None:
            self._listener.expect(stage, total)

    def advance(self, stage: str, count: int = 1) -> None:
        """``count`` more documents passed ``stage``."""
        self.counts[stage] += count
        if self._listener is not None:
            self._listener.advance(stage, count)

    def log(self, stage: str, detail: str = "") -> None:
        """Write the stage's count to the run log."""
        self.logger.info("documents %s: %d%s", stage, self.counts[stage], f" ({detail})" if detail else "")
