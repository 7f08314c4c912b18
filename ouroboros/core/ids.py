"""Stable ids: the same input always gives the same short hex id, in every process."""

from __future__ import annotations

import hashlib


def stable_hash(*parts: str, size: int = 20) -> str:
    """A short, stable hex id of ``parts`` (a separator that cannot occur in names keeps them apart)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:size]
