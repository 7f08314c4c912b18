"""Benchmark: how long the local Neo4j takes to start and stop, and what an idle one costs in memory.

    .venv/bin/python bench/neo4j_server_bench.py [--runs 3]

Each run uses a fresh home in a temporary folder on free ports (the jars come from the shared
cache, ``$OUROBOROS_CACHE``; fetch them first with ``ouroboros neo4j fetch``). Measured:
- first start: layout, set-initial-password, launcher, until Bolt answers (a new database);
- restart: start of the same home again (database exists);
- idle RSS of the server process 10 s after it answers, and the same after one small write;
- stop: SIGTERM until the process is gone.
The cold fetch time is printed by ``ouroboros neo4j fetch`` itself on an empty cache.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import neo4j
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graph.server import LocalNeo4j, fetch, free_ports
from ouroboros.core.settings import get_settings


def _rss_mb(server: LocalNeo4j) -> float:
    pid = server.pid()
    assert pid is not None
    return psutil.Process(pid).memory_info().rss / 2**20


def run_once(home: Path, cache: Path) -> dict[str, float]:
    """One fresh home: first start, idle memory, stop, restart, stop."""
    bolt, http = free_ports(2)
    server = LocalNeo4j(home, cache, bolt_port=bolt, http_port=http)
    result: dict[str, float] = {}
    try:
        began = time.monotonic()
        server.start()
        result["first start s"] = time.monotonic() - began
        time.sleep(10)
        result["idle RSS MiB"] = _rss_mb(server)
        with neo4j.GraphDatabase.driver(server.bolt_uri, auth=("neo4j", server.password())) as driver:
            driver.execute_query("UNWIND range(1, 1000) AS i CREATE (:Bench {i: i})")
        result["RSS after 1k nodes MiB"] = _rss_mb(server)
        began = time.monotonic()
        server.stop()
        result["stop s"] = time.monotonic() - began
        began = time.monotonic()
        server.start()
        result["restart s"] = time.monotonic() - began
    finally:
        server.stop()
    return result


def main() -> None:
    """Run the benchmark and print a Markdown table (median and range over the runs)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cache = get_settings().cache_dir
    fetch(cache)
    runs = []
    for index in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="ouroboros-bench-") as folder:
            runs.append(run_once(Path(folder), cache))
        print(f"run {index + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()), file=sys.stderr)
    print("| measure | median | min | max |\n|---|---|---|---|")
    for key in runs[0]:
        values = [run[key] for run in runs]
        print(f"| {key} | {statistics.median(values):.1f} | {min(values):.1f} | {max(values):.1f} |")


if __name__ == "__main__":
    main()
