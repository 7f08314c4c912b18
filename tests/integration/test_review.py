"""Review against the real Neo4j: reject and restore a deal, merge two names, dismiss a loop; the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from neo4j import Driver

from graph.alerts import dismiss_loop, export_alerts
from graph.exposure import company_shares, exposure
from graph.loops import find_loops
from graph.queries import run_query
from graph.review import merge_names, reject_deal, restore_deal, trail
from graph.writer import load_records
from ouroboros.core.errors import InputError
from ouroboros.core.records import SourceDocument
from tests.integration.test_exposure import B, deal, small_graph

pytestmark = pytest.mark.integration


def chains(driver: Driver) -> set[str]:
    return {loop.chain for loop in find_loops(driver)}


def test_a_rejected_deal_stays_with_its_note_but_closes_no_loop(clean_graph: Driver, tmp_path: Path) -> None:
    records = small_graph()
    load_records(clean_graph, records)
    cedar_acme = next(r for r in records if (r.investor, r.recipient) == ("Cedar", "Acme"))
    assert "Acme -> Birch -> Cedar -> Acme" in chains(clean_graph)

    with pytest.raises(InputError, match="say why"):
        reject_deal(clean_graph, cedar_acme.deal_id, who="ana", why=" ")
    reject_deal(clean_graph, cedar_acme.deal_id[:10], who="ana", why="the filing says Cedar sold, not bought")
    assert "Acme -> Birch -> Cedar -> Acme" not in chains(clean_graph)
    with clean_graph.session() as session:
        node = session.run("MATCH (d:Deal {id: $id}) RETURN d {.*} AS d", id=cedar_acme.deal_id).single(strict=True)["d"]
        about = session.run("MATCH (r:Review)-[:ABOUT]->(d:Deal {id: $id}) RETURN r.who AS who, r.why AS why",
                            id=cedar_acme.deal_id).data()
    assert node["rejected"] is True and "ana" in node["review_note"] and "sold, not bought" in node["review_note"]
    assert about == [{"who": "ana", "why": "the filing says Cedar sold, not bought"}]
    acme = company_shares(exposure(clean_graph))["Acme"]
    assert (acme.inbound_usd, acme.round_trip_usd) == (7 * B, 4 * B)  # Cedar's $3B is out

    # The same documents loaded again: the writer honours the rejection as it writes, so the FLOW
    # never comes back (read straight after the load: no review step runs in between).
    load_records(clean_graph, records)
    assert "Acme -> Birch -> Cedar -> Acme" not in chains(clean_graph)
    with clean_graph.session() as session:
        flows = {(r["a"], r["b"]) for r in session.run("MATCH (a:Company)-[:FLOW]->(b:Company) "
                                                       "RETURN a.name AS a, b.name AS b")}
        node = session.run("MATCH (d:Deal {id: $id}) RETURN d {.*} AS d", id=cedar_acme.deal_id).single(strict=True)["d"]
    assert ("Cedar", "Acme") not in flows and ("Birch", "Cedar") in flows
    assert node["rejected"] is True and node["caption"] == "REJECTED $3B purchase, reported"
    assert "sold, not bought" in node["review_note"]

    # Its document drops the deal (the node is deleted), then states it again: a new node, still rejected.
    load_records(clean_graph, [], [SourceDocument(doc="s2.txt", text="", source="test")])
    load_records(clean_graph, records)
    with clean_graph.session() as session:
        node = session.run("MATCH (d:Deal {id: $id}) RETURN d {.*} AS d", id=cedar_acme.deal_id).single(strict=True)["d"]
        cedar_acme_flows = session.run("MATCH (:Company {name: 'Cedar'})-[f:FLOW]->(:Company {name: 'Acme'}) "
                                       "RETURN count(f) AS n").single(strict=True)["n"]
    assert node["rejected"] is True and cedar_acme_flows == 0
    export_alerts(clean_graph, tmp_path / "a.jsonl")
    sent = {tuple(json.loads(line)["loop"]["orgs"]) for line in (tmp_path / "a.jsonl").read_text().splitlines()}
    assert ("Acme", "Birch") in sent and ("Acme", "Birch", "Cedar") not in sent
    assert "Acme -> Birch -> Cedar -> Acme" not in chains(clean_graph)
    with clean_graph.session() as session:
        node = session.run("MATCH (d:Deal {id: $id}) RETURN d.rejected AS r", id=cedar_acme.deal_id).single(strict=True)
    assert node["r"] is True

    restore_deal(clean_graph, cedar_acme.deal_id, who="ben", why="checked again: it is a purchase")
    assert "Acme -> Birch -> Cedar -> Acme" in chains(clean_graph)
    with clean_graph.session() as session:
        node = session.run("MATCH (d:Deal {id: $id}) RETURN d {.*} AS d", id=cedar_acme.deal_id).single(strict=True)["d"]
    assert "rejected" not in node and node["caption"] == "$3B purchase, reported"
    assert company_shares(exposure(clean_graph))["Acme"].round_trip_usd == 7 * B
    with pytest.raises(InputError, match="not rejected"):
        restore_deal(clean_graph, cedar_acme.deal_id, who="ben")
    assert [(r["action"], r["who"]) for r in trail(clean_graph)] == [("restore", "ben"), ("reject", "ana")]
    with pytest.raises(InputError, match="no deal"):
        reject_deal(clean_graph, "nope", who="ana", why="x")


def test_a_merged_name_stays_merged_after_the_next_load(clean_graph: Driver) -> None:
    alias = [deal("s6.txt", "purchase", "Birch", "Acme Inc.", 9 * B)]
    load_records(clean_graph, [*small_graph(), *alias])
    merge_names(clean_graph, "Acme Inc.", "Acme", who="ana", why="same company")
    with clean_graph.session() as session:
        names = {row["name"] for row in session.run("MATCH (c:Company) RETURN c.name AS name")}
        flow = session.run("MATCH (:Company {name: 'Birch'})-[f:FLOW]->(:Company {name: 'Acme'}) "
                           "RETURN f.amount_usd AS amount, f.kinds AS kinds").single(strict=True)
    assert "Acme Inc." not in names
    assert flow["amount"] == 9 * B and set(flow["kinds"]) == {"purchase", "spend_back"}

    # Re-ingestion states the old name again: the writer maps it before writing any company, so
    # the merged company is never created (read straight after the load: no review step runs).
    load_records(clean_graph, alias)
    with clean_graph.session() as session:
        names = {row["name"] for row in session.run("MATCH (c:Company) RETURN c.name AS name")}
        parties = session.run("MATCH (a:Company)-[:PAYS]->(d:Deal {id: $id})-[:TO]->(b:Company) "
                              "RETURN a.name AS a, b.name AS b", id=alias[0].deal_id).single(strict=True)
    assert "Acme Inc." not in names
    assert (parties["a"], parties["b"]) == ("Birch", "Acme")  # the deal keeps its id, under the canonical name
    # A new document naming the merged company, as investor this time: mapped too.
    load_records(clean_graph, [deal("s8.txt", "investment", "Acme Inc.", "Fir", 1 * B)])
    with clean_graph.session() as session:
        names = {row["name"] for row in session.run("MATCH (c:Company) RETURN c.name AS name")}
        flows = {(r["a"], r["b"]) for r in session.run("MATCH (a:Company)-[:FLOW]->(b:Company) "
                                                       "RETURN a.name AS a, b.name AS b")}
    assert "Acme Inc." not in names and ("Acme", "Fir") in flows
    load_records(clean_graph, [], [SourceDocument(doc="s8.txt", text="", source="test")])
    acme = company_shares(exposure(clean_graph))["Acme"]
    # In: Birch 9 + Cedar 3 + Elm 2 + Fir 1; Acme->Birch (10) carries min(10, 9 + 3) back.
    assert (acme.inbound_usd, acme.round_trip_usd) == (15 * B, 10 * B)
    with pytest.raises(InputError, match="not in the graph"):
        merge_names(clean_graph, "Birch", "Nobody", who="ana")
    (merge,) = [r for r in trail(clean_graph) if r["action"] == "merge"]
    assert (merge["target"], merge["into"], merge["who"], merge["why"]) == ("Acme Inc.", "Acme", "ana", "same company")


def test_a_dismissed_loop_is_quiet_until_it_changes(clean_graph: Driver, tmp_path: Path) -> None:
    load_records(clean_graph, small_graph())
    (two_way,) = [lp for lp in find_loops(clean_graph) if lp.chain == "Acme -> Birch -> Acme"]
    dismiss_loop(clean_graph, two_way.id[:8], who="ana", why="known vendor financing, already reported")
    first = export_alerts(clean_graph, tmp_path / "a.jsonl")
    assert first.dismissed == 1 and first.delivered == 3
    assert two_way.id not in (tmp_path / "a.jsonl").read_text()
    # Nothing new about it: still quiet on a new destination too.
    assert export_alerts(clean_graph, tmp_path / "b.jsonl").dismissed == 1
    # The spend-back grows: the loop changed, so it alerts again.
    bigger = [deal("s7.txt", "purchase", "Birch", "Acme", 8 * B)]
    load_records(clean_graph, bigger)
    again = export_alerts(clean_graph, tmp_path / "a.jsonl")
    assert two_way.id in (tmp_path / "a.jsonl").read_text() and again.dismissed == 0
    with clean_graph.session() as session:
        reviews = run_query(session, "review_trail", limit=10).data()
    assert [r["review"]["action"] for r in reviews] == ["dismiss"]
    assert json.loads(reviews[0]["review"]["state"])["edges"]
