"""The full pipeline (en_core_web_sm + our components) on sentences in several styles.

Every company here is invented for the test; none of them is in the registry.
"""

from __future__ import annotations

import pytest

from extractors.pipeline import deal_passages, get_nlp
from extractors.spacy_extractor import SpacyExtractor
from ouroboros.core.records import DealRecord


@pytest.fixture(scope="module")
def extractor() -> SpacyExtractor:
    return SpacyExtractor()


def _flows(records: list[DealRecord]) -> set[tuple[str, str, str, str]]:
    return {(r.kind, r.investor, r.recipient, r.status) for r in records}


def test_model_loads_once() -> None:
    assert get_nlp() is get_nlp()
    assert "ouroboros_relations" in get_nlp().pipe_names


def test_deal_passages_have_context() -> None:
    text = ("Talveron Systems makes inference chips. Talveron said on Monday it will invest $300 million in "
            "Merrow Labs. The weather was fine.")
    passages = deal_passages(text)
    assert len(passages) == 1
    passage = passages[0]
    assert passage.text.startswith("Talveron said on Monday")
    assert text[passage.start_char:passage.end_char].strip() == passage.text
    assert passage.context == "Talveron Systems makes inference chips."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Talveron Systems will invest $300 million in Merrow Labs.",
         ("investment", "Talveron Systems", "Merrow Labs", "announced")),
        ("Merrow Labs received $300 million from Talveron Systems last year.",
         ("investment", "Talveron Systems", "Merrow Labs", "completed")),
        ("Merrow Labs was backed by Talveron Systems with $300 million in 2024.",
         ("investment", "Talveron Systems", "Merrow Labs", "completed")),
        ("Merrow Labs agreed to pay Brisk Cloud $2 billion for computing capacity.",
         ("purchase", "Merrow Labs", "Brisk Cloud", "announced")),
        ("Brisk Cloud is in talks to invest $1 billion in Merrow Labs.",
         ("investment", "Brisk Cloud", "Merrow Labs", "in_talks")),
        ("Brisk Cloud denied reports that it would invest $1 billion in Merrow Labs.",
         ("investment", "Brisk Cloud", "Merrow Labs", "denied")),
        ("Talveron Systems reportedly agreed to buy $4 billion of servers from Brisk Cloud.",
         ("purchase", "Talveron Systems", "Brisk Cloud", "reported")),
        ("Ashgrove Capital sold its stake in Talveron Systems for $2 billion.",
         ("stake_sale", "Ashgrove Capital", "Talveron Systems", "completed")),
    ],
)
def test_direction_and_status_from_grammar(extractor: SpacyExtractor, text: str,
                                           expected: tuple[str, str, str, str]) -> None:
    assert _flows(extractor.extract(text, "t.txt")) == {expected}


@pytest.mark.parametrize(
    "text",
    [
        "Merrow Labs reported revenue of $2 billion for the quarter.",
        "Talveron Systems' market value jumped $40 billion on Tuesday.",
        "Brisk Cloud will spend $10 billion building its own data center campus in Ohio.",
        "Merrow Labs sued Brisk Cloud, seeking $1 billion in damages.",
        "Brisk Cloud did not invest in Merrow Labs.",
        "Brisk Cloud has no plans to invest in Merrow Labs.",
        "Would Brisk Cloud ever invest $1 billion in Merrow Labs?",
    ],
)
def test_non_deals_yield_nothing(extractor: SpacyExtractor, text: str) -> None:
    assert extractor.extract(text, "t.txt") == []


def test_spend_back_and_mandate_attach_to_the_investment(extractor: SpacyExtractor) -> None:
    text = ("Brisk Cloud will invest up to $5 billion in Merrow Labs, which will use the money to rent "
            "capacity from Brisk Cloud. Under the agreement, Merrow Labs must train its models on Brisk "
            "Cloud's Harrow accelerators.")
    records = extractor.extract(text, "t.txt")
    assert len(records) == 1
    record = records[0]
    assert (record.investor, record.recipient, record.amount_usd) == ("Brisk Cloud", "Merrow Labs", 5e9)
    assert record.spend_back is not None and record.spend_back.payee == "Brisk Cloud"
    assert record.hardware_mandate is not None
    assert (record.hardware_mandate.product, record.hardware_mandate.vendor) == ("Harrow", "Brisk Cloud")


def test_references_across_sentences(extractor: SpacyExtractor) -> None:
    text = ("Talveron Systems, a chipmaker, and Merrow Labs, an AI startup, signed a pact on Monday. "
            "The chipmaker will invest $700 million in the startup.")
    assert _flows(extractor.extract(text, "t.txt")) >= {("investment", "Talveron Systems", "Merrow Labs", "announced")}


def test_same_company_same_name_across_documents(extractor: SpacyExtractor) -> None:
    first = extractor.extract("Corvane Semiconductor, Inc. will invest $2 billion in Nimbus Ridge Labs.", "a.txt")
    second = extractor.extract("Nimbus Ridge has ordered accelerators from Corvane.", "b.txt")
    assert {r.investor for r in first} == {"Corvane Semiconductor"}
    assert {(r.investor, r.recipient) for r in second} == {("Nimbus Ridge Labs", "Corvane Semiconductor")}
