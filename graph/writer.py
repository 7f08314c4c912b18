"""Load deal records into Neo4j: batched, idempotent, one transaction per batch of whole documents.

``load_records`` treats the records given for a document as that document's complete set of
deals: loading the same records twice changes nothing, and deals a document no longer states
are removed. Each batch (whole documents, about ``batch_size`` records) is written in one
transaction, so a crash leaves every document either fully written or untouched, and a rerun
gives the graph a clean run gives.

The unit of failure is one document. Records are cleaned (control characters removed) and
checked (index key sizes, empty names) before anything is written, and a document that fails the
checks is refused by name. A batch that Neo4j refuses anyway is split in halves until the
document it cannot store is found: that document is refused, the rest commits. Refused
documents are returned in ``LoadSummary.refused`` with the reason, for the pipeline to record.

After the deals, the batch re-derives the ``FLOW`` relationship of every company pair it touched
(graph/model.py). When a FLOW appears or vanishes the batch counts it in
``GraphState.flow_changes`` and marks its two companies ``dirty``, in the same transaction.
``refresh_components`` then brings ``Company.scc`` (the strongly connected components of the
FLOW graph, which let the loop statement start only where cycles can be) up to date once per
load: incrementally, for only the part of the graph the changed FLOWs can join or split, or
over the whole FLOW graph when the changes are many.

Every batch and every refresh takes the ``GraphState`` lock first, so they run one at a time
even across processes: a concurrent writer's change is never marked up to date before it was
counted, and what a batch reads (which deals and FLOWs exist) stays true until it commits.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired, TransientError

from graph.captions import REJECTED_PREFIX, flow_caption
from graph.captions import deal_caption as short_deal_caption
from graph.model import MAX_KEY_BYTES, NON_FLOW_STATUSES, TENTATIVE_STATUSES, evidence_id
from graph.queries import all_queries, run_query, server_gone
from ouroboros.core.errors import GraphError, ServerError
from ouroboros.core.formatting import format_usd, now_iso
from ouroboros.core.records import Conversion, DealRecord, SourceDocument

Pair = tuple[str, str]
# Sentences in, one vector each out (extractors.embeddings.embed_texts: all-MiniLM-L6-v2).
TextEmbedder = Callable[[list[str]], Sequence[Sequence[float]]]

# Called inside each batch's transaction after the deals are written and before FLOWs are
# derived; tests set it to simulate a crash mid-load. Never set in production code.
_crash_hook: Callable[[int], None] | None = None

# Up to this many FLOW changes since the last refresh, the refresh is incremental (from the
# dirty companies); above it, one pass over the whole FLOW graph is cheaper than the searches.
INCREMENTAL_LIMIT = 5000
# An incremental refresh whose reachability searches (forwards and backwards from the ends of
# the new FLOWs) both grow past this many companies falls back to the whole-graph pass, which
# costs about the same by then.
SEARCH_LIMIT = 5000


@dataclass(frozen=True)
class RefusedDocument:
    """A document the writer did not store: which one, and what to do about it."""

    doc: str
    reason: str


@dataclass(frozen=True)
class LoadSummary:
    """What one ``load_records`` call wrote, and which documents it refused."""

    documents: int
    deals: int
    batches: int
    flows_written: int
    flows_deleted: int
    embedded: int
    seconds: float
    refused: tuple[RefusedDocument, ...] = ()
    cleaned: int = 0


@dataclass
class _Batch:
    docs: list[str] = field(default_factory=list)
    records: list[DealRecord] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # the records' deal ids, computed once


@dataclass(frozen=True)
class Corrections:
    """The analysts' corrections in force (graph.review keeps the trail); the writer honours them.

    ``aliases`` maps a merged name to its company: records are written with it, so a reload never
    creates the merged company. ``rejected`` maps a deal id to its note: the deal is stored,
    flagged, and forms no FLOW.
    """

    aliases: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    def aliased(self, record: DealRecord) -> DealRecord:
        """``record`` with every company name it carries mapped through the aliases."""
        if not self.aliases:
            return record
        names = self.aliases
        changes: dict[str, Any] = {k: names[v] for k, v in (("investor", record.investor),
                                                             ("recipient", record.recipient)) if v in names}
        if record.spend_back is not None and record.spend_back.payee in names:
            changes["spend_back"] = record.spend_back.model_copy(update={"payee": names[record.spend_back.payee]})
        if record.hardware_mandate is not None and record.hardware_mandate.vendor in names:
            changes["hardware_mandate"] = record.hardware_mandate.model_copy(
                update={"vendor": names[record.hardware_mandate.vendor]})
        return record.model_copy(update=changes) if changes else record


def corrections_from_trail(rows: Iterable[dict[str, Any]]) -> Corrections:
    """The rejections and aliases in force, from the ``review_latest`` rows (latest per target)."""
    aliases: dict[str, str] = {}
    rejected: dict[str, str] = {}
    for row in rows:
        latest = row["latest"]
        if latest["action"] == "reject":
            rejected[row["target"]] = f"rejected by {latest['who']} at {latest['at'][:19]}: {latest.get('why', '')}"
        elif latest["action"] == "merge":
            aliases[row["target"]] = latest["into"]
    return Corrections(aliases=resolve_aliases(aliases), rejected=rejected)


def resolve_aliases(aliases: dict[str, str]) -> dict[str, str]:
    """A merged into B merged into C: A goes to C (a cycle of merges stops where it repeats)."""
    resolved: dict[str, str] = {}
    for name in aliases:
        seen = {name}
        target = aliases[name]
        while target in aliases and aliases[target] not in seen:
            seen.add(target)
            target = aliases[target]
        if target != name:
            resolved[name] = target
    return resolved


# Drivers whose server has the schema already: the schema is created once per process and server.
_schema_ready: weakref.WeakSet[Driver] = weakref.WeakSet()


def ensure_schema(driver: Driver, *, force: bool = False) -> None:
    """Create the constraints and indexes of ``cypher/schema.cypher`` once per driver (idempotent).

    The statements are ``IF NOT EXISTS`` and the last waits for the indexes to come online, so the
    first call on a fresh server costs seconds; later calls with the same driver return at once.
    """
    if driver in _schema_ready and not force:
        return
    statements = [q for q in all_queries().values() if q.source.name == "schema.cypher"]
    try:
        with driver.session() as session:
            for query in statements:
                session.run(query.text).consume()
            _migrate_fingerprints(session)
    except (ServiceUnavailable, SessionExpired) as e:
        raise ServerError(f"Neo4j stopped answering while creating the schema ({e}); check `ouroboros neo4j "
                          "status`, start it again and rerun") from e
    except Neo4jError as e:
        raise GraphError(f"creating the graph schema failed at {query.name!r}: {e.message}") from e
    _schema_ready.add(driver)


def _migrate_fingerprints(session: Any) -> None:
    """Older homes stored each deal's fingerprint as JSON: store its digest instead (idempotent).

    The digest of the same JSON is what the writer computes now, so ``updated_at`` does not move.
    """
    while rows := run_query(session, "migrate_json_fingerprints", limit=10_000).data():
        run_query(session, "migrate_set_fingerprints",
                  rows=[{"id": r["id"], "fingerprint": fingerprint_digest(r["fingerprint"])} for r in rows]).consume()


# -- checking and cleaning records -------------------------------------------------------------


def clean_text(value: str) -> str:
    """``value`` without control characters (NUL, escapes, ...); tabs and line breaks become spaces."""
    if value.isprintable():
        return value
    return "".join(
        " " if ch in "\t\n\r\x0b\x0c\x85\u2028\u2029" else ch
        for ch in value
        if ch in "\t\n\r\x0b\x0c\x85\u2028\u2029" or unicodedata.category(ch) not in ("Cc", "Cs")
    )


def _clean_record(record: DealRecord) -> DealRecord:
    changes: dict[str, Any] = {}
    for name in ("doc", "investor", "recipient", "amount_text", "evidence"):
        value = getattr(record, name)
        if value is not None and (cleaned := clean_text(value)) != value:
            changes[name] = cleaned.strip() if name != "evidence" else cleaned
    if record.spend_back is not None:
        sb = record.spend_back
        payee, what = clean_text(sb.payee), clean_text(sb.what) if sb.what is not None else None
        if (payee, what) != (sb.payee, sb.what):
            changes["spend_back"] = sb.model_copy(update={"payee": payee.strip(), "what": what})
    if record.hardware_mandate is not None:
        hm = record.hardware_mandate
        product, vendor = clean_text(hm.product), clean_text(hm.vendor)
        if (product, vendor) != (hm.product, hm.vendor):
            changes["hardware_mandate"] = hm.model_copy(update={"product": product.strip(), "vendor": vendor.strip()})
    return record.model_copy(update=changes) if changes else record


def _clean_document(document: SourceDocument) -> SourceDocument:
    changes = {name: clean_text(value) for name in ("doc", "source", "title", "published")
               if (value := getattr(document, name)) is not None and clean_text(value) != value}
    return document.model_copy(update=changes) if changes else document


def _too_long(value: str) -> bool:
    return len(value) * 4 > MAX_KEY_BYTES and len(value.encode("utf-8")) > MAX_KEY_BYTES


def record_problem(record: DealRecord) -> str | None:
    """Why the graph cannot hold this (cleaned) record, or None when it can."""
    names = {"investor": record.investor, "recipient": record.recipient}
    if record.spend_back is not None:
        names["spend-back payee"] = record.spend_back.payee
    if record.hardware_mandate is not None:
        names["mandated product"] = record.hardware_mandate.product
        names["product vendor"] = record.hardware_mandate.vendor
    for role, name in names.items():
        if not name.strip():
            return f"a {record.kind} record has an empty {role} name (fix the extractor output)"
        if _too_long(name):
            return (f"the {role} name of a {record.kind} record is {len(name.encode('utf-8')):,} bytes, "
                    f"above the {MAX_KEY_BYTES:,} an index key may hold ({name[:60]!r}...): "
                    "it is not a company name; fix the extractor output or the document")
    mandate = record.hardware_mandate
    if mandate is not None and _too_long(mandate.product + mandate.vendor):
        return (f"a mandated product and its vendor together exceed the {MAX_KEY_BYTES:,}-byte index key "
                f"limit ({mandate.product[:40]!r}, {mandate.vendor[:40]!r})")
    return None


def check_records(
    records: Sequence[DealRecord], documents: Sequence[SourceDocument] = ()
) -> tuple[list[DealRecord], list[SourceDocument], dict[str, str], int]:
    """Clean every record and document, and find the documents the graph cannot hold.

    Returns the cleaned records and documents of the documents that pass, the refused documents
    (doc -> reason: an empty or oversized name, an oversized document id) and how many records or
    documents had control characters removed. Nothing is written.
    """
    refused: dict[str, str] = {}
    kept: list[DealRecord] = []
    cleaned = 0
    for original in records:
        record = _clean_record(original)
        cleaned += record is not original
        if not record.doc.strip():
            refused.setdefault(original.doc, f"a {record.kind} record {record.investor[:60]!r} -> "
                                             f"{record.recipient[:60]!r} has no doc (fix the extractor output)")
            continue
        if record.doc != original.doc:
            # A doc id with control characters is not the id the pipeline knows the document by.
            refused.setdefault(original.doc, "the document id holds control characters; give it a clean id")
            continue
        if _too_long(record.doc):
            refused.setdefault(record.doc, f"the document id is {len(record.doc.encode('utf-8')):,} bytes, above "
                                           f"the {MAX_KEY_BYTES:,} an index key may hold: give it a shorter id")
            continue
        problem = record_problem(record)
        if problem is not None:
            refused.setdefault(record.doc, problem)
            continue
        kept.append(record)
    docs: list[SourceDocument] = []
    for source in documents:
        document = _clean_document(source)
        cleaned += document is not source
        if document.doc != source.doc:
            refused.setdefault(source.doc, "the document id holds control characters; give it a clean id")
        elif not document.doc.strip() or _too_long(document.doc):
            refused.setdefault(document.doc, f"the document id is empty or above the {MAX_KEY_BYTES:,}-byte "
                                             "index key limit: give it a short, non-empty id")
        docs.append(document)
    return ([r for r in kept if r.doc not in refused], [d for d in docs if d.doc not in refused], refused,
            cleaned)


# -- rows ----------------------------------------------------------------------------------------


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
        current.ids.extend(r.deal_id for r in doc_records)
    if current.docs:
        result.append(current)
    return result


def document_row(doc: str, source: SourceDocument | None) -> dict[str, Any]:
    """The ``Document`` node of ``doc``; a doc without a SourceDocument keeps only its id."""
    if source is None:
        return {"id": doc, "source": None, "content_hash": None, "url": None, "title": None, "outlet": None,
                "published": None, "date_basis": None, "form": None, "filer": None}
    return {"id": doc, "source": source.source, "content_hash": source.content_hash, **source.provenance()}


def deal_fingerprint(record: DealRecord) -> str:
    """A digest of everything about a deal that may change while its id stays the same.

    The sha256 (16 hex digits, so Browser's property panel shows no JSON) of the JSON
    ``record.model_dump(mode="json")`` of those fields gives (tested), built by hand: the dump
    costs more than the rest of a row together.
    """
    sb, hm = record.spend_back, record.hardware_mandate
    content = {
        "amount_usd": record.amount_usd, "amount_text": record.amount_text,
        "spend_back": None if sb is None else {"payee": sb.payee, "what": sb.what, "amount_usd": sb.amount_usd,
                                               "evidence": sb.evidence},
        "hardware_mandate": None if hm is None else {"product": hm.product, "vendor": hm.vendor, "evidence": hm.evidence},
        "status": record.status, "confidence": record.confidence, "extractor": record.extractor,
        "fx": None if record.fx is None else record.fx.model_dump(),
    }
    return fingerprint_digest(json.dumps(content, sort_keys=True, ensure_ascii=False))


def fingerprint_digest(content: str) -> str:
    """The stored form of a deal fingerprint (also applied to the JSON ones older homes hold)."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def deal_caption(record: DealRecord) -> str:
    """What Neo4j Browser shows on a deal node: "$300B purchase, announced" (graph.captions)."""
    return short_deal_caption(record.kind, record.amount_usd, record.status)


def deal_row(record: DealRecord, deal_id: str | None = None) -> dict[str, Any]:
    """The ``Deal`` node of a record, with the ids it links to."""
    return {
        "id": deal_id or record.deal_id, "doc": record.doc, "kind": record.kind, "investor": record.investor,
        "recipient": record.recipient, "amount_usd": record.amount_usd, "amount_text": record.amount_text,
        "status": record.status, "extractor": record.extractor, "confidence": record.confidence,
        "caption": deal_caption(record), "fingerprint": deal_fingerprint(record),
        "evidence_id": evidence_id(record.doc, record.evidence),
        **fx_properties(record),
    }


def fx_properties(record: DealRecord) -> dict[str, Any]:
    """How a deal's USD figure came from another currency (all None for amounts stated in USD)."""
    fx = record.fx.model_dump() if record.fx is not None else dict.fromkeys(Conversion.model_fields)
    return {f"fx_{key}": value for key, value in fx.items()}


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
    if len(live) == 1:  # most pairs: the same result, without the set and list building
        (leg,) = live
        date = leg["published"] or leg["first_seen"] or None
        return {
            "deal_ids": [leg["deal_id"]], "kinds": [leg["kind"]], "amount_usd": leg["amount_usd"],
            "statuses": [leg["status"]], "docs": [leg["doc"]], "sources": 1,
            "tentative": leg["status"] in TENTATIVE_STATUSES, "confidence": float(leg["confidence"] or 0.0),
            "first_seen": leg["first_seen"] or None, "latest": date,
            "label": flow_label([leg["kind"]], leg["amount_usd"]),
            "short": flow_caption([leg["kind"]], leg["amount_usd"]),
        }
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
        "short": flow_caption(kinds, amount),
    }


