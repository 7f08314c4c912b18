"""The ingestion flow on a Dask cluster, as an entrypoint for ``prefect.yaml`` deployments.

``prefect deploy`` records an entrypoint, not a task runner, so a work-pool deployment that should
fan fetching and extraction out to Dask points at this module's flow instead of ``ingest_flow``.
The worker that runs it reads the cluster's address from ``OUROBOROS_DASK_ADDRESS`` when the flow
is loaded (``tcp://scheduler:8786``); unset, the run starts a local cluster on the worker's machine.
"""

from __future__ import annotations

import os

from flows.deploy import build_task_runner
from flows.ingest import ingest_flow

DASK_ADDRESS_VARIABLE = "OUROBOROS_DASK_ADDRESS"

ingest_flow_on_dask = ingest_flow.with_options(
    task_runner=build_task_runner("dask", os.environ.get(DASK_ADDRESS_VARIABLE) or None)
)
