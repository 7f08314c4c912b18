"""``ouroboros ingest`` (run the ingestion flow once) and ``ouroboros serve`` (run it on its schedule)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ouroboros.console import console, err_console
from ouroboros.errors import ConfigError

app = typer.Typer(no_args_is_help=True)

SourcesOption = Annotated[
    Path, typer.Option("--sources", "-s", help="The sources YAML file (see sources.example.yaml).")
]
ExtractorOption = Annotated[str, typer.Option("--extractor", "-e", help="Extractor: spacy, llm or ensemble.")]
AlertsOption = Annotated[
    str | None,
    typer.Option("--alerts", help="Where loop alerts go: folder, .jsonl/.csv/.md file or webhook URL "
                 "(default: $OUROBOROS_HOME/alerts)."),
]


def ingest(
    sources: SourcesOption = Path("sources.yaml"),
    task_runner: Annotated[
        str, typer.Option("--task-runner", help="Where fetching and extraction run: thread or dask.")
    ] = "thread",
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="Scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786; "
                     "without it, --task-runner dask starts a local cluster."),
    ] = None,
    extractor: ExtractorOption = "spacy",
    alerts: AlertsOption = None,
    alert_format: Annotated[str | None, typer.Option("--alert-format", help="jsonl, csv or md.")] = None,
) -> None:
    """Run the ingestion flow once: fetch, deduplicate, extract, load, find loops, send alerts."""
    from flows.deploy import build_task_runner
    from flows.ingest import ingest_flow
    from flows.sources import load_sources

    load_sources(sources)  # a broken file fails here, before Prefect starts
    runner = build_task_runner(task_runner, dask_address)  # type: ignore[arg-type]
    summary = ingest_flow.with_options(task_runner=runner)(
        sources=str(sources.resolve()), extractor=extractor, alerts=alerts, alert_format=alert_format
    )
    table = Table(title="ingestion", show_header=False)
    for field, value in summary.model_dump(exclude={"problems"}).items():
        table.add_row(field, str(value))
    console.print(table)
    for problem in summary.problems:
        err_console.print(f"[yellow]skipped:[/] {problem}")
    if summary.problems or summary.failed:
        raise typer.Exit(1)


def serve(
    sources: SourcesOption = Path("sources.yaml"),
    extractor: ExtractorOption = "spacy",
    alerts: AlertsOption = None,
) -> None:
    """Serve the ingestion flow on the schedule of the sources file (Ctrl-C stops it)."""
    from prefect import serve as prefect_serve

    from flows.deploy import build_deployment
    from flows.sources import load_sources

    config = load_sources(sources)
    if config.schedule is None:
        raise ConfigError(
            f"sources file {sources} has no 'schedule' key; add `schedule: {{cron: \"0 */6 * * *\"}}` "
            "or `schedule: {interval: 21600}`"
        )
    deployment = build_deployment(config.schedule, sources, {"extractor": extractor, "alerts": alerts})
    when = config.schedule.cron or f"every {config.schedule.interval}"
    err_console.print(f"serving ouroboros-ingest/{deployment.name} ({when}); Ctrl-C stops")
    prefect_serve(deployment)
