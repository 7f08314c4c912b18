"""The ``ouroboros`` command line. Each area keeps its commands in ``ouroboros.commands``."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from types import FrameType

import typer

from ouroboros.commands import alerts, exposure, extract, graph, ingest, neo4j, review, run
from ouroboros.console import err_console
from ouroboros.core.errors import OuroborosError

app = typer.Typer(
    name="ouroboros",
    help=(
        "Find circular capital flows in the AI industry: read news and filings, extract deals, "
        "load them into Neo4j and report the loops.\n\n"
        "Exit codes: 0 ok; 1 some inputs failed (the rest was processed); 2 bad configuration or "
        "arguments; 3 unusable input; 4 Neo4j server problem; 5 graph query or write failed; "
        "6 extraction failed; 7 alert delivery failed (kept for retry); 8 another run holds this home's "
        "writer lock; 130 stopped by Ctrl-C or SIGTERM (what was loaded stays)."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)

app.add_typer(neo4j.app, name="neo4j")
app.add_typer(graph.app, name="graph")
app.add_typer(alerts.app, name="alerts")
app.add_typer(review.app, name="review")
app.command("run")(run.run)
app.command("extract")(extract.extract)
app.command("eval")(extract.evaluate)
app.command("loops")(graph.loops)
app.command("exposure")(exposure.exposure)
app.command("ingest")(ingest.ingest)
app.command("serve")(ingest.serve)


# Exit code of a run stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell convention).
INTERRUPTED = 130
# After a stop signal, the process ends within this many seconds even if a worker thread is
# still waiting on the network: what was loaded is committed, and an open transaction rolls back.
STOP_GRACE_S = 5.0


def _exit_now() -> None:
    """End the process at once, with the helpers it started (Prefect's temporary API server, a
    local Dask cluster), which would otherwise outlive it."""
    import psutil

    sys.stdout.flush()
    sys.stderr.flush()
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.terminate()
    os._exit(INTERRUPTED)


def _stop(signum: int, frame: FrameType | None) -> None:
    """First Ctrl-C/SIGTERM: stop the main thread and arm a watchdog; a second one ends at once."""
    if getattr(_stop, "armed", False):
        _exit_now()
    _stop.armed = True  # type: ignore[attr-defined]
    err_console.print(f"[yellow]stopping (what is loaded stays; up to {STOP_GRACE_S:.0f} s)[/]")
    watchdog = threading.Timer(STOP_GRACE_S, _exit_now)
    watchdog.daemon = True
    watchdog.start()
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point: known errors become one clear message and a meaningful exit code."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        app()
    except OuroborosError as error:
        err_console.print(f"[bold red]error:[/] {error}")
        sys.exit(error.exit_code)
    except BaseException as error:
        # Inside a flow run Prefect swaps in its own SIGTERM handler, which raises its
        # TerminationSignal (matched by name: importing Prefect here would slow every command).
        stopped = getattr(_stop, "armed", False) or isinstance(error, KeyboardInterrupt) or (
            type(error).__name__ == "TerminationSignal")
        if not stopped:
            raise
        # Worker threads may still wait on a slow server, and they hold nothing that must be
        # saved (every write is a transaction), so do not wait for them.
        err_console.print("[yellow]stopped (what was loaded stays)[/]")
        _exit_now()


if __name__ == "__main__":
    main()
