"""Benchmark: load synthetic deal graphs and find their loops, against networkx on the same graph.

    .venv/bin/python bench/loops_bench.py --sizes 1000 10000 100000

The graph (``synthetic_flows``): companies sit in tiers of a supply chain (investors, labs,
clouds, chipmakers, ...). Every company sends about ``flows_per_company`` flows to companies of
the next one or two tiers, so the background is acyclic, as money mostly moves down a supply
chain. Loops are planted AML-style as rings of 2..6 companies within one tier (round-tripping
between peers), one ring per 100 companies, rings disjoint. A uniformly random digraph with
out-degree 10 would instead hold about 10^k/k cycles of every length k whatever its size, which
is neither what deal graphs look like nor something any enumerator can list; see docs/graph.md.

Measured in one run, on the same flows:
- load: ``graph.writer.load_records`` (one DealRecord per flow, 100 per document, no embeddings,
  the writer's default batches) against a bare ``UNWIND ... CREATE`` of the same rows
  (bench/cypher/bench.cypher);
- upkeep: the component refresh the load ran once at its end (timed inside the load), and the
  whole-graph pass on its own (``refresh_components(force=True)``);
- loops: ``graph.loops.find_loops(max_length=6)`` against networkx
  ``simple_cycles(G, length_bound=6)`` (graph building included); "with upkeep" adds the load's
  refresh to find_loops;
- a small change on the loaded graph: one document closing new rings and one planted ring's
  document reloaded without a ring edge (the incremental refresh), then the loops again;
and every planted ring must be among the loops found, and both sides must find the same set.

It empties the graph of the Neo4j it connects to: point it at a scratch server
(``OUROBOROS_HOME=/tmp/bench-home``) and pass ``--wipe`` to confirm.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.loops import canonical_rotation
from ouroboros.core.records import DealRecord

Edge = tuple[str, str]


def synthetic_flows(
    n: int, *, flows_per_company: int = 10, tiers: int = 6, ring_every: int = 100, seed: int = 7
) -> tuple[list[Edge], list[tuple[str, ...]]]:
    """Flows of a tiered (acyclic) supply chain of ``n`` companies plus planted rings.

    Returns the flows (unique ordered pairs) and the planted rings in canonical rotation.
    """
    rng = random.Random(seed)
    names = [f"Co{i:06d}" for i in range(n)]
    rng.shuffle(names)  # tiers must not follow name order: the loop search starts from small names
    tier_of = {name: i * tiers // n for i, name in enumerate(names)}
    by_tier: list[list[str]] = [[] for _ in range(tiers)]
    for name, tier in tier_of.items():
        by_tier[tier].append(name)
    edges: set[Edge] = set()
    senders = [name for name in names if tier_of[name] < tiers - 1]
    # Spread all n * flows_per_company flows over the companies that have a tier below them.
    per_sender = n * flows_per_company / len(senders)
    for name in senders:
        tier = tier_of[name]
        count = int(per_sender) + (rng.random() < per_sender % 1)
        for _ in range(count):
            down = tier + 1 if tier + 2 >= tiers or rng.random() < 0.8 else tier + 2
            edges.add((name, rng.choice(by_tier[down])))
    rings: list[tuple[str, ...]] = []
    used: set[str] = set()
    for index in range(max(n // ring_every, 5)):
        length = 2 + index % 5
        tier_members = by_tier[rng.randrange(tiers)]
        ring: list[str] = []
        while len(ring) < length:
            candidate = rng.choice(tier_members)
            if candidate not in used:
                used.add(candidate)
                ring.append(candidate)
        edges.update(zip(ring, ring[1:] + ring[:1], strict=True))
        rings.append(canonical_rotation(ring))
    return sorted(edges), rings


def flow_records(edges: list[Edge], *, per_document: int = 100, seed: int = 7) -> list[DealRecord]:
    """One deal record per flow, ``per_document`` per synthetic document."""
    rng = random.Random(seed)
    records = []
    for index, (a, b) in enumerate(edges):
        millions = rng.randrange(10, 100_000)
        records.append(DealRecord(
            doc=f"bench-{index // per_document:06d}", kind=rng.choice(("investment", "purchase", "loan")),
            investor=a, recipient=b, amount_usd=millions * 1e6, amount_text=f"${millions} million",
            status="announced", evidence="", confidence=0.9, extractor="bench",
        ))
    return records


def networkx_loops(edges: list[Edge], max_length: int) -> set[tuple[str, ...]]:
    """The peer: networkx's bounded simple-cycle enumeration over the same flows."""
    graph = nx.DiGraph(edges)
    return {canonical_rotation(cycle) for cycle in nx.simple_cycles(graph, length_bound=max_length)}


