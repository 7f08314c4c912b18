"""The ingestion flow end to end: fixture site on 127.0.0.1 -> Prefect flow -> the real Neo4j.

One ``prefect_test_harness`` for the module (a temporary Prefect API); the graph is emptied
before each test. The documents are invented companies written for these tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
import yaml
from prefect.testing.utilities import prefect_test_harness

import flows.ingest as ingest_module
import graph.writer as writer_module
from extractors.registry import register_extractor
from flows.deploy import build_deployment, build_task_runner
from flows.ingest import IngestSummary, ingest_flow, run_flow
from flows.sources import load_sources
from flows.stages import cached_extractor
from graph.driver import reset_graph
from ouroboros.core.records import DealRecord
from tests.fixtures.ingest.server import SITE, FixtureServer

UA = "Ouroboros Tests tests@ouroboros.example"
LOOP = {"Lumora Systems", "Brightwater AI", "Quarry Peak Cloud"}
EXPECTED_DEALS = {
    ("Lumora Systems", "Brightwater AI", "investment"),
    ("Brightwater AI", "Quarry Peak Cloud", "purchase"),
    ("Quarry Peak Cloud", "Lumora Systems", "purchase"),
    ("Quarry Peak Cloud", "Tarnwell Robotics", "investment"),
    ("Meridian Vale Capital", "Tarnwell Robotics", "investment"),
}


class SimulatedCrash(BaseException):
    """Like a killed process: not an error a task retries or the flow catches."""


@pytest.fixture(scope="module", autouse=True)
def prefect_api() -> Iterator[None]:
    """A throwaway Prefect API for this module's flow runs."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fetch tasks keep their retry policy, without the waits between attempts."""
    monkeypatch.setattr(ingest_module, "FETCH_RETRY_DELAYS", (0.0, 0.0))


def write_sources(folder: Path, server: FixtureServer, feeds: list[str], *, edgar: bool = True) -> Path:
    config: dict[str, Any] = {
        "folders": [{"path": str(SITE / "folder")}],
        "feeds": [{"url": server.url(feed)} for feed in feeds],
        "schedule": {"cron": "15 */6 * * *"},
        "timeout": 1.0,
    }
    if edgar:
        config["edgar"] = {
            "user_agent": UA, "ciks": ["7340012"], "forms": ["8-K", "10-Q"],
            "data_url": server.base, "archives_url": server.base,
        }
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run(sources: Path, alerts: Path, **options: Any) -> IngestSummary:
    return run_flow(sources=str(sources), alerts_to=str(alerts), alerts_format="jsonl", **options)


def deals(driver: neo4j.Driver) -> set[tuple[str, str, str]]:
    rows = driver.execute_query(
        "MATCH (a:Company)-[:PAYS]->(d:Deal)-[:TO]->(b:Company) RETURN a.name AS a, b.name AS b, d.kind AS kind"
    ).records
    return {(r["a"], r["b"], r["kind"]) for r in rows}


def documents(driver: neo4j.Driver) -> dict[str, dict[str, Any]]:
    rows = driver.execute_query("MATCH (d:Document) RETURN d {.*} AS d").records
    return {r["d"]["id"]: r["d"] for r in rows}


def snapshot(driver: neo4j.Driver, *, clock: bool = False) -> tuple[list[Any], list[Any]]:
    """Every node and relationship with its properties (timestamps only if ``clock``), in a stable order."""
    times = {"first_seen", "updated_at", "fetched_at", "loaded_at", "components_at", "latest", "sent_at",
             "pending_since"}

    def comparable(value: Any) -> Any:
        # Embeddings depend on which texts shared the model's batch (padding) in the last float digits:
        # they are compared apart, within a tolerance (``embeddings``).
        if isinstance(value, list) and value and all(isinstance(x, float) for x in value):
            return f"<{len(value)} floats>"
        return value

    def clean(props: dict[str, Any]) -> str:
        kept = {k: comparable(v) for k, v in props.items() if clock or k not in times}
        return json.dumps(kept, sort_keys=True, default=str)

    nodes = driver.execute_query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p").records
    rels = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS t, properties(a) AS a, properties(r) AS p, properties(b) AS b"
    ).records
    return (
        sorted((r["l"], clean(r["p"])) for r in nodes),
        sorted((r["t"], clean(r["a"]), clean(r["p"]), clean(r["b"])) for r in rels),
    )


