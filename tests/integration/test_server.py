"""The local Neo4j the project starts: credentials, Browser, side-by-side homes, clean stop, graph reset."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import neo4j
import psutil
import pytest
from neo4j.exceptions import AuthError

from graph.driver import get_driver
from graph.server import LocalNeo4j, free_ports, port_in_use
from ouroboros.core.errors import ConfigError, ServerError
from ouroboros.core.settings import Settings, get_settings


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real ``ouroboros`` entry point (exit codes included) in the session's environment."""
    env = {**os.environ, "COLUMNS": "200"}  # no rich line wrapping inside what we assert on
    return subprocess.run(
        [sys.executable, "-m", "ouroboros.cli", *args], capture_output=True, text=True, check=False, timeout=180, env=env
    )


def test_connects_with_the_recorded_password(neo4j_server: LocalNeo4j) -> None:
    connection = neo4j_server.home / "connection.json"
    assert stat.S_IMODE(connection.stat().st_mode) == 0o600
    assert stat.S_IMODE(neo4j_server.password_file.stat().st_mode) == 0o600
    recorded = json.loads(connection.read_text())
    assert recorded["uri"] == neo4j_server.bolt_uri
    assert recorded["browser_url"] == f"http://127.0.0.1:{neo4j_server.http_port}/browser/"
    with neo4j.GraphDatabase.driver(recorded["uri"], auth=(recorded["user"], recorded["password"])) as driver:
        records, _, _ = driver.execute_query("RETURN 40 + 2 AS answer")
    assert records[0]["answer"] == 42
    # The password never reaches the server's logs.
    logs = "".join(path.read_text(errors="replace") for path in neo4j_server.logs_dir.glob("*.log"))
    assert recorded["password"] not in logs


def test_a_wrong_password_is_refused(neo4j_server: LocalNeo4j) -> None:
    # Two failed logins at most: a third in a row would lock the user for the rest of the session.
    with (
        neo4j.GraphDatabase.driver(neo4j_server.bolt_uri, auth=("neo4j", "not-the-password")) as driver,
        pytest.raises(AuthError),
    ):
        driver.verify_connectivity()
    remote = Settings(NEO4J_URI=neo4j_server.bolt_uri, NEO4J_PASSWORD="still-not-it", OUROBOROS_HOME=neo4j_server.home)
    with pytest.raises(ConfigError, match="NEO4J_USER / NEO4J_PASSWORD"):
        get_driver(remote)
    # The right password still works afterwards, through NEO4J_URI too.
    right = Settings(
        NEO4J_URI=neo4j_server.bolt_uri, NEO4J_PASSWORD=neo4j_server.password(), OUROBOROS_HOME=neo4j_server.home
    )
    with get_driver(right) as driver:
        driver.verify_connectivity()


def test_browser_is_served_and_points_at_our_bolt_port(neo4j_server: LocalNeo4j) -> None:
    page = httpx.get(neo4j_server.browser_url, timeout=10)
    assert page.status_code == 200
    assert "<title>Neo4j Browser</title>" in page.text
    # Browser asks the HTTP root where Bolt is; it must be our port, not the default 7687.
    discovery = httpx.get(f"http://127.0.0.1:{neo4j_server.http_port}/", timeout=10).json()
    assert discovery["bolt_direct"] == neo4j_server.bolt_uri
    assert discovery["neo4j_version"].startswith("5.26.")


def test_start_twice_is_a_no_op(neo4j_server: LocalNeo4j) -> None:
    pid = neo4j_server.pid()
    assert neo4j_server.start() is False
    assert neo4j_server.pid() == pid
    status = _cli("neo4j", "status")
    assert status.returncode == 0
    assert f"pid {pid}" in status.stdout and neo4j_server.browser_url in status.stdout
    assert neo4j_server.password() not in status.stdout  # only with --show-password


def test_a_port_in_use_is_a_clear_error(neo4j_server: LocalNeo4j, tmp_path: Path) -> None:
    (http_port,) = free_ports(1)
    other = LocalNeo4j(tmp_path, get_settings().cache_dir, bolt_port=neo4j_server.bolt_port, http_port=http_port)
    with pytest.raises(ServerError, match=rf"port {neo4j_server.bolt_port} on 127.0.0.1 is already in use.*--bolt-port"):
        other.start()
    assert not other.is_running()


def test_graph_reset_refuses_without_yes_and_empties_with_it(clean_graph: neo4j.Driver) -> None:
    clean_graph.execute_query(
        "CREATE (:Company {name: 'A'})-[:INVESTS_IN]->(:Company {name: 'B'})-[:BUYS_FROM]->(:Company {name: 'C'})"
    )
    refused = _cli("graph", "reset")
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    records, _, _ = clean_graph.execute_query("MATCH (c:Company) RETURN c.name AS name ORDER BY name")
    assert [r["name"] for r in records] == ["A", "B", "C"]  # nothing lost

    done = _cli("graph", "reset", "--yes")
    assert done.returncode == 0, done.stderr
    assert "3 node(s) deleted" in done.stdout
    records, _, _ = clean_graph.execute_query("MATCH (n) RETURN count(n) AS nodes")
    assert records[0]["nodes"] == 0


def test_two_homes_side_by_side_and_stop_leaves_nothing(neo4j_server: LocalNeo4j, tmp_path: Path) -> None:
    bolt_port, http_port = free_ports(2)
    second = LocalNeo4j(tmp_path / "second", get_settings().cache_dir, bolt_port=bolt_port, http_port=http_port)
    try:
        # Two starts of one home at once (two commands, say): one starts it, the other finds it running.
        with ThreadPoolExecutor(max_workers=2) as pool:
            started = sorted(pool.map(lambda _: second.start(), range(2)))
        assert started == [False, True]
        with get_driver(start_local=False) as first_driver, neo4j.GraphDatabase.driver(
            second.bolt_uri, auth=("neo4j", second.password())
        ) as second_driver:
            second_driver.execute_query("CREATE (:Marker {home: 'second'})")
            records, _, _ = second_driver.execute_query("MATCH (m:Marker) RETURN m.home AS home")
            assert [r["home"] for r in records] == ["second"]
            records, _, _ = first_driver.execute_query("MATCH (m:Marker {home: 'second'}) RETURN count(m) AS n")
            assert records[0]["n"] == 0  # each home has its own database
        assert second.password() != neo4j_server.password()

        pid = second.pid()
        assert pid is not None
        assert second.stop() is True
        assert not psutil.pid_exists(pid)
        assert not port_in_use(bolt_port) and not port_in_use(http_port)
        assert not any(
            f"--home-dir={second.neo4j_home}" in " ".join(p.info["cmdline"] or [])
            for p in psutil.process_iter(["cmdline"])
        )
        assert neo4j_server.is_running()  # the other home is untouched

        # get_driver starts a stopped home by itself (on the ports it recorded) and the data is kept.
        with get_driver(Settings(OUROBOROS_HOME=second.home)) as driver:
            records, _, _ = driver.execute_query("MATCH (m:Marker) RETURN m.home AS home")
        assert [r["home"] for r in records] == ["second"]
        assert second.is_running()
    finally:
        second.stop()
    assert not second.is_running()