@dataclass
class Row:
    companies: int
    flows: int
    planted: int
    loops_ours: int
    loops_networkx: int
    all_planted_found: bool
    same_set: bool
    load_ours_s: float
    upkeep_in_load_s: float
    refresh_s: float
    load_bare_s: float
    query_ours_s: float
    query_networkx_s: float
    delta_load_s: float = 0.0
    delta_upkeep_s: float = 0.0
    delta_same_set: bool = True


def delta_records(
    edges: list[Edge], records: list[DealRecord], rings: list[tuple[str, ...]], *, new_rings: int = 5, seed: int = 9
) -> tuple[list[DealRecord], list[Edge], list[Edge]]:
    """A small change: one document closing ``new_rings`` new 3-rings between companies of the last
    tier on no ring (peers, like the planted rings), and the document of one planted ring edge
    reloaded without it. Returns the records to load and the flows added and removed."""
    rng = random.Random(seed)
    on_rings = {name for ring in rings for name in ring}
    heads = {a for a, _ in edges}
    free = sorted({b for _, b in edges} - heads - on_rings)
    rng.shuffle(free)
    added: list[Edge] = []
    for i in range(new_rings):
        ring = free[3 * i: 3 * i + 3]
        added += list(zip(ring, ring[1:] + ring[:1], strict=True))
    existing = set(edges)
    added = [e for e in added if e not in existing]
    delta = [DealRecord(doc="bench-delta", kind="investment", investor=a, recipient=b, amount_usd=1e9,
                        amount_text="$1 billion", status="announced", evidence="", confidence=0.9, extractor="bench")
             for a, b in added]
    ring = rings[0]
    cut = (ring[0], ring[1])
    (doc,) = {r.doc for r in records if (r.investor, r.recipient) == cut}
    delta += [r for r in records if r.doc == doc and (r.investor, r.recipient) != cut]
    return delta, added, [cut]


