"""Grounding checks on their own: normalisation, evidence spans, names and aliases, trimmed parts."""

from __future__ import annotations

import pytest

from extractors.llm import grounder_for
from extractors.llm_grounding import GroundingStats, Window, find_evidence, mentions, normalize
from extractors.resolve import CompanyResolver

PASSAGE = (
    "As part of the expanded agreement, Anthropic named Amazon Web Services its primary training partner "
    "and will use AWS Trainium chips, a deal worth \u201cup to $4 billion\u201d."
)


@pytest.fixture(scope="module")
def grounder():
    return grounder_for(CompanyResolver(use_embeddings=False))


def deal(**fields: object) -> dict:
    base = {"kind": "investment", "investor": "Amazon", "recipient": "Anthropic", "amount_text": "up to $4 billion",
            "amount_usd": 4e9, "spend_back": None, "hardware_mandate": None, "status": "announced",
            "evidence": PASSAGE}
    return {**base, **fields}


def test_normalize_folds_case_quotes_dashes_and_spaces() -> None:
    assert normalize("  \u201cUp  to\u201d\n$4\u2009billion \u2014 AWS\u2019s ") == "\"up to\" $4 billion - aws's"


def test_find_evidence_returns_the_source_span() -> None:
    source = "Intro.  NVIDIA said it \u201cwill invest\u201d up to\n$100 billion in OpenAI. Outro."
    assert find_evidence('NVIDIA said it "will invest" up to $100 billion in OpenAI.', source) == (
        "NVIDIA said it \u201cwill invest\u201d up to\n$100 billion in OpenAI.")
    assert find_evidence("NVIDIA said ... in OpenAI.", source) == (
        "NVIDIA said it \u201cwill invest\u201d up to\n$100 billion in OpenAI.")
    assert find_evidence("NVIDIA said it will invest $200 billion in OpenAI.", source) is None
    assert find_evidence("in OpenAI ... NVIDIA said", source) is None  # pieces out of order


def test_mentions_needs_whole_words() -> None:
    assert mentions("OpenAI pays Oracle.", {"Oracle"})
    assert not mentions("OpenAI pays Oraclesoft.", {"Oracle"})
    assert not mentions("AMDOCS signs a deal.", {"AMD"})


def test_alias_in_text_grounds_the_canonical_name(grounder) -> None:
    stats = GroundingStats()
    record = grounder.ground(deal(), Window(passage=PASSAGE), "d.txt", stats)
    assert record is not None and (record.investor, record.recipient) == ("Amazon", "Anthropic")
    assert record.amount_usd == 4e9 and record.evidence == PASSAGE and stats.kept == 1


def test_company_named_only_in_the_lead_or_context_is_grounded(grounder) -> None:
    passage = "The Company agreed to purchase accelerator systems for $2.1 billion."
    window = Window(passage=passage, context="Deliveries start next year.",
                    lead="FORM 8-K Halberd Compute, Inc. [Excerpt] Supply Agreement with Corvane Semiconductor")
    said = deal(kind="purchase", investor="Halberd Compute", recipient="Corvane Semiconductor, Inc.",
                amount_text="$2.1 billion", evidence=passage)
    record = grounder.ground(said, window, "d.txt", GroundingStats())
    assert record is not None and (record.investor, record.recipient) == ("Halberd Compute", "Corvane Semiconductor")
    # Evidence, unlike names, must come from the passage or its context, not the lead.
    stats = GroundingStats()
    assert grounder.ground({**said, "evidence": "Supply Agreement with Corvane Semiconductor"}, window, "d",
                           stats) is None
    assert stats.dropped == {"evidence_not_in_passage": 1}


def test_self_flow_is_dropped(grounder) -> None:
    stats = GroundingStats()
    assert grounder.ground(deal(investor="AWS", recipient="Amazon"), Window(passage=PASSAGE), "d", stats) is None
    assert stats.dropped == {"self_flow": 1}


def test_unsupported_parts_are_trimmed_not_the_deal(grounder) -> None:
    stats = GroundingStats()
    said = deal(spend_back={"payee": "Microsoft", "what": "Azure"},
                hardware_mandate={"product": "TPU v5", "vendor": "Google"})
    record = grounder.ground(said, Window(passage=PASSAGE), "d", stats)
    assert record is not None and record.spend_back is None and record.hardware_mandate is None
    assert stats.trimmed == {"spend_back_payee_not_in_text": 1, "mandate_product_not_in_text": 1}


def test_supported_mandate_and_spend_back_are_kept(grounder) -> None:
    said = deal(spend_back={"payee": "AWS", "what": "cloud computing"},
                hardware_mandate={"product": "Trainium", "vendor": "Amazon Web Services"})
    record = grounder.ground(said, Window(passage=PASSAGE), "d", GroundingStats())
    assert record is not None
    assert record.spend_back is not None and record.spend_back.payee == "Amazon"
    assert record.hardware_mandate is not None and record.hardware_mandate.vendor == "Amazon"


def test_vague_amount_keeps_text_without_a_figure(grounder) -> None:
    passage = "Amazon is investing billions in Anthropic."
    record = grounder.ground(deal(amount_text="billions", amount_usd=5e9, evidence=passage),
                             Window(passage=passage), "d", GroundingStats())
    assert record is not None and record.amount_text == "billions" and record.amount_usd is None
