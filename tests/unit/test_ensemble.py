"""Merging spaCy and LLM records: agreement, single-side records, determinism, LLM failure."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from tenacity import wait_none

from extractors.ensemble import EnsembleExtractor, merge
from extractors.llm import LLMExtractor, RetryPolicy
from extractors.pipeline import Passage
from extractors.resolve import CompanyResolver
from ouroboros.core.records import DealRecord, SpendBack

TEXT = (
    "NVIDIA will invest up to $100 billion in OpenAI. "
    "OpenAI agreed to pay Oracle about $300 billion for computing power. "
    "Oracle committed roughly $40 billion to buy NVIDIA chips."
)
E1, E2, E3 = (s if s.endswith(".") else s + "." for s in TEXT.split(". "))


def rec(kind: str, investor: str, recipient: str, amount: float | None, evidence: str, confidence: float,
        extractor: str, **extra: object) -> DealRecord:
    return DealRecord(doc="d.txt", kind=kind, investor=investor, recipient=recipient, amount_usd=amount,
                      amount_text=None if amount is None else f"${amount:g}", evidence=evidence,
                      confidence=confidence, extractor=extractor, **extra)


SPACY = [
    rec("investment", "NVIDIA", "OpenAI", 1e11, E1, 0.7, "spacy"),
    rec("purchase", "Oracle", "NVIDIA", 4e10, E3, 0.6, "spacy"),
]
LLM = [
    rec("investment", "NVIDIA", "OpenAI", None, E1, 0.6, "llm",
        spend_back=SpendBack(payee="NVIDIA", what="NVIDIA systems")),
    rec("purchase", "OpenAI", "Oracle", 3e11, E2, 0.6, "llm"),
]


def test_agreement_merges_and_raises_confidence() -> None:
    merged = merge(SPACY, LLM, TEXT)
    first = merged[0]
    assert (first.investor, first.recipient, first.extractor) == ("NVIDIA", "OpenAI", "ensemble")
    assert first.confidence == 1 - 0.3 * 0.4 and first.confidence > max(0.7, 0.6)
    # spaCy's amount and evidence, the LLM's spend-back.
    assert first.amount_usd == 1e11 and first.evidence == E1
    assert first.spend_back is not None and first.spend_back.payee == "NVIDIA"


def test_single_side_records_are_kept_and_flagged() -> None:
    merged = merge(SPACY, LLM, TEXT)
    assert [(r.investor, r.recipient, r.extractor, r.confidence) for r in merged] == [
        ("NVIDIA", "OpenAI", "ensemble", 0.88),
        ("OpenAI", "Oracle", "llm", 0.6),
        ("Oracle", "NVIDIA", "spacy", 0.6),
    ]


def test_incompatible_amounts_stay_two_deals() -> None:
    spacy = [rec("investment", "Amazon", "Anthropic", 4e9, E1, 0.7, "spacy")]
    llm = [rec("investment", "Amazon", "Anthropic", 8e9, E1, 0.6, "llm")]
    merged = merge(spacy, llm, TEXT)
    assert sorted((r.amount_usd, r.extractor) for r in merged) == [(4e9, "spacy"), (8e9, "llm")]


def test_different_kind_is_a_different_flow() -> None:
    merged = merge([rec("investment", "NVIDIA", "CoreWeave", None, E1, 0.7, "spacy")],
                   [rec("purchase", "NVIDIA", "CoreWeave", None, E1, 0.6, "llm")], TEXT)
    assert sorted(r.kind for r in merged) == ["investment", "purchase"]
    assert {r.extractor for r in merged} == {"spacy", "llm"}


def test_purchase_record_agrees_with_the_other_sides_spend_back() -> None:
    spacy = [rec("purchase", "OpenAI", "NVIDIA", None, E1, 0.5, "spacy")]
    llm = [rec("investment", "NVIDIA", "OpenAI", 1e11, E1, 0.6, "llm",
               spend_back=SpendBack(payee="NVIDIA", what="systems"))]
    merged = {(r.kind, r.extractor): r.confidence for r in merge(spacy, llm, TEXT)}
    assert merged == {("purchase", "ensemble"): 0.8, ("investment", "llm"): 0.6}


def test_merge_is_deterministic_whatever_the_input_order() -> None:
    outputs = {
        json.dumps([(r.model_dump(), r.extractor) for r in merge(list(s), list(m), TEXT)])
        for s in itertools.permutations(SPACY)
        for m in itertools.permutations(LLM)
    }
    assert len(outputs) == 1


# -- the extractor: both sides on a document -------------------------------------------------
class FixedSpacy:
    """Stand-in for the spaCy extractor: returns the SPACY records."""

    name = "spacy"

    def __init__(self) -> None:
        self.calls = 0

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        self.calls += 1
        return list(SPACY)


def passages(text: str) -> list[Passage]:
    start = text.index(E1)
    return [Passage(text=E1, start_char=start, end_char=start + len(E1), context="")]


def llm_with(answers: list, home: Path, spacy: FixedSpacy) -> LLMExtractor:
    def script():
        for a in answers:
            if isinstance(a, BaseException):
                raise a
            yield a

    return LLMExtractor(GenericFakeChatModel(messages=script()), model_name="fake:m", home=home, passages=passages,
                        fallback=spacy, resolver=CompanyResolver(use_embeddings=False),
                        retry=RetryPolicy(attempts=2, wait=wait_none()))


def test_ensemble_extractor_merges_both_sides(tmp_path: Path) -> None:
    said = {"kind": "investment", "investor": "NVIDIA", "recipient": "OpenAI", "amount_text": "up to $100 billion",
            "amount_usd": 1e11, "status": "announced", "evidence": E1}
    spacy = FixedSpacy()
    ensemble = EnsembleExtractor(spacy=spacy, llm=llm_with([AIMessage(json.dumps({"deals": [said]}))], tmp_path, spacy))
    records = ensemble.extract(TEXT, "d.txt")
    assert [(r.investor, r.recipient, r.extractor) for r in records] == [
        ("NVIDIA", "OpenAI", "ensemble"), ("Oracle", "NVIDIA", "spacy")]
    assert spacy.calls == 1 and ensemble.report.calls == 1


def test_ensemble_keeps_spacy_and_marks_retry_when_the_model_fails(tmp_path: Path) -> None:
    spacy = FixedSpacy()
    ensemble = EnsembleExtractor(spacy=spacy, llm=llm_with([TimeoutError(), TimeoutError()], tmp_path, spacy))
    records = ensemble.extract(TEXT, "d.txt")
    assert [(r.investor, r.recipient, r.extractor) for r in records] == [
        ("NVIDIA", "OpenAI", "spacy"), ("Oracle", "NVIDIA", "spacy")]
    assert spacy.calls == 1  # spaCy read the document once, not again as the LLM's fallback
    assert ensemble.report.needs_llm_retry == ["d.txt"]
    assert "d.txt" in json.loads((tmp_path / "llm-retry.json").read_text())


def test_llm_dedupe_keeps_two_deals_of_the_same_size_and_different_status() -> None:
    from extractors.llm import dedupe

    new = rec("investment", "Amazon", "Anthropic", 4e9, E1, 0.6, "llm", status="announced")
    old = rec("investment", "Amazon", "Anthropic", 4e9, E2, 0.6, "llm", status="completed")
    repeat = rec("investment", "Amazon", "Anthropic", None, E2, 0.6, "llm", status="announced",
                 spend_back=SpendBack(payee="Amazon", what="AWS"))
    kept = dedupe([new, old, repeat])
    assert [(r.status, r.amount_usd) for r in kept] == [("announced", 4e9), ("completed", 4e9)]
    assert kept[0].spend_back is not None  # the repeat filled in what the first mention lacked
