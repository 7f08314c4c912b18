"""Deduplication: by canonical URL, by content hash, and by near-duplicate text (embeddings).

The same story syndicated by several outlets should become one document with several sources,
not several documents whose deals would be counted again. Embeddings alone are not enough: two
wire briefs cut from one template ("A has invested $N million in B") embed almost alike while
stating different deals, so a near-duplicate must also repeat the other's facts (its numbers and
capitalised names).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from flows.normalize import canonical_url
from ouroboros.core.records import SourceDocument

Embedder = Callable[[list[str]], np.ndarray]
DuplicateReason = Literal["url", "hash", "near"]

# Share of the numbers, and of the capitalised names, of the shorter text that the other must repeat.
NUMBER_OVERLAP = 0.9
NAME_OVERLAP = 0.8
_FACT = re.compile(r"\d[\d,.]*\d|\d|[A-Z][\w&-]+")


def facts(text: str) -> frozenset[str]:
    """The numbers and capitalised words of ``text``: what two reports of one story share."""
    return frozenset(_FACT.findall(text))


def same_facts(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two texts state the same numbers and (almost) the same names."""

    def contained(x: set[str], y: set[str], share: float) -> bool:
        if not x or not y:
            return not x and not y
        return len(x & y) / min(len(x), len(y)) >= share

    numbers_a = {f for f in a if f[0].isdigit()}
    numbers_b = {f for f in b if f[0].isdigit()}
    return contained(numbers_a, numbers_b, NUMBER_OVERLAP) and contained(
        set(a) - numbers_a, set(b) - numbers_b, NAME_OVERLAP
    )


@dataclass(frozen=True)
class KnownDocument:
    """What the graph remembers of a document (see ``cypher/ingest.cypher``)."""

    id: str
    content_hash: str
    state: str
    canonical_url: str | None = None
    sources: tuple[str, ...] = ()
    attempts: int = 0
    embedding: tuple[float, ...] | None = None
    facts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Duplicate:
    """``document`` says what ``of`` already says; its source is added to ``of``."""

    document: SourceDocument
    of: str
    reason: DuplicateReason
    similarity: float = 1.0


@dataclass
class DedupeResult:
    """The documents to extract (with their embeddings), the duplicates, and how many were already done."""

    new: list[SourceDocument] = field(default_factory=list)
    embeddings: dict[str, list[float]] = field(default_factory=dict)
    facts: dict[str, list[str]] = field(default_factory=dict)
    duplicates: list[Duplicate] = field(default_factory=list)
    seen: int = 0


def source_url(document: SourceDocument) -> str:
    """The canonical form of where ``document`` came from (a URL, or a path unchanged)."""
    return canonical_url(document.source)


def deduplicate(
    documents: Sequence[SourceDocument],
    known: Sequence[KnownDocument],
    embedder: Embedder | None,
    threshold: float,
) -> DedupeResult:
    """Split ``documents`` into new ones and duplicates of known or earlier ones.

    A document already loaded with the same text is dropped (``seen``); one whose earlier attempt
    did not finish (state other than ``loaded``) or whose text changed is extracted again.
    ``embedder`` is called once, only when some document survived the URL and hash checks.
    """
    result = DedupeResult()
    by_id = {k.id: k for k in known}
    loaded = [k for k in known if k.state == "loaded"]
    loaded_urls = {url for k in loaded for url in (k.canonical_url, *k.sources) if url}
    hashes = {k.content_hash: k.id for k in loaded}
    candidates: list[SourceDocument] = []
    for document in documents:
        previous = by_id.get(document.doc)
        unchanged = previous is not None and previous.state == "loaded" and previous.content_hash == document.content_hash
        known_url = previous is None and source_url(document) in loaded_urls
        if unchanged or known_url:
            result.seen += 1
        elif previous is None and document.content_hash in hashes:
            result.duplicates.append(Duplicate(document, hashes[document.content_hash], "hash"))
        elif any(c.content_hash == document.content_hash for c in candidates):
            first = next(c for c in candidates if c.content_hash == document.content_hash)
            result.duplicates.append(Duplicate(document, first.doc, "hash"))
        else:
            candidates.append(document)
    if not candidates:
        return result
    if embedder is None:
        result.new = candidates
        return result

    vectors = np.asarray(embedder([c.text for c in candidates]), dtype=np.float32)
    batch_ids = {c.doc for c in candidates}
    refs = [(k.id, np.asarray(k.embedding, dtype=np.float32), k.facts)
            for k in loaded if k.embedding is not None and k.id not in batch_ids]
    for document, vector in zip(candidates, vectors, strict=True):
        own = facts(document.text)
        match = _near(vector, own, refs, threshold)
        if match is not None:
            result.duplicates.append(Duplicate(document, match[0], "near", match[1]))
            continue
        result.new.append(document)
        result.embeddings[document.doc] = vector.tolist()
        result.facts[document.doc] = sorted(own)
        # Later documents of this batch are compared with the earlier new ones too.
        refs.append((document.doc, vector, own))
    return result


def _near(
    vector: np.ndarray, own: frozenset[str], refs: list[tuple[str, np.ndarray, frozenset[str]]], threshold: float
) -> tuple[str, float] | None:
    """The most similar reference at or above ``threshold`` that also states the same facts."""
    if not refs:
        return None
    scores = np.stack([ref[1] for ref in refs]) @ vector
    for index in np.argsort(-scores):
        if scores[index] < threshold:
            return None
        if same_facts(own, refs[index][2]):
            return refs[index][0], float(scores[index])
    return None


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length all-MiniLM-L6-v2 embeddings (the graph writer's model: loaded once, offline, on first use)."""
    from extractors.embeddings import get_model

    return get_model().encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
