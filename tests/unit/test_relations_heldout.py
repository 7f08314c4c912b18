"""Failure classes found by a blind held-out check (documents written before reading the rules).

The sentences are new; none is copied from the documents that were scored. Every company is invented.
"""

from __future__ import annotations

import pytest

from extractors.spacy_extractor import SpacyExtractor
from ouroboros.core.records import DealRecord


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    return SpacyExtractor()


def _flows(records: list[DealRecord]) -> set[tuple[str, str, str]]:
    return {(r.kind, r.investor, r.recipient) for r in records}


def test_name_read_as_a_place_is_a_company_when_seen_as_one_elsewhere(extractor: SpacyExtractor) -> None:
    text = ("Quorlen builds speech models for call centres. "
            "Bastide Ventures plans to invest $80 million in Quorlen, the two firms said.")
    assert ("investment", "Bastide Ventures", "Quorlen") in _flows(extractor.extract(text, "t"))


def test_ampersand_name_with_lower_case_legal_tail(extractor: SpacyExtractor) -> None:
    text = "Orvell Robotics borrowed $90 million from Hatch & Greaves plc last month."
    records = extractor.extract(text, "t")
    assert ("loan", "Hatch & Greaves", "Orvell Robotics") in _flows(records)
    assert all(r.investor != "Hatch" for r in records)


def test_maker_before_a_product_and_hardware_word(extractor: SpacyExtractor) -> None:
    text = ("Pellucid Labs agreed to invest $2 billion in Sarrow Mind, and Sarrow Mind will run its training "
            "on Pellucid Corvid accelerators.")
    investors = {r.investor for r in extractor.extract(text, "t")}
    assert "Pellucid Corvid" not in investors


def test_the_company_is_the_filer_named_on_the_cover(extractor: SpacyExtractor) -> None:
    text = ("ORMSKIRK DYNAMICS INC.\nANNUAL REPORT (EXCERPT)\n\n"
            "In June, the Company borrowed $150 million under a term loan from Tillbury Bank.\n")
    assert ("loan", "Tillbury Bank", "Ormskirk Dynamics") in _flows(extractor.extract(text, "t"))


def test_warrant_issued_to_a_holder_before_the_object(extractor: SpacyExtractor) -> None:
    text = "Brisa Networks issued to Arvo Dynamics a warrant to buy up to 4,000,000 shares."
    assert ("warrant", "Brisa Networks", "Arvo Dynamics") in _flows(extractor.extract(text, "t"))


def test_the_company_at_a_sentence_start_is_the_filer(extractor: SpacyExtractor) -> None:
    text = "MERIDAN LOGIC INC.\nNOTES\n\nThe Company issued to Arvo Dynamics a warrant to buy up to 9,000,000 shares.\n"
    assert ("warrant", "Meridan Logic", "Arvo Dynamics") in _flows(extractor.extract(text, "t"))


def test_a_repeated_name_before_a_model_number_stays_a_product(extractor: SpacyExtractor) -> None:
    text = ("Ferrand Systems will invest $700 million in Ostley Labs. \"Ostley is what Opal was built for,\" "
            "Ferrand said. Ostley Labs must train its models on Ferrand's Opal X9 accelerators.")
    records = extractor.extract(text, "t")
    assert ("investment", "Ferrand Systems", "Ostley Labs") in _flows(records)
    assert all("Opal" not in (r.investor, r.recipient) for r in records)


def test_past_borrowing_through_a_loan_noun_is_completed(extractor: SpacyExtractor) -> None:
    done = extractor.extract("Pendle Robotics borrowed $90 million under a term loan from Hatch & Greaves plc.", "t")
    plan = extractor.extract("Pendle Robotics will borrow $90 million under a term loan from Hatch & Greaves plc.", "t")
    assert {(r.kind, r.status) for r in done} == {("loan", "completed")}
    assert {(r.kind, r.status) for r in plan} == {("loan", "announced")}


@pytest.mark.parametrize("second", [
    "Callow Ventures also joined the round.",
    "Callow Ventures also participated in the round.",
])
def test_backer_joining_a_round_stated_before(extractor: SpacyExtractor, second: str) -> None:
    text = f"Lindqvist Labs raised $90 million in a round led by Arvo Dynamics. {second}"
    records = {(r.kind, r.investor, r.recipient): r for r in extractor.extract(text, "t")}
    assert records[("investment", "Arvo Dynamics", "Lindqvist Labs")].amount_usd == 90_000_000
    joined = records[("investment", "Callow Ventures", "Lindqvist Labs")]
    assert joined.amount_usd is None and joined.status == "completed"


def test_backer_that_did_not_join_is_no_deal(extractor: SpacyExtractor) -> None:
    text = "Lindqvist Labs raised $90 million in a round led by Arvo Dynamics. Callow Ventures did not join the round."
    assert all(r.investor != "Callow Ventures" for r in extractor.extract(text, "t"))