def flow_label(kinds: Sequence[str], amount_usd: float | None) -> str:
    """What Neo4j Browser shows on a FLOW: its kinds and amount ("investment+spend_back $100B")."""
    text = "+".join(kinds)
    return f"{text} {format_usd(amount_usd)}" if amount_usd is not None else text


# -- loading -------------------------------------------------------------------------------------


def load_records(
    driver: Driver,
    records: Sequence[DealRecord],
    documents: Sequence[SourceDocument] = (),
    *,
    batch_size: int = 5000,
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
        What was written; ``refused`` names every document that was not stored and why (its
        earlier state in the graph, if any, is untouched). The other documents are stored.

    Raises:
        GraphError: the server is unreachable or refuses the session; batches before it are
            complete, the failing one is not (rerun once the server is back).
    """
    started = time.perf_counter()
    records, documents, refused, cleaned = check_records(records, documents)
    ensure_schema(driver)
    sources = {d.doc: d for d in documents}
    plan = batches(records, documents, batch_size)
    totals = [0, 0, 0]  # flows written, flows deleted, embedded
    for index, batch in enumerate(plan):
        vectors = _embeddings(driver, batch.records, embed) if embed is not None else {}
        totals[2] += len(vectors)
        _write_isolating(driver, index, len(plan), batch, sources, vectors, refused, totals)
    # Once per load, and a no-op when no FLOW appeared or vanished.
    refresh_components(driver)
    stored = {i for b in plan for r, i in zip(b.records, b.ids, strict=True) if r.doc not in refused}
    return LoadSummary(
        documents=sum(len(b.docs) for b in plan) - sum(1 for b in plan for d in b.docs if d in refused),
        deals=len(stored), batches=len(plan), flows_written=totals[0],
        flows_deleted=totals[1], embedded=totals[2], seconds=round(time.perf_counter() - started, 3),
        refused=tuple(RefusedDocument(doc, reason) for doc, reason in refused.items()), cleaned=cleaned,
    )


def _write_isolating(
    driver: Driver,
    index: int,
    total: int,
    batch: _Batch,
    sources: dict[str, SourceDocument],
    vectors: dict[str, list[float]],
    refused: dict[str, str],
    totals: list[int],
) -> None:
    """Write one batch; when Neo4j refuses it, split it until the document it cannot store is found."""
    try:
        with driver.session() as session:
            w, d = session.execute_write(_write_batch, index, batch, sources, vectors, now_iso())
    except (ServiceUnavailable, SessionExpired, AuthError) as e:
        first = batch.docs[0] if batch.docs else "?"
        raise ServerError(
            f"writing batch {index + 1}/{total} (documents {first!r} ... {len(batch.docs)} in all) failed: "
            f"{e}; the server is unreachable: check it with `ouroboros neo4j status`, then rerun (earlier "
            "batches are stored completely, a rerun changes nothing for them)"
        ) from e
    except Neo4jError as e:
        if len(batch.docs) == 1:
            what = (f"Neo4j could not store this document's deals now ({e.code}: {(e.message or '')[:300]}); "
                    "the other documents were stored. Load it again later"
                    if isinstance(e, TransientError) else
                    f"Neo4j refused this document's deals ({e.code}: {(e.message or '')[:300]}); the other "
                    "documents were stored. Fix or drop this document (rerunning will not help) and load it again")
            refused[batch.docs[0]] = what
            return
        half = len(batch.docs) // 2
        for docs in (batch.docs[:half], batch.docs[half:]):
            wanted = set(docs)
            kept = [(r, i) for r, i in zip(batch.records, batch.ids, strict=True) if r.doc in wanted]
            part = _Batch(docs=docs, records=[r for r, _ in kept], ids=[i for _, i in kept])
            own = {evidence_id(r.doc, r.evidence) for r in part.records}
            part_vectors = {k: v for k, v in vectors.items() if k in own}
            _write_isolating(driver, index, total, part, sources, part_vectors, refused, totals)
        return
    totals[0] += w
    totals[1] += d


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
    # The GraphState lock first: concurrent batches and component refreshes wait for this one.
    run_query(tx, "lock_graph")
    # The ids are the records' own (a merge keeps a deal's id); the names written are the aliased ones.
    ids = batch.ids or [r.deal_id for r in batch.records]
    corrections = read_corrections(tx)
    records = [corrections.aliased(r) for r in batch.records]
    keep = sorted(set(ids))
    stored = run_query(tx, "upsert_documents", rows=[document_row(doc, sources.get(doc)) for doc in batch.docs]).data()
    published = {row["id"]: row["published"] for row in stored}
    # A deal's id includes its document, so when no document of the batch has a deal stored yet
    # (a first load), every deal is new and there is nothing stale to find, delete or re-derive.
    replacing = any(row["had_deals"] for row in stored)
    touched: set[Pair] = set()
    if replacing:
        for row in run_query(tx, "document_deal_legs", docs=batch.docs):
            a, b = row["investor"], row["recipient"]
            touched.add((a, b))
            touched.update((b, c) for c in [*row["payees"], *row["vendors"]])
    for record in records:
        touched.update(record_pairs(record))
    touched = {(a, b) for a, b in touched if a != b}
    if replacing:
        run_query(tx, "delete_stale_deals", docs=batch.docs, keep=keep)
        run_query(tx, "delete_deal_extras", ids=keep)
    names = {n for pair in touched for n in pair} | {r.investor for r in records} | {r.recipient for r in records}
    run_query(tx, "upsert_companies", names=sorted(names))
    evidence = dict.fromkeys((r.doc, r.evidence) for r in records)  # one row per sentence, hashed once
    run_query(tx, "upsert_evidence", rows=[{"id": evidence_id(doc, text), "text": text, "doc": doc}
                                           for doc, text in evidence])
    if vectors:
        run_query(tx, "set_evidence_embeddings", rows=[{"id": k, "embedding": v} for k, v in vectors.items()])
    first_seen = _write_deals(tx, records, ids, now, replacing)
    flagged = [{"id": i, "note": corrections.rejected[i]} for i in sorted(set(ids)) if i in corrections.rejected]
    if flagged:
        run_query(tx, "review_flag_rejected", rows=flagged, prefix=REJECTED_PREFIX)
    # Each leg keeps the sentence that states it: its own when the document states it apart.
    spend_backs = [
        {"deal_id": i, "payee": r.spend_back.payee, "what": r.spend_back.what, "amount_usd": r.spend_back.amount_usd,
         "evidence": r.spend_back.evidence or r.evidence}
        for r, i in zip(records, ids, strict=True) if r.spend_back is not None and r.spend_back.payee != r.recipient
    ]
    if spend_backs:
        run_query(tx, "upsert_spend_backs", rows=spend_backs)
    mandates = [
        {"deal_id": i, "product": r.hardware_mandate.product, "vendor": r.hardware_mandate.vendor,
         "evidence": r.hardware_mandate.evidence or r.evidence}
        for r, i in zip(records, ids, strict=True) if r.hardware_mandate is not None
    ]
    if mandates:
        run_query(tx, "upsert_mandates", rows=mandates)
    if replacing:
        run_query(tx, "delete_orphan_evidence", docs=batch.docs)
    if _crash_hook is not None:
        _crash_hook(index)
    live = [(r, i) for r, i in zip(records, ids, strict=True) if i not in corrections.rejected]
    legs = batch_legs([r for r, _ in live], [i for _, i in live], first_seen, published)
    return _derive_flows(tx, touched, legs)


def read_corrections(runner: Any) -> Corrections:
    """The corrections in force now (one read of the review trail, usually a handful of nodes)."""
    return corrections_from_trail(run_query(runner, "review_latest"))


def _write_deals(
    tx: ManagedTransaction, records: Sequence[DealRecord], ids: Sequence[str], now: str, replacing: bool = True
) -> dict[str, str]:
    """Create the new deals, update the stored ones; returns every deal's ``first_seen``.

    Which deals exist is read under the batch's GraphState lock, so no other writer creates one
    in between: the new ones are created without MERGE (a third of the cost). When the batch's
    documents had no deals stored (``replacing`` false), none of its deals exists: nothing is read.
    """
    stored = {row["id"] for row in run_query(tx, "existing_deals", ids=sorted(set(ids)))} if replacing else set()
    fresh: dict[str, dict[str, Any]] = {}  # the last record of a deal sets its properties, as MERGE + SET would
    old: list[dict[str, Any]] = []
    for record, deal_id in zip(records, ids, strict=True):
        if deal_id in stored:
            old.append(deal_row(record, deal_id))
        else:
            fresh[deal_id] = deal_row(record, deal_id)
    first_seen = dict.fromkeys(fresh, now)
    if fresh:
        run_query(tx, "create_deals", rows=list(fresh.values()), now=now)
    if old:
        first_seen.update((row["id"], row["first_seen"]) for row in run_query(tx, "upsert_deals", rows=old, now=now))
    return first_seen


def batch_legs(
    records: Sequence[DealRecord], ids: Sequence[str], first_seen: dict[str, str], published: dict[str, str | None]
) -> dict[Pair, list[dict[str, Any]]]:
    """The legs of money the batch's records make, by pair, as ``read_flow_legs`` returns them.

    A deal stated twice in a batch is one node: the last record set its properties, and it keeps
    the spend-backs and mandates of all of them (as ``upsert_spend_backs`` and ``upsert_mandates``
    write them).
    """
    last = dict(zip(ids, records, strict=True))
    extras: dict[Pair, dict[str, dict[str, Any]]] = {}  # pair -> deal id -> leg
    for deal_id, r in zip(ids, records, strict=True):
        if r.spend_back is not None and r.spend_back.payee != r.recipient:
            extras.setdefault((r.recipient, r.spend_back.payee), {})[f"s{deal_id}"] = {
                "deal_id": deal_id, "kind": "spend_back", "amount_usd": r.spend_back.amount_usd}
        if r.hardware_mandate is not None and r.hardware_mandate.vendor != r.recipient:
            extras.setdefault((r.recipient, r.hardware_mandate.vendor), {})[f"m{deal_id}"] = {
                "deal_id": deal_id, "kind": "mandate", "amount_usd": None}
    legs: dict[Pair, list[dict[str, Any]]] = {}

    def base(deal_id: str) -> dict[str, Any]:
        r = last[deal_id]
        return {"deal_id": deal_id, "status": r.status, "doc": r.doc, "first_seen": first_seen.get(deal_id),
                "confidence": r.confidence, "published": published.get(r.doc)}

    for deal_id, r in last.items():
        if r.investor != r.recipient:
            legs.setdefault((r.investor, r.recipient), []).append(
                {**base(deal_id), "kind": r.kind, "amount_usd": r.amount_usd})
    for pair, by_deal in extras.items():
        legs.setdefault(pair, []).extend({**base(leg["deal_id"]), **leg} for leg in by_deal.values())
    return legs


def _derive_flows(
    tx: ManagedTransaction, pairs: set[Pair], legs: dict[Pair, list[dict[str, Any]]]
) -> tuple[int, int]:
    """Re-derive the FLOW of each pair from its legs; count the FLOWs that appeared or vanished.

    A pair without a FLOW has no live leg outside this batch (a FLOW exists exactly when a pair
    has a leg that is not denied), so its FLOW follows from the batch's own legs and nothing is
    read. The legs of a pair that has a FLOW are read from the graph, and the FLOW is written
    only when its properties change: a rerun writes none.
    """
    if not pairs:
        return 0, 0
    ordered = [{"from": a, "to": b} for a, b in sorted(pairs)]
    existing = {(row["from"], row["to"]) for row in run_query(tx, "existing_flows", pairs=ordered)}
    derived: dict[Pair, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
    for pair in pairs - existing:
        derived[pair] = (None, aggregate_flow(legs.get(pair, ())))
    if existing:
        for row in run_query(tx, "read_flow_legs", pairs=[{"from": a, "to": b} for a, b in sorted(existing)]):
            derived[(row["from"], row["to"])] = (row["current"], aggregate_flow(row["legs"]))
    creates: list[dict[str, Any]] = []
    upserts: list[dict[str, Any]] = []
    removals: list[dict[str, str]] = []
    changed: dict[str, bool] = {}  # company -> whether a FLOW of it appeared (else one only vanished)
    changes = 0
    for (a, b), (current, props) in sorted(derived.items()):
        if props is None:
            if current is not None:
                removals.append({"from": a, "to": b})
                for name in (a, b):
                    changed.setdefault(name, False)
                changes += 1
        elif current is None:
            creates.append({"from": a, "to": b, "props": props})
            changed.update({a: True, b: True})
            changes += 1
        elif _props_differ(current, props):
            upserts.append({"from": a, "to": b, "props": props})
    if creates:
        run_query(tx, "create_flows", rows=creates)
    if upserts:
        run_query(tx, "upsert_flows", rows=upserts)
    if removals:
        run_query(tx, "delete_flows", pairs=removals)
    if changes:
        run_query(tx, "count_flow_changes", changes=changes, limit=INCREMENTAL_LIMIT,
                  rows=[{"name": n, "added": added} for n, added in sorted(changed.items())])
    return len(creates) + len(upserts), len(removals)


def _props_differ(current: dict[str, Any], props: dict[str, Any]) -> bool:
    # Neo4j drops null properties and hands lists back as lists.
    return {k: v for k, v in props.items() if v is not None} != current


def refresh_components(driver: Driver, *, force: bool = False) -> bool:
    """Bring ``Company.scc`` up to date when a FLOW appeared or vanished since the last refresh.

    A directed cycle lies inside one strongly connected component, so the loop statement starts
    only from companies whose ``scc`` is set and never leaves that component. Up to
    ``INCREMENTAL_LIMIT`` changed FLOWs, only the companies the changes can join into or split
    from a component are recomputed; otherwise (or with ``force``) the whole FLOW graph is.
    Returns whether it recomputed anything.
    """
    try:
        with driver.session() as session:
            changes = run_query(session, "components_state").single()["changes"]
            if not (changes or force):
                return False
            return bool(session.execute_write(_refresh_components, force, now_iso()))
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"recomputing the flow components failed: {e}; rerun the command") from e


def _refresh_components(tx: ManagedTransaction, force: bool, now: str) -> bool:
    # The GraphState lock first: every batch takes it first too, so a concurrent batch runs wholly
    # before this refresh (and is seen) or wholly after it (and is counted afresh): what is
    # cleared here is exactly what was read here.
    changes = run_query(tx, "lock_components", now=now).single()["changes"]
    if not (changes or force):
        return False
    rows = None
    if not force and changes <= INCREMENTAL_LIMIT:
        rows = _incremental_components(tx)
    if rows is None:
        rows = _all_components(tx)
    if rows:
        run_query(tx, "set_components", rows=rows)
    run_query(tx, "finish_components", now=now)
    return True


def _all_components(tx: ManagedTransaction) -> list[dict[str, Any]]:
    """The ``scc`` changes over the whole FLOW graph (one pass; edges on no cycle are left out early)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    starts: list[int] = []
    ends: list[int] = []
    for row in run_query(tx, "flow_adjacency"):
        targets = row["to"]
        starts.extend([row["from"]] * len(targets))
        ends.extend(targets)
    wanted: dict[str, str] = {}
    if starts:
        ids, inverse = np.unique(np.array(starts + ends, dtype=np.int64), return_inverse=True)
        src, dst = inverse[: len(starts)], inverse[len(starts):]
        matrix = csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(len(ids), len(ids)))
        _, labels = connected_components(matrix, directed=True, connection="strong")
        sizes = np.bincount(labels)
        members = np.flatnonzero(sizes[labels] > 1)
        names = {row["id"]: row["name"] for row in run_query(
            tx, "company_names_by_id", ids=[int(i) for i in ids[members]])}
        groups: dict[int, list[str]] = {}
        for position in members:
            groups.setdefault(int(labels[position]), []).append(names[int(ids[position])])
        for group in groups.values():
            wanted.update(dict.fromkeys(group, min(group)))
    current = {row["name"]: row["scc"] for row in run_query(tx, "current_components")}
    rows: list[dict[str, str | None]] = [{"name": n, "scc": s} for n, s in wanted.items() if current.get(n) != s]
    rows += [{"name": n, "scc": None} for n in current if n not in wanted]
    return rows


