"""Round-trip share: how much of a company's inbound money is its own money coming back around.

For a company C (definition and worked example in docs/graph.md, "Round-trip share"):

- a flow's *committed amount* is the largest stated amount of one of its legs that is not in
  talks (announced, reported, completed, ended); denied legs and deals an analyst rejected are
  no legs at all. A flow whose legs are all in talks is *tentative*: it counts only in the
  "with talks" figures. A flow with no stated amount has an unknown amount, never zero;
- *inbound* is the sum of the known committed amounts of the flows into C (the flows into C of
  unknown amount are counted apart);
- C's *loops* are the directed cycles of flows through C (``graph.loops.find_loops``). A loop's
  amount is its weakest link; a loop with a link of unknown amount has an unknown amount;
- the *round-tripped amount* is the most money that can leave C and come back to C along the
  flows of C's loops of known amount, each flow carrying at most its amount: a maximum flow
  from C to C. For one loop that is its weakest link; loops that share a flow count the
  shared flow's money once. It is unknown when C is on loops but none has a known amount,
  and a lower bound when some of them do not;
- the *round-trip share* is round-tripped / inbound (unknown when either is).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

from graph.loops import Loop, find_loops
from graph.model import NON_FLOW_STATUSES, TENTATIVE_STATUSES
from graph.queries import run_query, server_gone
from ouroboros.core.errors import GraphError
from ouroboros.core.formatting import format_usd

Pair = tuple[str, str]


@dataclass(frozen=True)
class FlowAmounts:
    """One FLOW as the round-trip share sees it."""

    source: str
    target: str
    committed_usd: float | None
    with_talks_usd: float | None
    tentative: bool
    deal_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoopShare:
    """A loop behind a company's figure: its amount (weakest link) and whether it rests on talks."""

    id: str
    chain: str
    amount_usd: float | None
    tentative: bool

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "chain": self.chain, "amount_usd": self.amount_usd, "tentative": self.tentative}


@dataclass(frozen=True)
class Exposure:
    """One company's round-trip figures (see the module docstring)."""

    company: str
    inbound_usd: float
    inbound_unknown: int
    round_trip_usd: float | None
    share: float | None
    lower_bound: bool
    loops: int
    unknown_loops: int
    with_talks_round_trip_usd: float | None
    with_talks_share: float | None
    tentative_loops: int
    loop_list: tuple[LoopShare, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "company": self.company, "inbound_usd": self.inbound_usd, "inbound_unknown": self.inbound_unknown,
            "round_trip_usd": self.round_trip_usd, "share": self.share, "lower_bound": self.lower_bound,
            "loops": self.loops, "unknown_loops": self.unknown_loops,
            "with_talks": {"round_trip_usd": self.with_talks_round_trip_usd, "share": self.with_talks_share,
                           "tentative_loops": self.tentative_loops},
            "loop_list": [loop.to_dict() for loop in self.loop_list],
        }


def flow_amounts(source: str, target: str, legs: Iterable[dict[str, Any]]) -> FlowAmounts | None:
    """The committed and with-talks amounts of one flow from its legs; None when no leg moves money."""
    live = [leg for leg in legs if leg["status"] not in NON_FLOW_STATUSES]
    if not live:
        return None
    committed = [leg for leg in live if leg["status"] not in TENTATIVE_STATUSES]

    def largest(chosen: list[dict[str, Any]]) -> float | None:
        amounts = [float(leg["amount_usd"]) for leg in chosen if leg.get("amount_usd") is not None]
        return max(amounts) if amounts else None

    return FlowAmounts(
        source=source, target=target, committed_usd=largest(committed), with_talks_usd=largest(live),
        tentative=not committed, deal_ids=tuple(sorted({leg["deal_id"] for leg in live})),
    )


def round_trip(company: str, loops: Sequence[Sequence[FlowAmounts]], talks: bool) -> float | None:
    """The most money that can leave ``company`` and come back along ``loops`` (a maximum flow).

    Each loop is its flows in order; every amount must be known (the caller leaves out loops
    with an unknown link). Each flow carries at most its amount. Returns None for no loops.
    """
    if not loops:
        return None
    graph = nx.DiGraph()
    source, sink = ("source", company), ("sink", company)

    def node(name: str, end: bool) -> Any:
        return (sink if end else source) if name == company else ("company", name)

    for loop in loops:
        for flow in loop:
            amount = flow.with_talks_usd if talks else flow.committed_usd
            assert amount is not None
            graph.add_edge(node(flow.source, False), node(flow.target, True), capacity=amount)
    return float(nx.maximum_flow_value(graph, source, sink))


def _amount(flow: FlowAmounts, talks: bool) -> float | None:
    return flow.with_talks_usd if talks else flow.committed_usd


def compute_exposure(
    flows: Sequence[FlowAmounts], loops: Sequence[Loop], companies: Iterable[str] | None = None
) -> list[Exposure]:
    """Every company's round-trip figures from the flows and the loops, best share first.

    ``loops`` come from ``find_loops``; a loop with a flow missing from ``flows`` (its deals were
    all rejected or denied) is left out. ``companies`` limits the result (default: every company
    on a loop).
    """
    by_pair = {(f.source, f.target): f for f in flows}
    resolved: list[tuple[Loop, list[FlowAmounts]]] = []
    for loop in loops:
        edges = [by_pair.get((e.source, e.target)) for e in loop.edges]
        if all(e is not None for e in edges):
            resolved.append((loop, [e for e in edges if e is not None]))
    names = sorted(set(companies) if companies is not None else {o for loop, _ in resolved for o in loop.orgs})
    result = [_company_exposure(name, flows, resolved) for name in names]
    return sorted(result, key=_rank)