def embeddings(driver: neo4j.Driver) -> dict[str, list[float]]:
    """Every stored embedding by its node's id."""
    records = driver.execute_query("MATCH (n) WHERE n.embedding IS NOT NULL RETURN n.id AS id, n.embedding AS e").records
    return {r["id"]: r["e"] for r in records}


def alert_loops(folder: Path) -> list[set[str]]:
    loops = []
    for file in folder.glob("*.jsonl"):
        for line in file.read_text(encoding="utf-8").splitlines():
            loops.append(set(json.loads(line)["loop"]["orgs"]))
    return loops


def test_end_to_end_then_a_second_run_is_a_no_op(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, site_server, ["feeds/news.rss", "feeds/wire.atom"])
    first = run(sources, tmp_path / "alerts")

    # 4 article pages (one of them twice, via a tracking link), 3 filing documents, 1 file.
    assert (first.fetched, first.new, first.failed) == (9, 7, 0)
    assert first.duplicates == 2 and first.extracted == first.loaded == 7 and not first.problems
    assert deals(clean_graph) >= EXPECTED_DEALS
    docs = documents(clean_graph)
    original = site_server.url("articles/lumora-brightwater.html")
    copy = site_server.url("articles/wire-lumora-brightwater.html")
    assert copy not in docs  # the syndicated copy made no document and no deals...
    assert docs[original]["sources"] == [original, copy]  # ...it is a second source of the original
    assert {d["state"] for d in docs.values()} == {"loaded"}
    # Provenance an analyst can cite arrives on the Document nodes (issue 11).
    story = docs[original]
    assert (story["title"], story["outlet"], story["published"], story["date_basis"]) == (
        "Lumora Systems to invest $2 billion in Brightwater AI", "Circuit Ledger: AI infrastructure news",
        "2026-03-03", "feed")
    assert story["url"].startswith(original)
    filing = docs[site_server.url("Archives/edgar/data/7340012/000734001226000014/ex99-1.htm")]
    assert (filing["form"], filing["filer"], filing["published"], filing["date_basis"]) == (
        "8-K", "Quarry Peak Cloud, Inc.", "2026-03-06", "filing")
    assert all(d.get("text") is None and len(d["embedding"]) == 384 for d in docs.values())
    assert LOOP in alert_loops(tmp_path / "alerts") and first.alerts >= 1

    before = snapshot(clean_graph, clock=True)
    site_server.clear()
    second = run(sources, tmp_path / "alerts")
    assert (second.new, second.extracted, second.loaded, second.deals, second.alerts) == (0, 0, 0, 0, 0)
    assert second.seen == 1  # the folder's file is read and hashed; pages and filings are not fetched
    assert snapshot(clean_graph, clock=True) == before  # not even a timestamp moved
    refetched = [p for p in site_server.paths() if p.startswith("/articles/") or
                 (p.endswith(".htm") and not p.endswith("-index.htm"))]
    assert refetched == []

    # A later run meets a third outlet's copy of a story already in the graph: one more source, no deals.
    before_deals = deals(clean_graph)
    third = run(write_sources(tmp_path, site_server, ["feeds/news.rss", "feeds/wire.atom", "feeds/late.rss"]),
                tmp_path / "alerts")
    assert (third.fetched, third.new, third.duplicates, third.extracted) == (2, 0, 1, 0)
    late = site_server.url("articles/late-lumora-brightwater.html")
    assert documents(clean_graph)[original]["sources"] == [original, copy, late]
    assert late not in documents(clean_graph) and deals(clean_graph) == before_deals


def test_a_broken_feed_does_not_stop_the_others(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path, fast_retries: None
) -> None:
    feeds = ["error/feeds/news.rss", "feeds/broken.xml", "slow/feeds/news.rss", "feeds/wire.atom"]
    summary = run(write_sources(tmp_path, site_server, feeds, edgar=False), tmp_path / "alerts")

    failed = {p.split(": ")[0] for p in summary.problems}
    assert failed == {site_server.url(f) for f in feeds[:3]}
    paths = site_server.paths()
    assert paths.count("/error/feeds/news.rss") == 3  # a 500 is retried (twice)...
    assert paths.count("/feeds/broken.xml") == 1  # ...malformed XML is not
    assert ("Quarry Peak Cloud", "Tarnwell Robotics", "investment") in deals(clean_graph)
    assert ("Meridian Vale Capital", "Tarnwell Robotics", "investment") in deals(clean_graph)


