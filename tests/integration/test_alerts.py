"""Alerts against the real Neo4j: once per loop, again on change, files and a flaky webhook."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from graph.alerts import export_alerts
from graph.writer import load_records
from ouroboros.core.errors import DeliveryError
from ouroboros.core.records import DealRecord, SpendBack
from tests.queries import run_test_query

pytestmark = pytest.mark.integration


def two_way(amount: float = 1e9, status: str = "announced") -> list[DealRecord]:
    return [
        DealRecord(doc="a1.txt", kind="investment", investor="Acme Chips", recipient="Birch AI", amount_usd=amount,
                   amount_text=f"${amount / 1e9:g} billion", status=status,
                   evidence=f"Acme Chips invests ${amount / 1e9:g} billion in Birch AI.",
                   spend_back=SpendBack(payee="Acme Chips", what="GPUs")),
        DealRecord(doc="a2.txt", kind="purchase", investor="Cedar Cloud", recipient="Acme Chips", amount_usd=2e9,
                   amount_text="$2 billion", evidence="Cedar Cloud buys $2 billion of Acme Chips GPUs."),
        DealRecord(doc="a2.txt", kind="purchase", investor="Birch AI", recipient="Cedar Cloud", amount_usd=3e9,
                   amount_text="$3 billion", evidence="Birch AI rents $3 billion of Cedar Cloud capacity."),
    ]


def read_jsonl(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def test_each_loop_alerts_once_and_again_when_it_grows(clean_graph: Driver, tmp_path: Path) -> None:
    load_records(clean_graph, two_way(1e9))
    first = export_alerts(clean_graph, tmp_path, "jsonl")
    assert (first.loops, first.due, first.delivered) == (2, 2, 2)
    alerts = read_jsonl(tmp_path)
    assert {tuple(a["loop"]["orgs"]) for a in alerts} == {("Acme Chips", "Birch AI"),
                                                           ("Acme Chips", "Birch AI", "Cedar Cloud")}
    assert {a["reason"] for a in alerts} == {"new loop"}

    again = export_alerts(clean_graph, tmp_path, "jsonl")
    assert (again.due, again.delivered, again.files) == (0, 0, ())
    assert len(read_jsonl(tmp_path)) == 2

    load_records(clean_graph, two_way(5e9))  # the investment grows: both loops change
    grown = export_alerts(clean_graph, tmp_path, "jsonl")
    assert grown.delivered == 2
    latest = read_jsonl(tmp_path)[2:]
    assert {a["reason"] for a in latest} == {"larger amount"}
    assert {e["amount_usd"] for a in latest for e in a["loop"]["edges"] if e["from"] == "Acme Chips"} == {5e9}

    load_records(clean_graph, two_way(2e9))  # smaller again: not news
    assert export_alerts(clean_graph, tmp_path, "jsonl").due == 0
    load_records(clean_graph, two_way(2e9, status="completed"))
    assert {a["reason"] for a in read_jsonl(tmp_path)[4:]} == set()  # not exported yet
    status = export_alerts(clean_graph, tmp_path / "alerts.csv")
    assert status.format == "csv" and status.delivered == 2
    with (tmp_path / "alerts.csv").open() as handle:
        assert {row["reason"] for row in csv.DictReader(handle)} == {"new loop"}  # a new destination


def test_markdown_report_draws_each_loop(clean_graph: Driver, tmp_path: Path) -> None:
    load_records(clean_graph, two_way())
    summary = export_alerts(clean_graph, tmp_path / "report.md")
    report = (tmp_path / "report.md").read_text()
    pictures = sorted((tmp_path / "report-pictures").glob("*.svg"))
    assert summary.pictures and len(pictures) == 2
    assert "## 1. " in report and "![Acme Chips -> Birch AI" in report
    assert "Acme Chips invests $1 billion in Birch AI." in report
    svg = pictures[0].read_text()
    assert "Acme Chips" in svg and "Birch AI" in svg and ("spend_back" in svg or "purchase" in svg)
    # The summary table comes first: loop, money around, round-trip shares, dates, sources.
    head = report.split("## 1. ")[0]
    assert "| # | loop | money around | round-trip share | first announced | first seen | sources | why |" in head
    # Acme: $2B known in (Cedar; Birch's spend-back has no amount), $1B comes back (weakest link of the
    # three-way loop), and the two-way loop's amount is unknown: at least 50%.
    assert ("| Acme Chips ≥50% · Birch AI 100% · Cedar Cloud 33% | ? | " in head), head
    assert "| $1B | " in head and "| 2 | new loop |" in head


class Hook:
    """A local webhook receiver whose answers are scripted: one status code per request."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[int, dict[str, Any], str]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = json.loads(raw) if raw.startswith(b"{") else {"raw": raw.decode()}
                status = hook.statuses.pop(0) if hook.statuses else 200
                hook.received.append((status, body, self.headers["Idempotency-Key"]))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[dict[str, Any]]:
        return [body for status, body, _ in self.received if status == 200]


@pytest.fixture
def hook() -> Iterator[Hook]:
    receiver = Hook([])
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def one_loop() -> list[DealRecord]:
    return two_way()[:1]  # Acme Chips <-> Birch AI through the spend-back


def test_webhook_retries_a_failure_and_delivers_once(clean_graph: Driver, hook: Hook) -> None:
    load_records(clean_graph, one_loop())
    hook.statuses[:] = [500]
    summary = export_alerts(clean_graph, hook.url, backoff_s=0.01)
    assert (summary.delivered, summary.failed) == (1, 0)
    assert [status for status, _, _ in hook.received] == [500, 200]
    assert hook.received[0][2] == hook.received[1][2]  # the same delivery id on the retry
    (body,) = hook.delivered()
    assert body["text"].startswith("Loop (new loop): Acme Chips -> Birch AI -> Acme Chips")
    assert body["blocks"][0]["type"] == "header"
    assert body["metadata"]["event_payload"]["loop"]["orgs"] == ["Acme Chips", "Birch AI"]
    assert export_alerts(clean_graph, hook.url, backoff_s=0.01).due == 0
    assert len(hook.received) == 2


def test_failed_webhook_delivery_is_kept_and_sent_next_time(clean_graph: Driver, hook: Hook) -> None:
    load_records(clean_graph, one_loop())
    hook.statuses[:] = [503, 503]
    failed = export_alerts(clean_graph, hook.url, retries=2, backoff_s=0.01)
    assert (failed.delivered, failed.failed) == (0, 1) and "HTTP 503" in failed.errors[0]
    assert hook.delivered() == []
    with clean_graph.session() as session:
        (kept,) = run_test_query(session, "inspect_alerts").data()
    assert kept["pending"] and not kept["sent"] and kept["last_error"] == "HTTP 503"
    retried = export_alerts(clean_graph, hook.url, retries=2, backoff_s=0.01)
    assert (retried.due, retried.delivered, retried.failed) == (1, 1, 0)
    (body,) = hook.delivered()
    assert body["metadata"]["event_payload"]["reason"] == "new loop"  # still news: it was never delivered
    assert export_alerts(clean_graph, hook.url, backoff_s=0.01).due == 0
    assert len(hook.delivered()) == 1


def test_unwritable_destination_keeps_the_alerts(clean_graph: Driver, tmp_path: Path) -> None:
    load_records(clean_graph, one_loop())
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the alerts folder should be")
    with pytest.raises(DeliveryError, match="kept and written by the next export"):
        export_alerts(clean_graph, blocker / "alerts")
    with clean_graph.session() as session:
        (kept,) = run_test_query(session, "inspect_alerts").data()
    assert kept["pending"] and not kept["sent"]
    blocker.unlink()
    blocker.mkdir()
    assert export_alerts(clean_graph, blocker / "alerts").delivered == 1


def test_digest_sends_one_message_per_export(clean_graph: Driver, hook: Hook) -> None:
    load_records(clean_graph, two_way())
    hook.statuses[:] = [503]
    summary = export_alerts(clean_graph, hook.url, digest=True, backoff_s=0.01)
    assert (summary.delivered, summary.failed, summary.messages) == (2, 0, 1)
    assert summary.format == "webhook digest" and summary.destination == f"{hook.url.rsplit('/', 1)[0]}/***"
    (body,) = hook.delivered()
    assert [status for status, _, _ in hook.received] == [503, 200]
    assert hook.received[0][2] == hook.received[1][2]  # one idempotency key for the digest, also on the retry
    assert body["text"].startswith("Ouroboros: 2 new or changed loop(s)")
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert len(sections) == 2 and any("*Acme Chips -&gt; Birch AI -&gt; Cedar Cloud -&gt; Acme Chips* (new loop)" in t
                                      for t in sections)
    assert any("round-trip share Acme Chips ≥50%" in t for t in sections)
    assert len(body["metadata"]["event_payload"]["alerts"]) == 2
    assert export_alerts(clean_graph, hook.url, digest=True).due == 0  # nothing new: no message
    load_records(clean_graph, two_way(5e9))
    export_alerts(clean_graph, hook.url, digest=True)
    assert len(hook.delivered()) == 2 and "larger amount" in json.dumps(hook.delivered()[1])


def test_apprise_channel_delivers_once_and_keeps_failures(clean_graph: Driver, hook: Hook) -> None:
    load_records(clean_graph, two_way())
    apprise_url = hook.url.replace("http://", "json://")  # Apprise's JSON service posts to http://...
    hook.statuses[:] = [500, 500]
    failed = export_alerts(clean_graph, apprise_url, digest=True, retries=2, backoff_s=0.01)
    assert (failed.delivered, failed.failed) == (0, 2) and failed.format == "apprise digest"
    assert "apprise:" in failed.errors[0] and "/hook" not in " ".join(failed.errors)
    assert failed.destination == apprise_url.rsplit("/", 1)[0] + "/***"
    with clean_graph.session() as session:
        kept = run_test_query(session, "inspect_alerts").data()
    assert len(kept) == 2 and all(a["pending"] and not a["sent"] for a in kept)

    retried = export_alerts(clean_graph, apprise_url, digest=True, backoff_s=0.01)
    assert (retried.delivered, retried.failed, retried.messages) == (2, 0, 1)
    (body,) = hook.delivered()
    assert body["title"] == "Ouroboros: 2 new or changed loop(s)"
    assert "Acme Chips -> Birch AI -> Cedar Cloud -> Acme Chips" in body["message"]
    assert export_alerts(clean_graph, apprise_url, backoff_s=0.01).due == 0

    load_records(clean_graph, two_way(5e9))  # per-loop mode: one message per changed loop
    per_loop = export_alerts(clean_graph, apprise_url, backoff_s=0.01)
    assert (per_loop.delivered, per_loop.messages) == (2, 2)
    titles = sorted(body["title"] for body in hook.delivered()[1:])
    assert titles[0].startswith("Ouroboros: larger amount: Acme Chips -> Birch AI")
