"""Amounts in other currencies, given a USD figure at the document's date (ECB reference rates).

The extractor keeps "€5 billion" as written with no USD figure: the document did not state one.
Loops need one to add legs up, so after extraction the flow converts such amounts with the ECB
rate of the document's publication day (``currencyconverter`` ships the ECB table; no network),
keeping the original text, the currency, the rate and the rate's date on the record (``fx``).
A document without a date gets the table's latest rate, marked ``latest_rate``. Amounts without a
figure ("billions of euros") stay null. Which symbols and words name a currency is data:
``extractors/data/currencies.yaml``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from extractors.money import CURRENCY_NAMES, INDIAN_SCALES, NUMBER_PATTERN, OTHER_SCALE_PATTERN, to_number
from ouroboros.core.records import Conversion, DealRecord

if TYPE_CHECKING:
    from currency_converter import CurrencyConverter

# A figure with no scale word under this is a price, not a deal ("€35 a share"), as in money.py.
_SMALLEST_BARE_FIGURE = 1e6


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    """One pattern per currency: a symbol before the figure or a word after it."""
    patterns = []
    for code, names in CURRENCY_NAMES.items():
        symbols = "|".join(re.escape(s) for s in sorted(names.get("symbols", []), key=len, reverse=True))
        words = "|".join(re.escape(w) for w in sorted(names.get("words", []), key=len, reverse=True))
        figure = rf"(?P<num>{NUMBER_PATTERN})\s?-?\s?(?P<scale>{OTHER_SCALE_PATTERN})?"
        patterns.append((code, re.compile(
            rf"(?:(?:{symbols})\s?{figure}|(?P<num2>{NUMBER_PATTERN})\s?-?\s?(?P<scale2>{OTHER_SCALE_PATTERN})?\s+(?:{words})\b)",
            re.I)))
    return patterns


def foreign_amount(amount_text: str) -> tuple[str, float] | None:
    """("EUR", 5e9) for "€5 billion" or "5bn euros"; None for USD, vague or unknown amounts."""
    for code, pattern in _patterns():
        match = pattern.search(amount_text)
        if match is None:
            continue
        num, scale = (match["num"], match["scale"]) if match["num"] else (match["num2"], match["scale2"])
        indian = " ".join(scale.lower().split()) if scale else ""
        if indian in INDIAN_SCALES:
            return code, float(num.replace(",", "")) * INDIAN_SCALES[indian]
        figure = to_number(num, scale)
        return (code, figure) if scale or figure >= _SMALLEST_BARE_FIGURE else None
    return None


@lru_cache(maxsize=1)
def _rates() -> CurrencyConverter:
    from currency_converter import CurrencyConverter

    # Weekends and holidays have no ECB rate: take the nearest earlier one.
    return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)


def to_usd(currency: str, amount: float, on: str | None) -> Conversion | None:
    """``amount`` of ``currency`` in USD at the ECB rate of day ``on`` (ISO), else the latest rate."""
    rates = _rates()
    if currency not in rates.currencies:
        return None
    bounds = rates.bounds[currency]
    day = dt.date.fromisoformat(on) if on else None
    basis: Literal["document_date", "latest_rate"] = "document_date"
    if day is None or day > bounds.last_date:
        day, basis = bounds.last_date, "latest_rate"
    day = max(day, bounds.first_date)
    rate = float(rates.convert(1, currency, "USD", date=day))
    return Conversion(currency=currency, amount=amount, rate=round(rate, 6), rate_date=day.isoformat(), basis=basis)


def convert_amounts(records: Sequence[DealRecord], published: str | None) -> list[DealRecord]:
    """The records with a USD figure for amounts stated in another currency (``fx`` says how)."""
    converted = []
    for record in records:
        found = foreign_amount(record.amount_text or "") if record.amount_usd is None else None
        fx = to_usd(*found, published) if found else None
        if fx is not None:
            record = record.model_copy(update={"amount_usd": round(fx.amount * fx.rate, 2), "fx": fx})
        converted.append(record)
    return converted
