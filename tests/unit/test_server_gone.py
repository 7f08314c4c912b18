"""Issue 9, row 9: Neo4j gone in the middle of a run is a server problem (exit 4) within seconds.

A real driver against a port where nothing listens any more (the server was killed): every stage
that talks to Neo4j says so with ServerError, after the driver's bounded retries, not a minute of
them and not "a query failed" (exit 5).
"""

from __future__ import annotations

import time

import neo4j
import pytest

from flows import stages
from graph.loops import find_loops
from graph.server import free_ports
from graph.writer import load_records
from ouroboros.core.errors import ServerError
from ouroboros.core.records import DealRecord, SourceDocument


@pytest.fixture
def dead_server_driver() -> neo4j.Driver:
    (port,) = free_ports(1)  # nothing listens there: like a server killed mid-load
    return neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "x"),
                                      max_transaction_retry_time=2.0, connection_timeout=2.0)


def test_every_neo4j_stage_reports_a_dead_server_as_exit_4(dead_server_driver: neo4j.Driver) -> None:
    record = DealRecord(doc="a.txt", kind="investment", investor="Acme", recipient="Birch", evidence="x")
    document = SourceDocument(doc="a.txt", text="x", source="a.txt")
    calls = [
        lambda: stages.read_known(dead_server_driver),
        lambda: stages.record_extracted(dead_server_driver, [stages.Extraction(doc="a.txt", records=[record])], []),
        lambda: load_records(dead_server_driver, [record], [document]),
        lambda: find_loops(dead_server_driver),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(ServerError) as caught:
            call()
        assert caught.value.exit_code == 4 and time.monotonic() - started < 15
    dead_server_driver.close()
