"""Find the loops: directed cycles of money flows between companies, each reported once.

The cycle search is the ``find_loops`` statement of ``cypher/loops.cypher``; this module checks
the arguments, keeps the component index fresh, attaches the evidence of every edge and scores
each loop.

Score (0..1, higher first) = (0.45 * money + 0.30 * support + 0.25 * recency) * (0.5 if tentative):

- money: the weakest known link, ``log10(usd) / 12`` capped to 0..1 ($1T = 1, $1B = 0.75), times
  the share of edges whose amount is known (what can go around is bounded by the smallest flow);
- support: per edge, the number of documents stating it, capped at 3, averaged over the edges;
- recency: ``0.5 ** (age_in_days / 365)`` of the newest evidence date (a document's ``published``
  date, else when the deal was first loaded);
- tentative: some edge rests only on deals in talks.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

from graph.model import MAX_LOOP_LENGTH, loop_id
from graph.queries import run_query, server_gone
from graph.writer import refresh_components
from ouroboros.core.errors import ConfigError, GraphError, InputError
from ouroboros.core.formatting import format_usd

SUPPORT_CAP = 3
HALF_LIFE_DAYS = 365.0


@dataclass(frozen=True)
class LoopEdge:
    """One flow of a loop: every non-denied deal leg from ``source`` to ``target``."""

    source: str
    target: str
    kind: str
    amount_usd: float | None
    deal_ids: tuple[str, ...]
    evidence: tuple[dict[str, str], ...]
    statuses: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    tentative: bool = False
    latest: str | None = None
    first_seen: str | None = None

    @property
    def announced(self) -> str | None:
        """The day this leg was first published: the earliest date among the documents stating it
        (a later article restating it adds a source, not a date). None when none is dated; a local
        file's modification day is not a publication date and does not count."""
        days = [str(e["published"]) for e in self.evidence
                if e.get("published") and e.get("date_basis") != "file_modified"]
        return min(days, default=None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of an edge (``from``/``to`` as the issue names them)."""
        return {
            "from": self.source, "to": self.target, "kind": self.kind, "amount_usd": self.amount_usd,
            "announced": self.announced, "deal_ids": list(self.deal_ids),
            "evidence": [dict(e) for e in self.evidence],
            "statuses": list(self.statuses), "docs": list(self.docs), "tentative": self.tentative,
        }


@dataclass(frozen=True)
class Loop:
    """A directed cycle of flows, its orgs in flow order starting at the smallest name."""

    id: str
    orgs: tuple[str, ...]
    edges: tuple[LoopEdge, ...]
    score: float
    first_seen: str | None
    tentative: bool
    score_parts: dict[str, Any] = field(default_factory=dict)

    @property
    def first_announced(self) -> str | None:
        """The day the loop closed: its last leg to be published. None while a leg has no date."""
        days = [e.announced for e in self.edges]
        return None if not days or None in days else max(d for d in days if d)

    @property
    def undated_legs(self) -> list[str]:
        """The legs no dated document states (``A -> B``)."""
        return [f"{e.source} -> {e.target}" for e in self.edges if e.announced is None]

    @property
    def unpriced_legs(self) -> list[str]:
        """The legs no document gives a figure for (``A -> B``): why money around the loop is unknown."""
        return [f"{e.source} -> {e.target}" for e in self.edges if e.amount_usd is None]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape ``ouroboros loops --format json`` prints."""
        return {
            "id": self.id, "orgs": list(self.orgs), "edges": [e.to_dict() for e in self.edges],
            "score": self.score, "first_announced": self.first_announced, "undated_legs": self.undated_legs,
            "unpriced_legs": self.unpriced_legs,
            "first_seen": self.first_seen, "tentative": self.tentative, "score_parts": dict(self.score_parts),
        }

    def within(self, since: date | None = None, window_days: int | None = None) -> bool:
        """Whether the loop closed on or after ``since`` and all its legs were announced within
        ``window_days`` of each other (the AML practice of time-bounded cycles). A loop with an
        undated leg passes neither test."""
        if since is None and window_days is None:
            return True
        days = [_day(e.announced) for e in self.edges]
        if None in days:
            return False
        known = [d for d in days if d is not None]
        if since is not None and max(known) < since:
            return False
        return window_days is None or (max(known) - min(known)).days <= window_days

    @property
    def chain(self) -> str:
        """``A -> B -> A``: the loop as one line."""
        return " -> ".join([*self.orgs, self.orgs[0]])


def canonical_rotation(orgs: Sequence[str]) -> tuple[str, ...]:
    """The cycle rotated to start at its smallest name (plain ``str`` order), flow order kept."""
    start = min(range(len(orgs)), key=lambda i: orgs[i])
    return tuple(orgs[start:]) + tuple(orgs[:start])


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def score_loop(edges: Sequence[LoopEdge], today: date) -> tuple[float, dict[str, Any]]:
    """The loop's score and the parts it is made of (see the module docstring)."""
    amounts = [e.amount_usd for e in edges if e.amount_usd is not None]
    weakest = min(amounts) if amounts else None
    money = 0.0
    if weakest is not None and weakest > 0:
        money = min(max(math.log10(weakest) / 12.0, 0.0), 1.0) * len(amounts) / len(edges)
    sources = [len(e.docs) for e in edges]
    support = sum(min(s, SUPPORT_CAP) for s in sources) / (SUPPORT_CAP * len(edges))
    # Recency is publication time (when the loop's newest leg was announced), never load time.
    days = [d for d in (_day(e.announced) for e in edges) if d is not None]
    latest = max(days) if days else None
    recency = 0.5 ** (max((today - latest).days, 0) / HALF_LIFE_DAYS) if latest else 0.0
    tentative = any(e.tentative for e in edges)
    score = (0.45 * money + 0.30 * support + 0.25 * recency) * (0.5 if tentative else 1.0)
    parts = {
        "money_usd": weakest if len(amounts) == len(edges) else None,
        "weakest_known_usd": weakest,
        "sources_per_edge": sources,
        "latest": latest.isoformat() if latest else None,
        "tentative": tentative,
    }
    return round(score, 4), parts


def find_loops(
    driver: Driver,
    *,
    min_length: int = 2,
    max_length: int = 6,
    company: str | None = None,
    today: date | None = None,
    since: date | None = None,
    window_days: int | None = None,
) -> list[Loop]:
    """Every directed cycle of flows of ``min_length..max_length`` companies, each once, best score first.

    Args:
        driver: An open Neo4j driver.
        min_length: The fewest companies in a loop (2 = a two-way loop).
        max_length: The most companies in a loop (at most ``MAX_LOOP_LENGTH``).
        company: Keep only the loops through this company (exact canonical name).
        today: The date recency is measured against (default: today, UTC).
        since: Keep only the loops whose last leg was announced on or after this day.
        window_days: Keep only the loops whose legs were all announced within this many days.

    Raises:
        ConfigError: the lengths are out of range.
        InputError: ``company`` is not in the graph (the message suggests similar names).
        GraphError: the query failed.
    """
    if not 2 <= min_length <= max_length <= MAX_LOOP_LENGTH:
        raise ConfigError(
            f"loop lengths must satisfy 2 <= min ({min_length}) <= max ({max_length}) <= {MAX_LOOP_LENGTH}"
        )
    refresh_components(driver)
    try:
        with driver.session() as session:
            if company is not None:
                _check_company(session, company)
            rows = run_query(
                session, "find_loops", min_length=min_length, max_length=max_length, company=company
            ).data()
            legs = sorted({(d, edge["from"], edge["to"]) for row in rows for edge in row["edges"] for d in edge["deal_ids"]})
            evidence: dict[tuple[str, str, str], list[dict[str, str]]] = {}
            for row in run_query(session, "deal_evidence", legs=[{"deal_id": d, "from": a, "to": b} for d, a, b in legs]):
                evidence.setdefault((row["deal_id"], row["from"], row["to"]), []).append(dict(row))
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"reading the loops failed: {e}; check the server with `ouroboros neo4j status`") from e
    day = today or datetime.now(UTC).date()
    loops = [loop for loop in (_build_loop(row, evidence, day) for row in rows) if loop.within(since, window_days)]
    return sorted(loops, key=lambda loop: (-loop.score, len(loop.orgs), loop.orgs))


