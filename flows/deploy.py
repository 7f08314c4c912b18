"""Task runners and deployments of the ingestion flow (what ``ouroboros ingest`` and ``serve`` build)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from prefect.task_runners import ThreadPoolTaskRunner

from flows.ingest import ingest_flow
from flows.sources import Schedule
from ouroboros.core.errors import ConfigError

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment
    from prefect.task_runners import TaskRunner

TaskRunnerKind = Literal["thread", "dask"]
DEPLOYMENT_NAME = "scheduled"


def build_task_runner(
    kind: TaskRunnerKind, address: str | None = None, *, workers: int | None = None, threads: int = 1
) -> TaskRunner[Any]:
    """Threads in this process, or Dask: the cluster at ``address``, else a local one of ``workers`` processes."""
    if kind == "thread":
        if address:
            raise ConfigError("--dask-address needs --task-runner dask")
        return ThreadPoolTaskRunner(max_workers=4)
    if kind != "dask":
        raise ConfigError(f"unknown task runner {kind!r}; use 'thread' or 'dask'")
    from prefect_dask import DaskTaskRunner

    if address:
        if not address.startswith(("tcp://", "tls://", "ws://", "wss://")):
            raise ConfigError(f"--dask-address {address!r} must look like tcp://scheduler-host:8786")
        return DaskTaskRunner(address=address)
    workers = workers or max(1, min(4, (os.cpu_count() or 2) - 1))
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": threads, "processes": True})


def build_deployment(
    schedule: Schedule,
    sources: Path,
    parameters: dict[str, Any] | None = None,
    name: str = DEPLOYMENT_NAME,
    task_runner: TaskRunner[Any] | None = None,
) -> RunnerDeployment:
    """The ingestion flow as a deployment that runs on ``schedule`` with the sources file ``sources``.

    At most one run at a time (``concurrency_limit=1``): one loader writes to a graph at a time, so a
    run that comes due while the last one still loads waits instead of racing it.
    """
    timing: dict[str, Any] = {"cron": schedule.cron} if schedule.cron else {"interval": schedule.interval}
    flow = ingest_flow if task_runner is None else ingest_flow.with_options(task_runner=task_runner)
    # Called synchronously, so the result is the deployment, not the coroutine of its union type.
    return flow.to_deployment(  # type: ignore[return-value]
        name=name,
        parameters={"sources": str(sources.resolve()), **(parameters or {})},
        description="Ouroboros ingestion: feeds, SEC filings and folders into the deal graph, then loop alerts.",
        tags=["ouroboros", "ingest"],
        concurrency_limit=1,
        **timing,
    )
