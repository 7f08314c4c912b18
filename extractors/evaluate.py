"""Score deal records against a gold folder laid out like ``shared/gold`` (FORMAT.md).

A gold folder holds ``gold.jsonl`` (one line per document: ``doc``, ``deals``, ``optional``) and
the documents, in ``docs/`` or beside ``gold.jsonl``.

Scoring is by flow, per document:

- every record is a flow ``investor -> recipient``; a spend-back adds ``recipient -> payee``;
- a spend-back flow and a separate ``purchase`` record over the same pair are the same flow
  (FORMAT.md), so within one document they count once, on both sides;
- predicted flows are matched one-to-one to gold flows with the same pair, preferring the gold
  record of the same kind, amount and status (two $4 billion investments stay two flows);
- a predicted flow with no gold match but an ``optional`` one is neither right nor wrong;
- precision, recall and F1 count the rest.

Over matched record pairs we also report the share with the right amount (``amount_usd`` equal
within 1%, or both null), spend-back payee, hardware mandate (same vendor, similar product name),
status and kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError
from rapidfuzz import fuzz

from ouroboros.core.errors import InputError
from ouroboros.core.records import DealRecord


class GoldDocument(BaseModel):
    """One line of ``gold.jsonl``."""

    doc: str
    deals: list[DealRecord]
    optional: list[DealRecord] = Field(default_factory=list)
    notes: str | None = None


class Flow(BaseModel):
    """One flow of a record (its main flow, or its spend-back)."""

    source: str
    target: str
    record: DealRecord
    is_spend_back: bool = False


class Counts(BaseModel):
    """True/false positives and misses, with the attribute agreement over matched records."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    matched_records: int = 0
    amount_ok: int = 0
    spend_back_ok: int = 0
    mandate_ok: int = 0
    status_ok: int = 0
    kind_ok: int = 0

    def add(self, other: Counts) -> None:
        """Accumulate ``other`` into this one."""
        for name in Counts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 1.0 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def share(self, name: str) -> float | None:
        """Share of matched records whose attribute ``name`` (amount, status, ...) is right."""
        if not self.matched_records:
            return None
        return getattr(self, f"{name}_ok") / self.matched_records


class DocScore(BaseModel):
    """The score of one document, with the flows that went wrong (for reading, not counting)."""

    doc: str
    counts: Counts
    false_positives: list[str] = Field(default_factory=list)
    misses: list[str] = Field(default_factory=list)
    wrong_attributes: list[str] = Field(default_factory=list)


class EvalReport(BaseModel):
    """Totals and per-document scores of one evaluation run."""

    extractor: str
    gold_dir: str
    documents: list[DocScore]
    total: Counts
    failed_documents: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, float | int | None]:
        """The headline numbers (what ``ouroboros eval`` prints and writes)."""
        t = self.total
        return {
            "documents": len(self.documents),
            "flow_precision": round(t.precision, 4),
            "flow_recall": round(t.recall, 4),
            "flow_f1": round(t.f1, 4),
            "tp": t.tp,
            "fp": t.fp,
            "fn": t.fn,
            "matched_records": t.matched_records,
            "amount_accuracy": _round(t.share("amount")),
            "spend_back_accuracy": _round(t.share("spend_back")),
            "mandate_accuracy": _round(t.share("mandate")),
            "status_accuracy": _round(t.share("status")),
            "kind_accuracy": _round(t.share("kind")),
        }

    def to_json(self) -> str:
        """Summary plus per-document details, as JSON."""
        data = {"extractor": self.extractor, "gold_dir": self.gold_dir, "summary": self.summary(),
                "failed_documents": self.failed_documents,
                "documents": [d.model_dump() for d in self.documents]}
        return json.dumps(data, indent=2, ensure_ascii=False)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# ---------------------------------------------------------------------------------------------
def load_gold(gold_dir: Path) -> list[GoldDocument]:
    """Parse ``gold_dir/gold.jsonl``; InputError naming the line when it is not valid."""
    path = gold_dir / "gold.jsonl"
    if not path.is_file():
        raise InputError(f"{gold_dir} has no gold.jsonl; give a folder laid out like shared/gold "
                         "(gold.jsonl plus the documents in docs/)")
    lines = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
            for section in ("deals", "optional"):
                data[section] = [{**record, "doc": data["doc"]} for record in data.get(section, [])]
            lines.append(GoldDocument.model_validate(data))
        except (json.JSONDecodeError, ValidationError, KeyError, TypeError) as e:
            raise InputError(f"{path}:{number} is not a valid gold line ({e}); fix it (see FORMAT.md)") from e
    return lines


def gold_document_path(gold_dir: Path, doc: str) -> Path:
    """Where a gold line's document lives: ``docs/<doc>``, else beside gold.jsonl."""
    inside = gold_dir / "docs" / doc
    return inside if inside.is_file() else gold_dir / doc


