"""`ouroboros loops` and `ouroboros alerts export` from the command line, on the real Neo4j."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from neo4j import Driver
from typer.testing import CliRunner

from graph.writer import load_records
from ouroboros.cli import app
from ouroboros.core.records import DealRecord, SpendBack

pytestmark = pytest.mark.integration


def loaded(driver: Driver) -> None:
    load_records(driver, [
        DealRecord(doc="c1.txt", kind="investment", investor="NVIDIA", recipient="OpenAI", amount_usd=1e11,
                   amount_text="$100 billion", evidence="NVIDIA will invest $100 billion in OpenAI.",
                   spend_back=SpendBack(payee="Oracle", what="compute")),
        DealRecord(doc="c2.txt", kind="purchase", investor="Oracle", recipient="NVIDIA", amount_usd=4e10,
                   amount_text="$40 billion", status="in_talks", evidence="Oracle is in talks to buy $40 billion of chips."),
    ])


def test_loops_command_prints_json_csv_and_table(clean_graph: Driver) -> None:
    loaded(clean_graph)
    runner = CliRunner()
    result = runner.invoke(app, ["loops", "--format", "json"])
    assert result.exit_code == 0, result.output
    (loop,) = json.loads(result.stdout)
    assert loop["orgs"] == ["NVIDIA", "OpenAI", "Oracle"] and loop["tentative"] is True
    assert [(e["from"], e["to"], e["kind"]) for e in loop["edges"]] == [
        ("NVIDIA", "OpenAI", "investment"), ("OpenAI", "Oracle", "spend_back"), ("Oracle", "NVIDIA", "purchase")]
    assert loop["edges"][0]["evidence"] == [{"doc": "c1.txt", "text": "NVIDIA will invest $100 billion in OpenAI."}]
    assert set(loop) >= {"id", "orgs", "edges", "score", "first_seen"}

    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["loops", "--format", "csv"]).stdout)))
    assert [r["orgs"] for r in rows] == ["NVIDIA -> OpenAI -> Oracle -> NVIDIA"]
    table = runner.invoke(app, ["loops", "--company", "Oracle"])
    assert table.exit_code == 0 and "1 loop(s)" in table.stdout and loop["id"][:8] in table.stdout
    assert runner.invoke(app, ["loops", "--max-length", "2"]).stdout.count("NVIDIA") == 0


def test_alerts_export_command_writes_once(clean_graph: Driver, tmp_path: Path) -> None:
    loaded(clean_graph)
    runner = CliRunner()
    first = runner.invoke(app, ["alerts", "export", "--to", str(tmp_path), "--format", "md"])
    assert first.exit_code == 0, first.output
    (report,) = tmp_path.glob("alerts-*.md")
    assert "NVIDIA -> OpenAI -> Oracle -> NVIDIA" in report.read_text()
    assert len(list(tmp_path.glob("alerts-*-pictures/*.svg"))) == 1
    second = runner.invoke(app, ["alerts", "export", "--to", str(tmp_path), "--format", "md"])
    assert "0 new or changed" in second.stdout and len(list(tmp_path.glob("alerts-*.md"))) == 1
