"""Loops in time (issue 11): each leg dated by the documents that state it, --since and --window."""

from __future__ import annotations

import json
from datetime import date

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from extractors.currency import convert_amounts
from graph.loops import find_loops
from graph.writer import load_records
from ouroboros.cli import app
from ouroboros.core.records import DateBasis, DealKind, DealRecord, HardwareMandate, SourceDocument, SpendBack
from tests.queries import run_test_query


def deal(doc: str, investor: str, recipient: str, kind: DealKind = "investment") -> DealRecord:
    return DealRecord(doc=doc, kind=kind, investor=investor, recipient=recipient, amount_usd=1e9,
                      amount_text="$1 billion", evidence=f"{investor} and {recipient} agreed a $1 billion deal.")


def document(doc: str, published: str | None, basis: DateBasis = "stated") -> SourceDocument:
    return SourceDocument(doc=doc, text="t", source=f"https://news.example/{doc}", url=f"https://news.example/{doc}",
                          title=f"Story {doc}", outlet="Example News", published=published,
                          date_basis=basis if published else None)


def load_dated_corpus(driver: Driver) -> None:
    """Three loops with known dates: A<->B closes 2025-03-10 (legs 8 days apart), C->D->E->C closes
    2025-09-01 (legs 200 days apart), F<->G has a leg dated only by a file's modification day
    (not a publication date), and a leg with no date at all would count the same."""
    records = [
        deal("a1", "Acme", "Birch"), deal("a2", "Birch", "Acme", "purchase"),
        deal("a3", "Acme", "Birch"),  # a later article restating the first leg: a source, not a date
        deal("c1", "Cedar", "Dune"), deal("c2", "Dune", "Elm", "purchase"), deal("c3", "Elm", "Cedar", "purchase"),
        deal("f1", "Fir", "Gale"), deal("f2", "Gale", "Fir", "purchase"),
    ]
    documents = [
        document("a1", "2025-03-02"), document("a2", "2025-03-10"), document("a3", "2025-11-30"),
        document("c1", "2025-02-13"), document("c2", "2025-05-01"), document("c3", "2025-09-01"),
        document("f1", "2025-04-01"), document("f2", "2025-04-02", basis="file_modified"),
    ]
    load_records(driver, records, documents)


def test_each_leg_has_its_earliest_publication_date(clean_graph: Driver) -> None:
    load_dated_corpus(clean_graph)
    loops = {loop.orgs: loop for loop in find_loops(clean_graph, today=date(2025, 12, 1))}
    two_way = loops[("Acme", "Birch")]
    assert [e.announced for e in two_way.edges] == ["2025-03-02", "2025-03-10"]
    assert two_way.first_announced == "2025-03-10"
    cited = two_way.edges[0].evidence[0]
    assert cited["url"].startswith("https://news.example/a") and cited["outlet"] == "Example News"
    assert loops[("Cedar", "Dune", "Elm")].first_announced == "2025-09-01"
    undated = loops[("Fir", "Gale")]
    assert undated.first_announced is None and undated.undated_legs == ["Gale -> Fir"]
    # Recency comes from publication dates: the loop that closed in September is the more recent.
    assert loops[("Cedar", "Dune", "Elm")].score_parts["latest"] == "2025-09-01"
    assert two_way.score_parts["latest"] == "2025-03-10"


