"""Pure parts of alerts: what counts as news, formats, the Slack payload and the picture."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace

import pytest

from graph.alerts import (
    Alert,
    alert_state,
    change_reason,
    channel_of,
    draw_loop_svg,
    due_alerts,
    render_csv,
    render_jsonl,
    render_markdown,
    resolve_format,
    slack_payload,
)
from graph.loops import Loop, LoopEdge
from ouroboros.core.errors import ConfigError
from ouroboros.core.ids import stable_hash


def make_loop(amount: float | None = 1e11, statuses: tuple[str, ...] = ("announced",), kind: str = "investment",
              names: tuple[str, str] = ("NVIDIA", "OpenAI")) -> Loop:
    a, b = names
    edges = (
        LoopEdge(source=a, target=b, kind=kind, amount_usd=amount, deal_ids=("d1",),
                 evidence=({"doc": "d01.txt", "text": f"{a} will invest in {b}."},), statuses=statuses, docs=("d01.txt",)),
        LoopEdge(source=b, target=a, kind="spend_back", amount_usd=None, deal_ids=("d1",),
                 evidence=({"doc": "d01.txt", "text": f"{a} will invest in {b}."},), statuses=statuses, docs=("d01.txt",)),
    )
    return Loop(id="L1", orgs=(a, b), edges=edges, score=0.5, first_seen="2026-01-01T00:00:00+00:00",
                tentative=False, score_parts={"money_usd": None})


def test_news_is_new_loop_new_edge_larger_amount_or_status_change() -> None:
    sent = alert_state(make_loop())
    assert change_reason(None, sent) == "new loop"
    assert change_reason(sent, alert_state(make_loop())) is None
    assert change_reason(sent, alert_state(make_loop(amount=5e10))) is None  # smaller is not news
    assert change_reason(sent, alert_state(make_loop(amount=2e11))) == "larger amount"
    assert change_reason(sent, alert_state(make_loop(statuses=("completed",)))) == "status change"
    assert change_reason(sent, alert_state(make_loop(kind="investment+purchase"))) == "new edge"


def test_due_alerts_skip_sent_and_retry_pending() -> None:
    loop = make_loop()
    alert_id = stable_hash("alert", "jsonl:/x", loop.id)
    sent = {alert_id: {"sent_state": json.dumps(alert_state(loop)), "pending": False}}
    assert due_alerts([loop], "jsonl:/x", sent) == []
    pending = {alert_id: {"sent_state": json.dumps(alert_state(loop)), "pending": True}}
    assert [a.reason for a in due_alerts([loop], "jsonl:/x", pending)] == ["retry"]
    assert [a.reason for a in due_alerts([loop], "jsonl:/x", {})] == ["new loop"]


def test_formats_and_channels() -> None:
    assert resolve_format("/tmp/a.csv", None) == "csv"
    assert resolve_format("/tmp/folder", None) == "md"
    assert resolve_format("https://hooks.example/x", "md") == "md"
    with pytest.raises(ConfigError):
        resolve_format("/tmp/a.csv", "md")
    with pytest.raises(ConfigError):
        resolve_format("/tmp/a", "xml")
    secret = "https://hooks.example/services/T000/B000/secret"
    assert "secret" not in channel_of(secret)


def alert(loop: Loop | None = None) -> Alert:
    loop = loop or make_loop()
    return Alert(id="A1", loop=loop, reason="new loop", state=alert_state(loop))


def test_jsonl_and_csv_carry_the_loop() -> None:
    (line,) = render_jsonl([alert()], "2026-01-01T00:00:00+00:00").splitlines()
    record = json.loads(line)
    assert record["loop"]["orgs"] == ["NVIDIA", "OpenAI"] and record["reason"] == "new loop"
    assert record["loop"]["edges"][0]["evidence"] == [{"doc": "d01.txt", "text": "NVIDIA will invest in OpenAI."}]
    rows = list(csv.DictReader(io.StringIO(render_csv([alert()], "now"))))
    assert [(r["leg"], r["from"], r["to"]) for r in rows] == [("1", "NVIDIA", "OpenAI"), ("2", "OpenAI", "NVIDIA")]
    assert {r["loop"] for r in rows} == {"NVIDIA -> OpenAI -> NVIDIA"} and rows[0]["delivery_id"] == alert().delivery_id
    assert rows[0]["sentence"] == "NVIDIA will invest in OpenAI."


def test_slack_payload_escapes_and_keeps_the_alert() -> None:
    payload = slack_payload(alert(make_loop(names=("A <b> & Co", "Z|x"))), "now")
    assert payload["text"].startswith("Loop (new loop): A <b> & Co -> Z|x")
    assert "A &lt;b&gt; &amp; Co" in payload["blocks"][1]["text"]["text"]
    assert payload["metadata"]["event_payload"]["loop"]["orgs"] == ["A <b> & Co", "Z|x"]


def test_markdown_report_escapes_table_cells() -> None:
    report = render_markdown([alert(make_loop(names=("A|B", "C")))], "now", {"L1": "p/L1.svg"})
    assert "## 1. A\\|B -> C -> A\\|B" in report
    assert "![A\\|B -> C -> A\\|B](p/L1.svg)" in report
    assert "| A\\|B | C | investment | $100B | announced | ? | “A\\|B will invest in C.” (d01.txt) |" in report


def test_markdown_cites_each_leg_with_a_title_link_outlet_date_and_rate() -> None:
    cited = {"doc": "d07.txt", "text": "Orrin will invest €5 billion in Tamsin.", "title": "Orrin [bets] big",
             "url": "https://news.example/orrin (1)", "outlet": "Example News", "published": "2025-10-01",
             "amount_text": "€5 billion", "fx_currency": "EUR", "fx_rate": 1.1724, "fx_rate_date": "2025-10-01"}
    loop = make_loop()
    edges = [replace(loop.edges[0], evidence=(cited,)), *loop.edges[1:]]
    report = render_markdown([alert(replace(loop, edges=tuple(edges)))], "now", {})
    assert ("| $100B (€5 billion at 1.1724 USD/EUR, ECB 2025-10-01) | announced | 2025-10-01 | "
            "“Orrin will invest €5 billion in Tamsin.” ([Orrin \\[bets\\] big](https://news.example/orrin%20(1%29), "
            "Example News, 2025-10-01) |") in report


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot is not installed")
def test_picture_labels_edges_with_kind_and_amount() -> None:
    svg = draw_loop_svg(make_loop(names=('Q "quoted" \\ co', "OpenAI")))
    assert svg is not None and svg.lstrip().startswith("<?xml")
    assert "investment" in svg and "$100B" in svg and "Q &quot;quoted&quot; \\ co" in svg



def test_message_destinations_and_masks() -> None:
    from graph.alerts import is_apprise, is_channel, mask_url

    assert is_apprise("json://127.0.0.1:9/hook") and is_apprise("tgram://123:abc/456") and is_apprise("mailto://u:p@x.org")
    assert not is_apprise("https://hooks.example/x") and not is_apprise("/tmp/alerts") and not is_apprise("file:///x")
    assert is_channel("https://hooks.example/x") and not is_channel("alerts.md")
    assert channel_of("json://h/x").startswith("apprise:") and channel_of("https://h/x").startswith("webhook:")
    # A Telegram or Discord URL keeps its token in the host part: nothing of it is printed.
    assert mask_url("tgram://123456:SECRET/chat") == "tgram://***"
    assert mask_url("discord://webhook_id/webhook_token") == "discord://***"
    assert mask_url("mailto://user:pass@mail.example.org") == "mailto://mail.example.org"
    assert mask_url("json://127.0.0.1:8080/hook?token=x") == "json://127.0.0.1:8080/***"
    assert resolve_format("json://h/alerts.csv", None) == "csv"  # a message URL: the suffix is not a contradiction


def test_dismissed_loop_is_quiet_until_it_changes() -> None:
    loop = make_loop()
    dismissed = {"L1": alert_state(loop)}
    assert due_alerts([loop], "c", {}, dismissed) == []
    grown = make_loop(amount=2e11)
    assert [a.reason for a in due_alerts([grown], "c", {}, dismissed)] == ["new loop"]


def test_digest_lists_every_loop_with_shares_and_links() -> None:
    from graph.alerts import ReportContext, apprise_message, digest_payload
    from graph.exposure import Exposure

    loops = [make_loop(), make_loop(names=("AMD", "OpenAI"))]
    alerts = [Alert(id=f"a{i}", loop=lp, reason="new loop", state=alert_state(lp)) for i, lp in enumerate(loops)]
    share = Exposure("NVIDIA", 4e10, 0, 4e10 * 0.25, 0.25, False, 1, 0, None, None, 0)
    context = ReportContext({"NVIDIA": share}, {"d01.txt": {"published": "2025-09-22", "title": "Deal & <more>",
                                                            "source": "https://news.example/d01"}})
    payload = digest_payload(alerts, "2026-12-01T00:00:00+00:00", context)
    text = json.dumps(payload)
    assert payload["text"].startswith("Ouroboros: 2 new or changed loop(s)")
    assert len([b for b in payload["blocks"] if b["type"] == "section"]) == 2
    assert "NVIDIA 25% \\u00b7 OpenAI ?" in text and "first announced 2025-09-22" in text
    assert "<https://news.example/d01|Deal &amp; &lt;more&gt;>" in text
    title, body = apprise_message(alerts, "now", context)
    assert title == "Ouroboros: 2 new or changed loop(s)" and "[Deal & <more>](https://news.example/d01)" in body


def test_a_loop_names_the_leg_without_a_figure_instead_of_a_bare_question_mark() -> None:
    loop = make_loop()  # its spend-back leg has no amount
    (unpriced,) = [e for e in loop.edges if e.amount_usd is None]
    assert loop.unpriced_legs == [f"{unpriced.source} -> {unpriced.target}"]
    assert loop.to_dict()["unpriced_legs"] == loop.unpriced_legs
    report = render_markdown([alert(loop)], "now", {})
    assert f"- money around the loop: ? (no figure for {unpriced.source} -> {unpriced.target})" in report