def _incremental_components(tx: ManagedTransaction) -> list[dict[str, Any]] | None:
    """The ``scc`` changes around the dirty companies; None when the search grows too large.

    A component can only change where a changed FLOW runs: a new cycle through an added FLOW
    u -> v consists of companies reachable from v that reach u, and a removed FLOW can only split
    the component of its two ends. So with A the ends of the added FLOWs and D every dirty
    company, every component that changed lies inside Z: the companies reachable from A that
    reach A, and D, together with the whole old components of all of them. Recomputing the
    strongly connected components of the FLOWs inside Z gives every company of Z its new
    component; the others keep theirs.
    """
    rows = run_query(tx, "dirty_companies").data()
    if not rows:
        return []
    dirty = {row["name"]: row["scc"] for row in rows}
    added = {row["name"] for row in rows if row["added"]}
    between = _between(tx, added) if added else set()
    if between is None:
        return None
    old = {row["name"]: row["scc"] for row in run_query(tx, "companies_components", names=sorted(between))}
    old.update(dirty)
    sccs = sorted({s for s in old.values() if s is not None})
    for row in run_query(tx, "component_members", sccs=sccs):
        old[row["name"]] = row["scc"]
    zone = set(old)
    graph = nx.DiGraph()
    graph.add_nodes_from(zone)
    graph.add_edges_from((row["from"], row["to"]) for row in run_query(tx, "flow_successors", names=sorted(zone))
                         if row["to"] in zone)
    wanted = component_ids(graph)
    return [{"name": n, "scc": wanted.get(n)} for n in sorted(zone) if old.get(n) != wanted.get(n)]