def flows_of(records: Iterable[DealRecord]) -> list[Flow]:
    """A document's flows, a spend-back and a purchase over the same pair counted once."""
    flows: list[Flow] = []
    for record in records:
        flows.append(Flow(source=record.investor, target=record.recipient, record=record))
    for record in records:
        sb = record.spend_back
        if sb is None or sb.payee == record.recipient:
            continue
        pair = (record.recipient, sb.payee)
        if any((f.source, f.target) == pair and (f.is_spend_back or f.record.kind == "purchase") for f in flows):
            continue
        flows.append(Flow(source=pair[0], target=pair[1], record=record, is_spend_back=True))
    return flows


def _same_amount(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 0.01 * max(abs(a), abs(b))


def _same_mandate(gold: DealRecord, predicted: DealRecord) -> bool:
    g, p = gold.hardware_mandate, predicted.hardware_mandate
    if g is None or p is None:
        return g is None and p is None
    if g.vendor != p.vendor:
        return False
    a, b = g.product.casefold(), p.product.casefold()
    return a in b or b in a or fuzz.partial_ratio(a, b) >= 80


def _payee(record: DealRecord) -> str | None:
    return record.spend_back.payee if record.spend_back else None


def _affinity(gold: Flow, predicted: Flow) -> int:
    if gold.is_spend_back or predicted.is_spend_back:
        return 0
    g, p = gold.record, predicted.record
    return 2 * (g.kind == p.kind) + 2 * _same_amount(g.amount_usd, p.amount_usd) + (g.status == p.status)


def _describe(flow: Flow) -> str:
    r = flow.record
    if flow.is_spend_back:
        return f"{flow.source} -> {flow.target} (spend-back of {r.kind} {r.investor} -> {r.recipient})"
    return f"{r.kind} {r.investor} -> {r.recipient} [{r.amount_text}, {r.status}]"


def score_document(gold: GoldDocument, predicted: list[DealRecord]) -> DocScore:
    """Match one document's predicted records to its gold records (see the module docstring)."""
    gold_flows = flows_of(gold.deals)
    optional_pairs = {(f.source, f.target) for f in flows_of(gold.optional)}
    predicted_flows = flows_of(predicted)
    pairs = []
    for gi, g in enumerate(gold_flows):
        for pi, p in enumerate(predicted_flows):
            if (g.source, g.target) == (p.source, p.target):
                pairs.append((_affinity(g, p), -gi, -pi, gi, pi))
    pairs.sort(reverse=True)
    used_gold: set[int] = set()
    used_predicted: set[int] = set()
    score = DocScore(doc=gold.doc, counts=Counts())
    counts = score.counts
    for _, _, _, gi, pi in pairs:
        if gi in used_gold or pi in used_predicted:
            continue
        used_gold.add(gi)
        used_predicted.add(pi)
        counts.tp += 1
        g, p = gold_flows[gi], predicted_flows[pi]
        if g.is_spend_back or p.is_spend_back:
            continue
        counts.matched_records += 1
        checks = {
            "amount": _same_amount(g.record.amount_usd, p.record.amount_usd),
            "spend_back": _payee(g.record) == _payee(p.record),
            "mandate": _same_mandate(g.record, p.record),
            "status": g.record.status == p.record.status,
            "kind": g.record.kind == p.record.kind,
        }
        for name, ok in checks.items():
            setattr(counts, f"{name}_ok", getattr(counts, f"{name}_ok") + ok)
            if not ok:
                score.wrong_attributes.append(f"{name}: {_describe(g)} vs predicted {_describe(p)}")
    for pi, p in enumerate(predicted_flows):
        if pi in used_predicted or (p.source, p.target) in optional_pairs:
            continue
        counts.fp += 1
        score.false_positives.append(_describe(p))
    for gi, g in enumerate(gold_flows):
        if gi not in used_gold:
            counts.fn += 1
            score.misses.append(_describe(g))
    return score


def score_run(gold: list[GoldDocument], predicted: dict[str, list[DealRecord]], *, extractor: str,
              gold_dir: str, failed: list[str] | None = None) -> EvalReport:
    """Score every gold document against the records predicted for it."""
    documents = [score_document(line, predicted.get(line.doc, [])) for line in gold]
    total = Counts()
    for document in documents:
        total.add(document.counts)
    return EvalReport(extractor=extractor, gold_dir=gold_dir, documents=documents, total=total,
                      failed_documents=failed or [])


def evaluate_gold_dir(gold_dir: Path, extractor_name: str = "spacy") -> EvalReport:
    """Run the extractor named ``extractor_name`` over a gold folder's documents and score it."""
    from extractors.documents import read_documents
    from extractors.registry import get_extractor

    gold = load_gold(gold_dir)
    paths = [gold_document_path(gold_dir, line.doc) for line in gold]
    documents, problems = read_documents(paths)
    extractor = get_extractor(extractor_name)
    predicted: dict[str, list[DealRecord]] = {}
    for document in documents:
        predicted[document.doc] = extractor.extract(document.text, document.doc)
    failed = [f"{p.path}: {p.message}" for p in problems]
    return score_run(gold, predicted, extractor=extractor_name, gold_dir=str(gold_dir), failed=failed)
