"""The writer's upkeep and isolation against the real Neo4j: incremental components, refused documents,
schema once, the component refresh under a concurrent writer."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import networkx as nx
import pytest
from neo4j import Driver

from graph import writer
from graph.loops import canonical_rotation, find_loops
from graph.queries import run_query
from ouroboros.core.records import DealRecord, HardwareMandate, SourceDocument
from tests.queries import run_test_query

pytestmark = pytest.mark.integration


def rows(driver: Driver, name: str, **params: Any) -> list[dict[str, Any]]:
    with driver.session() as session:
        return run_test_query(session, name, **params).data()


def deal(doc: str, investor: str, recipient: str, amount: float = 1e9, **extra: Any) -> DealRecord:
    return DealRecord(doc=doc, kind="investment", investor=investor, recipient=recipient, amount_usd=amount,
                      amount_text=f"${amount / 1e9:g} billion", evidence=f"{investor} backs {recipient}.", **extra)


def raw_deal(doc: str, investor: str, recipient: str, **extra: Any) -> DealRecord:
    """A record that skipped the contract's checks (ouroboros.core.names), as a buggy extractor's
    ``model_construct`` would hand it over: the writer must defend itself too."""
    fields: dict[str, Any] = {"spend_back": None, "hardware_mandate": None, **extra}
    return DealRecord.model_construct(doc=doc, kind="investment", investor=investor, recipient=recipient,
                                      amount_usd=1e9, amount_text="$1 billion", evidence=f"{investor} backs it.",
                                      status="announced", confidence=0.5, extractor="test", **fields)


def stored_components(driver: Driver) -> dict[str, str]:
    return {r["name"]: r["scc"] for r in rows(driver, "current_components")}


def expected_components(driver: Driver) -> dict[str, str]:
    """What a full recompute gives: networkx over the FLOW edge list."""
    return writer.component_ids(nx.DiGraph([(r["from"], r["to"]) for r in rows(driver, "flow_edges")]))


def state(driver: Driver) -> int:
    return rows(driver, "components_state")[0]["changes"]


@pytest.mark.parametrize("search_limit", [writer.SEARCH_LIMIT, 2])
def test_incremental_upkeep_matches_a_full_recompute_after_adds_and_removals(
    clean_graph: Driver, monkeypatch: pytest.MonkeyPatch, search_limit: int
) -> None:
    monkeypatch.setattr(writer, "SEARCH_LIMIT", search_limit)  # 2: searches give up, the whole-graph pass runs
    rng = random.Random(11)
    names = [f"Co{i:02d}" for i in range(16)]
    # Each document is one company's set of deals: reloading it with other records adds and removes FLOWs.
    documents: dict[str, list[DealRecord]] = {}
    grew = shrank = 0
    for step in range(14):
        for _ in range(3):
            investor = rng.choice(names)
            targets = rng.sample(names, rng.randrange(0, 3))
            documents[f"{investor}.txt"] = [deal(f"{investor}.txt", investor, t) for t in targets if t != investor]
        batch = [r for records in documents.values() for r in records]
        sources = [SourceDocument(doc=d, text="t", source=d) for d in documents]
        before = stored_components(clean_graph)
        writer.load_records(clean_graph, batch, sources)
        assert state(clean_graph) == 0, step  # one refresh per load, nothing left pending
        assert stored_components(clean_graph) == expected_components(clean_graph), step
        flows = [(r["from"], r["to"]) for r in rows(clean_graph, "flow_edges")]
        assert {loop.orgs for loop in find_loops(clean_graph, max_length=4)} == {
            canonical_rotation(c) for c in nx.simple_cycles(nx.DiGraph(flows), length_bound=4)}, step
        after = stored_components(clean_graph)
        grew += any(before.get(n) != s for n, s in after.items())
        shrank += any(n not in after for n in before)
    assert grew >= 2 and shrank >= 2  # components really merged, appeared, split and vanished on the way
    # The forced whole-graph pass agrees with what the increments left.
    incremental = stored_components(clean_graph)
    writer.refresh_components(clean_graph, force=True)
    assert stored_components(clean_graph) == incremental


def test_many_changes_take_the_whole_graph_pass(clean_graph: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "INCREMENTAL_LIMIT", 3)
    records = [deal("ring.txt", a, b) for a, b in [("A", "B"), ("B", "C"), ("C", "A"), ("C", "D"), ("D", "C")]]
    writer.load_records(clean_graph, records)
    assert rows(clean_graph, "dirty_companies") == []
    assert stored_components(clean_graph) == dict.fromkeys("ABCD", "A")
    writer.load_records(clean_graph, records[:2], [SourceDocument(doc="ring.txt", text="t", source="r")])
    assert stored_components(clean_graph) == {} and state(clean_graph) == 0


def test_a_poisoned_batch_commits_the_rest_and_names_the_bad_document(
    clean_graph: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Let a 10,000-character name through the writer's own check, so Neo4j itself refuses the index key.
    monkeypatch.setattr(writer, "MAX_KEY_BYTES", 10**9)
    huge = "X" * 10_000
    records = [deal(f"good{i}.txt", f"A{i}", f"B{i}") for i in range(12)]
    records += [deal(f"good{i}.txt", f"B{i}", f"A{i}") for i in range(12)]
    records.insert(7, raw_deal("poison.txt", "A3", huge))
    summary = writer.load_records(clean_graph, records, batch_size=100)
    assert [r.doc for r in summary.refused] == ["poison.txt"]
    assert "Neo4j refused" in summary.refused[0].reason and "rerunning will not help" in summary.refused[0].reason
    assert summary.documents == 12
    stored = {r["doc"] for r in rows(clean_graph, "inspect_deals_per_document")}
    assert stored == {f"good{i}.txt" for i in range(12)}
    assert len(find_loops(clean_graph)) == 12
    assert huge not in {r["name"] for r in rows(clean_graph, "inspect_company_names")}


def test_bad_input_is_refused_or_cleaned_before_neo4j(clean_graph: Driver) -> None:
    long_url = "https://example.com/" + "a" * 9000
    records = [
        deal("fine.txt", "Acme", "Birch"), deal("fine.txt", "Birch", "Acme"),
        raw_deal("nul.txt", "Ce\x00dar\x1b", "Dune"), deal("nul.txt", "Dune", "Cedar"),
        deal(long_url, "Elm", "Fir"),
        raw_deal("name.txt", "Gale", "H" * 10_000),
        raw_deal("mandate.txt", "Isle", "Jade",
                 hardware_mandate=HardwareMandate.model_construct(product="P" * 9000, vendor="Kiln")),
        deal("empty.txt", "  ", "Lark"),
    ]
    summary = writer.load_records(clean_graph, records, [SourceDocument(doc=long_url, text="t", source=long_url)])
    refused = {r.doc: r.reason for r in summary.refused}
    assert set(refused) == {long_url, "name.txt", "mandate.txt", "empty.txt"}
    assert "document id" in refused[long_url] and "shorter id" in refused[long_url]
    assert "recipient name" in refused["name.txt"] and "index key" in refused["name.txt"]
    assert "empty investor" in refused["empty.txt"]
    assert summary.cleaned == 1
    assert {r["name"] for r in rows(clean_graph, "inspect_company_names")} == {"Acme", "Birch", "Cedar", "Dune"}
    assert {loop.orgs for loop in find_loops(clean_graph)} == {("Acme", "Birch"), ("Cedar", "Dune")}


def test_the_schema_is_created_once_per_driver(clean_graph: Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    writer.load_records(clean_graph, [deal("s.txt", "Acme", "Birch")])

    def fail() -> None:
        raise AssertionError("the schema ran again")

    monkeypatch.setattr(writer, "all_queries", fail)
    writer.load_records(clean_graph, [deal("s2.txt", "Birch", "Acme")])
    assert {loop.orgs for loop in find_loops(clean_graph)} == {("Acme", "Birch")}


def test_a_refresh_never_marks_a_concurrent_change_up_to_date(clean_graph: Driver) -> None:
    """Issue 9 row 6: a batch that commits while a refresh runs must leave its loops visible."""
    writer.load_records(clean_graph, [deal("a.txt", "Acme", "Birch")])
    closing = [deal("b.txt", "Birch", "Acme")]
    with clean_graph.session() as session:
        tx = session.begin_transaction()
        # The other writer's batch, written but not committed: it holds the GraphState lock.
        writer._write_batch(tx, 0, writer._Batch(docs=["b.txt"], records=closing), {}, {}, writer.now_iso())
        # A refresh that sees no pending change (the batch is not committed) does nothing...
        assert not writer.refresh_components(clean_graph)
        # ...and one that recomputes waits for the batch's lock rather than read a view without it.
        refresher = threading.Thread(target=writer.refresh_components, args=(clean_graph,), kwargs={"force": True})
        refresher.start()
        time.sleep(1.0)
        assert refresher.is_alive()
        tx.commit()
    refresher.join(timeout=60)
    assert not refresher.is_alive()
    assert state(clean_graph) == 0
    assert stored_components(clean_graph) == {"Acme": "Acme", "Birch": "Acme"}
    assert {loop.orgs for loop in find_loops(clean_graph)} == {("Acme", "Birch")}


def test_a_change_counted_after_a_refresh_began_stays_pending(clean_graph: Driver) -> None:
    writer.load_records(clean_graph, [deal("a.txt", "Acme", "Birch")])
    with clean_graph.session() as session:
        tx = session.begin_transaction()
        run_query(tx, "lock_components", now=writer.now_iso()).consume()  # a refresh under way
        done: list[Any] = []
        # The concurrent load's batch waits for the lock; its own closing refresh is skipped here.
        loader = threading.Thread(target=lambda: done.append(clean_graph.execute_query(
            "MATCH (s:GraphState) RETURN s.flow_changes AS c")))
        with clean_graph.session() as other:
            other_tx = other.begin_transaction()
            blocked = threading.Thread(target=lambda: writer._write_batch(
                other_tx, 0, writer._Batch(docs=["b.txt"], records=[deal("b.txt", "Birch", "Acme")]), {}, {},
                writer.now_iso()))
            blocked.start()
            time.sleep(1.0)
            assert blocked.is_alive()
            writer._refresh_components(tx, False, writer.now_iso())
            tx.commit()
            blocked.join(timeout=60)
            other_tx.commit()
        loader.start()
        loader.join()
    assert state(clean_graph) == 1  # the late change is counted, not cleared by the refresh that missed it
    assert {loop.orgs for loop in find_loops(clean_graph)} == {("Acme", "Birch")}
    assert state(clean_graph) == 0
