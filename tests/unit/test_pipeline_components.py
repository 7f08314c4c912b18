"""Pipeline components on spacy.blank("en") with the registry: fast, no statistical model."""

from __future__ import annotations

import spacy
from spacy.language import Language

import extractors.components  # noqa: F401  (registers the factories)
from extractors.components import COMPANIES, MONEY, PRODUCTS, TRIGGERS


def _blank() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    for name in ("ouroboros_layout", "ouroboros_companies", "ouroboros_money", "ouroboros_triggers"):
        nlp.add_pipe(name)
    return nlp


def test_registry_companies_products_and_divisions() -> None:
    doc = _blank()("Anthropic named Amazon Web Services its partner and will use AWS Trainium chips.")
    companies = [(s.text, s.kb_id_) for s in doc.spans[COMPANIES]]
    assert ("Anthropic", "Anthropic") in companies
    assert ("Amazon Web Services", "Amazon") in companies
    assert ("AWS", "Amazon") in companies
    assert [(s.text, s.label_, s.kb_id_) for s in doc.spans[PRODUCTS]] == [("Trainium", "PRODUCT", "Amazon")]


def test_unknown_names_short_forms_and_defined_terms() -> None:
    text = ('Halberd Compute, Inc. (the "Company") signed with Nimbus Ridge Labs. Nimbus Ridge will pay the '
            "Company for capacity.")
    doc = _blank()(text)
    companies = [(s.text, s.kb_id_) for s in doc.spans[COMPANIES]]
    assert ("Halberd Compute, Inc.", "Halberd Compute") in companies
    assert ("Nimbus Ridge Labs", "Nimbus Ridge Labs") in companies
    assert ("Nimbus Ridge", "Nimbus Ridge Labs") in companies
    assert ("Company", "Halberd Compute") in companies


def test_brands_are_not_hardware() -> None:
    doc = _blank()("The ChatGPT maker will run on Vera Rubin.")
    assert [(s.text, s.label_) for s in doc.spans[PRODUCTS]] == [("ChatGPT", "BRAND"), ("Vera Rubin", "PRODUCT")]


def test_money_spans_carry_parsed_amounts() -> None:
    doc = _blank()("It paid US$1.3bn, not €900 million, at $23.28 per share.")
    found = [(s.text, s._.money.amount_usd, s._.money.is_deal_amount) for s in doc.spans[MONEY]]
    assert found == [("US$1.3bn", 1.3e9, True), ("€900 million", None, True), ("$23.28", 23.28, False)]


def test_trigger_words_hint_the_kind() -> None:
    doc = _blank()("NVIDIA will invest and lend; OpenAI holds a warrant and a backstop.")
    assert [(s.text, s.label_) for s in doc.spans[TRIGGERS]] == [
        ("invest", "investment"), ("lend", "loan"), ("warrant", "warrant"), ("backstop", "backstop")]


def test_line_breaks_end_sentences() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("ouroboros_layout")
    doc = nlp("Headline without a full stop\nBody sentence here.")
    assert doc[6].text == "Body" and doc[6].is_sent_start
