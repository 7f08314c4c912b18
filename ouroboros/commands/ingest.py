"""``ouroboros ingest`` (run the ingestion flow once) and ``ouroboros serve`` (run it on its schedule)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ouroboros.commands.options import (
    AlertsFormatOption,
    AlertsToOption,
    DaskAddressOption,
    ExtractorOption,
    MaxLengthOption,
    TaskRunnerOption,
    run_ingestion,
)

SourcesOption = Annotated[
    Path, typer.Option("--sources", "-s", help="The sources YAML file (see sources.example.yaml).")
]


def ingest(
    sources: SourcesOption = Path("sources.yaml"),
    task_runner: TaskRunnerOption = "thread",
    dask_address: DaskAddressOption = None,
    extractor: ExtractorOption = "spacy",
    max_length: MaxLengthOption = 6,
    alerts_to: AlertsToOption = None,
    alerts_format: AlertsFormatOption = None,
) -> None:
    """Run the ingestion flow once: fetch, deduplicate, extract, load, find loops, send alerts.

    Exits 1 when a source or a document failed (the rest is loaded; the flow run ends Failed and
    names them), 2 on a bad sources file.
    """
    run_ingestion(task_runner=task_runner, dask_address=dask_address, sources=str(sources.resolve()),
                  extractor=extractor, alerts_to=alerts_to, alerts_format=alerts_format, max_length=max_length)


def serve(
    sources: SourcesOption = Path("sources.yaml"),
    task_runner: TaskRunnerOption = "thread",
    dask_address: DaskAddressOption = None,
    extractor: ExtractorOption = "spacy",
    max_length: MaxLengthOption = 6,
    alerts_to: AlertsToOption = None,
    alerts_format: AlertsFormatOption = None,
) -> None:
    """Serve the ingestion flow on the schedule of the sources file (Ctrl-C stops it).

    One run at a time: the deployment has a concurrency limit of 1, since one loader writes at a time.
    """
    from prefect import serve as prefect_serve

    from flows.deploy import build_deployment, build_task_runner
    from flows.sources import load_sources
    from ouroboros.console import err_console
    from ouroboros.core.errors import ConfigError

    config = load_sources(sources)
    if config.schedule is None:
        raise ConfigError(
            f"sources file {sources} has no 'schedule' key; add `schedule: {{cron: \"0 */6 * * *\"}}` "
            "or `schedule: {interval: 21600}`"
        )
    runner = build_task_runner(task_runner, dask_address)  # type: ignore[arg-type]
    parameters = {"extractor": extractor, "alerts_to": alerts_to, "alerts_format": alerts_format,
                  "max_length": max_length}
    deployment = build_deployment(config.schedule, sources, parameters, task_runner=runner)
    when = config.schedule.cron or f"every {config.schedule.interval}"
    err_console.print(f"serving ouroboros-ingest/{deployment.name} ({when}), one run at a time; Ctrl-C stops")
    prefect_serve(deployment)
