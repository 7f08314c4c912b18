"""Money in text: find amounts and read them as US dollars.

``find_money(text)`` returns every amount with its character span, the text as written (with its
qualifier: "up to", "about", "more than") and ``amount_usd``. Rules:

- "$100B", "US$1.3bn", "$5.83 billion", "100 billion dollars", "USD 2 billion", "two and a half
  billion dollars": a USD figure.
- "tens of billions of dollars", "billions", "multibillion-dollar": no figure, ``amount_usd`` None.
- Other currencies ("€900 million", "£2bn", "900 million euros"): text kept, ``amount_usd`` None,
  because a conversion is not the document's statement (the flow adds one later, marked as such:
  ``extractors.currency``).
- Per-unit prices ("$23.28 per share") are marked ``per_unit`` and bare small figures without a
  scale word ("$135" price targets) are marked ``small``; deal assembly ignores both.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

_SCALES: dict[str, float] = {
    "trillion": 1e12, "tn": 1e12, "t": 1e12, "tr": 1e12,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "bln": 1e9,
    "million": 1e6, "mn": 1e6, "m": 1e6, "mln": 1e6, "mil": 1e6,
    "thousand": 1e3, "k": 1e3,
}
_SCALE_RE = r"(?:trillion|billion|million|thousand|bln|mln|mil|tn|tr|bn|mn|[tbmk])\b"
# Qualifiers kept in amount_text (gold keeps "up to", "about", ...); they do not change the figure.
_QUALIFIER_RE = (
    r"(?:(?:up to|about|around|roughly|approximately|nearly|almost|more than|over|at least|as much as|"
    r"some|an estimated|less than|under|close to|upwards of|in excess of|north of|just over|just under)\s+)?"
)
_NUM = r"\d[\d,]*(?:\.\d+)?"
_USD_PREFIX = r"(?:US\s?\$|U\.S\.\s?\$|\$US\s?|USD\s?|\$)"  # ("$US40bn": Australian papers)
# How other currencies are written (symbols before the figure, words after it): one table for
# finding amounts here and converting them in extractors.currency.
CURRENCIES_FILE = Path(__file__).parent / "data" / "currencies.yaml"
CURRENCY_NAMES: dict[str, dict[str, list[str]]] = yaml.safe_load(CURRENCIES_FILE.read_text(encoding="utf-8"))


def _any_of(key: str) -> str:
    names = sorted({name for names in CURRENCY_NAMES.values() for name in names.get(key, [])}, key=len, reverse=True)
    return "|".join(re.escape(name) for name in names)


# (a letter symbol such as "Rs" or "EUR" starts a word: "years 5" is no rupee amount)
_OTHER_PREFIX = rf"(?<![A-Za-z])(?:{_any_of('symbols')})"
_OTHER_WORDS = rf"(?:{_any_of('words')})"
# Indian amounts count in crore (10 million) and lakh (100,000).
INDIAN_SCALES = {"lakh crore": 1e12, "lakh crores": 1e12, "crore": 1e7, "crores": 1e7, "lakh": 1e5, "lakhs": 1e5}
_OTHER_SCALE_RE = rf"(?:lakh crores?|crores?|lakhs?|{_SCALE_RE})"

_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES: dict[str, float] = {
    "a": 1, "half a": 0.5, **{w: i + 1 for i, w in enumerate(_UNITS)}, **{w: i + 10 for i, w in enumerate(_TEENS)},
    **{w: (i + 2) * 10 for i, w in enumerate(_TENS)},
}
_WORD_NUMBER_RE = (rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(_UNITS)}))?|{'|'.join(_TEENS + _UNITS)}|half a|a)"
                   r"(?:\s+and\s+a\s+half)?")


def _word_number(words: str) -> float:
    """ "two and a half" -> 2.5, "eighty-five" -> 85, "a" -> 1."""
    words = words.lower()
    half = 0.5 if re.search(r"\band a half$", words) else 0.0
    words = re.sub(r"\s+and\s+a\s+half$", "", words)
    parts = re.split(r"[- ]", words) if words not in _WORD_VALUES else [words]
    return sum(_WORD_VALUES[p] for p in parts) + half


_SPELLED_HINT_RE = re.compile(rf"[a-z]\s+(?:trillion|billion|million)\s+(?:(?:U\.?S\.?\s)?dollars|{_OTHER_WORDS})\b", re.I)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # $100 billion, US$1.3bn, $8B, USD 2 billion (optionally "... dollars")
    ("usd", re.compile(
        rf"{_QUALIFIER_RE}{_USD_PREFIX}\s?(?P<num>{_NUM})\s?(?:-\s?)?(?P<scale>{_SCALE_RE})?(?:\s+(?:US\s)?dollars)?", re.I)),
    # €900 million, £2bn
    ("other", re.compile(rf"{_QUALIFIER_RE}{_OTHER_PREFIX}\s?(?P<num>{_NUM})\s?(?P<scale>{_OTHER_SCALE_RE})?", re.I)),
    # 100 billion dollars, 2.5 million US dollars
    ("usd_words", re.compile(rf"{_QUALIFIER_RE}(?P<num>{_NUM})\s(?P<scale>{_SCALE_RE})\s(?:U\.?S\.?\s)?dollars\b", re.I)),
    # 900 million euros
    ("other_words", re.compile(rf"{_QUALIFIER_RE}(?P<num>{_NUM})\s(?P<scale>{_OTHER_SCALE_RE})\s{_OTHER_WORDS}\b", re.I)),
    # one billion dollars, two and a half billion dollars, eighty-five million dollars, 800 Mio. euros
    ("spelled", re.compile(
        rf"{_QUALIFIER_RE}(?P<words>{_WORD_NUMBER_RE})\s+(?P<scale>trillion|billion|million)\s+"
        rf"(?P<currency>(?:U\.?S\.?\s)?dollars|{_OTHER_WORDS})\b", re.I)),
    # tens of billions of dollars, billions, hundreds of millions, multibillion-dollar
    ("vague", re.compile(
        r"(?:(?:several|many|tens|hundreds)\s+of\s+)?(?:billions|millions|trillions)(?:\s+of\s+(?:US\s)?dollars)?"
        r"|multi-?(?:billion|million|trillion)(?:-dollar)?"
        r"|(?:several|a few)\s+(?:billion|million|trillion)\s+dollars", re.I)),
]
# Prices per share/unit/hour never size a deal; "$80 million a year" does (a yearly payment).
_PER_UNIT_RE = re.compile(r"^\s*(?:per|a|an|each)\s+(?:share|unit|chip|gpu|hour|token)\b", re.I)


class Money(BaseModel):
    """One amount found in text."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: int
    end: int
    amount_usd: float | None = None
    currency: str | None = "USD"
    per_unit: bool = False
    small: bool = False

    @property
    def is_deal_amount(self) -> bool:
        """False for share prices and bare small figures, which never size a deal."""
        return not (self.per_unit or self.small)


