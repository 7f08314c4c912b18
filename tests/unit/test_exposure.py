"""Pure parts of the round-trip share: a flow's amounts from its legs, and the maximum flow back."""

from __future__ import annotations

from graph.exposure import FlowAmounts, flow_amounts, format_share, round_trip


def leg(status: str, amount: float | None, kind: str = "purchase") -> dict[str, object]:
    return {"deal_id": f"{status}-{amount}", "kind": kind, "amount_usd": amount, "status": status}


def test_flow_amounts_keep_talks_apart_and_unknown_unknown() -> None:
    flow = flow_amounts("A", "B", [leg("announced", 2.0), leg("in_talks", 9.0), leg("denied", 50.0)])
    assert flow is not None and (flow.committed_usd, flow.with_talks_usd, flow.tentative) == (2.0, 9.0, False)
    talks = flow_amounts("A", "B", [leg("in_talks", 5.0)])
    assert talks is not None and (talks.committed_usd, talks.tentative) == (None, True)
    unknown = flow_amounts("A", "B", [leg("reported", None, "spend_back")])
    assert unknown is not None and unknown.committed_usd is None and not unknown.tentative
    assert flow_amounts("A", "B", [leg("denied", 1.0)]) is None


def f(a: str, b: str, amount: float) -> FlowAmounts:
    return FlowAmounts(a, b, amount, amount, False)


def test_round_trip_counts_a_shared_flow_once() -> None:
    # N -> O (100) is shared by N -> O -> N (30) and N -> O -> R -> N (40): 70 comes back, not more than 100.
    loops = [[f("N", "O", 100), f("O", "N", 30)], [f("N", "O", 100), f("O", "R", 300), f("R", "N", 40)]]
    assert round_trip("N", loops, talks=False) == 70
    # Shrink the shared flow: it caps both loops together.
    small = [[f("N", "O", 50), f("O", "N", 30)], [f("N", "O", 50), f("O", "R", 300), f("R", "N", 40)]]
    assert round_trip("N", small, talks=False) == 50
    assert round_trip("N", [], talks=False) is None
    assert (format_share(0.873), format_share(0.5, lower_bound=True), format_share(None)) == ("87%", "≥50%", "?")
