"""What Neo4j Browser shows that the loader does not write: Loop nodes, short captions, round-trip figures.

Browser can only draw what is in the graph, and a loop id is a hash computed in Python, so
``refresh_browser`` stores a snapshot: one ``(:Loop {id, rank, chain, orgs, money_usd, shares})``
per loop (the guide draws one at a time by rank or id), a short ``short`` caption on every FLOW
("$100B invest +1", "$40B buy") and Deal ("$300B purchase, announced") for the style sheet, and the
round-trip figures on each company on a loop. ``ouroboros graph browser`` refreshes it when it
starts; the writer rewrites FLOW properties on every load, so run it again after a load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graph.exposure import compute_exposure, format_share, read_flows
from graph.loops import find_loops
from graph.queries import run_query
from graph.review import apply_reviews
from ouroboros.core.errors import GraphError
from ouroboros.core.formatting import format_usd, now_iso

# Short words for the kinds, so captions fit on a relationship line.
KIND_WORDS = {
    "investment": "invest", "purchase": "buy", "spend_back": "spend-back", "mandate": "mandate",
    "warrant": "warrant", "backstop": "backstop", "loan": "loan", "stake_sale": "stake sale",
}
# The money legs first: a spend-back or mandate rides on another deal.
_LEG_ORDER = ("investment", "purchase", "loan", "backstop", "warrant", "stake_sale", "spend_back", "mandate")


@dataclass(frozen=True)
class Snapshot:
    """What one refresh wrote."""

    loops: int
    companies: int
    flows: int
    deals: int


def flow_caption(kinds: Sequence[str], amount_usd: float | None) -> str:
    """A FLOW's short caption: amount, main kind, how many more kinds ("$100B invest +2")."""
    ordered = sorted(kinds, key=lambda k: _LEG_ORDER.index(k) if k in _LEG_ORDER else len(_LEG_ORDER))
    word = KIND_WORDS.get(ordered[0], ordered[0]) if ordered else "flow"
    more = f" +{len(ordered) - 1}" if len(ordered) > 1 else ""
    return f"{format_usd(amount_usd)} {word}{more}" if amount_usd is not None else f"{word}{more}"


def deal_caption(kind: str, amount_usd: float | None, status: str | None, rejected: bool = False) -> str:
    """A deal's short caption: "$300B purchase, announced" (or "REJECTED ...")."""
    amount = f"{format_usd(amount_usd)} " if amount_usd is not None else ""
    text = f"{amount}{kind.replace('_', ' ')}, {(status or '').replace('_', ' ')}".rstrip(", ")
    return f"REJECTED {text}" if rejected else text


def refresh_browser(driver: Driver, *, max_length: int = 6) -> Snapshot:
    """Write the Browser snapshot: Loop nodes, short captions, round-trip figures (see the module docstring)."""
    apply_reviews(driver)
    loops = find_loops(driver, max_length=max_length)
    shares = {item.company: item for item in compute_exposure(read_flows(driver), loops)}
    loop_rows = [{
        "id": loop.id, "rank": rank, "chain": loop.chain, "orgs": list(loop.orgs), "score": loop.score,
        "money_usd": loop.score_parts.get("money_usd"), "tentative": loop.tentative,
        "shares": " · ".join(f"{o} {format_share(shares[o].share, shares[o].lower_bound) if o in shares else '?'}"
                             for o in loop.orgs),
    } for rank, loop in enumerate(loops, start=1)]
    company_rows = [{
        "name": item.company, "share": item.share, "round_trip_usd": item.round_trip_usd,
        "inbound_usd": item.inbound_usd,
        "text": f"{format_share(item.share, item.lower_bound)} ({format_usd(item.round_trip_usd)} of "
                f"{format_usd(item.inbound_usd)}{' + ?' if item.inbound_unknown else ''})",
    } for item in shares.values()]
    try:
        with driver.session() as session:
            sources = run_query(session, "snapshot_caption_sources").single()
            flow_rows = [{"from": f["from"], "to": f["to"], "short": flow_caption(f["kinds"] or [], f.get("amount_usd"))}
                         for f in sources["flows"]]
            deal_rows = [{"id": d["id"], "short": deal_caption(d["kind"], d.get("amount_usd"), d.get("status"),
                                                              bool(d.get("rejected")))}
                         for d in sources["deals"]]

            def write(tx: Any) -> None:
                run_query(tx, "snapshot_loops", rows=loop_rows, now=now_iso()).consume()
                run_query(tx, "snapshot_company_figures", rows=company_rows).consume()
                run_query(tx, "snapshot_flow_captions", rows=flow_rows).consume()
                run_query(tx, "snapshot_deal_captions", rows=deal_rows).consume()

            session.execute_write(write)
    except (Neo4jError, ServiceUnavailable) as e:
        raise GraphError(f"writing the Browser snapshot failed: {e}; rerun `ouroboros graph browser`") from e
    return Snapshot(len(loop_rows), len(company_rows), len(flow_rows), len(deal_rows))
