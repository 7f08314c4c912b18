"""A floor on our own documents in other styles (corpus/docs/n*.txt), which exercise the classes of issue 10."""

from __future__ import annotations

from pathlib import Path

from extractors.evaluate import load_gold, score_run
from extractors.spacy_extractor import SpacyExtractor

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
OWN_FLOW_RECALL_FLOOR = 0.85
OWN_FLOW_PRECISION_FLOOR = 0.90


def test_own_style_documents_hold_the_floor() -> None:
    gold = [line for line in load_gold(CORPUS) if line.doc.startswith("n")]
    assert len(gold) >= 7
    extractor = SpacyExtractor()
    predicted = {line.doc: extractor.extract((CORPUS / "docs" / line.doc).read_text("utf-8"), line.doc)
                 for line in gold}
    report = score_run(gold, predicted, extractor="spacy", gold_dir=str(CORPUS))
    assert report.total.recall >= OWN_FLOW_RECALL_FLOOR, report.to_json()
    assert report.total.precision >= OWN_FLOW_PRECISION_FLOOR, report.to_json()
