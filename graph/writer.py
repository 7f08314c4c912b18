"""Load deal records into Neo4j: batched, idempotent, one transaction per batch of whole documents.

``load_records`` treats the records given for a document as that document's complete set of
deals: loading the same records twice changes nothing, and deals a document no longer states
are removed. Each batch (whole documents, about ``batch_size`` records) is written in one
transaction, so a crash leaves every document either fully written or untouched, and a rerun
gives the graph a clean run gives.

After the deals, the batch re-derives the ``FLOW`` relationship of every company pair it touched
(graph/model.py). ``refresh_components`` recomputes ``Company.scc`` (the strongly connected
components of the FLOW graph) that lets the loop statement start only where cycles can be; the
loop reader calls it when a FLOW appeared or vanished since the last refresh.

Assumes one writer at a time (the pipeline's load step); concurrent loads touching the same
pair could derive a FLOW from a stale view.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graph.model import NON_FLOW_STATUSES, TENTATIVE_STATUSES, evidence_id
from graph.queries import all_queries, run_query
from ouroboros.core.errors import GraphError, InputError
from ouroboros.core.formatting import format_usd, now_iso
from ouroboros.core.records import DealRecord, SourceDocument

Pair = tuple[str, str]
# Sentences in, one vector each out (extractors.embeddings.embed_texts: all-MiniLM-L6-v2).
TextEmbedder = Callable[[list[str]], Sequence[Sequence[float]]]

# Called inside each batch's transaction after the deals are written and before FLOWs are
# derived; tests set it to simulate a crash mid-load. Never set in production code.
_crash_hook: Callable[[int], None] | None = None


@dataclass(frozen=True)
class LoadSummary:
    """What one ``load_records`` call wrote."""

    documents: int
    deals: int
    batches: int
    flows_written: int
    flows_deleted: int
    embedded: int
    seconds: float


@dataclass
class _Batch:
    docs: list[str] = field(default_factory=list)
    records: list[DealRecord] = field(default_factory=list)


def ensure_schema(driver: Driver) -> None:
    """Create the constraints and indexes of ``cypher/schema.cypher`` (idempotent)."""
    statements = [q for q in all_queries().values() if q.source.name == "schema.cypher"]
    try:
        with driver.session() as session:
            for query in statements:
                session.run(query.text).consume()
    except Neo4jError as e:
        raise GraphError(f"creating the graph schema failed at {query.name!r}: {e.message}") from e


def check_records(records: Sequence[DealRecord]) -> None:
    """Reject records the graph cannot hold, naming the document, before anything is written."""
    problems: list[str] = []
    for record in records:
        names = [record.investor, record.recipient]
        if record.spend_back is not None:
            names.append(record.spend_back.payee)
        if record.hardware_mandate is not None:
            names += [record.hardware_mandate.vendor, record.hardware_mandate.product]
        if not record.doc.strip():
            problems.append(f"a {record.kind} record {record.investor!r} -> {record.recipient!r} has no doc")
        if any(not name.strip() for name in names):
            problems.append(f"{record.doc}: a {record.kind} record has an empty company or product name")
    if problems:
        raise InputError("cannot load these records (fix the extractor output): " + "; ".join(problems[:10]))


def batches(
    records: Sequence[DealRecord], documents: Sequence[SourceDocument], batch_size: int
) -> list[_Batch]:
    """Group records by document, then documents into batches of about ``batch_size`` records.

    A document is never split: its deals are replaced as a whole, in one transaction.
    """
    by_doc: dict[str, list[DealRecord]] = {d.doc: [] for d in documents}
    for record in records:
        by_doc.setdefault(record.doc, []).append(record)
    result: list[_Batch] = []
    current = _Batch()
    for doc, doc_records in by_doc.items():
        if current.docs and len(current.records) + len(doc_records) > batch_size:
            result.append(current)
            current = _Batch()
        current.docs.append(doc)
        current.records.extend(doc_records)
    if current.docs:
        result.append(current)
    return result


def document_row(doc: str, source: SourceDocument | None) -> dict[str, Any]:
    """The ``Document`` node of ``doc``; a doc without a SourceDocument keeps only its id."""
    if source is None:
        return {"id": doc, "source": None, "title": None, "content_hash": None, "published": None}
    return {
        "id": doc, "source": source.source, "title": source.title,
        "content_hash": source.content_hash, "published": source.published,
    }


def deal_fingerprint(record: DealRecord) -> str:
    """A digest of everything about a deal that may change while its id stays the same."""
    content = record.model_dump(mode="json", exclude={"doc", "kind", "investor", "recipient", "evidence"})
    content["extractor"] = record.extractor
    return json.dumps(content, sort_keys=True, ensure_ascii=False)


def deal_caption(record: DealRecord) -> str:
    """What Neo4j Browser shows on a deal node: its kind and amount as written."""
    return f"{record.kind} {record.amount_text}" if record.amount_text else record.kind


def deal_row(record: DealRecord) -> dict[str, Any]:
    """The ``Deal`` node of a record, with the ids it links to."""
    return {
        "id": record.deal_id, "doc": record.doc, "kind": record.kind, "investor": record.investor,
        "recipient": record.recipient, "amount_usd": record.amount_usd, "amount_text": record.amount_text,
        "status": record.status, "extractor": record.extractor, "confidence": record.confidence,
        "caption": deal_caption(record), "fingerprint": deal_fingerprint(record),
        "evidence_id": evidence_id(record.doc, record.evidence),
    }


def record_pairs(record: DealRecord) -> list[Pair]:
    """The company pairs a record's legs connect: the deal, its spend-back and its mandate."""
    pairs = [(record.investor, record.recipient)]
    if record.spend_back is not None:
        pairs.append((record.recipient, record.spend_back.payee))
    if record.hardware_mandate is not None:
        pairs.append((record.recipient, record.hardware_mandate.vendor))
    return [(a, b) for a, b in pairs if a != b]


