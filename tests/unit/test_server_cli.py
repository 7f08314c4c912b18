"""`ouroboros neo4j status` and `graph reset` answers that need no server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ouroboros.cli import app
from ouroboros.core.errors import ConfigError
from ouroboros.core.settings import get_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OUROBOROS_HOME", str(tmp_path))
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_status_of_a_stopped_server_exits_1_and_says_how_to_start(home: Path) -> None:
    result = CliRunner().invoke(app, ["neo4j", "status"])
    assert result.exit_code == 1
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "not running" in output and "ouroboros neo4j start" in output


def test_stop_of_a_stopped_server_is_harmless(home: Path) -> None:
    result = CliRunner().invoke(app, ["neo4j", "stop"])
    assert result.exit_code == 0
    assert "was not running" in " ".join(result.output.split())


def test_graph_reset_without_yes_refuses_before_connecting(home: Path) -> None:
    result = CliRunner().invoke(app, ["graph", "reset"])
    assert isinstance(result.exception, ConfigError)  # main() turns it into exit code 2
    assert result.exception.exit_code == 2
    assert "--yes" in str(result.exception)
    assert not (home / "neo4j").exists()  # nothing was started