def test_an_interrupted_run_rerun_ends_like_an_uninterrupted_one(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(tmp_path, site_server, ["feeds/news.rss", "feeds/wire.atom"])
    run(sources, tmp_path / "alerts", batch_size=1)
    uninterrupted = snapshot(clean_graph)
    uninterrupted_vectors = embeddings(clean_graph)

    reset_graph(clean_graph)
    loads = []

    def crash_in_the_fourth_load(index: int) -> None:
        loads.append(index)
        if len(loads) == 4:
            raise SimulatedCrash("the process died while loading the fourth document")

    monkeypatch.setattr(writer_module, "_crash_hook", crash_in_the_fourth_load)
    with pytest.raises(SimulatedCrash):
        run(sources, tmp_path / "alerts", batch_size=1)
    states = [d["state"] for d in documents(clean_graph).values()]
    assert states.count("loaded") == 3 and len(states) == 7  # the rest wait, with their text, for the rerun
    monkeypatch.setattr(writer_module, "_crash_hook", None)

    rerun = run(sources, tmp_path / "alerts", batch_size=1)
    assert (rerun.new, rerun.loaded) == (4, 4)
    assert snapshot(clean_graph) == uninterrupted
    vectors = embeddings(clean_graph)
    assert vectors.keys() == uninterrupted_vectors.keys()
    assert all(abs(a - b) < 1e-5 for key in vectors for a, b in zip(vectors[key], uninterrupted_vectors[key], strict=True))


BROKEN: set[str] = set()


@register_extractor("test-flaky")
class Flaky:
    """The spaCy extractor, except that it fails on the documents named in BROKEN."""

    name = "test-flaky"

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        if doc in BROKEN:
            raise RuntimeError("model server went away")
        return cached_extractor("spacy").extract(text, doc)


def test_a_failed_extraction_is_recorded_and_retried_next_run(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, site_server, ["feeds/wire.atom"], edgar=False)
    target = site_server.url("articles/tarnwell-quarry.html")
    BROKEN.add(target)
    first = run(sources, tmp_path / "alerts", extractor="test-flaky")
    BROKEN.clear()
    assert first.failed == 1
    stored = documents(clean_graph)[target]
    assert (stored["state"], stored["attempts"]) == ("failed", 1)
    assert "model server went away" in stored["error"] and stored["text"]
    assert ("Quarry Peak Cloud", "Tarnwell Robotics", "investment") not in deals(clean_graph)

    second = run(sources, tmp_path / "alerts", extractor="test-flaky")
    assert (second.new, second.failed, second.loaded) == (1, 0, 1)
    stored = documents(clean_graph)[target]
    assert stored["state"] == "loaded" and stored.get("error") is None and stored.get("text") is None
    assert ("Quarry Peak Cloud", "Tarnwell Robotics", "investment") in deals(clean_graph)


HANGING: set[str] = set()


@register_extractor("test-hanging")
class Hanging:
    """The spaCy extractor, except that it never returns on the documents named in HANGING."""

    name = "test-hanging"

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        while doc in HANGING:  # a rule that climbs a parse for ever: pure Python, no I/O to time out
            pass
        return cached_extractor("spacy").extract(text, doc)


def test_a_document_past_its_extraction_deadline_fails_alone(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path, site_server, ["feeds/wire.atom"], edgar=False)
    sources.write_text(sources.read_text(encoding="utf-8") + "extract_timeout: 10\n", encoding="utf-8")
    target = site_server.url("articles/tarnwell-quarry.html")
    cached_extractor("spacy").extract("warm-up", "warm-up")  # the model's first load is no document's time
    HANGING.add(target)
    try:
        summary = run(sources, tmp_path / "alerts", extractor="test-hanging")
    finally:
        HANGING.clear()
    assert summary.failed == 1 and summary.loaded >= 1
    stored = documents(clean_graph)[target]
    assert stored["state"] == "failed" and stored["text"]
    assert f"extracting {target} took longer than 10s (extract_timeout)" in stored["error"]
    assert ("Quarry Peak Cloud", "Tarnwell Robotics", "investment") not in deals(clean_graph)
    # The other documents of the run were extracted and loaded.
    assert ("Lumora Systems", "Brightwater AI", "investment") in deals(clean_graph)


def test_extraction_runs_on_a_dask_cluster(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path
) -> None:
    from distributed import Client, LocalCluster

    sources = write_sources(tmp_path, site_server, ["feeds/news.rss"], edgar=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=":0") as cluster:
        runner = build_task_runner("dask", cluster.scheduler_address)
        summary = run_flow(flow=ingest_flow.with_options(task_runner=runner), sources=str(sources),
                           alerts_to=str(tmp_path / "a"))
        with Client(cluster) as client:
            # The worker process holds the extractor it loaded for the documents it was sent.
            loaded = client.run(lambda: __import__("flows.stages").stages.cached_extractor.cache_info().currsize)
    assert list(loaded.values()) == [1]
    assert summary.extracted == 3
    assert {("Lumora Systems", "Brightwater AI", "investment"),
            ("Meridian Vale Capital", "Tarnwell Robotics", "investment")} <= deals(clean_graph)


def test_the_schedule_of_the_sources_file_is_registered(site_server: FixtureServer, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    sources = write_sources(tmp_path, site_server, [])
    config = load_sources(sources)
    assert config.schedule is not None
    deployment_id = build_deployment(config.schedule, sources).apply()
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(deployment_id)
    assert deployment.name == "scheduled" and deployment.parameters["sources"] == str(sources.resolve())
    assert [s.schedule.cron for s in deployment.schedules] == ["15 */6 * * *"]
    assert all(s.active for s in deployment.schedules)


def test_the_ingest_command_reports_and_exits_1_when_a_source_failed(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from ouroboros.cli import app

    sources = write_sources(tmp_path, site_server, ["feeds/broken.xml"], edgar=False)
    result = CliRunner().invoke(app, ["ingest", "--sources", str(sources), "--alerts-to", str(tmp_path / "alerts")])
    assert result.exit_code == 1, result.output
    assert "source failed:" in result.output and site_server.url("feeds/broken.xml") in result.output
    assert "loaded" in result.output
    assert ("Meridian Vale Capital", "Tarnwell Robotics", "investment") in deals(clean_graph)


def test_the_flow_run_tells_the_operator_what_failed(
    clean_graph: neo4j.Driver, site_server: FixtureServer, tmp_path: Path, fast_retries: None
) -> None:
    """Read back through Prefect's API: the final state, the task run names, the run's artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    sources = write_sources(tmp_path, site_server, ["error/feeds/news.rss", "feeds/wire.atom"], edgar=False)
    state = ingest_flow(sources=str(sources), alerts_to=str(tmp_path / "alerts"), return_state=True)
    broken = site_server.url("error/feeds/news.rss")
    assert state.is_failed() and broken in (state.message or "")
    summary = state.result(raise_on_failure=False)
    assert isinstance(summary, IngestSummary) and summary.loaded == 4  # what could be loaded is loaded
    assert ("Meridian Vale Capital", "Tarnwell Robotics", "investment") in deals(clean_graph)

    flow_run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        artifacts = client.read_artifacts()
    names = {run.name for run in task_runs}
    article = site_server.url("articles/tarnwell-quarry.html")
    assert f"extract {article}" in names and f"fetch feed {broken}" in names
    assert not any(name.startswith("extract_task-") for name in names)
    ours = [a for a in artifacts if a.flow_run_id == flow_run_id]
    assert len(ours) == 1 and ours[0].key == "ouroboros-ingest"
    assert "| loaded | 4 |" in str(ours[0].data) and broken in str(ours[0].data)


def test_run_and_ingest_of_one_folder_give_the_same_graph_and_loops(
    clean_graph: neo4j.Driver, tmp_path: Path
) -> None:
    """``ouroboros run`` is the ingestion flow over one folder: same normalising, dedupe, graph, scores."""
    from ouroboros.commands.run import SHIPPED_CORPUS

    folder = SHIPPED_CORPUS / "docs"
    by_run = run_flow(folder=str(folder), alerts_to=str(tmp_path / "alerts"))
    graph_by_run = snapshot(clean_graph)
    reset_graph(clean_graph)
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"folders": [{"path": str(folder)}]}), encoding="utf-8")
    by_ingest = run_flow(sources=str(sources), alerts_to=str(tmp_path / "alerts"))
    assert by_run.loops > 0 and by_run.loaded > 20
    assert snapshot(clean_graph) == graph_by_run
    assert [(line.chain, line.score) for line in by_ingest.loop_lines] == [
        (line.chain, line.score) for line in by_run.loop_lines
    ]
    # A second `run` of the same folder reads the state the first left: nothing is extracted again.
    again = run_flow(folder=str(folder), alerts_to=str(tmp_path / "alerts"))
    assert (again.new, again.extracted, again.alerts) == (0, 0, 0)
