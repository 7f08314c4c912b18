"""Pure parts of the writer and the loop reader: flow derivation, batching, rotation, scoring."""

from __future__ import annotations

import csv
import io
from datetime import date

import networkx as nx

from graph.loops import Loop, LoopEdge, canonical_rotation, loops_to_csv, score_loop
from graph.writer import aggregate_flow, batches, component_ids, record_pairs
from ouroboros.core.formatting import format_usd
from ouroboros.core.records import DealRecord, HardwareMandate, SourceDocument, SpendBack


def leg(status: str = "announced", amount: float | None = None, doc: str = "d1", deal: str = "x",
        kind: str = "investment") -> dict:
    return {"deal_id": deal, "kind": kind, "amount_usd": amount, "status": status, "doc": doc,
            "first_seen": "2026-01-01T00:00:00+00:00", "confidence": 0.8, "published": None}


def test_denied_legs_make_no_flow_and_in_talks_is_tentative() -> None:
    assert aggregate_flow([leg("denied", 5e9)]) is None
    flow = aggregate_flow([leg("in_talks", 1e9), leg("denied", 9e9, deal="y")])
    assert flow is not None and flow["tentative"] and flow["amount_usd"] == 1e9
    assert flow["deal_ids"] == ["x"]


def test_flow_takes_the_largest_amount_and_counts_documents() -> None:
    flow = aggregate_flow([
        leg(amount=1e11, doc="d1", deal="a"), leg(amount=1e11, doc="d2", deal="b"),
        leg("in_talks", None, doc="d2", deal="c", kind="spend_back"),
    ])
    assert flow is not None
    assert flow["amount_usd"] == 1e11  # the same deal in two documents is not counted twice
    assert flow["sources"] == 2 and flow["docs"] == ["d1", "d2"]
    assert flow["kinds"] == ["investment", "spend_back"] and not flow["tentative"]
    assert flow["label"] == "investment+spend_back $100B"


def test_record_pairs_add_spend_back_and_mandate_legs() -> None:
    record = DealRecord(
        doc="d", kind="investment", investor="Amazon", recipient="OpenAI",
        spend_back=SpendBack(payee="Amazon"), hardware_mandate=HardwareMandate(product="Trainium", vendor="Amazon"),
    )
    assert record_pairs(record) == [("Amazon", "OpenAI"), ("OpenAI", "Amazon"), ("OpenAI", "Amazon")]
    own = DealRecord(doc="d", kind="purchase", investor="A", recipient="B",
                     hardware_mandate=HardwareMandate(product="Chip", vendor="B"))
    assert record_pairs(own) == [("A", "B")]


def test_batches_never_split_a_document() -> None:
    records = [DealRecord(doc=f"d{i // 3}", kind="loan", investor="A", recipient=f"B{i}") for i in range(9)]
    plan = batches(records, [SourceDocument(doc="empty", text="x", source="s")], batch_size=4)
    assert [b.docs for b in plan] == [["empty", "d0"], ["d1"], ["d2"]]
    assert sum(len(b.records) for b in plan) == 9


def test_component_ids_mark_only_cycles() -> None:
    graph = nx.DiGraph([("b", "a"), ("a", "b"), ("b", "c"), ("x", "y"), ("y", "z"), ("z", "x")])
    assert component_ids(graph) == {"a": "a", "b": "a", "x": "x", "y": "x", "z": "x"}


def test_canonical_rotation_starts_at_smallest_name_plain_order() -> None:
    assert canonical_rotation(["OpenAI", "Oracle", "NVIDIA"]) == ("NVIDIA", "OpenAI", "Oracle")
    assert canonical_rotation(["Amazon", "AMD"]) == ("AMD", "Amazon")  # 'M' < 'm'


def edge(a: str, b: str, amount: float | None, docs: int = 1, tentative: bool = False,
         published: str = "2026-01-01") -> LoopEdge:
    # Recency comes from the publication dates of the documents that state the leg.
    evidence = ({"doc": "d0", "text": f"{a} invests in {b}.", "published": published},)
    return LoopEdge(source=a, target=b, kind="investment", amount_usd=amount, deal_ids=("x",), evidence=evidence,
                    docs=tuple(f"d{i}" for i in range(docs)), tentative=tentative)


def test_score_prefers_money_support_recency_and_certainty() -> None:
    today = date(2026, 1, 1)
    base, parts = score_loop([edge("A", "B", 1e9), edge("B", "A", 1e10)], today)
    assert parts["money_usd"] == 1e9 and parts["sources_per_edge"] == [1, 1]
    assert score_loop([edge("A", "B", 1e11), edge("B", "A", 1e10)], today)[0] > base
    assert score_loop([edge("A", "B", 1e9, docs=3), edge("B", "A", 1e10, docs=3)], today)[0] > base
    assert score_loop([edge("A", "B", 1e9, published="2023-01-01"), edge("B", "A", 1e10, published="2023-01-01")],
                      today)[0] < base
    tentative, parts = score_loop([edge("A", "B", 1e9, tentative=True), edge("B", "A", 1e10)], today)
    assert tentative == round(base / 2, 4) and parts["tentative"]
    unknown, parts = score_loop([edge("A", "B", None), edge("B", "A", 1e10)], today)
    assert parts["money_usd"] is None and unknown < base


def test_csv_has_one_row_per_loop() -> None:
    loop = Loop(id="abc", orgs=("A", 'B "quoted"'), edges=(edge("A", 'B "quoted"', 2e9), edge('B "quoted"', "A", None)),
                score=0.5, first_seen=None, tentative=False, score_parts={"money_usd": None})
    (row,) = csv.DictReader(io.StringIO(loops_to_csv([loop])))
    assert row["orgs"] == 'A -> B "quoted" -> A'
    assert row["edges"] == 'A->B "quoted" investment $2B; B "quoted"->A investment ?'


def test_format_usd() -> None:
    assert [format_usd(x) for x in (1e11, 1.3e9, 6e8, 950.0, None)] == ["$100B", "$1.3B", "$600M", "$950", "?"]
