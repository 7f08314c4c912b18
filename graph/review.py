"""Review: an analyst corrects the machine, and the graph keeps the corrections.

Each correction is a ``(:Review {id, action, target, into, who, at, why, state})`` node, linked
``[:ABOUT]`` to the deal or company it concerns: the audit trail (``cypher/review.cypher``).
What is in force is the latest correction per target:

- ``reject`` / ``restore`` a deal: a rejected deal keeps its node, with ``rejected = true`` and
  a ``review_note``, but forms no FLOW, so it closes no loop and counts in no round-trip share;
- ``merge`` name A into B: A's deals, spend-backs and products move to B, and A is deleted;
- ``dismiss`` / ``undismiss`` a loop: its alerts stay quiet until the loop changes
  (``graph.alerts``).

A correction takes effect when it is made: ``apply_reviews`` sets the rejection flags, merges
the names and re-derives the FLOWs of the pairs concerned with the writer's own
``aggregate_flow`` and ``read_flow_legs``. Later loads honour the trail as they write
(``graph.writer.Corrections``): a merged name is mapped before any company is written, and a
rejected deal is stored flagged and forms no FLOW, so no step has to run after a load.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

from graph.captions import REJECTED_PREFIX
from graph.queries import run_query, server_gone
from graph.writer import INCREMENTAL_LIMIT, aggregate_flow, corrections_from_trail
from ouroboros.core.errors import GraphError, InputError
from ouroboros.core.ids import stable_hash

log = logging.getLogger(__name__)

Pair = tuple[str, str]
ACTIONS = ("reject", "restore", "merge", "dismiss", "undismiss")


@dataclass(frozen=True)
class Review:
    """One correction of the audit trail."""

    id: str
    action: str
    target: str
    who: str
    at: str
    why: str
    into: str | None = None
    state: str | None = None

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class InForce:
    """The corrections in force: rejected deals (id -> note), aliases (name -> canonical), dismissed loops."""

    rejected: dict[str, str]
    aliases: dict[str, str]
    dismissed: dict[str, dict[str, Any]]


def now_precise() -> str:
    """UTC now to the microsecond: the trail is ordered by it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_review(action: str, target: str, who: str, why: str, *, into: str | None = None,
               state: dict[str, Any] | None = None) -> Review:
    """A correction stamped now, with a unique id."""
    if action not in ACTIONS:
        raise InputError(f"unknown review action {action!r}; use one of {', '.join(ACTIONS)}")
    at = now_precise()
    return Review(id=stable_hash("review", action, target, into or "", who, at, why), action=action, target=target,
                  who=who, at=at, why=why, into=into,
                  state=json.dumps(state, sort_keys=True, ensure_ascii=False) if state is not None else None)


def in_force(driver: Driver) -> InForce:
    """The corrections in force now (the latest per target)."""
    with driver.session() as session:
        rows = run_query(session, "review_latest").data()
    corrections = corrections_from_trail(rows)
    dismissed = {row["target"]: json.loads(row["latest"]["state"]) if row["latest"].get("state") else {}
                 for row in rows if row["latest"]["action"] == "dismiss"}
    return InForce(corrections.rejected, corrections.aliases, dismissed)


def record(driver: Driver, review: Review) -> None:
    """Append one correction to the trail."""
    try:
        with driver.session() as session:
            session.execute_write(lambda tx: run_query(tx, "review_record", row=review.row()).consume())
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"recording the review failed: {e}; nothing was changed, rerun the command") from e


def find_deal(driver: Driver, deal_id: str) -> dict[str, Any]:
    """The deal with this id (or a unique prefix of 8+ characters).

    Raises:
        InputError: no deal, or several, match.
    """
    with driver.session() as session:
        rows = run_query(session, "review_find_deals", ids=[deal_id]).data()
    if not rows:
        raise InputError(f"no deal {deal_id!r} in the graph; deal ids are in `ouroboros loops --format json` "
                         "(edges[].deal_ids) and in the Browser guide's deal tables")
    if len(rows) > 1:
        raise InputError(f"deal id prefix {deal_id!r} matches {len(rows)} deals; give more characters")
    return dict(rows[0])


def reject_deal(driver: Driver, deal_id: str, *, who: str, why: str) -> dict[str, Any]:
    """Mark a deal wrong: it stays in the graph with the note, but forms no FLOW or loop."""
    if not why.strip():
        raise InputError("say why the deal is wrong (--why): the note is what the next analyst reads")
    deal = find_deal(driver, deal_id)
    record(driver, new_review("reject", deal["id"], who, why))
    apply_reviews(driver)
    return deal


def restore_deal(driver: Driver, deal_id: str, *, who: str, why: str = "") -> dict[str, Any]:
    """Undo a rejection: the deal forms flows again."""
    deal = find_deal(driver, deal_id)
    if not deal["rejected"]:
        raise InputError(f"deal {deal['id']} is not rejected; nothing to restore")
    record(driver, new_review("restore", deal["id"], who, why))
    apply_reviews(driver)
    return deal


