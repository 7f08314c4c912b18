"""The local server's files and checks that need no Java: neo4j.conf, ports, private files, settings errors."""

from __future__ import annotations

import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.driver import connection_info
from graph.server import (
    DEFAULT_BOLT_PORT,
    DEFAULT_HTTP_PORT,
    LocalNeo4j,
    fetch,
    free_ports,
    is_fetched,
    port_in_use,
    read_conf_ports,
    render_conf,
    write_private,
)
from ouroboros.core.errors import ConfigError, ServerError
from ouroboros.core.settings import Settings


@pytest.fixture(autouse=True)
def _no_neo4j_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _conf_values(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values.setdefault(key, []).append(value)
    return values


def test_conf_listens_on_localhost_with_given_ports_and_auth() -> None:
    values = _conf_values(render_conf(bolt_port=17001, http_port=17002))
    assert values["server.default_listen_address"] == ["127.0.0.1"]
    assert values["server.bolt.listen_address"] == [":17001"]
    assert values["server.bolt.advertised_address"] == [":17001"]  # Browser connects to what is advertised
    assert values["server.http.listen_address"] == [":17002"]
    assert values["server.https.enabled"] == ["false"]
    assert values["dbms.security.auth_enabled"] == ["true"]
    assert values["server.memory.heap.max_size"] == ["1g"]
    assert values["server.memory.pagecache.size"] == ["512m"]
    jvm = values["server.jvm.additional"]
    assert "--add-opens=java.base/java.nio=ALL-UNNAMED" in jvm
    assert "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED" in jvm
    assert "-XX:+AlwaysPreTouch" not in jvm


def test_conf_ports_read_back(tmp_path: Path) -> None:
    conf = tmp_path / "neo4j.conf"
    assert read_conf_ports(conf) is None
    conf.write_text(render_conf(bolt_port=17003, http_port=17004))
    assert read_conf_ports(conf) == (17003, 17004)


def test_server_keeps_the_ports_of_its_home_unless_told(tmp_path: Path) -> None:
    assert (LocalNeo4j(tmp_path, tmp_path).bolt_port, LocalNeo4j(tmp_path, tmp_path).http_port) == (
        DEFAULT_BOLT_PORT,
        DEFAULT_HTTP_PORT,
    )
    conf = tmp_path / "neo4j" / "conf" / "neo4j.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text(render_conf(bolt_port=17005, http_port=17006))
    server = LocalNeo4j(tmp_path, tmp_path)
    assert (server.bolt_uri, server.browser_url) == ("bolt://127.0.0.1:17005", "http://127.0.0.1:17006/browser/")
    assert LocalNeo4j(tmp_path, tmp_path, bolt_port=17007).bolt_port == 17007


def test_port_checks(listening: int) -> None:
    assert port_in_use(listening)
    ports = free_ports(3)
    assert len(set(ports)) == 3
    assert not any(port_in_use(port) for port in ports)


def test_start_on_a_port_in_use_names_the_port_and_the_flag(tmp_path: Path, listening: int) -> None:
    (free,) = free_ports(1)
    with pytest.raises(ServerError, match=rf"port {listening} .*--bolt-port"):
        LocalNeo4j(tmp_path, tmp_path, bolt_port=listening, http_port=free).start()
    with pytest.raises(ServerError, match=rf"port {listening} .*--http-port"):
        LocalNeo4j(tmp_path, tmp_path, bolt_port=free, http_port=listening).start()
    assert not (tmp_path / "neo4j").exists()  # nothing laid out


def test_fetch_without_maven_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn, no java here
    with pytest.raises(ServerError, match="`mvn` not found on PATH; install Apache Maven"):
        fetch(tmp_path / "cache")
    assert not is_fetched(tmp_path / "cache")


def test_start_without_java_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    bolt, http = free_ports(2)
    with pytest.raises(ServerError, match="`java` not found on PATH; install a Java 17 runtime"):
        LocalNeo4j(tmp_path, tmp_path, bolt_port=bolt, http_port=http).start()


def test_half_finished_fetch_is_not_taken_for_done(tmp_path: Path) -> None:
    lib = tmp_path / "neo4j-x" / "lib"
    lib.mkdir(parents=True)
    assert not is_fetched(tmp_path)


def test_remote_uri_needs_a_password(tmp_path: Path) -> None:
    settings = Settings(NEO4J_URI="bolt://db.example:7687", OUROBOROS_HOME=tmp_path)
    with pytest.raises(ConfigError, match="NEO4J_PASSWORD is not"):
        connection_info(settings)
    info = connection_info(Settings(NEO4J_URI="bolt://db.example:7687", NEO4J_PASSWORD="s3cret-pw"))
    assert (info.uri, info.user, info.password, info.browser_url) == ("bolt://db.example:7687", "neo4j", "s3cret-pw", None)


def test_local_password_is_the_recorded_one(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="neo4j start"):
        connection_info(Settings(OUROBOROS_HOME=tmp_path))
    password_file = tmp_path / "neo4j" / "password"
    password_file.parent.mkdir(parents=True)
    password_file.write_text("recorded-pw\n")
    assert connection_info(Settings(OUROBOROS_HOME=tmp_path)).password == "recorded-pw"
    with pytest.raises(ConfigError, match="NEO4J_PASSWORD differs"):
        connection_info(Settings(OUROBOROS_HOME=tmp_path, NEO4J_PASSWORD="other-pw"))


def test_private_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.json"
    write_private(path, "{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "{}"
