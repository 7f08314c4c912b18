"""URL canonicalisation, text normalisation and deduplication (URL, hash, near-duplicate)."""

from __future__ import annotations

import numpy as np
import pytest

from flows.dedupe import KnownDocument, deduplicate, embed, facts, same_facts
from flows.fetch import html_to_text
from flows.normalize import canonical_url, normalize_document, normalize_text
from ouroboros.core.records import SourceDocument
from tests.fixtures.ingest.server import SITE


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://News.Example.com/a/b?utm_source=rss&id=7&utm_medium=x#comments", "https://news.example.com/a/b?id=7"),
        ("HTTP://example.com:80/x?b=2&a=1&fbclid=zz", "http://example.com/x?a=1&b=2"),
        ("https://example.com:8443/x?ref=home", "https://example.com:8443/x"),
        ("https://example.com", "https://example.com/"),
        ("http://127.0.0.1:5000/p?gclid=1&mc_cid=2", "http://127.0.0.1:5000/p"),
        ("corpus/d01.txt", "corpus/d01.txt"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_normalize_text_and_document() -> None:
    assert normalize_text("  A\u00a0 b\r\n\r\n\r\n\tc  \n") == "A b\n\nc"
    assert normalize_text("Cafe\u0301") == "Café"
    doc = SourceDocument(doc="https://x.example/a?utm_source=1", text=" t  u ", source="https://x.example/a?utm_source=1")
    normal = normalize_document(doc)
    assert (normal.doc, normal.text, normal.source) == ("https://x.example/a", "t u", doc.source)


def doc(name: str, text: str, source: str | None = None) -> SourceDocument:
    return SourceDocument(doc=name, text=text, source=source or f"https://news.example/{name}")


def toy_embedder(texts: list[str]) -> np.ndarray:
    """Bag of letters: enough to tell near-identical texts from different ones in these tests."""
    vectors = np.zeros((len(texts), 26), dtype=np.float32)
    for row, text in enumerate(texts):
        for char in text.lower():
            if "a" <= char <= "z":
                vectors[row, ord(char) - 97] += 1
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_seen_documents_are_dropped_and_unfinished_ones_retried() -> None:
    a, b, c = doc("a", "alpha text"), doc("b", "bravo text"), doc("c", "charlie text")
    known = [
        KnownDocument("a", a.content_hash, "loaded"),
        KnownDocument("b", b.content_hash, "failed"),
        KnownDocument("c", "old-hash", "loaded"),
    ]
    result = deduplicate([a, b, c], known, embedder=None, threshold=0.9)
    assert result.seen == 1
    assert [d.doc for d in result.new] == ["b", "c"]  # b failed last time, c changed
    assert result.duplicates == []


def test_duplicates_by_url_and_hash() -> None:
    original = doc("orig", "the same words")
    known = [KnownDocument("orig", original.content_hash, "loaded", "https://news.example/orig", ("https://w.example/x",))]
    copies = [
        doc("copy1", "different words", source="https://w.example/x?utm_source=feed"),  # a source we recorded
        doc("copy2", "the same words", source="https://other.example/y"),  # same text elsewhere
        doc("new1", "brand new words"),
        doc("new2", "brand new words", source="https://third.example/z"),  # same as new1, same batch
    ]
    result = deduplicate(copies, known, embedder=None, threshold=0.9)
    assert result.seen == 1
    assert [(d.document.doc, d.of, d.reason) for d in result.duplicates] == [
        ("copy2", "orig", "hash"),
        ("new2", "new1", "hash"),
    ]
    assert [d.doc for d in result.new] == ["new1"]


def test_near_duplicates_against_the_graph_and_the_batch() -> None:
    known_text = "Lumora invests in Brightwater"
    known = [
        KnownDocument(
            "k", doc("k", known_text).content_hash, "loaded",
            embedding=tuple(toy_embedder([known_text])[0]), facts=facts(known_text),
        )
    ]
    batch = [
        doc("n1", "Lumora invests in Brightwater!"),  # near the known one
        doc("n2", "Quarry Peak buys Vega chips"),
        doc("n3", "Quarry Peak buys Vega chip"),  # near n2, same batch
    ]
    calls: list[int] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return toy_embedder(texts)

    result = deduplicate(batch, known, embedder=counting, threshold=0.98)
    assert calls == [3]  # one call for the whole batch
    assert [(d.document.doc, d.of, d.reason) for d in result.duplicates] == [("n1", "k", "near"), ("n3", "n2", "near")]
    assert [d.doc for d in result.new] == ["n2"] and list(result.embeddings) == ["n2"]
    assert len(result.embeddings["n2"]) == 26


def test_no_embedding_when_nothing_is_new() -> None:
    a = doc("a", "alpha")

    def refuse(texts: list[str]) -> np.ndarray:
        raise AssertionError("the model must not run")

    result = deduplicate([a], [KnownDocument("a", a.content_hash, "loaded")], embedder=refuse, threshold=0.9)
    assert result.seen == 1 and not result.new


def test_real_model_tells_a_syndicated_copy_from_another_story() -> None:
    texts = {
        name: html_to_text((SITE / "articles" / f"{name}.html").read_text(encoding="utf-8"), name)
        for name in ("lumora-brightwater", "wire-lumora-brightwater", "brightwater-quarry")
    }
    batch = [doc(name, text) for name, text in texts.items()]
    result = deduplicate(batch, [], embed, threshold=0.9)
    assert [d.doc for d in result.new] == ["lumora-brightwater", "brightwater-quarry"]
    assert [(d.document.doc, d.of, d.reason) for d in result.duplicates] == [
        ("wire-lumora-brightwater", "lumora-brightwater", "near")
    ]
    assert result.duplicates[0].similarity > 0.95


def test_template_briefs_with_other_names_and_numbers_are_not_duplicates() -> None:
    def brief(investor: str, recipient: str, amount: int) -> str:
        return (
            f"{recipient} raises ${amount} million from {investor}\n\n"
            f"NEW YORK, March 9, 2026 -- {investor} has invested ${amount} million in {recipient}, "
            "the companies said."
        )

    a = brief("Pallas Ridge Robotics", "Orrin Brook Robotics", 169)
    b = brief("Orrin Brook Systems", "Orrin Brook Robotics", 694)
    assert not same_facts(facts(a), facts(b))
    result = deduplicate([doc("a", a), doc("b", b)], [], embed, threshold=0.9)
    assert [d.doc for d in result.new] == ["a", "b"] and result.duplicates == []


def test_facts_are_numbers_and_capitalised_names() -> None:
    assert facts("On March 6, Quarry Peak agreed to buy $3.5 billion of chips.") == {
        "On", "March", "6", "Quarry", "Peak", "3.5"
    }
    assert same_facts(frozenset({"A", "B", "1"}), frozenset({"A", "B", "1", "Wire"}))
    assert not same_facts(frozenset({"A", "B", "1"}), frozenset({"A", "C", "2"}))
