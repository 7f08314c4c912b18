"""The ingestion stages as plain functions; ``flows/ingest.py`` wraps each in a Prefect task.

get -> normalise -> deduplicate -> extract -> load -> detect loops -> alert. Every function here
takes what it needs as arguments (an open driver, documents, records) so tests call them directly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired
from pydantic import BaseModel, ConfigDict

from extractors.currency import convert_amounts
from flows.dedupe import DedupeResult, Embedder, KnownDocument, deduplicate, source_url
from flows.normalize import normalize_document
from graph.queries import run_query, server_gone
from graph.writer import load_records
from ouroboros.core.errors import ExtractionError, GraphError
from ouroboros.core.formatting import now_iso
from ouroboros.core.names import lookalike_of
from ouroboros.core.records import DealRecord, Extractor, SourceDocument

log = logging.getLogger(__name__)

# What a Document node keeps of where and when its text was published (SourceDocument.provenance).
PROVENANCE_FIELDS: tuple[str, ...] = ("url", "title", "outlet", "published", "date_basis", "form", "filer")


class Extraction(BaseModel):
    """The records one document gave."""

    model_config = ConfigDict(frozen=True)

    doc: str
    records: list[DealRecord]


class Failure(BaseModel):
    """A document whose extraction failed; it is recorded and retried next run."""

    model_config = ConfigDict(frozen=True)

    doc: str
    error: str


def _read(driver: Driver, name: str, **params: object) -> list[dict[str, object]]:
    try:
        with driver.session() as session:
            return run_query(session, name, **params).data()
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"reading ingestion state ({name}) failed: {e}; check `ouroboros neo4j status`") from e


def _write(driver: Driver, name: str, **params: object) -> None:
    try:
        with driver.session() as session:
            session.execute_write(lambda tx: run_query(tx, name, **params).consume())
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"recording ingestion state ({name}) failed: {e}; rerun: nothing is lost") from e


def read_known(driver: Driver) -> list[KnownDocument]:
    """What the graph remembers of every document (without embeddings)."""
    return [
        KnownDocument(
            id=str(row["id"]),
            content_hash=str(row["content_hash"] or ""),
            state=str(row["state"]),
            canonical_url=row["canonical_url"],  # type: ignore[arg-type]
            sources=tuple(row["sources"]),  # type: ignore[arg-type]
            attempts=int(row["attempts"]),  # type: ignore[call-overload]
        )
        for row in _read(driver, "ingest_known_documents")
    ]


def skip_urls(known: Sequence[KnownDocument], max_attempts: int) -> set[str]:
    """URLs not worth fetching again: loaded documents (and their duplicates), and ones given up on."""
    done = [k for k in known if k.state == "loaded" or (k.state == "failed" and k.attempts >= max_attempts)]
    return {url for k in done for url in (k.canonical_url, *k.sources) if url}


def read_pending(driver: Driver, max_attempts: int) -> list[SourceDocument]:
    """Documents an earlier run fetched but did not finish, from the text the graph keeps for them."""
    return [
        SourceDocument(
            doc=str(row["id"]), text=str(row["text"]), source=str(row["source"] or row["id"]),
            **{key: row[key] for key in PROVENANCE_FIELDS},  # type: ignore[arg-type]
        )
        for row in _read(driver, "ingest_pending_documents", max_attempts=max_attempts)
    ]


def gather(fetched: Sequence[SourceDocument], pending: Sequence[SourceDocument]) -> list[SourceDocument]:
    """Fetched documents plus pending ones not fetched again (a fresh copy wins), normalised."""
    documents = [normalize_document(d) for d in fetched]
    ids = {d.doc for d in documents}
    return documents + [normalize_document(d) for d in pending if d.doc not in ids]


def find_duplicates(
    driver: Driver,
    documents: Sequence[SourceDocument],
    known: Sequence[KnownDocument],
    embedder: Embedder | None,
    threshold: float,
    max_attempts: int,
) -> DedupeResult:
    """Deduplicate ``documents`` against the graph; embeddings are read and computed only when needed."""
    given_up = {k.id for k in known if k.state == "failed" and k.attempts >= max_attempts}
    hashes = {k.id: k.content_hash for k in known}
    # A document that failed too often is left alone until its text changes.
    documents = [d for d in documents if not (d.doc in given_up and hashes[d.doc] == d.content_hash)]
    first = deduplicate(documents, known, None, threshold)
    if not first.new or embedder is None:
        return first
    rows: dict[str, Any] = {str(r["id"]): r for r in _read(driver, "ingest_document_embeddings")}
    known = [
        replace(k, embedding=tuple(rows[k.id]["embedding"]), facts=frozenset(rows[k.id]["facts"]))
        if k.id in rows else k
        for k in known
    ]
    return deduplicate(documents, known, embedder, threshold)


def record_fetched(driver: Driver, result: DedupeResult) -> None:
    """Store the new documents (state ``fetched``, text kept) and add duplicates' URLs as sources."""
    now = now_iso()
    rows = [
        {
            "id": d.doc, "source": d.source, **d.provenance(),
            "content_hash": d.content_hash, "canonical_url": source_url(d), "text": d.text,
            "embedding": result.embeddings.get(d.doc), "facts": result.facts.get(d.doc),
        }
        for d in result.new
    ]
    if rows:
        _write(driver, "ingest_mark_fetched", rows=rows, now=now)
    sources = [{"id": dup.of, "url": source_url(dup.document)} for dup in result.duplicates]
    if sources:
        _write(driver, "ingest_add_sources", rows=sources)


