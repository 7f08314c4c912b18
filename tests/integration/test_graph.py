"""The graph against the real Neo4j: gold loops, idempotency, crash and rerun, hostile names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from neo4j import Driver

from extractors.evaluate import gold_document_path, load_gold
from graph import model, writer
from graph.driver import reset_graph
from graph.loops import canonical_rotation, find_loops
from ouroboros.core.errors import InputError
from ouroboros.core.records import DealRecord, HardwareMandate, SourceDocument, SpendBack
from tests.queries import run_test_query

pytestmark = pytest.mark.integration

# The repository's own corpus and gold: the suite never reads outside the checkout.
GOLD = Path(__file__).resolve().parents[2] / "corpus"


def gold_records() -> tuple[list[DealRecord], list[SourceDocument]]:
    """The development gold deals as records (no evidence: the gold set carries none), with their documents."""
    lines = load_gold(GOLD)
    documents = [SourceDocument(doc=line.doc, text=gold_document_path(GOLD, line.doc).read_text(encoding="utf-8"),
                                source=str(gold_document_path(GOLD, line.doc))) for line in lines]
    return [record for line in lines for record in line.deals], documents


def deal(doc: str, investor: str, recipient: str, kind: str = "investment", amount: float | None = None,
         status: str = "announced", evidence: str = "", **extra: Any) -> DealRecord:
    text = f"${amount / 1e9:g} billion" if amount else None
    return DealRecord(doc=doc, kind=kind, investor=investor, recipient=recipient, amount_usd=amount,
                      amount_text=text, status=status, evidence=evidence, **extra)


def orgs_of(driver: Driver, **kwargs: Any) -> set[tuple[str, ...]]:
    return {loop.orgs for loop in find_loops(driver, **kwargs)}


def networkx_cycles(driver: Driver, max_length: int = 6) -> set[tuple[str, ...]]:
    edges = [(r["from"], r["to"]) for r in rows(driver, "flow_edges")]
    return {canonical_rotation(c) for c in nx.simple_cycles(nx.DiGraph(edges), length_bound=max_length)}


VOLATILE = {"first_seen", "updated_at", "components_at", "latest", "embedding", "flow_changes"}


def rows(driver: Driver, name: str, **params: Any) -> list[dict[str, Any]]:
    with driver.session() as session:
        return run_test_query(session, name, **params).data()


def snapshot(driver: Driver) -> dict[str, Any]:
    """Everything but timestamps and embeddings: nodes by key, relationships by their ends, all properties."""
    def stable(props: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in props.items() if k not in VOLATILE}, sort_keys=True)

    return {
        "nodes": sorted((n["label"], n["key"], stable(n["props"])) for n in rows(driver, "inspect_nodes")),
        "rels": sorted((r["type"], r["start"], r["end"], stable(r["props"]))
                       for r in rows(driver, "inspect_relationships")),
    }


def counts(driver: Driver) -> tuple[int, int]:
    (row,) = rows(driver, "inspect_counts")
    return row["nodes"], row["relationships"]


def test_gold_loops_are_found_once_each(clean_graph: Driver) -> None:
    records, documents = gold_records()
    summary = writer.load_records(clean_graph, records, documents)
    assert summary.documents == len(documents) and summary.deals > 40
    # The loops the gold flows form, computed independently of the graph (denied deals move no money).
    gold_flows = [edge for r in records if r.status != "denied" for edge in r.flows()]
    expected = {canonical_rotation(c) for c in nx.simple_cycles(nx.DiGraph(gold_flows), length_bound=6)}
    loops = find_loops(clean_graph)
    assert [loop.orgs for loop in loops if loop.orgs in expected] and len(loops) == len({lp.orgs for lp in loops})
    assert {loop.orgs for loop in loops} == expected
    assert networkx_cycles(clean_graph) == expected
    nvidia_openai_oracle = next(loop for loop in loops if loop.orgs == ("NVIDIA", "OpenAI", "Oracle"))
    assert [(e.source, e.target) for e in nvidia_openai_oracle.edges] == [
        ("NVIDIA", "OpenAI"), ("OpenAI", "Oracle"), ("Oracle", "NVIDIA")]
    first = nvidia_openai_oracle.edges[0]
    assert first.amount_usd == 1e11 and {"d01.txt", "d11.txt", "circular_deals_brief.txt"} <= set(first.docs)
    assert any(e["doc"] == "d01.txt" and e["text"] == "" for e in first.evidence)
    assert nvidia_openai_oracle.id == find_loops(clean_graph, company="Oracle")[0].id


def test_loading_twice_changes_nothing(clean_graph: Driver) -> None:
    records, documents = gold_records()
    writer.load_records(clean_graph, records, documents)
    before, shape = counts(clean_graph), snapshot(clean_graph)
    writer.load_records(clean_graph, records, documents)
    assert counts(clean_graph) == before
    assert snapshot(clean_graph) == shape


def test_crash_mid_load_leaves_whole_documents_and_rerun_matches_clean_run(
    clean_graph: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    records, documents = gold_records()
    writer.load_records(clean_graph, records, documents, batch_size=5)
    clean = snapshot(clean_graph)
    reset_graph(clean_graph)

    def crash(batch: int) -> None:
        if batch == 3:
            raise RuntimeError("simulated crash inside batch 3")

    monkeypatch.setattr(writer, "_crash_hook", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        writer.load_records(clean_graph, records, documents, batch_size=5)
    expected_per_doc: dict[str, set[str]] = {}
    for record in records:
        expected_per_doc.setdefault(record.doc, set()).add(record.deal_id)
    stored = {r["doc"]: r["deals"] for r in rows(clean_graph, "inspect_deals_per_document")}
    assert rows(clean_graph, "inspect_incomplete_deals") == [{"deals": 0}]
    assert 0 < len(stored) < len(expected_per_doc)
    for doc, count in stored.items():
        assert count == len(expected_per_doc[doc]), doc  # a document is all there or not at all
    monkeypatch.setattr(writer, "_crash_hook", None)
    writer.load_records(clean_graph, records, documents, batch_size=5)
    assert snapshot(clean_graph) == clean


HOSTILE = [
    "O'Reilly \"Quoted\" Capital",
    "Back\\slash\\\\Holdings \\u0027",
    "Evil'}) MATCH (n) DETACH DELETE n //",
    "$param {name: 'x'} `tick` Corp",
]


def test_hostile_names_are_stored_and_matched_literally(clean_graph: Driver) -> None:
    a, b, c, d = HOSTILE
    records = [
        deal("h1.txt", a, b, amount=2e9, evidence=f"{a} invests in {b}."),
        deal("h1.txt", b, c, kind="purchase", amount=1e9, evidence=f"{b} buys from {c}."),
        deal("h2.txt", c, a, kind="loan", amount=5e8, evidence=f"{c} lends to {a}.",
             hardware_mandate=HardwareMandate(product="Chip'); DROP", vendor=d)),
        deal("h2.txt", d, c, kind="investment", amount=3e9, evidence=f"{d} backs {c}."),
    ]
    writer.load_records(clean_graph, records)
    assert {r["name"] for r in rows(clean_graph, "inspect_company_names")} == set(HOSTILE)
    assert rows(clean_graph, "inspect_product_names") == [{"name": "Chip'); DROP", "vendor": d}]
    # The mandate to use d's chip sends money a -> d, closing a -> d -> c -> a.
    assert orgs_of(clean_graph) == {canonical_rotation((a, b, c)), canonical_rotation((a, d, c))}
    assert orgs_of(clean_graph, company=d) == {canonical_rotation((a, d, c))}
    with pytest.raises(InputError, match="is not in the graph"):
        find_loops(clean_graph, company="Evil'}) MATCH")


def test_denied_breaks_loops_in_talks_marks_them_tentative_mandates_close_them(clean_graph: Driver) -> None:
    records = [
        deal("x1.txt", "Acme", "Birch", amount=1e9, status="denied"),
        deal("x2.txt", "Birch", "Acme", kind="purchase"),
        deal("x3.txt", "Cedar", "Dune", amount=4e9, status="in_talks"),
        deal("x4.txt", "Dune", "Cedar", kind="purchase", amount=1e9),
        # Elm invests in Fir on condition Fir uses Elm's chips: the money comes back as purchases.
        deal("x5.txt", "Elm", "Fir", amount=2e9, hardware_mandate=HardwareMandate(product="ElmChip", vendor="Elm")),
        # A spend-back to a third party closes a three-way loop that only exists across documents.
        deal("x6.txt", "Gale", "Hive", amount=5e9, spend_back=SpendBack(payee="Isle", what="cloud")),
        deal("x7.txt", "Isle", "Gale", kind="purchase", amount=7e9),
    ]
    writer.load_records(clean_graph, records)
    loops = {loop.orgs: loop for loop in find_loops(clean_graph)}
    assert set(loops) == {("Cedar", "Dune"), ("Elm", "Fir"), ("Gale", "Hive", "Isle")}
    assert loops[("Cedar", "Dune")].tentative and not loops[("Elm", "Fir")].tentative
    assert [e.kind for e in loops[("Elm", "Fir")].edges] == ["investment", "mandate"]
    assert [e.kind for e in loops[("Gale", "Hive", "Isle")].edges] == ["investment", "spend_back", "purchase"]
    assert {d for e in loops[("Gale", "Hive", "Isle")].edges for d in e.docs} == {"x6.txt", "x7.txt"}
    assert loops[("Gale", "Hive", "Isle")].score_parts["money_usd"] is None  # the spend-back states no amount
    assert orgs_of(clean_graph, min_length=3) == {("Gale", "Hive", "Isle")}
    assert orgs_of(clean_graph, max_length=2) == {("Cedar", "Dune"), ("Elm", "Fir")}


def test_reloading_a_document_replaces_its_deals(clean_graph: Driver) -> None:
    first = [deal("r.txt", "Acme", "Birch", amount=1e9), deal("r.txt", "Birch", "Acme", kind="purchase")]
    writer.load_records(clean_graph, first)
    assert orgs_of(clean_graph) == {("Acme", "Birch")}
    writer.load_records(clean_graph, first[:1], [SourceDocument(doc="r.txt", text="t", source="r.txt")])
    assert orgs_of(clean_graph) == set()
    assert [(f["from"], f["to"]) for f in rows(clean_graph, "inspect_flows")] == [("Acme", "Birch")]


def test_new_documents_skip_the_replace_path_and_still_join_stored_flows(clean_graph: Driver) -> None:
    """A batch of documents with no stored deals skips the replace statements; one stored document
    in the batch brings them back, and a new document's leg still joins a pair's stored FLOW."""
    writer.load_records(clean_graph, [deal("a.txt", "Acme", "Birch", amount=1e9), deal("a.txt", "Birch", "Acme")])
    # New document only: its leg joins the Acme -> Birch FLOW another document made.
    writer.load_records(clean_graph, [deal("b.txt", "Acme", "Birch", amount=2e9)])
    flows = {(f["from"], f["to"]) for f in rows(clean_graph, "inspect_flows")}
    assert flows == {("Acme", "Birch"), ("Birch", "Acme")}
    assert orgs_of(clean_graph) == {("Acme", "Birch")}
    # One batch: a.txt reloaded without its Birch -> Acme deal, and a new document.
    writer.load_records(clean_graph, [deal("a.txt", "Acme", "Birch", amount=1e9), deal("c.txt", "Cedar", "Acme")])
    flows = {(f["from"], f["to"]) for f in rows(clean_graph, "inspect_flows")}
    assert flows == {("Acme", "Birch"), ("Cedar", "Acme")}
    assert orgs_of(clean_graph) == set()


def test_two_deals_between_a_pair_stay_two_and_evidence_is_embedded(clean_graph: Driver) -> None:
    records = [
        deal("e.txt", "Acme", "Birch", amount=1e9, evidence="Acme invested $1 billion in Birch."),
        deal("e.txt", "Acme", "Birch", amount=3e9, evidence="Acme later added $3 billion more to Birch."),
        deal("e.txt", "Birch", "Acme", kind="purchase", evidence="Birch signed a cloud contract with Acme."),
    ]
    from extractors.embeddings import embed_texts

    writer.load_records(clean_graph, records, embed=embed_texts)
    assert rows(clean_graph, "inspect_deals_per_document") == [{"doc": "e.txt", "deals": 3}]
    flow = next(f["props"] for f in rows(clean_graph, "inspect_flows") if f["from"] == "Acme")
    assert flow["amount_usd"] == 3e9 and len(flow["deal_ids"]) == 2  # two deals, one walkable FLOW
    sizes = rows(clean_graph, "inspect_evidence_embedding_sizes")
    assert {(r["dimensions"], r["on_evidence"]) for r in sizes} == {(384, False)}

    (nearest,) = rows(clean_graph, "similar_evidence", embedding=embed_texts(["Birch buys cloud from Acme"])[0],
                      limit=1)
    assert nearest["text"] == "Birch signed a cloud contract with Acme."


def test_schema_setup_migrates_an_older_home(clean_graph: Driver) -> None:
    """Embeddings on Evidence and JSON fingerprints (older writers) move off the nodes an analyst clicks."""
    from extractors.embeddings import embed_texts

    records = [
        deal("m.txt", "Acme", "Birch", amount=1e9, evidence="Acme invested $1 billion in Birch."),
        deal("m.txt", "Birch", "Acme", kind="purchase", evidence="Birch signed a cloud contract with Acme."),
    ]
    writer.load_records(clean_graph, records, embed=embed_texts)
    before = rows(clean_graph, "inspect_deal_bookkeeping")
    vectors = embed_texts([r.evidence for r in records])
    old_json = {}
    for record in records:
        content = record.model_dump(mode="json", exclude={"doc", "kind", "investor", "recipient", "evidence"})
        content["extractor"] = record.extractor
        old_json[record.deal_id] = json.dumps(content, sort_keys=True, ensure_ascii=False)
    with clean_graph.session() as session:
        run_test_query(session, "old_home_evidence_index").consume()
        run_test_query(session, "old_home_layout", fingerprints=old_json,
                       embeddings={model.evidence_id(r.doc, r.evidence): list(v)
                                   for r, v in zip(records, vectors, strict=True)}).consume()
    assert {r["on_evidence"] for r in rows(clean_graph, "inspect_evidence_embedding_sizes")} == {True}

    for _ in range(2):  # idempotent: the second setup finds nothing to move
        writer.ensure_schema(clean_graph, force=True)
        sizes = rows(clean_graph, "inspect_evidence_embedding_sizes")
        assert {(r["dimensions"], r["on_evidence"]) for r in sizes} == {(384, False)}
        assert rows(clean_graph, "inspect_deal_bookkeeping") == before  # digests again, same updated_at
    (nearest,) = rows(clean_graph, "similar_evidence", embedding=embed_texts(["Birch buys cloud from Acme"])[0],
                      limit=1)
    assert nearest["text"] == "Birch signed a cloud contract with Acme."
    writer.load_records(clean_graph, records, embed=embed_texts)  # a reload after the migration changes nothing
    assert rows(clean_graph, "inspect_deal_bookkeeping") == before


def test_loops_match_networkx_on_a_dense_random_graph(clean_graph: Driver) -> None:
    """A tangle where most companies share one component: every bounded cycle, each once."""
    import random

    rng = random.Random(4)
    names = [f"Co {i:02d}" for i in range(18)]
    pairs = {(a, b) for a, b in (rng.sample(names, 2) for _ in range(45))}
    records = [deal(f"r{i % 7}.txt", a, b, amount=float(i + 1) * 1e8) for i, (a, b) in enumerate(sorted(pairs))]
    writer.load_records(clean_graph, records)
    ours = find_loops(clean_graph, max_length=5)
    assert len(ours) == len({loop.orgs for loop in ours})
    assert {loop.orgs for loop in ours} == networkx_cycles(clean_graph, max_length=5)
    assert len(ours) > 10


def test_the_loop_statement_walks_at_most_max_loop_length_companies() -> None:
    """The quantifier of find_loops is a literal: it must agree with graph.model.MAX_LOOP_LENGTH."""
    import re

    from graph.model import MAX_LOOP_LENGTH
    from graph.queries import get_query

    text = get_query("find_loops").text
    (low, high), = re.findall(r"\{(\d+),(\d+)\}\(last:Company\)-\[:FLOW\]->\(s\)", text)
    assert int(low) == 0 and int(high) + 1 == MAX_LOOP_LENGTH  # the hops inside, plus the closing one
    assert f"at most {MAX_LOOP_LENGTH}" in get_query("find_loops").doc


def test_the_hand_built_fingerprint_is_the_model_dump() -> None:
    """Stored fingerprints stay valid: the writer's fast fingerprint is the digest of the pydantic dump it replaced."""
    from graph.writer import deal_fingerprint

    for record in [
        deal("f.txt", "Acme", "Birch", amount=1e9, evidence="x", confidence=0.3,
             spend_back=SpendBack(payee="Cedar", what="cloud", amount_usd=5e8, evidence="y"),
             hardware_mandate=HardwareMandate(product="Chip", vendor="Dune")),
        deal("f.txt", "Acme", "Birch", kind="loan", status="in_talks"),
    ]:
        content = record.model_dump(mode="json", exclude={"doc", "kind", "investor", "recipient", "evidence"})
        content["extractor"] = record.extractor
        dumped = json.dumps(content, sort_keys=True, ensure_ascii=False)
        assert deal_fingerprint(record) == hashlib.sha256(dumped.encode("utf-8")).hexdigest()[:16]


def test_one_leg_flows_take_the_short_path_to_the_same_result() -> None:
    """aggregate_flow's single-leg shortcut gives what the general path gives for the same leg twice."""
    import itertools

    base = {"deal_id": "x", "kind": "investment", "doc": "d", "confidence": 0.8}
    for amount, status, first_seen, published, confidence in itertools.product(
            [None, 1e9], ["announced", "in_talks", "denied"], ["2026-01-01", None, ""], [None, "2025-01-01", ""],
            [None, 0.7]):
        leg = {**base, "amount_usd": amount, "status": status, "first_seen": first_seen, "published": published,
               "confidence": confidence}
        assert writer.aggregate_flow([leg]) == writer.aggregate_flow([leg, dict(leg)])
