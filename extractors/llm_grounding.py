"""Grounding: an LLM deal survives only if the text it was read from supports it.

Checks, in order, each with the reason counted when it fails:

- ``evidence_not_in_passage``: the evidence (after whitespace, quote, dash and case normalisation;
  "..." may elide words) must occur in the passage or its context.
- ``instruction_in_evidence``: evidence that addresses a reader or model ("ignore previous
  instructions") is an injection attempt, not reporting.
- ``investor_not_in_text`` / ``recipient_not_in_text``: each company, or one of its aliases known
  to the shared resolver, must be named in the grounding window (document lead + context + passage).
- ``self_flow``: investor and recipient resolve to the same company.
- ``amount_not_in_text``: ``amount_text`` must occur in the window; ``amount_usd`` without an
  ``amount_text`` is not supported by anything.

Parts that fail but do not make the deal false are removed rather than the deal dropped: a
spend-back whose payee is not named, a hardware mandate whose product is not named.

Each leg cites its own sentence (issue 11): the sentence the model gave for the leg when it occurs in
the passage, else the one sentence of a several-sentence deal evidence that names the payee or the
product; empty when the deal's evidence is that sentence. The amount in
dollars is re-read from ``amount_text`` with the shared money parser, so the model cannot inflate it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from extractors.money import parse_money
from extractors.resolve import clean_name
from ouroboros.core.records import DealRecord, HardwareMandate, SpendBack

# Injection phrasing: an instruction aimed at whoever reads the text. News does not talk like this.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:previous|prior|above|earlier|all|your)\b"
    r"[^.]{0,40}\b(?:instructions?|prompts?|rules|guidelines)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bas an ai\b|\b(?:assistant|language model)s?,?\s+(?:must|should)\b",
    re.IGNORECASE,
)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-"})
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*")
# Sentence ends inside an evidence span (the model often copies two or three sentences).
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’]?\s+(?=[\"“‘(]?[A-Z0-9$])")


@dataclass
class GroundingStats:
    """What grounding kept and dropped in a run, by reason."""

    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    trimmed: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Window:
    """The text an LLM answer may rely on: the passage, its context and the document's lead."""

    passage: str
    context: str = ""
    lead: str = ""

    @property
    def evidence_text(self) -> str:
        """Where evidence may come from: the context and the passage (the lead is only for names)."""
        return f"{self.context}\n{self.passage}" if self.context else self.passage

    @property
    def names_text(self) -> str:
        """Where company names may come from."""
        return f"{self.lead}\n{self.context}\n{self.passage}"