# What extractors.currency needs to read figures in other currencies the same way.
NUMBER_PATTERN, SCALE_PATTERN, OTHER_SCALE_PATTERN = _NUM, _SCALE_RE, _OTHER_SCALE_RE


def to_number(num: str, scale: str | None) -> float:
    """A figure as written times its scale word ("1,200" and "bn" give 1.2e12)."""
    value = float(num.replace(",", ""))
    return value * _SCALES[scale.lower()] if scale else value


def find_money(text: str) -> list[Money]:
    """Every amount in ``text``, left to right, without overlaps (the longest match wins)."""
    found: list[Money] = []
    taken: list[tuple[int, int]] = []
    candidates: list[tuple[int, int, str, re.Match[str]]] = []
    spelled = _SPELLED_HINT_RE.search(text) is not None  # the spelled pattern is slow; most texts have none
    for kind, pattern in _PATTERNS:
        if kind == "spelled" and not spelled:
            continue
        for m in pattern.finditer(text):
            if m.group(0).strip():
                candidates.append((m.start(), m.end(), kind, m))
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
    for start, end, kind, m in candidates:
        if any(start < e and end > s for s, e in taken):
            continue
        raw = m.group(0)
        # Trailing spaces and a lone "-" from "$1.5-billion" style are not part of the amount.
        stripped = raw.rstrip(" -")
        end = start + len(stripped)
        if kind == "vague" and not re.search(r"billion|million|trillion", raw, re.I):
            continue
        amount: float | None = None
        currency: str | None = "USD"
        small = False
        if kind in ("usd", "usd_words"):
            scale = m.group("scale")
            amount = to_number(m.group("num"), scale)
            small = scale is None and amount < 1e6
        elif kind in ("other", "other_words"):
            currency = "other"
            small = m.group("scale") is None
        elif kind == "spelled":
            if "dollar" in m.group("currency").lower():
                amount = _word_number(m.group("words")) * _SCALES[m.group("scale").lower()]
            else:
                currency = "other"
        per_unit = bool(_PER_UNIT_RE.match(text[end:end + 20]))
        taken.append((start, end))
        found.append(Money(text=stripped, start=start, end=end, amount_usd=amount, currency=currency,
                           per_unit=per_unit, small=small))
    found.sort(key=lambda money: money.start)
    return found


def parse_money(text: str) -> Money | None:
    """The first amount in ``text`` (e.g. ``parse_money("up to $100B").amount_usd == 1e11``)."""
    found = find_money(text)
    return found[0] if found else None
