"""What ``run``, ``ingest`` and ``serve`` share: option names, and running the flow with progress and a report."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

import typer

T = TypeVar("T")

ExtractorOption = Annotated[str, typer.Option("--extractor", "-e", help="spacy, llm or ensemble (llm needs OUROBOROS_LLM).")]
MaxLengthOption = Annotated[int, typer.Option("--max-length", min=2, max=8, help="Most companies in a loop (2..8).")]
AlertsToOption = Annotated[
    str | None,
    typer.Option("--alerts-to", help="Where loop alerts go: a folder, a .md/.jsonl/.csv file or an http(s):// "
                 "webhook [default: $OUROBOROS_HOME/alerts/]."),
]
AlertsFormatOption = Annotated[
    str | None,
    typer.Option("--alerts-format", help="md (report with pictures), jsonl or csv [default: from the file "
                 "suffix, else md]."),
]
TaskRunnerOption = Annotated[str, typer.Option("--task-runner", help="Where fetching and extraction run: thread or dask.")]
DaskAddressOption = Annotated[
    str | None,
    typer.Option("--dask-address", help="Scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786; "
                 "without it, --task-runner dask starts a local cluster."),
]


def _in_worker_thread(work: Callable[[], T]) -> T:
    """Run ``work`` in a thread while the main thread waits, so Ctrl-C and SIGTERM reach the CLI's
    own handlers at once (``ouroboros.cli``) instead of waiting for a blocked network read."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the main thread, which raises it
            outcome["error"] = error

    worker = threading.Thread(target=contextvars.copy_context().run, args=(target,), name="ouroboros-flow",
                              daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])


def run_ingestion(task_runner: str = "thread", dask_address: str | None = None, **parameters: Any) -> None:
    """Run the ingestion flow once with bars on the terminal, print what it did, exit 1 on partial failure."""
    from rich.table import Table

    from flows.deploy import build_task_runner
    from flows.ingest import ingest_flow, run_flow, sources_for
    from flows.progress import STAGES, listening
    from graph.driver import connection_info
    from ouroboros.commands.progress import StageBars, show_project_logs
    from ouroboros.console import console, err_console
    from ouroboros.core.settings import get_settings

    # A broken sources file or missing folder fails here, before Prefect starts.
    sources_for(parameters.get("sources"), parameters.get("folder"))
    runner = build_task_runner(task_runner, dask_address)  # type: ignore[arg-type]
    show_project_logs()
    with StageBars(STAGES) as bars, listening(bars):
        summary = _in_worker_thread(lambda: run_flow(flow=ingest_flow.with_options(task_runner=runner), **parameters))

    counts = Table(title="ingestion", show_header=False)
    for field in ("fetched", "seen", "duplicates", "new", "extracted", "failed", "loaded", "deals", "loops", "alerts"):
        counts.add_row(field, str(getattr(summary, field)))
    console.print(counts)
    loops = Table(title=f"{summary.loops} loop(s)")
    for column in ("score", "loop", "money around", "tentative"):
        loops.add_column(column)
    for line in summary.loop_lines:
        loops.add_row(f"{line.score:.3f}", line.chain, line.money_around, "yes" if line.tentative else "")
    console.print(loops)
    console.print(f"alerts: {summary.alerts} new or changed -> {summary.alerts_to}")
    info = connection_info(get_settings())
    if info.browser_url:
        console.print(f"Neo4j Browser: {info.browser_url} (login: `ouroboros neo4j status`)")
    for problem in summary.problems:
        err_console.print(f"[yellow]source failed:[/] {problem}")
    for failure in summary.failures:
        err_console.print(f"[yellow]document failed (retried next run):[/] {failure}")
    if not summary.ok:
        raise typer.Exit(1)
