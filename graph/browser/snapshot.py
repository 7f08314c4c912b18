"""What Neo4j Browser shows that the loader does not write: Loop nodes and round-trip figures.

Browser can only draw what is in the graph, and a loop id is a hash computed in Python, so
``refresh_browser`` stores a snapshot: one ``(:Loop {id, rank, chain, orgs, money_usd, shares})``
per loop (the guide draws one at a time by rank or id) and the round-trip figures on each
company on a loop. ``ouroboros graph browser`` refreshes it when it starts. The short captions
("$100B invest +1" on a FLOW, "$300B purchase, announced" on a Deal) are the writer's, written
with the FLOW and the deal (graph.captions); the refresh only fills FLOWs an older writer left
without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graph.captions import flow_caption
from graph.exposure import compute_exposure, format_share, read_flows
from graph.loops import find_loops
from graph.queries import run_query
from ouroboros.core.errors import GraphError
from ouroboros.core.formatting import format_usd, now_iso


@dataclass(frozen=True)
class Snapshot:
    """What one refresh wrote."""

    loops: int
    companies: int
    flows: int  # FLOWs an older writer left without a caption


def refresh_browser(driver: Driver, *, max_length: int = 6) -> Snapshot:
    """Write the Browser snapshot: Loop nodes, round-trip figures (see the module docstring)."""
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
            flow_rows = [{"from": f["from"], "to": f["to"], "short": flow_caption(f["kinds"] or [], f["amount_usd"])}
                         for f in run_query(session, "snapshot_flows_without_caption")]

            def write(tx: Any) -> None:
                run_query(tx, "snapshot_loops", rows=loop_rows, now=now_iso()).consume()
                run_query(tx, "snapshot_company_figures", rows=company_rows).consume()
                if flow_rows:
                    run_query(tx, "snapshot_flow_captions", rows=flow_rows).consume()

            session.execute_write(write)
    except (Neo4jError, ServiceUnavailable) as e:
        raise GraphError(f"writing the Browser snapshot failed: {e}; rerun `ouroboros graph browser`") from e
    return Snapshot(len(loop_rows), len(company_rows), len(flow_rows))
