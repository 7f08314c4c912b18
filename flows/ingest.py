"""The ingestion flow: get -> normalise -> deduplicate -> extract -> load -> detect loops -> alert.

Each stage is a Prefect task, thin over a function of ``flows.stages``/``flows.fetch``. Fetching
and extraction are submitted to the flow's task runner (threads by default, a Dask cluster with
``--task-runner dask``); every stage that talks to Neo4j runs in the flow's own process, which
holds the one driver. Documents are recorded in the graph (``cypher/ingest.cypher``) as they
move: fetched (text kept), extracted or failed, loaded; so a second run skips what it has seen
and a crashed run picks up where it stopped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from prefect.states import Completed, Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel

from flows import fetch, stages
from flows.dedupe import DedupeResult, KnownDocument, embed
from flows.progress import IngestProgress
from flows.sources import EdgarSource, FolderSource, SourcesConfig, load_sources
from graph.alerts import ExportSummary, export_alerts
from graph.loops import find_loops
from ouroboros.core.errors import ConfigError, InputError
from ouroboros.core.formatting import format_usd
from ouroboros.core.lock import writer_lock
from ouroboros.core.records import SourceDocument
from ouroboros.core.settings import get_settings

log = logging.getLogger(__name__)

# A source that timed out or answered 5xx is tried again this often, after these waits (seconds).
FETCH_RETRY_DELAYS: tuple[float, ...] = (2.0, 10.0)


class LoopLine(BaseModel):
    """One loop as the run reports it."""

    id: str
    chain: str
    score: float
    money_around: str
    tentative: bool


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
    alerts_to: str = ""
    problems: list[str] = []
    failures: list[str] = []
    loop_lines: list[LoopLine] = []
    new_loops: list[str] = []

    @property
    def ok(self) -> bool:
        """Every source was read and every document extracted."""
        return not self.problems and not self.failures


@task(task_run_name="fetch feed {url}", cache_policy=NO_CACHE)
def fetch_feed_task(
    url: str, timeout: float, skip: set[str]
) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """One RSS/Atom feed and its new item pages."""
    def attempt() -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
        with fetch.make_client(fetch.FEED_USER_AGENT, timeout) as client:
            return fetch.fetch_feed(client, url, skip)

    return _with_retries(url, attempt)


@task(task_run_name="fetch EDGAR filings", cache_policy=NO_CACHE)
def fetch_edgar_task(
    config: EdgarSource, timeout: float, skip: set[str]
) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """The configured SEC filings, one company after the other under one rate limiter."""
    def attempt() -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
        with fetch.make_client(config.user_agent, timeout) as client:
            return fetch.fetch_edgar(client, config, skip)

    return _with_retries("EDGAR", attempt)


def _with_retries(
    name: str, attempt: Callable[[], tuple[list[SourceDocument], list[fetch.FetchProblem]]]
) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """Run ``attempt``; retry when the source may come back, and turn its failure into one problem line.

    Expected network trouble is one log line per attempt, never a traceback: the run goes on
    without the source and its final state names it.
    """
    logger = _logger()
    for wait in (*FETCH_RETRY_DELAYS, None):
        try:
            return attempt()
        except fetch.SourceUnavailable as e:
            if wait is None:
                return [], [fetch.FetchProblem(name, str(e))]
            logger.warning("%s; trying again in %.0f s", e, wait)
            time.sleep(wait)
        except InputError as e:
            return [], [fetch.FetchProblem(name, str(e))]
    raise AssertionError("unreachable")


@task(task_run_name="read folders", cache_policy=NO_CACHE)
def read_folders_task(paths: list[Path]) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """The local folders' documents."""
    return fetch.fetch_folders(paths)


# The tasks that talk to Neo4j have no retries of their own: the driver retries transient errors
# within its bounded retry time (graph.driver), so a dead server is reported in seconds (exit 4).
@task(cache_policy=NO_CACHE)
def read_state_task(driver: Any) -> list[KnownDocument]:
    """What the graph remembers of each document."""
    return stages.read_known(driver)


