"""Round-trip share against the real Neo4j: hand-computed figures on a small graph and on the corpus gold."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from extractors.evaluate import load_gold
from graph.exposure import company_shares, exposure, exposure_to_csv, exposure_to_json
from graph.writer import load_records
from ouroboros.core.records import DealRecord, SpendBack

pytestmark = pytest.mark.integration

B = 1e9
CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def deal(doc: str, kind: str, investor: str, recipient: str, amount: float | None, status: str = "announced",
         spend_back: SpendBack | None = None) -> DealRecord:
    text = f"{investor} {kind} {recipient} {amount}"
    return DealRecord(doc=doc, kind=kind, investor=investor, recipient=recipient, amount_usd=amount,  # type: ignore[arg-type]
                      amount_text=f"${amount / B:g} billion" if amount else None, status=status,  # type: ignore[arg-type]
                      evidence=text, spend_back=spend_back)


def small_graph() -> list[DealRecord]:
    """The graph of docs/graph.md's second example (figures computed by hand there)."""
    return [
        # Acme invests $10B in Birch, which must spend $4B of it on Acme GPUs.
        deal("s1.txt", "investment", "Acme", "Birch", 10 * B, spend_back=SpendBack(payee="Acme", what="GPUs",
                                                                                    amount_usd=4 * B)),
        deal("s1.txt", "purchase", "Birch", "Cedar", 6 * B),
        deal("s2.txt", "purchase", "Cedar", "Acme", 3 * B, status="reported"),
        deal("s3.txt", "investment", "Dune", "Birch", 5 * B, status="in_talks"),
        deal("s3.txt", "purchase", "Birch", "Dune", 1 * B),
        deal("s4.txt", "purchase", "Acme", "Elm", None, status="completed"),  # amount not stated
        deal("s4.txt", "purchase", "Elm", "Acme", 2 * B),
        deal("s5.txt", "purchase", "Cedar", "Birch", 7 * B, status="denied"),
        deal("s5.txt", "investment", "Fir", "Acme", 1 * B),
    ]


def test_round_trip_share_matches_the_hand_computed_figures(clean_graph: Driver) -> None:
    load_records(clean_graph, small_graph())
    items = exposure(clean_graph)
    assert [i.company for i in items] == ["Acme", "Birch", "Cedar", "Dune", "Elm"]  # best share first
    shares = company_shares(items)

    acme = shares["Acme"]
    # In: Birch's spend-back 4 + Cedar 3 + Elm 2 + Fir 1. Around: Acme->Birch->Acme (4) and
    # Acme->Birch->Cedar->Acme (3) share Acme->Birch (10), which carries both: 7 of 10.
    assert (acme.inbound_usd, acme.inbound_unknown, acme.round_trip_usd) == (10 * B, 0, 7 * B)
    assert acme.share == pytest.approx(0.7) and acme.lower_bound  # Acme->Elm->Acme: amount unknown
    assert (acme.loops, acme.unknown_loops, acme.tentative_loops) == (3, 1, 0)
    assert {s.chain: s.amount_usd for s in acme.loop_list} == {
        "Acme -> Birch -> Acme": 4 * B, "Acme -> Birch -> Cedar -> Acme": 3 * B, "Acme -> Elm -> Acme": None}

    birch = shares["Birch"]
    # The denied $7B and Dune's $5B in talks are not inbound; 4 + 3 comes back of Acme's 10.
    assert (birch.inbound_usd, birch.round_trip_usd, birch.loops, birch.lower_bound) == (10 * B, 7 * B, 2, False)
    assert birch.share == pytest.approx(0.7)
    # With talks: in 10 + 5; Birch->Dune->Birch adds its weakest link, 1.
    assert birch.with_talks_round_trip_usd == 8 * B and birch.with_talks_share == pytest.approx(8 / 15)
    assert birch.tentative_loops == 1

    assert (shares["Cedar"].round_trip_usd, shares["Cedar"].share) == (3 * B, 0.5)
    dune = shares["Dune"]  # only on a loop in talks: nothing committed comes back, 100% with talks
    assert (dune.round_trip_usd, dune.share, dune.loops, dune.with_talks_share) == (0.0, 0.0, 0, 1.0)
    elm = shares["Elm"]  # its only inflow and its only loop have unknown amounts: unknown, never zero
    assert (elm.inbound_usd, elm.inbound_unknown, elm.round_trip_usd, elm.share) == (0.0, 1, None, None)

    (only,) = exposure(clean_graph, "Cedar")
    assert only.company == "Cedar" and only.round_trip_usd == 3 * B
    assert '"round_trip_usd": 7000000000.0' in exposure_to_json(items)
    assert exposure_to_csv(items).splitlines()[1].startswith("Acme,10000000000.0,0,7000000000.0,0.7,True,3,1,")


def test_round_trip_share_on_the_corpus_gold(clean_graph: Driver) -> None:
    load_records(clean_graph, [record for line in load_gold(CORPUS) for record in line.deals])
    shares = company_shares(exposure(clean_graph))
    nvidia = shares["NVIDIA"]
    # By hand from corpus/gold.jsonl: into NVIDIA flow Oracle's GPU purchases ($40B, d01; the brief's
    # restatement has no amount), SoftBank's stake sale ($5.83B, d13), and OpenAI's spend-back and
    # purchases and CoreWeave's purchases, none with an amount: $45.83B known, 2 flows unknown.
    assert (nvidia.inbound_usd, nvidia.inbound_unknown) == (pytest.approx(45.83 * B), 2)
    # NVIDIA -> OpenAI ($100B) -> Oracle ($300B) -> NVIDIA ($40B): the weakest link, $40B, comes back.
    # The other three loops through NVIDIA each have a link of unknown amount.
    assert nvidia.round_trip_usd == 40 * B and nvidia.lower_bound
    assert nvidia.share == pytest.approx(40 / 45.83)
    assert (nvidia.loops, nvidia.unknown_loops, nvidia.tentative_loops) == (4, 3, 0)
    assert [(s.chain, s.amount_usd) for s in nvidia.loop_list] == [
        ("NVIDIA -> OpenAI -> Oracle -> NVIDIA", 40 * B), ("CoreWeave -> NVIDIA -> CoreWeave", None),
        ("CoreWeave -> NVIDIA -> OpenAI -> CoreWeave", None), ("NVIDIA -> OpenAI -> NVIDIA", None)]
    assert "SoftBank" not in shares  # on no loop
