"""Normalising documents: canonical URLs and cleaned text, so that equal things compare equal."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ouroboros.core.records import SourceDocument

# Query parameters that say how a reader arrived, not what they read.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "oly_")
_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mkt_tok", "cmpid", "ref", "ref_src", "_hsenc", "_hsmi"}
)
_BLANKS = re.compile(r"[ \t\u00a0\u2000-\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def canonical_url(url: str) -> str:
    """``url`` without tracking parameters or fragment, with lower-case scheme and host, sorted query.

    A plain path (a local file) is returned unchanged.
    """
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return url.strip()
    host = parts.hostname or ""
    port = parts.port
    if port and not (parts.scheme == "http" and port == 80) and not (parts.scheme == "https" and port == 443):
        host = f"{host}:{port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in _TRACKING_PARAMS and not key.lower().startswith(_TRACKING_PREFIXES)
    )
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host.lower(), path, urlencode(query), ""))


def normalize_text(text: str) -> str:
    """NFC text with runs of blanks collapsed and at most one empty line between paragraphs."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_BLANKS.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def normalize_document(document: SourceDocument) -> SourceDocument:
    """The same document with normalised text; URL ids become canonical URLs."""
    doc = canonical_url(document.doc) if "://" in document.doc else document.doc
    return document.model_copy(update={"doc": doc, "text": normalize_text(document.text)})