@task(cache_policy=NO_CACHE)
def read_pending_task(driver: Any, max_attempts: int) -> list[SourceDocument]:
    """Documents an earlier run did not finish."""
    return stages.read_pending(driver, max_attempts)


@task(cache_policy=NO_CACHE)
def normalise_task(fetched: list[SourceDocument], pending: list[SourceDocument]) -> list[SourceDocument]:
    """Clean text and canonical ids; a fresh copy of a pending document replaces the stored one."""
    return stages.gather(fetched, pending)


@task(cache_policy=NO_CACHE)
def deduplicate_task(
    driver: Any, documents: list[SourceDocument], known: list[KnownDocument], threshold: float, max_attempts: int
) -> DedupeResult:
    """Drop what was seen, turn copies into extra sources, record the new documents as fetched."""
    result = stages.find_duplicates(driver, documents, known, embed, threshold, max_attempts)
    stages.record_fetched(driver, result)
    return result


def _not_timed_out(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a failed extraction once, but not one past its deadline: it would hang again."""
    return state.name != "TimedOut"


@task(task_run_name="extract {document.doc}", retries=1, retry_delay_seconds=1, cache_policy=NO_CACHE,
      retry_condition_fn=_not_timed_out)
def extract_task(extractor: str, document: SourceDocument) -> stages.Extraction:
    """Deal records of one document (runs on the task runner: a thread or a Dask worker)."""
    extraction = stages.extract_document(extractor, document)
    _logger().info("%s: %d deal(s)", document.doc, len(extraction.records))
    return extraction


@task(cache_policy=NO_CACHE)
def record_extracted_task(
    driver: Any, extractions: list[stages.Extraction], failures: list[stages.Failure]
) -> None:
    """Mark documents extracted or failed."""
    stages.record_extracted(driver, extractions, failures)


@task(task_run_name="load {batch_name}", cache_policy=NO_CACHE)
def load_task(
    driver: Any, extractions: list[stages.Extraction], documents: list[SourceDocument], batch_name: str
) -> tuple[int, list[stages.Failure]]:
    """Write one batch of documents' deals and mark them loaded (or failed, when the graph refused one)."""
    return stages.load_documents(driver, extractions, documents)


@task(task_run_name="detect loops", cache_policy=NO_CACHE)
def detect_loops_task(driver: Any, max_length: int) -> list[Any]:
    """Every loop the graph holds now."""
    return find_loops(driver, max_length=max_length)


@task(task_run_name="alert to {destination}", cache_policy=NO_CACHE)
def alert_task(driver: Any, loops: list[Any], destination: str | None, fmt: str | None) -> ExportSummary:
    """Export the loops that are new or changed since the last alert."""
    return export_alerts(driver, destination, fmt, loops=loops)


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The run logger inside a flow or task run (it reaches the Prefect UI); the module logger outside."""
    try:
        return get_run_logger()
    except MissingContextError:
        return log


def sources_for(sources: str | None, folder: str | None) -> SourcesConfig:
    """The run's sources: one folder (``ouroboros run``), else the sources file (``ingest``, ``serve``)."""
    if folder is not None:
        path = Path(folder).expanduser().resolve()
        if not path.exists():
            raise InputError(f"folder {folder} does not exist; pass a folder of .txt/.md/.html/.json documents")
        return SourcesConfig(folders=[FolderSource(path=path)])
    if sources is None:
        raise ConfigError("give a sources file or a folder")
    config = load_sources(Path(sources))
    if not (config.folders or config.feeds or config.edgar):
        raise ConfigError(f"sources file {sources} lists no folders, feeds or edgar companies; add at least one")
    return config


@flow(name="ouroboros-ingest", task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=False)  # type: ignore[arg-type]
def ingest_flow(
    sources: str | None = "sources.yaml",
    folder: str | None = None,
    extractor: str = "spacy",
    alerts_to: str | None = None,
    alerts_format: str | None = None,
    max_length: int = 6,
    max_attempts: int = 3,
    batch_size: int = 20,
) -> State[IngestSummary]:
    """Ingest every source once: get, normalise, deduplicate, extract, load, detect loops, alert.

    ``ouroboros run`` is this flow over one folder; ``ingest`` and ``serve`` over a sources file.
    The run ends Completed when every source was read and every document extracted, else Failed
    with the sources and documents that failed named in its message; what could be loaded is
    loaded either way.

    Args:
        sources: Path of the sources YAML file (ignored when ``folder`` is given).
        folder: One folder (or file) of documents to ingest instead of a sources file.
        extractor: Registered extractor name (``spacy``, ``llm``, ``ensemble``).
        alerts_to: Where loop alerts go: a folder, a file or a webhook URL (default ``$OUROBOROS_HOME/alerts``).
        alerts_format: ``md``, ``jsonl`` or ``csv`` (default from the destination: md for a folder).
        max_length: Most companies in a loop (2..8).
        max_attempts: Extraction attempts before a failing document is left alone (until its text changes).
        batch_size: Documents loaded per write (and marked loaded together).
    """
    from graph.driver import get_driver

    config = sources_for(sources, folder)
    # Build the extractor once here so a configuration problem (say, no OUROBOROS_LLM) stops the run
    # with its own message instead of failing every document one by one.
    stages.cached_extractor(extractor)
    settings = get_settings()
    # One writer per home: a second run waits here, then finds the first one's work already done.
    with writer_lock(settings.home_dir, settings.lock_wait_s):
        driver = get_driver()
        try:
            summary = run_ingest(driver, config, extractor, alerts_to, alerts_format, max_length, max_attempts,
                                 batch_size)
        finally:
            driver.close()
    _publish_artifact(summary)
    if summary.ok:
        return Completed(message=_outcome(summary), data=summary)
    return Failed(message=_outcome(summary), data=summary)


def run_ingest(
    driver: Any,
    config: SourcesConfig,
    extractor: str,
    alerts_to: str | None,
    alerts_format: str | None,
    max_length: int,
    max_attempts: int,
    batch_size: int,
) -> IngestSummary:
    """The flow's body (inside a flow run): each stage in order, counting as it goes."""
    logger = get_run_logger()
    summary = IngestSummary()
    progress = IngestProgress(logger)
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
    logger.info("documents new: %d, already loaded: %d, duplicates: %d", summary.new, summary.seen, summary.duplicates)
    # extract
    progress.expect("extracted", len(result.new))
    extractions, failures = _extract(extractor, result.new, progress, config.extract_timeout)
    record_extracted_task(driver, extractions, failures)
    summary.extracted, summary.failed = len(extractions), len(failures)
    summary.failures = [f.error for f in failures]
    for failure in failures:
        logger.warning("extraction failed, retried next run: %s", failure.error)
    progress.log("extracted", f"{len(failures)} failed")
    # load
    progress.expect("loaded", len(extractions))
    by_id = {d.doc: d for d in result.new}
    for start in range(0, len(extractions), batch_size):
        batch = extractions[start : start + batch_size]
        name = batch[0].doc if len(batch) == 1 else f"{batch[0].doc} .. {batch[-1].doc} ({len(batch)} documents)"
        deals, refused = load_task(driver, batch, [by_id[e.doc] for e in batch], name)
        summary.deals += deals
        summary.failures += [f.error for f in refused]
        summary.failed += len(refused)
        for failure in refused:
            logger.warning("not loaded: %s", failure.error)
        progress.advance("loaded", len(batch) - len(refused))
    summary.loaded = progress.counts["loaded"]
    progress.log("loaded", f"{summary.deals} deals")
    # detect loops, alert: reads only, unless a loop is new or changed. An analyst's corrections
    # (rejected deals, merged names) were honoured by the writer as it loaded (graph.writer.Corrections).
    loops = detect_loops_task(driver, max_length)
    summary.loops = len(loops)
    summary.loop_lines = [
        LoopLine(id=loop.id, chain=loop.chain, score=loop.score, tentative=loop.tentative,
                 money_around=format_usd(loop.score_parts.get("money_usd")))
        for loop in loops
    ]
    # The default destination named here, so the task run says where the alerts went.
    destination = alerts_to or str(get_settings().home_dir / "alerts")
    exported = alert_task(driver, loops, destination, alerts_format)
    summary.alerts, summary.alerts_to = exported.delivered, exported.destination
    summary.new_loops = list(exported.chains)
    logger.info("loops: %d, alerts sent: %d", summary.loops, summary.alerts)
    return summary


def run_flow(flow: Any = None, **parameters: Any) -> IngestSummary:
    """Run ``ingest_flow`` (or a variant of it from ``with_options``) and return its summary.

    The summary comes back whether the run ended Completed or Failed (a source or document failed);
    an error that stopped the run (bad configuration, Neo4j down) is raised.
    """
    state = (flow or ingest_flow)(**parameters, return_state=True)
    summary = state.result(raise_on_failure=False)
    if isinstance(summary, BaseException):
        raise summary
    return cast(IngestSummary, summary)


def _outcome(summary: IngestSummary) -> str:
    """The flow run's state message: the counts, then what failed."""
    text = (f"{summary.loaded} document(s) loaded, {summary.deals} deal(s), {summary.loops} loop(s), "
            f"{summary.alerts} alert(s)")
    if summary.problems:
        text += f"; {len(summary.problems)} source(s) failed: " + "; ".join(summary.problems)
    if summary.failures:
        text += f"; {len(summary.failures)} document(s) failed: " + "; ".join(summary.failures)
    return text


def _publish_artifact(summary: IngestSummary) -> None:
    """A Markdown artifact on the flow run: the counts and the loops that alerted this run."""
    counts = summary.model_dump(include={"fetched", "seen", "duplicates", "new", "extracted", "failed", "loaded",
                                         "deals", "loops", "alerts"})
    lines = ["# Ouroboros ingestion", "", "| stage | count |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in counts.items()]
    lines += ["", f"## New or changed loops ({len(summary.new_loops)})", ""]
    lines += [f"- {chain}" for chain in summary.new_loops] or ["none"]
    if summary.problems or summary.failures:
        lines += ["", "## Failed", ""] + [f"- {line}" for line in summary.problems + summary.failures]
    create_markdown_artifact(key="ouroboros-ingest", markdown="\n".join(lines),
                             description="Counts and new loops of this ingestion run")


def _get(config: SourcesConfig, skip: set[str]) -> tuple[list[SourceDocument], list[fetch.FetchProblem]]:
    """Fetch every source concurrently; a source that fails is logged (one line) and skipped."""
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
    extractor: str, documents: Sequence[SourceDocument], progress: IngestProgress, deadline_s: float
) -> tuple[list[stages.Extraction], list[stages.Failure]]:
    """Extract every document on the task runner; a failure is kept with its error, the rest go on.

    Each document has a deadline (Prefect's task timeout): an extractor that never returns on one text
    costs that document, not the run."""
    futures = extract_task.with_options(timeout_seconds=deadline_s).map(unmapped(extractor), list(documents))
    extractions: list[stages.Extraction] = []
    failures: list[stages.Failure] = []
    for document, future in zip(documents, futures, strict=True):
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, TimeoutError):
            failures.append(stages.Failure(doc=document.doc, error=(
                f"extracting {document.doc} took longer than {deadline_s:g}s (extract_timeout); it is marked failed "
                "and retried next run; if it keeps failing, report the document as an extractor bug")))
        elif isinstance(outcome, BaseException):
            failures.append(stages.Failure(doc=document.doc, error=str(outcome)))
        else:
            extractions.append(outcome)
        progress.advance("extracted")
    return extractions, failures
