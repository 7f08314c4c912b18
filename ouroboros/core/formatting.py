"""Formats every layer shares: timestamps in the graph and short dollar figures."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """The current UTC time as ISO 8601 (seconds): the format of every timestamp in the graph."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def format_usd(amount: float | None) -> str:
    """A short dollar figure: $100B, $1.3B, $600M; "?" when unknown."""
    if amount is None:
        return "?"
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= size:
            return f"${amount / size:.3g}{suffix}"
    return f"${amount:.0f}"