def run_size(driver: object, n: int, max_length: int) -> Row:
    from graph.loops import find_loops
    from graph.queries import load_queries, run_statement
    from graph.writer import ensure_schema, load_records, refresh_components

    # The benchmark's own statements (bench/cypher/bench.cypher): the bare baseline and the wipe.
    BENCH_CYPHER = load_queries(Path(__file__).resolve().parent / "cypher")
    edges, rings = synthetic_flows(n)
    records = flow_records(edges)
    print(f"n={n}: {len(edges)} flows, {len(rings)} planted rings", file=sys.stderr)

    def wipe() -> None:
        with driver.session() as session:  # type: ignore[attr-defined]
            run_statement(session, BENCH_CYPHER["bench_wipe"]).consume()

    def note(what: str, seconds: float) -> None:
        print(f"  n={n}: {what} {seconds:.2f} s", file=sys.stderr, flush=True)

    # The bare baseline first, on an empty graph; then the same flows through the writer.
    wipe()
    ensure_schema(driver)  # type: ignore[arg-type]
    rows = [{"investor": r.investor, "recipient": r.recipient, "id": r.deal_id, "kind": r.kind,
             "amount_usd": r.amount_usd, "amount_text": r.amount_text, "doc": r.doc} for r in records]
    names = sorted({name for edge in edges for name in edge})
    started = time.perf_counter()
    with driver.session() as session:  # type: ignore[attr-defined]
        for i in range(0, len(names), 10_000):
            session.execute_write(lambda tx, chunk=names[i:i + 10_000]: run_statement(
                tx, BENCH_CYPHER["bench_create_companies"], names=chunk).consume())
        for i in range(0, len(rows), 1000):
            session.execute_write(lambda tx, chunk=rows[i:i + 1000]: run_statement(
                tx, BENCH_CYPHER["bench_create_deals"], rows=chunk).consume())
    load_bare = time.perf_counter() - started
    note("bare UNWIND CREATE load", load_bare)
    wipe()

    import graph.writer as writer_module

    upkeep: list[float] = []
    refresh = writer_module.refresh_components

    def timed_refresh(*args: object, **kwargs: object) -> bool:
        started = time.perf_counter()
        try:
            return refresh(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            upkeep.append(time.perf_counter() - started)

    writer_module.refresh_components = timed_refresh  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        load_records(driver, records)  # type: ignore[arg-type]
        load_ours = time.perf_counter() - started
    finally:
        writer_module.refresh_components = refresh
    upkeep_in_load = sum(upkeep)
    note(f"writer load (its component refresh {upkeep_in_load:.2f} s)", load_ours)
    started = time.perf_counter()
    refresh_components(driver, force=True)  # type: ignore[arg-type]
    full_refresh = time.perf_counter() - started
    note("component refresh, whole graph", full_refresh)

    started = time.perf_counter()
    ours = {loop.orgs for loop in find_loops(driver, max_length=max_length)}  # type: ignore[arg-type]
    query_ours = time.perf_counter() - started
    note(f"find_loops ({len(ours)} loops)", query_ours)

    started = time.perf_counter()
    theirs = networkx_loops(edges, max_length)
    query_nx = time.perf_counter() - started
    note(f"networkx simple_cycles ({len(theirs)} loops)", query_nx)

    # A small change on the big graph: the incremental refresh.
    delta, added, removed = delta_records(edges, records, rings)
    upkeep.clear()
    writer_module.refresh_components = timed_refresh  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        load_records(driver, delta)  # type: ignore[arg-type]
        delta_load = time.perf_counter() - started
    finally:
        writer_module.refresh_components = refresh
    note(f"change of {len(added)} new and {len(removed)} removed flows: load (refresh {sum(upkeep):.2f} s)",
         delta_load)
    after = sorted((set(edges) | set(added)) - set(removed))
    delta_same = {loop.orgs for loop in find_loops(driver, max_length=max_length)} == networkx_loops(  # type: ignore[arg-type]
        after, max_length)
    # The graph stays loaded (inspect it in Browser); the next size's run empties it first.

    return Row(
        companies=n, flows=len(edges), planted=len(rings), loops_ours=len(ours), loops_networkx=len(theirs),
        all_planted_found=set(rings) <= ours, same_set=ours == theirs, load_ours_s=round(load_ours, 2),
        upkeep_in_load_s=round(upkeep_in_load, 2), refresh_s=round(full_refresh, 2), load_bare_s=round(load_bare, 2),
        query_ours_s=round(query_ours, 2), query_networkx_s=round(query_nx, 2), delta_load_s=round(delta_load, 2),
        delta_upkeep_s=round(sum(upkeep), 2), delta_same_set=delta_same,
    )


def markdown_table(rows: list[Row]) -> str:
    lines = [
        ("| companies | flows | planted rings | loops found (ours / networkx) | all planted found | same set "
         "| load: writer (s) | load: bare UNWIND CREATE (s) | writer / bare throughput | upkeep in the load (s) "
         "| whole-graph refresh (s) | loops: find_loops (s) | loops + upkeep (s) | loops: networkx (s) "
         "| change: load (s) | change: refresh (s) | change: same set |"),
        "|---:|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.companies:,} | {r.flows:,} | {r.planted:,} | {r.loops_ours:,} / {r.loops_networkx:,} "
            f"| {'yes' if r.all_planted_found else 'NO'} | {'yes' if r.same_set else 'NO'} | {r.load_ours_s} "
            f"| {r.load_bare_s} | {r.load_bare_s / max(r.load_ours_s, 1e-9):.2f}x | {r.upkeep_in_load_s} "
            f"| {r.refresh_s} | {r.query_ours_s} | {r.upkeep_in_load_s + r.query_ours_s:.2f} | {r.query_networkx_s} "
            f"| {r.delta_load_s} | {r.delta_upkeep_s} | {'yes' if r.delta_same_set else 'NO'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--max-length", type=int, default=6)
    parser.add_argument("--wipe", action="store_true", help="confirm that the graph may be emptied")
    args = parser.parse_args(argv)
    if not args.wipe:
        print("this benchmark empties the graph; point OUROBOROS_HOME at a scratch server and pass --wipe",
              file=sys.stderr)
        return 2
    from graph.driver import get_driver

    driver = get_driver()
    try:
        rows = []
        for n in args.sizes:
            rows.append(run_size(driver, n, args.max_length))
            print(markdown_table(rows[-1:]), file=sys.stderr)
    finally:
        driver.close()
    print(markdown_table(rows))
    return 0 if all(r.all_planted_found and r.same_set and r.delta_same_set for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
