"""Integration fixtures: one real Neo4j, started by the project, for the whole test session.

``neo4j_server`` starts the local server of a temporary ``OUROBOROS_HOME`` on free ports and points
the environment (and ``get_settings()``) at it, so code under test that calls
``graph.driver.get_driver()`` reaches the same server. ``clean_graph`` empties the graph before a test.
The jars come from the shared cache (``$OUROBOROS_CACHE``); the first session ever fetches them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest

from graph.driver import get_driver, reset_graph
from graph.server import LocalNeo4j, free_ports
from ouroboros.core.settings import get_settings

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as ``integration`` (deselect with ``-m "not integration"``)."""
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """A running local Neo4j in a temporary home; the environment points at it until the session ends."""
    home = tmp_path_factory.mktemp("home")
    patch = pytest.MonkeyPatch()
    patch.setenv("OUROBOROS_HOME", str(home))
    patch.delenv("NEO4J_URI", raising=False)  # the tests use the server the project starts, never another
    patch.delenv("NEO4J_PASSWORD", raising=False)
    patch.delenv("NEO4J_USER", raising=False)
    get_settings.cache_clear()
    bolt_port, http_port = free_ports(2)
    server = LocalNeo4j.from_settings(get_settings(), bolt_port=bolt_port, http_port=http_port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        patch.undo()
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_server: LocalNeo4j) -> Iterator[neo4j.Driver]:
    """A driver connected to the session's server."""
    with get_driver(get_settings(), start_local=False) as driver:
        yield driver


@pytest.fixture
def clean_graph(neo4j_driver: neo4j.Driver) -> neo4j.Driver:
    """The session's driver, on an empty graph (constraints and indexes stay)."""
    reset_graph(neo4j_driver)
    return neo4j_driver
