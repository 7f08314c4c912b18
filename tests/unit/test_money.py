"""Money parsing: figures, qualifiers, vague amounts, other currencies, prices that are not deals."""

from __future__ import annotations

import pytest

from extractors.money import find_money, parse_money


@pytest.mark.parametrize(
    ("text", "amount_text", "amount_usd"),
    [
        ("NVIDIA will invest $100B in OpenAI", "$100B", 100e9),
        ("paying US$1.3bn over four years", "US$1.3bn", 1.3e9),
        ("up to 100 billion dollars released in stages", "up to 100 billion dollars", 100e9),
        ("it will invest up to $10 billion in the startup", "up to $10 billion", 10e9),
        ("more than $100 billion over ten years", "more than $100 billion", 100e9),
        ("a final payment of $22.5 billion", "$22.5 billion", 22.5e9),
        ("about $300 billion over roughly five years", "about $300 billion", 300e9),
        ("sold its stake for $5.83 billion", "$5.83 billion", 5.83e9),
        ("a $750 million equity investment", "$750 million", 750e6),
        ("a $1.5-billion loan", "$1.5-billion", 1.5e9),
        ("USD 2 billion in financing", "USD 2 billion", 2e9),
        ("roughly $13.7 billion into OpenAI", "roughly $13.7 billion", 13.7e9),
        ("$8B in Anthropic", "$8B", 8e9),
        ("a $2 trillion market", "$2 trillion", 2e12),
        ("put one billion dollars into the lab", "one billion dollars", 1e9),
        ("each contributing two and a half billion dollars", "two and a half billion dollars", 2.5e9),
        ("Eighty-five million dollars is a lot of money", "Eighty-five million dollars", 85e6),
        ("about half a billion dollars", "about half a billion dollars", 0.5e9),
        ("Macquarie struck a $US40bn ($61bn) deal", "$US40bn", 40e9),
    ],
)
def test_usd_amounts(text: str, amount_text: str, amount_usd: float) -> None:
    money = parse_money(text)
    assert money is not None
    assert money.text == amount_text
    assert money.amount_usd == pytest.approx(amount_usd)
    assert money.is_deal_amount


@pytest.mark.parametrize(
    ("text", "amount_text"),
    [
        ("tens of billions of dollars of revenue", "tens of billions of dollars"),
        ("Amazon is investing billions in OpenAI", "billions"),
        ("a string of multibillion-dollar purchases", "multibillion-dollar"),
        ("hundreds of millions of dollars", "hundreds of millions of dollars"),
    ],
)
def test_vague_amounts_keep_text_without_figure(text: str, amount_text: str) -> None:
    money = parse_money(text)
    assert money is not None
    assert money.text == amount_text
    assert money.amount_usd is None


@pytest.mark.parametrize(
    ("text", "amount_text"),
    [("to buy systems for €900 million.", "€900 million"), ("a £2bn order", "£2bn"),
     ("a deal worth 900 million euros", "900 million euros"), ("one billion euros of debt", "one billion euros"),
     # every currency of extractors/data/currencies.yaml, Indian scales included
     ("a round worth 70 billion won", "70 billion won"), ("will invest Rs 1,079.27 crore", "Rs 1,079.27 crore"),
     ("investments that crossed Rs 1.52 lakh crore", "Rs 1.52 lakh crore"), ("an HK$2 billion loan", "HK$2 billion")],
)
def test_other_currencies_have_no_usd_figure(text: str, amount_text: str) -> None:
    money = parse_money(text)
    assert money is not None
    assert money.text == amount_text
    assert money.amount_usd is None
    assert money.currency == "other"


def test_share_prices_and_price_targets_are_not_deal_amounts() -> None:
    per_share = parse_money("Intel common stock at $23.28 per share")
    assert per_share is not None and per_share.per_unit and not per_share.is_deal_amount
    target = find_money("Price target: $135 (prior $120)")
    assert [m.text for m in target] == ["$135", "$120"]
    assert not any(m.is_deal_amount for m in target)


def test_several_amounts_in_order_with_spans() -> None:
    text = "We funded the first $500 million of our commitment of up to $2 billion."
    found = find_money(text)
    assert [(m.text, m.amount_usd) for m in found] == [("$500 million", 500e6), ("up to $2 billion", 2e9)]
    for m in found:
        assert text[m.start:m.end] == m.text


def test_no_money() -> None:
    assert parse_money("up to 160 million shares of common stock") is None
    assert parse_money("in years 5 million people") is None  # a letter symbol ("Rs") starts a word
    assert find_money("") == []