@lru_cache(maxsize=4)
def cached_extractor(name: str) -> Extractor:
    """One extractor per name and process: models load once, also on each Dask worker."""
    from extractors.registry import get_extractor

    return get_extractor(name)


def extract_document(extractor: str, document: SourceDocument) -> Extraction:
    """Run the extractor called ``extractor`` on one document; ExtractionError names it when it fails."""
    try:
        records = cached_extractor(extractor).extract(document.text, document.doc)
    except ExtractionError:
        raise
    except Exception as e:  # an extractor bug must not lose the document: it is recorded as failed
        raise ExtractionError(f"extractor {extractor!r} failed on {document.doc}: {e!r}") from e
    flag_lookalikes(records)
    # A file's modification day is no publication date: such a document converts at the latest rate.
    published = document.published if document.date_basis != "file_modified" else None
    return Extraction(doc=document.doc, records=convert_amounts(records, published))


def flag_lookalikes(records: Sequence[DealRecord]) -> None:
    """Warn about names that mix scripts to imitate a Latin name ("Microsоft" with a Cyrillic o).

    They stay separate companies (merging would hide a forgery, and some are real names), but the
    operator is told which document to check.
    """
    for record in records:
        for name in dict.fromkeys((record.investor, record.recipient)):
            twin = lookalike_of(name)
            if twin is not None:
                log.warning("%s: company name %r mixes scripts and looks like %r; kept apart from it, "
                            "check the source", record.doc, name, twin)


def record_extracted(driver: Driver, extractions: Sequence[Extraction], failures: Sequence[Failure]) -> None:
    """Mark documents extracted, or failed with their error (retried next run)."""
    if extractions:
        _write(driver, "ingest_mark_extracted", ids=[e.doc for e in extractions])
    if failures:
        _write(driver, "ingest_mark_failed", rows=[{"id": f.doc, "error": f.error} for f in failures])


def load_documents(
    driver: Driver, extractions: Sequence[Extraction], documents: Sequence[SourceDocument]
) -> tuple[int, list[Failure]]:
    """Write these documents' deals (replacing what they stated before), then mark them loaded.

    The writer stores whole documents per transaction; a crash before the marks only means
    the next run loads them again, which changes nothing (MERGE on stable ids). A document the
    graph refuses (a name or id it cannot index) is marked failed with the writer's reason; the
    others are loaded. Returns the deals stored and the refused documents.
    """
    from extractors.embeddings import embed_texts  # torch loads only when a batch has evidence to embed

    records = [r for e in extractions for r in e.records]
    summary = load_records(driver, records, documents, embed=embed_texts)
    refused = [Failure(doc=r.doc, error=f"{r.doc}: {r.reason}") for r in summary.refused]
    if refused:
        _write(driver, "ingest_mark_failed", rows=[{"id": f.doc, "error": f.error} for f in refused])
    stored = [d.doc for d in documents if d.doc not in {f.doc for f in refused}]
    _write(driver, "ingest_mark_loaded", ids=stored, now=now_iso())
    return summary.deals, refused
