"""The ensemble: spaCy's and the LLM's records for a document, merged by flow.

Two records describe the same deal when they share investor, recipient and kind and their amounts
are compatible (one unknown, or within 5%). Such a pair becomes one record flagged
``extractor="ensemble"`` whose confidence is the noisy-or of both (two independent readers agreeing
is stronger evidence than either); where both give a value, spaCy's wins (its amounts and evidence
are read by rules, word for word), and the LLM fills what spaCy left empty (spend-back, hardware
mandate, amount). A record only one side found is kept as it was, with its own confidence and its
own ``extractor`` ("spacy" or "llm"), except that a purchase one side found as a record and the
other as a spend-back of an investment (FORMAT.md treats both alike) counts as agreement.

The output is deterministic: sorted by where the evidence sits in the document, then by flow.
"""

from __future__ import annotations

from collections.abc import Sequence

from extractors.llm import LLMExtractor
from extractors.llm_grounding import normalize
from extractors.llm_usage import UsageReport
from extractors.registry import get_extractor, register_extractor
from extractors.sameness import same_deal
from ouroboros.core.records import DealRecord, Extractor

# Agreement never makes a record certain: both readers can share a misreading.
MAX_CONFIDENCE = 0.99


def _agree(a: float, b: float) -> float:
    return min(MAX_CONFIDENCE, round(1 - (1 - a) * (1 - b), 4))


def _combine(spacy: DealRecord, llm: DealRecord) -> DealRecord:
    """One record from two readings of the same deal: spaCy's values first, the LLM's for the gaps."""
    use_llm_amount = spacy.amount_text is None and llm.amount_text is not None
    return spacy.model_copy(
        update={
            "amount_usd": llm.amount_usd if use_llm_amount else spacy.amount_usd,
            "amount_text": llm.amount_text if use_llm_amount else spacy.amount_text,
            "spend_back": spacy.spend_back or llm.spend_back,
            "hardware_mandate": spacy.hardware_mandate or llm.hardware_mandate,
            "confidence": _agree(spacy.confidence, llm.confidence),
            "extractor": "ensemble",
        }
    )


def _spend_back_flows(records: Sequence[DealRecord]) -> dict[tuple[str, str], float]:
    """(recipient, payee) of every spend-back -> the confidence of the record that states it."""
    flows: dict[tuple[str, str], float] = {}
    for r in records:
        if r.spend_back is not None:
            key = (r.recipient, r.spend_back.payee)
            flows[key] = max(flows.get(key, 0.0), r.confidence)
    return flows


def merge(spacy: Sequence[DealRecord], llm: Sequence[DealRecord], text: str = "") -> list[DealRecord]:
    """Merge one document's records from both extractors (see the module docstring).

    Args:
        spacy: the spaCy extractor's records.
        llm: the LLM extractor's records.
        text: the document, to order the output by evidence position.
    """
    unmatched_llm = list(llm)
    merged: list[DealRecord] = []
    for s in spacy:
        match = next((m for m in unmatched_llm if same_deal(s, m, across_readers=True)), None)
        if match is None:
            merged.append(s.model_copy(update={"extractor": "spacy"}))
            continue
        unmatched_llm.remove(match)
        merged.append(_combine(s, match))
    merged.extend(m.model_copy(update={"extractor": "llm"}) for m in unmatched_llm)

    # A purchase one side states as its own record and the other as a spend-back is one flow, seen twice.
    spend_backs = {"spacy": _spend_back_flows(spacy), "llm": _spend_back_flows(llm)}
    for i, record in enumerate(merged):
        if record.extractor in spend_backs and record.kind == "purchase":
            other = "llm" if record.extractor == "spacy" else "spacy"
            partner = spend_backs[other].get((record.investor, record.recipient))
            if partner is not None:
                merged[i] = record.model_copy(
                    update={"confidence": _agree(record.confidence, partner), "extractor": "ensemble"}
                )
    return sorted(merged, key=lambda r: _order(r, normalize(text)))


def _order(record: DealRecord, norm_text: str) -> tuple:
    position = norm_text.find(normalize(record.evidence)) if record.evidence else -1
    return (
        position if position >= 0 else len(norm_text),
        record.investor,
        record.recipient,
        record.kind,
        record.amount_usd if record.amount_usd is not None else -1.0,
        record.evidence,
    )


@register_extractor("ensemble")
class EnsembleExtractor:
    """spaCy and the LLM on the same document, merged (see the module docstring).

    When the model is unavailable for a document, the LLM extractor marks it for a retry and the
    ensemble returns spaCy's records alone.

    Args:
        spacy: the rule extractor (default: the registered ``spacy`` extractor).
        llm: the LLM extractor (default: one configured from ``OUROBOROS_LLM``).
    """

    name = "ensemble"

    def __init__(self, spacy: Extractor | None = None, llm: LLMExtractor | None = None) -> None:
        if spacy is None:
            spacy = get_extractor("spacy")
        self.spacy = spacy
        # The LLM falls back to the same spaCy instance, so a failing document is read by spaCy once.
        self.llm = llm if llm is not None else LLMExtractor(fallback=spacy)

    @property
    def report(self) -> UsageReport:
        """The LLM side's usage report for this run."""
        return self.llm.report

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        """Both extractors' records for one document, merged."""
        spacy_records = self.spacy.extract(text, doc)
        llm_records = self.llm.extract_llm(text, doc)
        return merge(spacy_records, llm_records or [], text)
