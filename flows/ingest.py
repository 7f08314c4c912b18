"""The ingestion flow: get -> normalise -> deduplicate -> extract -> load -> detect loops -> alert.

Each stage is a Prefect task, thin over a function of ``flows.stages``/``flows.fetch``. Fetching
and extraction are submitted to the flow's task runner (threads by default, a Dask cluster with
``--task-runner dask``); every stage that talks to Neo4j runs in the flow's own process, which
holds the one driver. Documents are recorded in the graph (``cypher/ingest.cypher``) as they
move: fetched (text kept), extracted or failed, loaded; so a second run skips what it has seen
and a crashed run picks up where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel

from extractors.records import SourceDocument
from flows import fetch, stages
from flows.dedupe import DedupeResult, KnownDocument, embed
from flows.progress import IngestProgress
from flows.sources import EdgarSource, SourcesConfig, load_sources
from graph.alerts import export_alerts
from graph.loops import find_loops

# Fetches wait a little and try again only when retrying may help (timeouts, 5xx).
FETCH_RETRIES = 2
FETCH_RETRY_DELAYS = [2, 10]


class IngestSummary(BaseModel):
    """What one run did, document counts first."""

    fetched: int = 0
    seen: int = 0
    duplicates: int = 0
    new: int = 0
    extracted: int = 0
    failed: int = 0
    loaded: int = 0
    deals: int = 0
    loops: int = 0
    alerts: int = 0
    problems: list[str] = []


def _retry_when_unavailable(task: Any, task_run: TaskRun, state: State[Any]) -> bool:
    return isinstance(state.result(raise_on_failure=False), fetch.SourceUnavailable)


@task(
    retries=FETCH_RETRIES, retry_delay_seconds=FETCH_RETRY_DELAYS,
    retry_condition_fn=_retry_when_unavailable, cache_policy=NO_CACHE,
)
def fetch_feed_task(
    url: str, timeout: float, skip: set[str]
) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """One RSS/Atom feed and its new item pages."""
    with fetch.make_client(fetch.FEED_USER_AGENT, timeout) as client:
        return fetch.fetch_feed(client, url, skip)


@task(
    retries=FETCH_RETRIES, retry_delay_seconds=FETCH_RETRY_DELAYS,
    retry_condition_fn=_retry_when_unavailable, cache_policy=NO_CACHE,
)
def fetch_edgar_task(
    config: EdgarSource, timeout: float, skip: set[str]
) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """The configured SEC filings, one company after the other under one rate limiter."""
    with fetch.make_client(config.user_agent, timeout) as client:
        return fetch.fetch_edgar(client, config, skip)


@task(cache_policy=NO_CACHE)
def read_folders_task(paths: list[Path]) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """The local folders' documents."""
    return fetch.fetch_folders(paths)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def read_state_task(driver: Any) -> list[KnownDocument]:
    """What the graph remembers of each document."""
    return stages.read_known(driver)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def read_pending_task(driver: Any, max_attempts: int) -> list[SourceDocument]:
    """Documents an earlier run did not finish."""
    return stages.read_pending(driver, max_attempts)


@task(cache_policy=NO_CACHE)
def normalise_task(fetched: list[SourceDocument], pending: list[SourceDocument]) -> list[SourceDocument]:
    """Clean text and canonical ids; a fresh copy of a pending document replaces the stored one."""
    return stages.gather(fetched, pending)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def deduplicate_task(
    driver: Any, documents: list[SourceDocument], known: list[KnownDocument], threshold: float, max_attempts: int
) -> DedupeResult:
    """Drop what was seen, turn copies into extra sources, record the new documents as fetched."""
    result = stages.find_duplicates(driver, documents, known, embed, threshold, max_attempts)
    stages.record_fetched(driver, result)
    return result


@task(retries=1, retry_delay_seconds=1, cache_policy=NO_CACHE)
def extract_task(extractor: str, document: SourceDocument) -> stages.Extraction:
    """Deal records of one document (runs on the task runner: a thread or a Dask worker)."""
    return stages.extract_document(extractor, document)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def record_extracted_task(
    driver: Any, extractions: list[stages.Extraction], failures: list[stages.Failure]
) -> None:
    """Mark documents extracted or failed."""
    stages.record_extracted(driver, extractions, failures)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def load_task(driver: Any, extractions: list[stages.Extraction], documents: list[SourceDocument]) -> int:
    """Write one batch of documents' deals and mark them loaded."""
    return stages.load_documents(driver, extractions, documents)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def detect_loops_task(driver: Any) -> list[Any]:
    """Every loop the graph holds now."""
    return find_loops(driver)


