"""``ouroboros extract`` and ``ouroboros eval`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from ouroboros.cli import app

runner = CliRunner()
DOC = ("Talveron Systems said on Monday it will invest $300 million in Merrow Labs, which will use the "
       "money to buy servers from Brisk Cloud.")


def test_extract_jsonl_and_exit_code_when_some_files_fail(tmp_path: Path) -> None:
    (tmp_path / "deal.txt").write_text(DOC, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(tmp_path), "--format", "jsonl"])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    record = lines[0]
    assert (record["doc"], record["kind"], record["investor"], record["recipient"]) == (
        "deal.txt", "investment", "Talveron Systems", "Merrow Labs")
    assert record["amount_usd"] == 300e6 and record["amount_text"] == "$300 million"
    assert record["spend_back"]["payee"] == "Brisk Cloud"
    assert record["evidence"].startswith("Talveron Systems said")
    assert "extractor" not in record
    assert "empty.txt" in result.stderr


def test_extract_all_good_exits_zero_and_table_format(tmp_path: Path) -> None:
    (tmp_path / "deal.txt").write_text(DOC, encoding="utf-8")
    result = runner.invoke(app, ["extract", str(tmp_path / "deal.txt"), "--format", "table"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Talveron" in result.stdout and "Merrow" in result.stdout and "1 deal(s)" in result.stdout


def test_unknown_extractor_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "deal.txt").write_text(DOC, encoding="utf-8")
    result = runner.invoke(app, ["extract", str(tmp_path), "--extractor", "nope"])
    assert result.exit_code != 0
    assert "spacy" in str(result.exception)


def test_eval_writes_json(tmp_path: Path) -> None:
    gold = tmp_path / "gold"
    (gold / "docs").mkdir(parents=True)
    (gold / "docs" / "deal.txt").write_text(DOC, encoding="utf-8")
    line = {"doc": "deal.txt", "optional": [], "deals": [
        {"kind": "investment", "investor": "Talveron Systems", "recipient": "Merrow Labs", "amount_usd": 300e6,
         "amount_text": "$300 million", "spend_back": {"payee": "Brisk Cloud", "what": "servers", "amount_usd": None},
         "hardware_mandate": None, "status": "announced"}]}
    (gold / "gold.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["eval", str(gold), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())["summary"]
    assert summary["flow_f1"] == 1.0 and summary["tp"] == 2
    assert summary["amount_accuracy"] == 1.0 and summary["spend_back_accuracy"] == 1.0
