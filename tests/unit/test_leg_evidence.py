"""Every leg cites its own sentence (issue 11): spend-backs and mandates stated apart from the deal.

Sentences of our own, companies invented. A leg stated in the deal's own sentence leaves its
``evidence`` empty ("the deal's evidence states it"); a leg stated elsewhere cites that sentence,
never the investment's.
"""

from __future__ import annotations

import pytest

from extractors.llm import grounder_for
from extractors.llm_grounding import GroundingStats, Window
from extractors.resolve import CompanyResolver
from extractors.spacy_extractor import SpacyExtractor
from ouroboros.core.records import DealRecord

INVEST = "Helix Capital invested $500 million in Tamsin Labs."


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    return SpacyExtractor()


def only_investment(records: list[DealRecord]) -> DealRecord:
    investments = [r for r in records if r.kind == "investment"]
    assert len(investments) == 1, records
    return investments[0]


@pytest.mark.parametrize("leg", [
    "The startup will use the funds to rent clusters from Vask Cloud.",
    "Part of that money will come back to Vask Cloud as cloud revenue.",
    "Tamsin Labs plans to use the capital to buy computing capacity from Vask Cloud.",
])
def test_spend_back_in_its_own_sentence_cites_that_sentence(extractor: SpacyExtractor, leg: str) -> None:
    record = only_investment(extractor.extract(f"{INVEST} {leg}", "d"))
    assert record.evidence == INVEST
    assert record.spend_back is not None and record.spend_back.payee == "Vask Cloud"
    assert record.spend_back.evidence == leg
    assert record.spend_back.evidence != record.evidence


def test_linked_purchase_spend_back_cites_the_purchase_sentence(extractor: SpacyExtractor) -> None:
    invest = "Orrin Semiconductor will invest $1 billion in Tamsin Labs."
    leg = "As part of the deal, Tamsin Labs has committed to purchase Orrin Semiconductor chips."
    record = only_investment(extractor.extract(f"{invest} {leg}", "d"))
    assert record.evidence == invest
    assert record.spend_back is not None and record.spend_back.payee == "Orrin Semiconductor"
    assert record.spend_back.evidence == leg


def test_spend_back_in_the_deal_sentence_leaves_evidence_empty(extractor: SpacyExtractor) -> None:
    text = ("Orrin Semiconductor will invest $10 billion in Tamsin Labs, "
            "which will use the money to buy Orrin Semiconductor's chips.")
    record = only_investment(extractor.extract(text, "d"))
    assert record.spend_back is not None and record.spend_back.payee == "Orrin Semiconductor"
    assert record.spend_back.evidence == ""
    assert record.evidence == text


def test_mandate_in_its_own_sentence_cites_that_sentence(extractor: SpacyExtractor) -> None:
    invest = "Orrin Semiconductor will invest $2 billion in Tamsin Labs."
    leg = "The deal requires Tamsin Labs to run its models on Orrin Semiconductor's Korvel chips."
    record = only_investment(extractor.extract(f"{invest} {leg}", "d"))
    assert record.hardware_mandate is not None and record.hardware_mandate.vendor == "Orrin Semiconductor"
    assert record.hardware_mandate.evidence == leg
    assert record.evidence == invest


def test_mandate_in_the_deal_sentence_leaves_evidence_empty(extractor: SpacyExtractor) -> None:
    text = ("Vask Cloud will invest $3 billion in Tamsin Labs, "
            "which must train its models on Vask Cloud's Kestrel K2 accelerators.")
    record = only_investment(extractor.extract(text, "d"))
    assert record.hardware_mandate is not None and record.hardware_mandate.evidence == ""


# -- the LLM path: grounding gives each leg its own sentence -----------------------------------------

FIRST = "Orrin Semiconductor closed a $750 million investment in Tamsin Labs."
SECOND = "Tamsin Labs is using that capital to buy Korvel systems from Orrin Semiconductor."
PASSAGE = f"{FIRST} {SECOND} Shares rose."


@pytest.fixture(scope="module")
def grounder():
    return grounder_for(CompanyResolver(use_embeddings=False))


def llm_deal(evidence: str, **fields: object) -> dict:
    base = {"kind": "investment", "investor": "Orrin Semiconductor", "recipient": "Tamsin Labs",
            "amount_text": "$750 million", "amount_usd": 7.5e8, "spend_back": None, "hardware_mandate": None,
            "status": "completed", "evidence": evidence}
    return {**base, **fields}


def test_llm_leg_sentence_given_by_the_model_is_grounded_and_kept(grounder) -> None:
    said = llm_deal(FIRST, spend_back={"payee": "Orrin Semiconductor", "what": "Korvel systems", "evidence": SECOND})
    record = grounder.ground(said, Window(passage=PASSAGE), "d", GroundingStats())
    assert record is not None and record.evidence == FIRST
    assert record.spend_back is not None and record.spend_back.evidence == SECOND


def test_llm_leg_sentence_not_in_the_passage_is_not_cited(grounder) -> None:
    stats = GroundingStats()
    said = llm_deal(FIRST, spend_back={"payee": "Orrin Semiconductor", "what": None,
                                       "evidence": "Tamsin Labs will rent Orrin Semiconductor servers."})
    record = grounder.ground(said, Window(passage=PASSAGE), "d", stats)
    assert record is not None and record.spend_back is not None and record.spend_back.evidence == ""
    assert stats.trimmed["leg_evidence_not_in_passage"] == 1


def test_llm_two_sentence_evidence_gives_the_leg_the_sentence_naming_its_payee(grounder) -> None:
    said = llm_deal(f"{FIRST} {SECOND}", spend_back={"payee": "Orrin Semiconductor", "what": "Korvel systems"},
                    hardware_mandate={"product": "Korvel", "vendor": "Orrin Semiconductor"})
    record = grounder.ground(said, Window(passage=PASSAGE), "d", GroundingStats())
    assert record is not None
    assert record.spend_back is not None and record.spend_back.evidence == SECOND
    assert record.hardware_mandate is not None and record.hardware_mandate.evidence == SECOND


def test_llm_one_sentence_evidence_leaves_leg_evidence_empty(grounder) -> None:
    text = "Orrin Semiconductor invested $750 million in Tamsin Labs, which will buy Korvel systems from Orrin Semiconductor."
    said = llm_deal(text, spend_back={"payee": "Orrin Semiconductor", "what": "Korvel systems"})
    record = grounder.ground(said, Window(passage=text), "d", GroundingStats())
    assert record is not None and record.spend_back is not None and record.spend_back.evidence == ""