def aggregate_flow(legs: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The FLOW properties derived from every leg between one ordered pair; None when no money moves.

    Denied deals are left out. The amount is the largest stated amount of one leg, not a sum:
    the same deal is often reported by several documents. The FLOW is tentative when every
    leg is only in talks.
    """
    live = [leg for leg in legs if leg["status"] not in NON_FLOW_STATUSES]
    if not live:
        return None
    amounts = [leg["amount_usd"] for leg in live if leg["amount_usd"] is not None]
    kinds = sorted({leg["kind"] for leg in live})
    amount = max(amounts) if amounts else None
    dates = [leg["published"] or leg["first_seen"] for leg in live if leg["published"] or leg["first_seen"]]
    return {
        "deal_ids": sorted({leg["deal_id"] for leg in live}),
        "kinds": kinds,
        "amount_usd": amount,
        "statuses": sorted({leg["status"] for leg in live}),
        "docs": sorted({leg["doc"] for leg in live}),
        "sources": len({leg["doc"] for leg in live}),
        "tentative": all(leg["status"] in TENTATIVE_STATUSES for leg in live),
        "confidence": max(float(leg["confidence"] or 0.0) for leg in live),
        "first_seen": min((leg["first_seen"] for leg in live if leg["first_seen"]), default=None),
        "latest": max(dates, default=None),
        "label": flow_label(kinds, amount),
    }


def flow_label(kinds: Sequence[str], amount_usd: float | None) -> str:
    """What Neo4j Browser shows on a FLOW: its kinds and amount ("investment+spend_back $100B")."""
    text = "+".join(kinds)
    return f"{text} {format_usd(amount_usd)}" if amount_usd is not None else text


def load_records(
    driver: Driver,
    records: Sequence[DealRecord],
    documents: Sequence[SourceDocument] = (),
    *,
    batch_size: int = 500,
    embed: TextEmbedder | None = None,
) -> LoadSummary:
    """Write ``records`` (and the ``documents`` they come from) into the graph.

    Args:
        driver: An open Neo4j driver (``graph.driver.get_driver()``).
        records: Deal records; the records of one document are its complete set of deals.
        documents: The source documents, for their metadata; a document listed here without
            records loses the deals an earlier load stored for it.
        batch_size: About how many records one transaction writes (documents are never split).
        embed: Turns evidence sentences into vectors for the vector index (the flows pass
            ``extractors.embeddings.embed_texts``); None stores no vectors.

    Returns:
        What was written.

    Raises:
        InputError: a record has an empty name or doc (nothing is written).
        GraphError: Neo4j refused a write; batches before it are complete, the failing one is not.
    """
    started = time.perf_counter()
    check_records(records)
    ensure_schema(driver)
    sources = {d.doc: d for d in documents}
    plan = batches(records, documents, batch_size)
    written = deleted = embedded = 0
    for index, batch in enumerate(plan):
        vectors = _embeddings(driver, batch.records, embed) if embed is not None else {}
        embedded += len(vectors)
        try:
            with driver.session() as session:
                w, d = session.execute_write(_write_batch, index, batch, sources, vectors, now_iso())
        except (Neo4jError, ServiceUnavailable) as e:
            first = batch.docs[0] if batch.docs else "?"
            raise GraphError(
                f"writing batch {index + 1}/{len(plan)} (documents {first!r} ... {len(batch.docs)} in all) "
                f"failed: {e}; earlier batches are stored completely, rerun to finish the load"
            ) from e
        written += w
        deleted += d
    # Keep the component index fresh for Neo4j Browser users too (a no-op when no FLOW appeared or vanished).
    refresh_components(driver)
    return LoadSummary(
        documents=sum(len(b.docs) for b in plan), deals=len({r.deal_id for r in records}), batches=len(plan),
        flows_written=written, flows_deleted=deleted, embedded=embedded,
        seconds=round(time.perf_counter() - started, 3),
    )


def _embeddings(driver: Driver, records: Sequence[DealRecord], embed: TextEmbedder) -> dict[str, list[float]]:
    """Embeddings for the batch's evidence sentences that the graph does not hold yet."""
    texts = {evidence_id(r.doc, r.evidence): r.evidence for r in records if r.evidence.strip()}
    if not texts:
        return {}
    with driver.session() as session:
        missing = [row["id"] for row in run_query(session, "evidence_without_embedding", ids=list(texts))]
    if not missing:
        return {}
    return {i: list(v) for i, v in zip(missing, embed([texts[i] for i in missing]), strict=True)}


def _write_batch(
    tx: ManagedTransaction,
    index: int,
    batch: _Batch,
    sources: dict[str, SourceDocument],
    vectors: dict[str, list[float]],
    now: str,
) -> tuple[int, int]:
    """One transaction: documents, their deals (replacing stale ones) and the FLOWs they touch."""
    records = batch.records
    keep = sorted({r.deal_id for r in records})
    touched: set[Pair] = set()
    for row in run_query(tx, "document_deal_legs", docs=batch.docs):
        a, b = row["investor"], row["recipient"]
        touched.add((a, b))
        touched.update((b, c) for c in [*row["payees"], *row["vendors"]])
    for record in records:
        touched.update(record_pairs(record))
    touched = {(a, b) for a, b in touched if a != b}

    run_query(tx, "upsert_documents", rows=[document_row(doc, sources.get(doc)) for doc in batch.docs])
    run_query(tx, "delete_stale_deals", docs=batch.docs, keep=keep)
    run_query(tx, "delete_deal_extras", ids=keep)
    names = {n for pair in touched for n in pair} | {r.investor for r in records} | {r.recipient for r in records}
    run_query(tx, "upsert_companies", names=sorted(names))
    evidence = {evidence_id(r.doc, r.evidence): {"id": evidence_id(r.doc, r.evidence), "text": r.evidence,
                                                 "doc": r.doc} for r in records}
    run_query(tx, "upsert_evidence", rows=list(evidence.values()))
    if vectors:
        run_query(tx, "set_evidence_embeddings", rows=[{"id": k, "embedding": v} for k, v in vectors.items()])
    run_query(tx, "upsert_deals", rows=[deal_row(r) for r in records], now=now)
    run_query(tx, "upsert_spend_backs", rows=[
        {"deal_id": r.deal_id, "payee": r.spend_back.payee, "what": r.spend_back.what,
         "amount_usd": r.spend_back.amount_usd}
        for r in records if r.spend_back is not None and r.spend_back.payee != r.recipient
    ])
    run_query(tx, "upsert_mandates", rows=[
        {"deal_id": r.deal_id, "product": r.hardware_mandate.product, "vendor": r.hardware_mandate.vendor}
        for r in records if r.hardware_mandate is not None
    ])
    run_query(tx, "delete_orphan_evidence", docs=batch.docs)
    if _crash_hook is not None:
        _crash_hook(index)
    return _derive_flows(tx, touched)


def _derive_flows(tx: ManagedTransaction, pairs: set[Pair]) -> tuple[int, int]:
    """Re-derive the FLOW of each pair from its legs; mark components stale if one appeared or vanished."""
    if not pairs:
        return 0, 0
    rows = run_query(tx, "read_flow_legs", pairs=[{"from": a, "to": b} for a, b in sorted(pairs)]).data()
    upserts: list[dict[str, Any]] = []
    removals: list[dict[str, str]] = []
    existence_changed = False
    for row in rows:
        props = aggregate_flow(row["legs"])
        if props is None:
            if row["has_flow"]:
                removals.append({"from": row["from"], "to": row["to"]})
                existence_changed = True
        else:
            upserts.append({"from": row["from"], "to": row["to"], "props": props})
            existence_changed |= not row["has_flow"]
    run_query(tx, "upsert_flows", rows=upserts)
    run_query(tx, "delete_flows", pairs=removals)
    if existence_changed:
        run_query(tx, "mark_components_stale")
    return len(upserts), len(removals)


def refresh_components(driver: Driver, *, force: bool = False) -> bool:
    """Recompute ``Company.scc`` when a FLOW appeared or vanished since the last refresh.

    A directed cycle lies inside one strongly connected component, so the loop statement starts
    only from companies whose ``scc`` is set and never leaves that component. Returns whether
    it recomputed.
    """
    try:
        with driver.session() as session:
            return session.execute_write(_refresh_components, force, now_iso())
    except (Neo4jError, ServiceUnavailable) as e:
        raise GraphError(f"recomputing the flow components failed: {e}; rerun the command") from e


def _refresh_components(tx: ManagedTransaction, force: bool, now: str) -> bool:
    stale = run_query(tx, "components_state").single()["stale"]
    if not (stale or force):
        return False
    graph = nx.DiGraph()
    graph.add_edges_from((row["from"], row["to"]) for row in run_query(tx, "flow_edges"))
    wanted = component_ids(graph)
    current = {row["name"]: row["scc"] for row in run_query(tx, "current_components")}
    rows = [{"name": n, "scc": s} for n, s in wanted.items() if current.get(n) != s]
    rows += [{"name": n, "scc": None} for n in current if n not in wanted]
    run_query(tx, "set_components", rows=rows, now=now)
    return True


def component_ids(graph: nx.DiGraph) -> dict[str, str]:
    """Each company in a strongly connected component of two or more, mapped to its smallest name."""
    ids: dict[str, str] = {}
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            smallest = min(component)
            ids.update(dict.fromkeys(component, smallest))
    return ids