class _Search:
    """A breadth-first search along FLOWs (``flow_successors`` or ``flow_predecessors``), one level a step."""

    def __init__(self, start: set[str], step: str, within: set[str] | None = None) -> None:
        self.step_query, self.within = step, within
        self.seen = set(start) if within is None else start & within
        self.frontier = sorted(self.seen)

    @property
    def done(self) -> bool:
        return not self.frontier

    def step(self, tx: ManagedTransaction) -> None:
        side = "to" if self.step_query == "flow_successors" else "from"
        found = {row[side] for row in run_query(tx, self.step_query, names=self.frontier)} - self.seen
        if self.within is not None:
            found &= self.within
        self.seen |= found
        self.frontier = sorted(found)


def _between(tx: ManagedTransaction, start: set[str]) -> set[str] | None:
    """The companies reachable from ``start`` that reach ``start``; None when that costs too much.

    Both directions are searched a level at a time, the smaller first; when one is complete, the
    other continues only inside it (a company on a path from ``start`` to a company that reaches
    ``start`` reaches it too). None when both pass ``SEARCH_LIMIT`` companies.
    """
    forward, backward = _Search(start, "flow_successors"), _Search(start, "flow_predecessors")
    while not (forward.done or backward.done):
        if min(len(forward.seen), len(backward.seen)) > SEARCH_LIMIT:
            return None
        (forward if len(forward.seen) <= len(backward.seen) else backward).step(tx)
    complete = forward if forward.done else backward
    other = "flow_predecessors" if complete is forward else "flow_successors"
    rest = _Search(start, other, within=complete.seen)
    while not rest.done:
        rest.step(tx)
    return rest.seen


def component_ids(graph: nx.DiGraph) -> dict[str, str]:
    """Each company in a strongly connected component of two or more, mapped to its smallest name."""
    ids: dict[str, str] = {}
    for component in nx.strongly_connected_components(graph):
        if len(component) > 1:
            smallest = min(component)
            ids.update(dict.fromkeys(component, smallest))
    return ids