def test_since_and_window_return_exactly_the_expected_loops(clean_graph: Driver) -> None:
    load_dated_corpus(clean_graph)
    orgs = lambda **kw: {loop.orgs for loop in find_loops(clean_graph, **kw)}  # noqa: E731
    assert orgs() == {("Acme", "Birch"), ("Cedar", "Dune", "Elm"), ("Fir", "Gale")}
    assert orgs(since=date(2025, 6, 1)) == {("Cedar", "Dune", "Elm")}
    assert orgs(since=date(2025, 3, 10)) == {("Acme", "Birch"), ("Cedar", "Dune", "Elm")}
    assert orgs(window_days=30) == {("Acme", "Birch")}
    assert orgs(window_days=200) == {("Acme", "Birch"), ("Cedar", "Dune", "Elm")}
    assert orgs(since=date(2025, 6, 1), window_days=30) == set()

    result = CliRunner().invoke(app, ["loops", "--format", "json", "--since", "2025-06-01", "--window", "250"])
    assert result.exit_code == 0, result.output
    (printed,) = json.loads(result.stdout)
    assert printed["orgs"] == ["Cedar", "Dune", "Elm"] and printed["first_announced"] == "2025-09-01"
    assert [e["announced"] for e in printed["edges"]] == ["2025-02-13", "2025-05-01", "2025-09-01"]


def test_a_euro_leg_is_stored_in_usd_with_its_rate_and_counts_in_the_loop(clean_graph: Driver) -> None:
    euro = DealRecord(doc="e1", kind="investment", investor="Orrin", recipient="Tamsin", amount_text="€5 billion",
                      evidence="Orrin will invest €5 billion in Tamsin.")
    back = deal("e2", "Tamsin", "Orrin", "purchase")
    records = convert_amounts([euro], "2025-10-01") + [back]
    load_records(clean_graph, records, [document("e1", "2025-10-01"), document("e2", "2025-10-02")])
    with clean_graph.session() as session:
        nodes = run_test_query(session, "inspect_nodes").data()
    (node,) = [row["props"] for row in nodes if row["label"] == "Deal" and row["props"]["doc"] == "e1"]
    assert node["amount_text"] == "€5 billion" and node["amount_usd"] == pytest.approx(5e9 * 1.1724)
    assert (node["fx_currency"], node["fx_rate"], node["fx_rate_date"], node["fx_basis"]) == (
        "EUR", pytest.approx(1.1724), "2025-10-01", "document_date")
    (loop,) = find_loops(clean_graph, today=date(2025, 12, 1))
    assert loop.score_parts["money_usd"] == pytest.approx(1e9)  # the weakest leg: both legs have a figure
    assert sorted(e.amount_usd or 0 for e in loop.edges) == [1e9, pytest.approx(5e9 * 1.1724)]
    (cited,) = next(e for e in loop.edges if e.source == "Orrin").evidence
    assert (cited["amount_text"], cited["fx_currency"], cited["fx_rate_date"]) == ("€5 billion", "EUR", "2025-10-01")


def test_each_leg_cites_its_own_sentence_never_the_investments(clean_graph: Driver) -> None:
    invest = "Orrin will invest $2 billion in Tamsin."
    spend = "Tamsin will use the money to rent clusters from Vask."
    mandate = "The deal requires Tamsin to train on Korvel chips from Pell."
    records = [
        DealRecord(doc="l1", kind="investment", investor="Orrin", recipient="Tamsin", amount_usd=2e9,
                   amount_text="$2 billion", evidence=invest,
                   spend_back=SpendBack(payee="Vask", what="clusters", evidence=spend),
                   hardware_mandate=HardwareMandate(product="Korvel", vendor="Pell", evidence=mandate)),
        deal("l2", "Vask", "Orrin", "purchase"), deal("l3", "Pell", "Orrin", "purchase"),
    ]
    load_records(clean_graph, records, [document("l1", "2025-10-01"), document("l2", "2025-10-02"),
                                        document("l3", "2025-10-03")])
    cited = {(e.source, e.target): [item["text"] for item in e.evidence]
             for loop in find_loops(clean_graph, today=date(2025, 12, 1)) for e in loop.edges}
    assert cited[("Orrin", "Tamsin")] == [invest]
    assert cited[("Tamsin", "Vask")] == [spend]
    assert cited[("Tamsin", "Pell")] == [mandate]
    assert cited[("Vask", "Orrin")] == ["Vask and Orrin agreed a $1 billion deal."]