@task(retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def alert_task(driver: Any, loops: list[Any], destination: str | None, fmt: str | None) -> int:
    """Export the loops that are new or changed since the last alert; returns how many went out."""
    return export_alerts(driver, destination, fmt, loops=loops).delivered


@flow(name="ouroboros-ingest", task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=False)
def ingest_flow(
    sources: str = "sources.yaml",
    extractor: str = "spacy",
    alerts: str | None = None,
    alert_format: str | None = None,
    max_attempts: int = 3,
    batch_size: int = 20,
) -> IngestSummary:
    """Ingest every source of the sources file once.

    Args:
        sources: Path of the sources YAML file.
        extractor: Registered extractor name (``spacy``, ``llm``, ``ensemble``).
        alerts: Where loop alerts go: a folder, a file or a webhook URL (default ``$OUROBOROS_HOME/alerts``).
        alert_format: ``jsonl``, ``csv`` or ``md`` (default from the destination).
        max_attempts: Extraction attempts before a failing document is left alone (until its text changes).
        batch_size: Documents loaded per write (and marked loaded together).
    """
    from graph.driver import get_driver

    config = load_sources(Path(sources))
    # Build the extractor once here so a configuration problem (say, no OUROBOROS_LLM) stops the run
    # with its own message instead of failing every document one by one.
    stages.cached_extractor(extractor)
    driver = get_driver()
    try:
        return run_ingest(driver, config, extractor, alerts, alert_format, max_attempts, batch_size)
    finally:
        driver.close()


def run_ingest(
    driver: Any,
    config: SourcesConfig,
    extractor: str,
    alerts: str | None,
    alert_format: str | None,
    max_attempts: int,
    batch_size: int,
) -> IngestSummary:
    """The flow's body (inside a flow run): each stage in order, counting as it goes."""
    logger = get_run_logger()
    summary = IngestSummary()
    with IngestProgress(logger) as progress:
        # get
        known = read_state_task(driver)
        skip = stages.skip_urls(known, max_attempts)
        fetched, problems = _get(config, skip)
        summary.problems = [f"{p.source}: {p.reason}" for p in problems]
        pending = read_pending_task(driver, max_attempts)
        progress.expect("fetched", len(fetched))
        progress.advance("fetched", len(fetched))
        summary.fetched = len(fetched)
        progress.log("fetched", f"{len(pending)} pending from earlier runs, {len(problems)} problems")
        # normalise, deduplicate
        documents = normalise_task(fetched, pending)
        result = deduplicate_task(driver, documents, known, config.dedupe.near_duplicate_threshold, max_attempts)
        summary.seen, summary.duplicates, summary.new = result.seen, len(result.duplicates), len(result.new)
        logger.info(
            "documents new: %d, already loaded: %d, duplicates: %d", summary.new, summary.seen, summary.duplicates
        )
        # extract
        progress.expect("extracted", len(result.new))
        extractions, failures = _extract(extractor, result.new, progress)
        record_extracted_task(driver, extractions, failures)
        summary.extracted, summary.failed = len(extractions), len(failures)
        for failure in failures:
            logger.warning("extraction failed, retried next run: %s", failure.error)
        progress.log("extracted", f"{len(failures)} failed")
        # load
        progress.expect("loaded", len(extractions))
        by_id = {d.doc: d for d in result.new}
        for start in range(0, len(extractions), batch_size):
            batch = extractions[start : start + batch_size]
            summary.deals += load_task(driver, batch, [by_id[e.doc] for e in batch])
            progress.advance("loaded", len(batch))
        summary.loaded = progress.counts["loaded"]
        progress.log("loaded", f"{summary.deals} deals")
    # detect loops, alert: reads only, unless a loop is new or changed
    loops = detect_loops_task(driver)
    summary.loops = len(loops)
    summary.alerts = alert_task(driver, loops, alerts, alert_format)
    logger.info("loops: %d, alerts sent: %d", summary.loops, summary.alerts)
    return summary


def _get(config: SourcesConfig, skip: set[str]) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """Fetch every source concurrently; a source that fails is logged and skipped."""
    logger = get_run_logger()
    futures = [(feed.url, fetch_feed_task.submit(feed.url, config.timeout, skip)) for feed in config.feeds]
    if config.edgar is not None:
        futures.append(("EDGAR", fetch_edgar_task.submit(config.edgar, config.timeout, skip)))
    if config.folders:
        futures.append(("folders", read_folders_task.submit([f.path for f in config.folders])))
    documents: list[SourceDocument] = []
    problems: list[fetch.FetchProblem] = []
    for name, future in futures:
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            logger.warning("source %s skipped this run: %s", name, outcome)
            problems.append(fetch.FetchProblem(name, str(outcome)))
            continue
        docs, item_problems = outcome
        for problem in item_problems:
            logger.warning("skipped %s: %s", problem.source, problem.reason)
        documents.extend(docs)
        problems.extend(item_problems)
    return documents, problems


def _extract(
    extractor: str, documents: Sequence[SourceDocument], progress: IngestProgress
) -> tuple[list[stages.Extraction], list[stages.Failure]]:
    """Extract every document on the task runner; a failure is kept with its error, the rest go on."""
    futures = extract_task.map(unmapped(extractor), list(documents))
    extractions: list[stages.Extraction] = []
    failures: list[stages.Failure] = []
    for document, future in zip(documents, futures):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, BaseException):
            failures.append(stages.Failure(doc=document.doc, error=str(outcome)))
        else:
            extractions.append(outcome)
        progress.advance("extracted")
    return extractions, failures