def normalize(text: str) -> str:
    """Case, quotes, dashes and whitespace folded so that copied text matches its source."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).casefold()


def _normalize_with_map(text: str) -> tuple[str, list[int]]:
    """``normalize(text)`` plus, for each output character, the index of its source character."""
    out: list[str] = []
    where: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch).translate(_QUOTES).casefold()
        if not folded.strip():
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            where.append(i)
            pending_space = False
        for piece in folded:
            out.append(piece)
            where.append(i)
    return "".join(out), where


def find_evidence(evidence: str, source: str) -> str | None:
    """The span of ``source`` that ``evidence`` copies, as written in the source; None if it does not.

    An ellipsis in the evidence may stand for omitted words; every piece must then occur in order.
    """
    pieces = [normalize(p) for p in _ELLIPSIS.split(evidence) if normalize(p)]
    if not pieces:
        return None
    norm, where = _normalize_with_map(source)
    start = pos = norm.find(pieces[0])
    if start < 0:
        return None
    pos = start + len(pieces[0])
    for piece in pieces[1:]:
        found = norm.find(piece, pos)
        if found < 0:
            return None
        pos = found + len(piece)
    return source[where[start] : where[pos - 1] + 1]


def mentions(text: str, forms: set[str]) -> bool:
    """Whether any of ``forms`` is named in ``text`` as whole words (normalised)."""
    norm = normalize(text)
    for form in forms:
        f = normalize(form)
        if f and re.search(rf"(?<!\w){re.escape(f)}(?!\w)", norm):
            return True
    return False


def name_forms(name: str, aliases: Callable[[str], set[str]]) -> set[str]:
    """The spellings that count as naming ``name``: itself without a legal suffix, and its aliases."""
    return {name.strip(), clean_name(name), *aliases(name)} - {""}


@dataclass(frozen=True)
class Grounder:
    """Checks LLM deals against their window and turns the survivors into deal records.

    Args:
        canonical: company name -> canonical name (the shared resolver); only asked about names that
            passed the checks, so a hallucinated name never enters the resolver's memory.
        aliases: written name -> other spellings of the same company (registry aliases and
            products); exact lookups only.
        confidence: the confidence given to a grounded LLM record.
    """

    canonical: Callable[[str], str]
    aliases: Callable[[str], set[str]]
    confidence: float = 0.6

    def _named(self, name: str, window: Window) -> bool:
        return mentions(window.names_text, name_forms(name, self.aliases))

    def ground(self, deal: dict, window: Window, doc: str, stats: GroundingStats) -> DealRecord | None:
        """One validated LLM deal (a dict of the schema's fields) -> a record, or None (counted)."""
        reason = self._reject_reason(deal, window)
        if reason is not None:
            stats.dropped[reason] += 1
            return None
        evidence = find_evidence(deal["evidence"], window.evidence_text) or deal["evidence"]
        amount_text = deal.get("amount_text") or None
        amount_usd = None
        if amount_text:
            money = parse_money(amount_text)
            # The figure comes from the words, never from the model's arithmetic.
            amount_usd = money.amount_usd if money is not None and money.is_deal_amount else None
        investor = self.canonical(deal["investor"])
        recipient = self.canonical(deal["recipient"])
        if investor == recipient:
            stats.dropped["self_flow"] += 1
            return None
        stats.kept += 1
        return DealRecord(
            doc=doc,
            kind=deal["kind"],
            investor=investor,
            recipient=recipient,
            amount_usd=amount_usd,
            amount_text=amount_text,
            spend_back=self._spend_back(deal.get("spend_back"), window, evidence, stats),
            hardware_mandate=self._mandate(deal.get("hardware_mandate"), window, evidence, (investor, recipient),
                                           stats),
            status=deal.get("status") or "announced",
            evidence=evidence,
            confidence=self.confidence,
            extractor="llm",
        )

    def _reject_reason(self, deal: dict, window: Window) -> str | None:
        if not deal.get("evidence") or find_evidence(deal["evidence"], window.evidence_text) is None:
            return "evidence_not_in_passage"
        if _INSTRUCTION.search(deal["evidence"]):
            return "instruction_in_evidence"
        if not self._named(deal["investor"], window):
            return "investor_not_in_text"
        if not self._named(deal["recipient"], window):
            return "recipient_not_in_text"
        amount_text = deal.get("amount_text")
        if amount_text and find_evidence(amount_text, window.evidence_text) is None:
            return "amount_not_in_text"
        if not amount_text and deal.get("amount_usd") is not None:
            return "amount_not_in_text"
        return None

    def _spend_back(self, value: dict | None, window: Window, deal_evidence: str,
                    stats: GroundingStats) -> SpendBack | None:
        if not value:
            return None
        if not self._named(value["payee"], window):
            stats.trimmed["spend_back_payee_not_in_text"] += 1
            return None
        own = self._leg_evidence(value, name_forms(value["payee"], self.aliases), window, deal_evidence, stats)
        return SpendBack(payee=self.canonical(value["payee"]), what=value.get("what"), amount_usd=None, evidence=own)

    def _leg_evidence(self, value: dict, forms: set[str], window: Window, deal_evidence: str,
                      stats: GroundingStats) -> str:
        """The sentence that states a leg, or "" when it is the deal's own evidence (see the module doc)."""
        said = value.get("evidence")
        if said:
            span = find_evidence(said, window.evidence_text)
            if span is not None:
                return "" if normalize(span) == normalize(deal_evidence) else span
            stats.trimmed["leg_evidence_not_in_passage"] += 1
        sentences = [s for s in _SENTENCE_END.split(deal_evidence.strip()) if s.strip()]
        if len(sentences) < 2:
            return ""
        naming = [s for s in sentences if mentions(s, forms)]
        return naming[-1].strip() if naming else ""

    def _mandate(
        self, value: dict | None, window: Window, deal_evidence: str, parties: tuple[str, str], stats: GroundingStats
    ) -> HardwareMandate | None:
        if not value:
            return None
        if not mentions(window.names_text, {value["product"]}):
            stats.trimmed["mandate_product_not_in_text"] += 1
            return None
        vendor = self.canonical(value["vendor"])
        # A product often names its vendor implicitly ("Trainium"); a vendor that is neither named nor a
        # party is the model's guess.
        if vendor not in parties and not self._named(value["vendor"], window):
            stats.trimmed["mandate_vendor_not_in_text"] += 1
            return None
        own = self._leg_evidence(value, {value["product"]}, window, deal_evidence, stats)
        return HardwareMandate(product=value["product"], vendor=vendor, evidence=own)
