"""Amounts in other currencies get a USD figure at the document's date (issue 11), rate noted."""

from __future__ import annotations

import pytest

from extractors.currency import convert_amounts, foreign_amount, to_usd
from flows.stages import extract_document
from ouroboros.core.records import DealRecord, SourceDocument


@pytest.mark.parametrize(("text", "expected"), [
    ("€5 billion", ("EUR", 5e9)),
    ("up to £2bn", ("GBP", 2e9)),
    ("900 million euros", ("EUR", 9e8)),
    ("1 trillion won", ("KRW", 1e12)),
    ("HK$2.5 billion", ("HKD", 2.5e9)),
    ("€1.5-billion", ("EUR", 1.5e9)),
    ("₹500 crore", ("INR", 5e9)),
    ("€900,000,000", ("EUR", 9e8)),
    ("$5 billion", None),           # already USD
    ("billions of euros", None),    # no figure: stays null
    ("€35", None),                  # a price, not a deal
])
def test_foreign_amounts_are_read_as_currency_and_figure(text: str, expected: tuple[str, float] | None) -> None:
    assert foreign_amount(text) == expected


def test_a_euro_amount_gets_its_usd_figure_at_the_ecb_rate_of_the_day() -> None:
    fx = to_usd("EUR", 5e9, "2025-10-01")
    assert fx is not None
    assert (fx.currency, fx.rate_date, fx.basis) == ("EUR", "2025-10-01", "document_date")
    assert fx.rate == pytest.approx(1.1724)  # the ECB reference rate of 1 October 2025
    weekend = to_usd("GBP", 1e9, "2025-10-04")  # a Saturday: the Friday's rate
    assert weekend is not None and weekend.rate_date == "2025-10-04" and 1.2 < weekend.rate < 1.5
    assert to_usd("SAR", 1e9, "2025-10-01") is None  # not in the ECB table: no guess


def test_records_are_converted_and_say_how() -> None:
    euro = DealRecord(doc="d", kind="investment", investor="Orrin", recipient="Tamsin", amount_text="€5 billion")
    dollars = DealRecord(doc="d", kind="purchase", investor="Tamsin", recipient="Vask", amount_usd=2e9,
                         amount_text="$2 billion")
    vague = DealRecord(doc="d", kind="loan", investor="Vask", recipient="Orrin", amount_text="billions of euros")
    converted, same, still_vague = convert_amounts([euro, dollars, vague], "2025-10-01")
    assert converted.amount_usd == pytest.approx(5e9 * 1.1724)
    assert converted.amount_text == "€5 billion"  # the original stays as written
    assert converted.fx is not None and converted.fx.amount == 5e9 and converted.fx.rate == pytest.approx(1.1724)
    assert same == dollars and still_vague == vague
    undated = convert_amounts([euro], None)[0]
    assert undated.fx is not None and undated.fx.basis == "latest_rate"
    assert undated.amount_usd == pytest.approx(5e9 * undated.fx.rate)


def test_the_flow_converts_at_the_publication_date_never_at_a_file_date() -> None:
    text = "Orrin Systems will invest €5 billion in Tamsin Labs, the companies said."
    stated = SourceDocument(doc="s", text=text, source="s", published="2025-10-01", date_basis="stated")
    touched = SourceDocument(doc="t", text=text, source="t", published="2025-10-01", date_basis="file_modified")
    (on_the_day,) = extract_document("spacy", stated).records
    (latest,) = extract_document("spacy", touched).records
    assert on_the_day.fx is not None and on_the_day.fx.basis == "document_date"
    assert on_the_day.fx.rate_date == "2025-10-01"
    assert latest.fx is not None and latest.fx.basis == "latest_rate"
