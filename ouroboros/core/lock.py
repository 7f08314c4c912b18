"""One writer per home: loads, alert exports and resets on one ``OUROBOROS_HOME`` take turns.

The lock is a file in the home (``filelock``), so it also holds between processes; the operating
system frees it when its holder dies, so a killed run never leaves the home locked.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from ouroboros.core.errors import BusyError

log = logging.getLogger(__name__)

LOCK_NAME = "writer.lock"


@contextlib.contextmanager
def writer_lock(home: Path, wait_s: float) -> Iterator[None]:
    """Hold the home's writer lock, waiting up to ``wait_s`` seconds for another run to finish.

    Re-entrant within one process (a flow that exports alerts holds it once).

    Raises:
        BusyError: another process still held it after ``wait_s`` seconds.
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    lock = FileLock(path, timeout=wait_s, mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another ouroboros run is writing to %s; waiting up to %.0f s for it", home, wait_s)
        try:
            lock.acquire()
        except Timeout:
            raise BusyError(
                f"another ouroboros run has been writing to {home} for over {wait_s:.0f} s (lock {path}); "
                "wait for it to finish (or stop it), or use another OUROBOROS_HOME"
            ) from None
    try:
        yield
    finally:
        lock.release()

