"""Short display captions for Neo4j Browser, written by the writer with the nodes they describe.

Browser draws a relationship's caption along its line and a node's inside its circle, so both
must stay short: a FLOW reads "$100B invest +1" (amount, main kind, how many more kinds) and a
deal "$300B purchase, announced". The style sheet (graph/browser/style.grass) shows
``FLOW.short`` and ``Deal.caption``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ouroboros.core.formatting import format_usd

# Short words for the kinds, so captions fit on a relationship line.
KIND_WORDS = {
    "investment": "invest", "purchase": "buy", "spend_back": "spend-back", "mandate": "mandate",
    "warrant": "warrant", "backstop": "backstop", "loan": "loan", "stake_sale": "stake sale",
}
# The money legs first: a spend-back or mandate rides on another deal.
_LEG_ORDER = ("investment", "purchase", "loan", "backstop", "warrant", "stake_sale", "spend_back", "mandate")
# What a rejected deal's caption starts with (cypher/review.cypher adds and removes it).
REJECTED_PREFIX = "REJECTED "


def flow_caption(kinds: Sequence[str], amount_usd: float | None) -> str:
    """A FLOW's short caption: amount, main kind, how many more kinds ("$100B invest +2")."""
    ordered = list(kinds) if len(kinds) < 2 else sorted(  # most FLOWs have one kind: no sort
        kinds, key=lambda k: _LEG_ORDER.index(k) if k in _LEG_ORDER else len(_LEG_ORDER))
    word = KIND_WORDS.get(ordered[0], ordered[0]) if ordered else "flow"
    more = f" +{len(ordered) - 1}" if len(ordered) > 1 else ""
    return f"{format_usd(amount_usd)} {word}{more}" if amount_usd is not None else f"{word}{more}"


def deal_caption(kind: str, amount_usd: float | None, status: str | None, rejected: bool = False) -> str:
    """A deal's short caption: "$300B purchase, announced" (or "REJECTED ...")."""
    amount = f"{format_usd(amount_usd)} " if amount_usd is not None else ""
    text = f"{amount}{kind.replace('_', ' ')}, {(status or '').replace('_', ' ')}".rstrip(", ")
    return f"{REJECTED_PREFIX}{text}" if rejected else text
