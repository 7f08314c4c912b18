"""Long documents are parsed in passages: never spaCy's E088, memory bounded by the passage size."""

from __future__ import annotations

import time

import spacy

from extractors.pipeline import PASSAGE_CHARS, split_passages
from extractors.resolve import CompanyResolver
from extractors.spacy_extractor import SpacyExtractor
from ouroboros.core.records import SourceDocument

PARAGRAPH = "The weather was mild and the market was quiet. Analysts expect little change this week.\n\n"


def _text(chars: int) -> str:
    return PARAGRAPH * (chars // len(PARAGRAPH) + 1)


def test_short_text_is_one_passage() -> None:
    assert split_passages("Helix invested $5 million in Tamsin.") == [(0, "Helix invested $5 million in Tamsin.")]


def test_passages_cover_the_text_on_boundaries_and_fast() -> None:
    text = _text(5 * 1024 * 1024)  # the largest file documents.py accepts
    start = time.perf_counter()
    passages = split_passages(text)
    assert time.perf_counter() - start < 2.0
    assert "".join(part for _, part in passages) == text
    assert all(len(part) <= PASSAGE_CHARS for _, part in passages)
    assert all(text[offset:].startswith(part) for offset, part in passages)
    # Cut after a blank line, never inside a sentence.
    assert all(part.endswith("\n\n") for _, part in passages[:-1])


def test_cuts_fall_back_to_sentences_then_whitespace_then_the_limit() -> None:
    sentences = "Helix invested in Tamsin. " * 10
    assert all(part.endswith(". ") for _, part in split_passages(sentences, max_chars=60)[:-1])
    words = "word " * 40
    assert all(part.endswith(" ") for _, part in split_passages(words, max_chars=30)[:-1])
    solid = "x" * 100
    assert [len(part) for _, part in split_passages(solid, max_chars=30)] == [30, 30, 30, 10]


def _tokenizer_only_extractor() -> SpacyExtractor:
    # A blank pipeline has the same max_length (1,000,000) as en_core_web_sm and runs in seconds.
    extractor = SpacyExtractor.__new__(SpacyExtractor)
    extractor.nlp = spacy.blank("en")
    extractor.resolver = CompanyResolver()
    return extractor


def test_text_over_max_length_is_read_without_e088() -> None:
    extractor = _tokenizer_only_extractor()
    text = _text(1_200_000)
    assert len(text) > extractor.nlp.max_length
    assert extractor.extract(text, "big.txt") == []
    documents = [SourceDocument(doc="a.txt", text="short", source="t"),
                 SourceDocument(doc="big.txt", text=text, source="t"),
                 SourceDocument(doc="c.txt", text="", source="t")]
    out = list(extractor.extract_documents(documents))
    assert [source.doc for source, _ in out] == ["a.txt", "big.txt", "c.txt"]