def merge_names(driver: Driver, name: str, into: str, *, who: str, why: str = "") -> None:
    """Record that ``name`` is the same company as ``into``, and merge them (again after every load)."""
    if name == into:
        raise InputError(f"cannot merge {name!r} into itself")
    with driver.session() as session:
        found = {n: run_query(session, "company_exists", name=n).single()["found"] for n in (name, into)}
    if not found[into]:
        raise InputError(f"company {into!r} is not in the graph; merge into a stored name (names are exact)")
    if not found[name]:
        log.info("company %r is not in the graph now; the alias applies when a load brings it", name)
    record(driver, new_review("merge", name, who, why, into=into))
    apply_reviews(driver)


def trail(driver: Driver, limit: int = 100) -> list[dict[str, Any]]:
    """The audit trail, newest first."""
    with driver.session() as session:
        return [row["review"] for row in run_query(session, "review_trail", limit=limit).data()]


def apply_reviews(driver: Driver) -> bool:
    """Make the graph follow the corrections in force; True when a FLOW changed.

    Cheap when nothing is to do: one read of the trail, and writes only where the graph disagrees.
    """
    try:
        force = in_force(driver)
        if not force.rejected and not force.aliases and not _any_flagged(driver):
            return False
        with driver.session() as session:
            return bool(session.execute_write(_apply, force))
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"applying the analysts' reviews failed: {e}; rerun the command") from e


def _any_flagged(driver: Driver) -> bool:
    with driver.session() as session:
        return bool(run_query(session, "review_find_flagged").single()["flagged"])


def _apply(tx: ManagedTransaction, force: InForce) -> bool:
    # The writer's GraphState lock first: a concurrent load's batch runs wholly before or after.
    run_query(tx, "lock_graph")
    pairs: set[Pair] = set()
    for name, into in sorted(force.aliases.items()):
        for row in run_query(tx, "review_merge_company", **{"from": name, "into": into}):
            pairs.update((a, b) for a, b in row["pairs"])
    changed = [row["id"] for row in run_query(tx, "review_sync_rejections", ids=sorted(force.rejected),
                                              notes=force.rejected, prefix=REJECTED_PREFIX)]
    for row in run_query(tx, "review_deal_pairs", ids=sorted({*changed, *force.rejected})):
        a, b = row["investor"], row["recipient"]
        pairs.add((a, b))
        pairs.update((b, c) for c in [*row["payees"], *row["vendors"]])
    return _rederive(tx, {(a, b) for a, b in pairs if a != b})


def _rederive(tx: ManagedTransaction, pairs: set[Pair]) -> bool:
    """Derive the FLOW of each pair again from its deals that are not rejected; True if one changed."""
    if not pairs:
        return False
    # The writer's own read of the legs, which leaves rejected deals out.
    rows = run_query(tx, "read_flow_legs", pairs=[{"from": a, "to": b} for a, b in sorted(pairs)]).data()
    upserts: list[dict[str, Any]] = []
    removals: list[dict[str, str]] = []
    changed: dict[str, bool] = {}  # company -> whether a FLOW of it appeared (as the writer counts them)
    appeared_or_vanished = 0
    for row in rows:
        props = aggregate_flow(row["legs"])
        current = row["current"]
        if props is None:
            if current is not None:
                removals.append({"from": row["from"], "to": row["to"]})
                appeared_or_vanished += 1
                for name in (row["from"], row["to"]):
                    changed.setdefault(name, False)
        elif current is None or _differs(current, props):
            upserts.append({"from": row["from"], "to": row["to"], "props": props})
            if current is None:
                appeared_or_vanished += 1
                changed.update({row["from"]: True, row["to"]: True})
    if upserts:
        run_query(tx, "review_upsert_flows", rows=upserts)
    if removals:
        run_query(tx, "review_delete_flows", pairs=removals)
    if changed:
        # A FLOW appeared or vanished: Company.scc is brought up to date before loops are read.
        run_query(tx, "count_flow_changes", limit=INCREMENTAL_LIMIT,
                  changes=appeared_or_vanished,
                  rows=[{"name": n, "added": added} for n, added in sorted(changed.items())])
    if upserts or removals:
        log.info("reviews re-derived %d flow(s) and removed %d", len(upserts), len(removals))
    return bool(upserts or removals)


def _differs(current: dict[str, Any], props: dict[str, Any]) -> bool:
    # Neo4j stores no nulls: compare what is set.
    return {k: v for k, v in current.items() if v is not None} != {k: v for k, v in props.items() if v is not None}


def dismissed_states(driver: Driver) -> dict[str, dict[str, Any]]:
    """Loop id -> the alert state it was dismissed in (it stays quiet until it differs)."""
    return in_force(driver).dismissed