def _rank(item: Exposure) -> tuple[Any, ...]:
    share = item.share if item.share is not None else -1.0
    amount = item.round_trip_usd if item.round_trip_usd is not None else -1.0
    return (-share, -amount, -item.loops, item.company)


def _company_exposure(name: str, flows: Sequence[FlowAmounts], loops: Sequence[tuple[Loop, list[FlowAmounts]]]) -> Exposure:
    mine = [(loop, edges) for loop, edges in loops if name in loop.orgs]
    figures: dict[bool, tuple[float, int, float | None, float | None, bool, int]] = {}
    shares: list[LoopShare] = []
    for talks in (False, True):
        inflows = [f for f in flows if f.target == name and (talks or not f.tentative)]
        known_in = [a for a in (_amount(f, talks) for f in inflows) if a is not None]
        inbound = float(sum(known_in))
        counted = [(loop, edges) for loop, edges in mine if talks or not any(e.tentative for e in edges)]
        known = [edges for _, edges in counted if all(_amount(e, talks) is not None for e in edges)]
        unknown = len(counted) - len(known)
        amount = round_trip(name, known, talks) if known else (None if counted else 0.0)
        share = amount / inbound if amount is not None and inbound > 0 else (0.0 if amount == 0.0 else None)
        figures[talks] = (inbound, len(inflows) - len(known_in), amount, share, unknown > 0 and bool(known),
                          unknown)
    for loop, edges in mine:
        tentative = any(e.tentative for e in edges)
        amounts = [_amount(e, tentative) for e in edges]
        weakest = min(a for a in amounts if a is not None) if all(a is not None for a in amounts) else None
        shares.append(LoopShare(loop.id, loop.chain, weakest, tentative))
    shares.sort(key=lambda s: (s.tentative, -(s.amount_usd if s.amount_usd is not None else -1.0), s.chain))
    inbound, inbound_unknown, amount, share, lower, unknown = figures[False]
    _, _, talks_amount, talks_share, _, _ = figures[True]
    committed = [s for s in shares if not s.tentative]
    return Exposure(
        company=name, inbound_usd=inbound, inbound_unknown=inbound_unknown, round_trip_usd=amount,
        share=share, lower_bound=lower, loops=len(committed), unknown_loops=unknown,
        with_talks_round_trip_usd=talks_amount, with_talks_share=talks_share,
        tentative_loops=len(shares) - len(committed), loop_list=tuple(shares),
    )


def read_flows(driver: Driver) -> list[FlowAmounts]:
    """Every FLOW with its committed and with-talks amounts, rejected deals left out."""
    try:
        with driver.session() as session:
            rows = run_query(session, "exposure_flows").data()
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"reading the flows failed: {e}; check the server with `ouroboros neo4j status`") from e
    flows = [flow_amounts(row["from"], row["to"], row["legs"]) for row in rows]
    return [f for f in flows if f is not None]


def exposure(driver: Driver, company: str | None = None, *, max_length: int = 6) -> list[Exposure]:
    """The round-trip figures of every company on a loop (or of ``company``), best share first.

    Raises:
        InputError: ``company`` is not in the graph (the message suggests similar names).
        GraphError: a query failed.
    """
    loops = find_loops(driver, max_length=max_length, company=company)
    flows = read_flows(driver)
    return compute_exposure(flows, loops, [company] if company is not None else None)


def company_shares(items: Sequence[Exposure]) -> dict[str, Exposure]:
    """The figures by company name."""
    return {item.company: item for item in items}


def format_share(share: float | None, lower_bound: bool = False) -> str:
    """A share as a percentage; "?" when unknown, "≥" when some loops' amounts are unknown."""
    if share is None:
        return "?"
    # A share cannot exceed 100%: there, a lower bound is the figure.
    return f"{'≥' if lower_bound and share < 0.995 else ''}{share * 100:.0f}%"


def exposure_to_json(items: Sequence[Exposure]) -> str:
    return json.dumps([item.to_dict() for item in items], indent=2, ensure_ascii=False)


CSV_COLUMNS = ("company", "inbound_usd", "inbound_unknown", "round_trip_usd", "share", "lower_bound", "loops",
               "unknown_loops", "with_talks_round_trip_usd", "with_talks_share", "tentative_loops", "loop_list")


def exposure_to_csv(items: Sequence[Exposure]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        row = {k: v for k, v in item.to_dict().items() if k in CSV_COLUMNS}
        row.update(with_talks_round_trip_usd=item.with_talks_round_trip_usd, with_talks_share=item.with_talks_share,
                   tentative_loops=item.tentative_loops,
                   loop_list="; ".join(f"{s.chain} {format_usd(s.amount_usd)}{' (in talks)' if s.tentative else ''}"
                                       for s in item.loop_list))
        writer.writerow(row)
    return buffer.getvalue()
