"""Issue 9's fault suite against the real Neo4j and Prefect: one bad input never blocks the rest.

Each test reproduces one row of the reliability probe (hostile names, concurrent runs, an auth
lockout, a hanging webhook, private files) and asserts the outcome: the other inputs loaded,
alerts delivered exactly once, the process ended within its deadline, a clear message and the
documented exit code. Fetch faults (trickling, huge and redirecting responses) are in
tests/unit/test_fetch_faults.py; the spaCy extractor's large-document and injected-instruction
cases in the extraction tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from prefect.testing.utilities import prefect_test_harness

from extractors.registry import register_extractor
from flows.ingest import run_flow
from graph.alerts import export_alerts
from graph.driver import get_driver
from graph.server import LocalNeo4j
from graph.writer import load_records
from ouroboros.core.errors import ServerError
from ouroboros.core.records import DealRecord
from ouroboros.core.settings import get_settings
from tests.fixtures.ingest.server import FixtureServer

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


@pytest.fixture(scope="module", autouse=True)
def prefect_api() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


@register_extractor("test-lines")
class LineExtractor:
    """Each line ``investor | recipient | amount`` is one investment: hostile names reach the record contract."""

    name = "test-lines"

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        records = []
        for line in text.splitlines():
            investor, recipient, amount = (part.strip() for part in line.split("|"))
            records.append(DealRecord(doc=doc, kind="investment", investor=investor, recipient=recipient,
                                      amount_usd=float(amount), amount_text=f"${amount}", evidence=line))
        return records


def cli_env(server: LocalNeo4j, prefect_home: Path) -> dict[str, str]:
    """The environment of a CLI subprocess: the session's Neo4j, and a Prefect home of its own
    (its ephemeral API's SQLite database must not be shared with other processes of the suite)."""
    return {**os.environ, "OUROBOROS_HOME": str(server.home), "COLUMNS": "200", "PREFECT_HOME": str(prefect_home),
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}


def company_names(driver: neo4j.Driver) -> set[str]:
    return {r["name"] for r in driver.execute_query("MATCH (c:Company) RETURN c.name AS name").records}


def test_hostile_names_cost_one_document_and_never_the_report(clean_graph: neo4j.Driver, tmp_path: Path) -> None:
    """Rows 1 and 2: a NUL in a name is cleaned; a 10,000-character name fails its document only."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "nul.json").write_text(json.dumps({"text": "Acme\u0000 Chips | Birch AI | 1000\nBirch AI | Acme\u0000 Chips | 500"}))
    (docs / "long.txt").write_text("X" * 10_000 + " | Birch AI | 5\n", encoding="utf-8")
    (docs / "fine.txt").write_text("Cedar Cloud | Dune Labs | 7\nDune Labs | Cedar Cloud | 3\n", encoding="utf-8")
    summary = run_flow(folder=str(docs), extractor="test-lines", alerts_to=str(tmp_path / "alerts"))

    assert summary.loaded == 2 and summary.failed == 1 and not summary.ok
    (failure,) = summary.failures
    assert "long.txt" in failure and "not a company name" in failure
    assert company_names(clean_graph) == {"Acme Chips", "Birch AI", "Cedar Cloud", "Dune Labs"}
    assert summary.loops == 2 and summary.alerts == 2  # both loops alerted, pictures drawn
    (report,) = (tmp_path / "alerts").glob("*.md")
    assert report.read_text(encoding="utf-8").count("-pictures/") == 2
    assert "\x00" not in report.read_text(encoding="utf-8")


def test_two_runs_on_one_home_deliver_each_alert_once(neo4j_server: LocalNeo4j, tmp_path: Path) -> None:
    """Row 6: two `run`s at once on one home take turns; a shared .jsonl gets every alert exactly once."""
    from graph.driver import reset_graph

    with get_driver(start_local=False) as driver:
        reset_graph(driver)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "circular_deals_brief.txt", corpus)
    alerts = tmp_path / "alerts.jsonl"
    command = [sys.executable, "-m", "ouroboros.cli", "run", "--corpus", str(corpus), "--alerts-to", str(alerts)]
    runs = [subprocess.Popen(command, env=cli_env(neo4j_server, tmp_path / f"prefect-{i}"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for i in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    lines = [json.loads(line) for line in alerts.read_text(encoding="utf-8").splitlines()]
    loop_ids = [line["loop_id"] for line in lines]
    assert loop_ids and len(loop_ids) == len(set(loop_ids))  # every loop once, none twice
    with get_driver(start_local=False) as driver:
        pending = driver.execute_query("MATCH (a:Alert) WHERE a.pending RETURN count(a) AS n").records
    assert pending[0]["n"] == 0
    # One of the two waited for the other's writer lock, then found nothing new to load or alert.
    assert sum("0 new or changed" in out for out, _ in outputs) == 1, outputs


def test_an_auth_lockout_is_ridden_out_or_named(neo4j_server: LocalNeo4j) -> None:
    """Row 8: three wrong passwords lock Neo4j's logins for seconds; the next command waits it out."""
    for attempt in range(3):
        with (
            neo4j.GraphDatabase.driver(neo4j_server.bolt_uri, auth=("neo4j", f"wrong-{attempt}")) as wrong,
            pytest.raises(neo4j.exceptions.Neo4jError),
        ):
            wrong.verify_connectivity()
    started = time.monotonic()
    try:
        with get_driver(start_local=False) as driver:
            driver.verify_connectivity()
    except ServerError as error:  # still locked after the wait: a clear message, exit code 4
        assert "auth lockout" in str(error) and error.exit_code == 4
    assert time.monotonic() - started < 30


class Hanging:
    """A webhook that accepts connections and never answers (closed when the test ends)."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted.append(connection)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}/services/T000/B000/s3cr3t-token"

    def close(self) -> None:
        self.socket.close()
        for connection in self.accepted:
            connection.close()


def test_a_hanging_webhook_ends_at_the_export_deadline_and_keeps_its_alerts(clean_graph: neo4j.Driver) -> None:
    """Row 10: a hanging webhook costs the deadline, not 33 s an alert; nothing is lost; no token printed."""
    records = []
    for index in range(5):  # five two-company loops, five alerts
        a, b = f"Hang Co {index}", f"Hang Lab {index}"
        records += [
            DealRecord(doc=f"h{index}.txt", kind="investment", investor=a, recipient=b, amount_usd=1e9,
                       amount_text="$1 billion", evidence=f"{a} invests $1 billion in {b}."),
            DealRecord(doc=f"h{index}.txt", kind="purchase", investor=b, recipient=a, amount_usd=5e8,
                       amount_text="$500 million", evidence=f"{b} buys $500 million of {a} chips."),
        ]
    load_records(clean_graph, records)
    hook = Hanging()
    try:
        started = time.monotonic()
        summary = export_alerts(clean_graph, hook.url, timeout_s=0.5, deadline_s=2.0, backoff_s=0.1)
        elapsed = time.monotonic() - started
    finally:
        hook.close()
    assert summary.due == 5 and summary.delivered == 0 and summary.failed == 5
    assert elapsed < 6
    assert "s3cr3t" not in summary.destination and all("s3cr3t" not in e for e in summary.errors)
    pending = clean_graph.execute_query("MATCH (a:Alert) WHERE a.pending RETURN count(a) AS n").records[0]["n"]
    assert pending == 5  # kept for the next export


def test_the_local_server_files_are_private(neo4j_server: LocalNeo4j) -> None:
    """Row 11: the Neo4j home, its data and its logs belong to the user alone."""
    for folder in (neo4j_server.neo4j_home, neo4j_server.neo4j_home / "data", neo4j_server.neo4j_home / "logs"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    logs = [p for p in (neo4j_server.neo4j_home / "logs").iterdir() if p.is_file()]
    assert logs and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in logs)
    settings = get_settings()
    assert settings.home_dir == neo4j_server.home


def test_sigterm_stops_an_ingest_stuck_on_a_trickling_feed_within_seconds(
    neo4j_server: LocalNeo4j, site_server: FixtureServer, tmp_path: Path
) -> None:
    """Row 5: a feed that sends one byte every 2 s; SIGTERM ends `ingest` in seconds with exit 130."""
    import signal

    import yaml

    site_server.trickle_interval = 2.0
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"feeds": [{"url": site_server.url("trickle/feeds/news.rss")}], "timeout": 5}),
                       encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "ouroboros.cli", "ingest", "--sources", str(sources)],
                               env=cli_env(neo4j_server, tmp_path / "prefect"), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not any(p.startswith("/trickle/") for p in site_server.paths()):  # the fetch is under way
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - stopped < 10, err
    assert process.returncode == 130 and "stopped" in err