def _build_loop(row: dict[str, Any], evidence: dict[tuple[str, str, str], list[dict[str, str]]], today: date) -> Loop:
    edges = []
    for e in row["edges"]:
        seen: list[dict[str, str]] = []
        for deal in e["deal_ids"]:
            for item in evidence.get((deal, e["from"], e["to"]), []):
                # What is known of the citation: unknown title, URL or date are left out, not null.
                cited = {k: v for k, v in item.items() if k not in ("deal_id", "from", "to") and v is not None}
                if cited not in seen:
                    seen.append(cited)
        edges.append(LoopEdge(
            # A null property is absent from the map: amount_usd may be missing.
            source=e["from"], target=e["to"], kind="+".join(e["kinds"]), amount_usd=e.get("amount_usd"),
            deal_ids=tuple(e["deal_ids"]), evidence=tuple(seen), statuses=tuple(e["statuses"]),
            docs=tuple(e["docs"]), tentative=bool(e["tentative"]), latest=e.get("latest"),
            first_seen=e.get("first_seen"),
        ))
    orgs = tuple(row["orgs"])
    score, parts = score_loop(edges, today)
    first_seen = max((e.first_seen for e in edges if e.first_seen), default=None)
    return Loop(
        id=loop_id(orgs), orgs=orgs, edges=tuple(edges), score=score, first_seen=first_seen,
        tentative=parts["tentative"], score_parts=parts,
    )


_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)')


def _check_company(session: Any, company: str) -> None:
    if run_query(session, "company_exists", name=company).single()["found"]:
        return
    words = [_LUCENE_SPECIAL.sub(r"\\\1", w) for w in company.split()]
    query = " ".join(f"{w}~" for w in words if w)
    names = [row["name"] for row in run_query(session, "search_names", query=query, limit=5)] if query else []
    hint = f"; did you mean {', '.join(repr(n) for n in names)}?" if names else "; no similar company is stored"
    raise InputError(f"company {company!r} is not in the graph{hint} (names are matched exactly)")


def loops_to_json(loops: Sequence[Loop]) -> str:
    """The loops as a JSON list (the ``--format json`` output)."""
    return json.dumps([loop.to_dict() for loop in loops], indent=2, ensure_ascii=False)


CSV_COLUMNS = ("id", "length", "orgs", "score", "money_usd", "tentative", "first_seen", "edges")


def loop_csv_row(loop: Loop) -> dict[str, Any]:
    """One flat CSV row: the org chain and a compact ``A->B kind $amount`` list of edges."""
    return {
        "id": loop.id, "length": len(loop.orgs), "orgs": loop.chain, "score": loop.score,
        "money_usd": loop.score_parts.get("money_usd"), "tentative": loop.tentative,
        "first_seen": loop.first_seen,
        "edges": "; ".join(f"{e.source}->{e.target} {e.kind} {format_usd(e.amount_usd)}" for e in loop.edges),
    }


def loops_to_csv(loops: Sequence[Loop]) -> str:
    """The loops as CSV, one row per loop (the ``--format csv`` output)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(loop_csv_row(loop) for loop in loops)
    return buffer.getvalue()

