"""Stock tickers in parentheses, blanked before parsing.

"Nebius' (NBIS) nearly $3B deal", "Nvidia Corp's (NASDAQ:NVDA) week": the small model parses a
parenthesised ticker as an apposition or a subject and loses the sentence around it. A ticker with an
exchange prefix is always blanked; a bare capitalised code only when the text never uses it outside
parentheses and it is not the initials of the words before it ("Hadeer Investment Authority (HIA)"
keeps its defined short name).
Blanking keeps the length, so every offset still points into the original text.
"""

from __future__ import annotations

import re

_EXCHANGES = r"(?:NASDAQ|Nasdaq|NYSE|NYSE American|LSE|LON|TSE|TYO|KRX|KOSPI|HKEX|HKG|SGX|TSX|ASX|NSE|BSE|OTC|ETR|EPA|AMS)"
_PARENTHESES_RE = re.compile(r"\([^)]*\)")
_TICKER_RE = re.compile(r"\((?P<exchange>" + _EXCHANGES + r"\s*:\s*)?(?P<code>[A-Z]{2,5}(?:\.[A-Z]{1,2})?|\d{4,6})\)")


def blank_tickers(text: str) -> str:
    """``text`` with ticker parentheses replaced by spaces (same length)."""
    if "(" not in text:
        return text
    outside = _PARENTHESES_RE.sub(" ", text)  # the text without any parenthesis, for defined short names

    def blank(match: re.Match[str]) -> str:
        code = match.group("code")
        if match.group("exchange") is None and (code.isdigit() or re.search(rf"\b{re.escape(code)}\b", outside)
                                                 or _spells_initials(text[:match.start()], code)):
            return match.group(0)
        return " " * len(match.group(0))

    return _TICKER_RE.sub(blank, text)


def _spells_initials(before: str, code: str) -> bool:
    """"Hadeer Investment Authority (HIA)": the code is the initials of the capitalised words before it."""
    words = [w for w in re.findall(r"[A-Za-z][\w&'-]*", before[-120:]) if w[0].isupper()]
    initials = "".join(w[0] for w in words[-len(code):])
    return initials == code
