"""The rule-based extractor: the spaCy pipeline's deal candidates as canonical ``DealRecord``s."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from spacy.tokens import Doc

from extractors.pipeline import get_nlp, prepare_text, split_passages
from extractors.registry import register_extractor
from extractors.relations import Candidate
from extractors.resolve import CompanyResolver
from ouroboros.core.records import DealRecord, HardwareMandate, SourceDocument, SpendBack


def _as_written(evidence: str, prepared: str, original: str) -> str:
    """The evidence sentence as the original text writes it (same offsets as the prepared text)."""
    start = prepared.find(evidence)
    return original[start: start + len(evidence)] if start >= 0 else evidence


@lru_cache(maxsize=1)
def shared_product_resolver() -> CompanyResolver:
    """A resolver used only for product names (registry knowledge, nothing run-specific)."""
    return CompanyResolver()


@register_extractor("spacy")
class SpacyExtractor:
    """Deals from the spaCy pipeline (``extractors.pipeline``); names resolved across a run.

    One instance per run: its resolver remembers unknown companies, so "Corvane Semiconductor,
    Inc." in one document and "Corvane" in the next get the same canonical name.
    """

    name = "spacy"

    def __init__(self, resolver: CompanyResolver | None = None) -> None:
        self.nlp = get_nlp()
        self.resolver = resolver or CompanyResolver()
        relations = self.nlp.get_pipe("ouroboros_relations")
        if getattr(relations, "resolve_product", None) is None:
            setattr(relations, "resolve_product", shared_product_resolver().resolve_product)  # noqa: B010

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        """Every deal ``text`` states, as records of document ``doc``.

        A long text is parsed passage by passage (``split_passages``), so it never exceeds spaCy's
        ``max_length`` and memory stays bounded by the passage size, whatever the document's. Text
        addressed to a reader or a machine (``extractors.addressed``) is blanked first.
        """
        records: list[DealRecord] = []
        for offset, part in split_passages(prepare_text(text)):
            records.extend(self.records(self.nlp(part), doc, original=text[offset: offset + len(part)]))
        return records

    def extract_documents(self, documents: Iterable[SourceDocument], batch_size: int = 16) -> Iterator[
            tuple[SourceDocument, list[DealRecord]]]:
        """Records per document, parsing in batches with ``nlp.pipe`` (faster than one by one)."""
        items = list(documents)
        parts = [(index, part, item.text[offset: offset + len(part)]) for index, item in enumerate(items)
                 for offset, part in split_passages(prepare_text(item.text))]
        parsed = self.nlp.pipe((part for _, part, _ in parts), batch_size=batch_size)
        current, records = 0, list[DealRecord]()
        for (index, _, original), passage in zip(parts, parsed, strict=True):
            while index > current:  # every passage of a document comes before the next document's
                yield items[current], records
                current, records = current + 1, []
            records.extend(self.records(passage, items[index].doc, original=original))
        for index in range(current, len(items)):
            yield items[index], records
            records = []

    def records(self, parsed: Doc, doc: str, original: str | None = None) -> list[DealRecord]:
        """Turn a parsed doc's candidates into records with canonical names.

        ``original`` is the passage as written when the parsed text was prepared (``prepare_text``
        keeps every offset): evidence is quoted from it, so a headline keeps its own capitals.
        """
        records = []
        prepared = parsed.text  # built once: Doc.text joins every token
        for candidate in parsed._.deal_candidates or []:
            if original is not None and original != prepared:
                candidate.evidence = _as_written(candidate.evidence, prepared, original)
            record = self._record(candidate, doc)
            if record is not None:
                records.append(record)
        return records

    def _record(self, c: Candidate, doc: str) -> DealRecord | None:
        if not c.investor or not c.recipient:
            return None
        investor = self.resolver.canonical(c.investor)
        recipient = self.resolver.canonical(c.recipient)
        if investor == recipient:
            return None
        spend_back = None
        if c.spend_back is not None:
            payee = self.resolver.canonical(c.spend_back[0])
            if payee != recipient:
                spend_back = SpendBack(payee=payee, what=c.spend_back[1],
                                       evidence=_own_sentence(c.spend_back_evidence, c.evidence))
        mandate = None
        if c.mandate is not None:
            product, vendor = c.mandate
            known = shared_product_resolver().resolve_product(product)
            product = known[0] if known else product
            mandate = HardwareMandate(product=product, vendor=self.resolver.canonical(vendor),
                                      evidence=_own_sentence(c.mandate_evidence, c.evidence))
        confidence = 0.55 + 0.15 * (c.money is not None) + 0.15 * c.direct - 0.2 * c.generic + 0.1 * c.merged
        return DealRecord(
            doc=doc,
            kind=c.kind,  # type: ignore[arg-type]
            investor=investor,
            recipient=recipient,
            amount_usd=c.money.amount_usd if c.money is not None else None,
            amount_text=c.amount_text,
            spend_back=spend_back,
            hardware_mandate=mandate,
            status=c.status,  # type: ignore[arg-type]
            evidence=c.evidence,
            confidence=round(max(0.05, min(0.95, confidence)), 2),
            extractor=self.name,
        )


def _own_sentence(leg_evidence: str, deal_evidence: str) -> str:
    """A leg's evidence as the record holds it: empty when the deal's own sentence states the leg."""
    return "" if not leg_evidence or leg_evidence == deal_evidence else leg_evidence
