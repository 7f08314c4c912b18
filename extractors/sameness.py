"""When two readings describe the same deal: the one rule every extractor merges by.

Used for restatements inside one document (spaCy's headline and body, the LLM's overlapping
passages) and for the ensemble's two readers. Two readings are the same deal when

- they have the same investor and recipient;
- their kinds agree, or one says investment and the other purchase while one of them has no
  amount (a loose restatement by one reader: "the deal" after "the $4 billion investment"; two
  readers that disagree on the kind have not read the same deal);
- their amounts agree: one is unknown, or both are known and within ``tolerance``; two unknown
  amounts written differently with figures in another currency ("€900 million", "€1 billion")
  are two deals;
- when both are sized, their statuses agree or neither is ``completed`` ("another $4 billion"
  after a completed $4 billion is a second deal); a restatement without a figure takes the
  status of the deal it restates. Across two readers (``across_readers=True``) status is a matter of
  reading, not of identity, and is not compared; figures are allowed 5% for rounding.
"""

from __future__ import annotations

from typing import Protocol

SAME_READER_TOLERANCE = 0.01
ACROSS_READERS_TOLERANCE = 0.05


class DealReading(Protocol):
    """What the rule looks at: a ``DealRecord`` or a spaCy ``Candidate``."""

    @property
    def investor(self) -> str | None: ...
    @property
    def recipient(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def amount_usd(self) -> float | None: ...
    @property
    def amount_text(self) -> str | None: ...


def amounts_compatible(a: float | None, b: float | None, tolerance: float = SAME_READER_TOLERANCE) -> bool:
    """One amount is unknown, or they differ by at most ``tolerance`` of the larger."""
    if a is None or b is None:
        return True
    return abs(a - b) <= tolerance * max(abs(a), abs(b))


def same_deal(a: DealReading, b: DealReading, *, across_readers: bool = False) -> bool:
    """Whether ``a`` and ``b`` describe the same deal (see the module docstring)."""
    if (a.investor, a.recipient) != (b.investor, b.recipient):
        return False
    one_unsized = a.amount_text is None or b.amount_text is None
    loose = not across_readers and {a.kind, b.kind} <= {"investment", "purchase"} and one_unsized
    if a.kind != b.kind and not loose:
        return False
    tolerance = ACROSS_READERS_TOLERANCE if across_readers else SAME_READER_TOLERANCE
    if not amounts_compatible(a.amount_usd, b.amount_usd, tolerance):
        return False
    if a.amount_usd is None and b.amount_usd is None and a.amount_text and b.amount_text \
            and a.amount_text != b.amount_text and any(ch.isdigit() for ch in a.amount_text + b.amount_text):
        return False
    if across_readers or a.amount_usd is None or b.amount_usd is None:
        return True
    return a.status == b.status or "completed" not in (a.status, b.status)
