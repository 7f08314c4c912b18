"""Publication metadata made safe: dates as ISO days, URLs only when absolute.

Metadata comes from feeds, pages, filings and front matter written by hand; a value that cannot
be read is dropped (None), never a reason to lose the document.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urlsplit

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def iso_date(value: object) -> str | None:
    """``value`` as ``YYYY-MM-DD``: a date, a datetime, or text such as "2025-09-22T10:00:00Z",
    "22 September 2025" or "Sep 22, 2025"; None when it is empty or cannot be read."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    if _ISO_DAY.match(text):
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            return None
    import dateparser  # slow to import; only for dates written in words

    parsed = dateparser.parse(text, languages=["en"], settings={"STRICT_PARSING": True})
    return parsed.date().isoformat() if parsed is not None else None


def absolute_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL, else None (a relative one cannot be cited)."""
    if value is None:
        return None
    text = str(value).strip()
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.netloc else None
