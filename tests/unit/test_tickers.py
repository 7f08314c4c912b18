"""Ticker parentheses are blanked before parsing; defined short names and offsets are kept."""

from __future__ import annotations

import pytest

from extractors.tickers import blank_tickers


@pytest.mark.parametrize(("text", "blanked"), [
    ("Nebius' (NBIS) nearly $3B deal", "Nebius'        nearly $3B deal"),
    ("Nvidia Corp's (NASDAQ:NVDA) week", "Nvidia Corp's               week"),
    ("SoftBank (TSE: 9984) said", "SoftBank             said"),
])
def test_tickers_become_spaces(text: str, blanked: str) -> None:
    assert blank_tickers(text) == blanked
    assert len(blank_tickers(text)) == len(text)


@pytest.mark.parametrize("text", [
    "Abu Dhabi Investment Authority (ADIA) said on Monday. ADIA will invest",  # a short name used again
    "a special purpose vehicle (2025) was formed",  # a bare number is no ticker
    "the round (led by Arden) closed",
])
def test_other_parentheses_stay(text: str) -> None:
    assert blank_tickers(text) == text
