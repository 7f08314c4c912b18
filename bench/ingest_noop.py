"""Benchmark: how long a second ingestion run with nothing new takes, against the first.

    .venv/bin/python bench/ingest_noop.py --documents 100 --write-docs

Starts its own Neo4j (a temporary OUROBOROS_HOME, free ports), serves the ingestion test site
(tests/fixtures/ingest: two feeds, EDGAR-like filings) on 127.0.0.1, and adds a folder of
``--documents`` generated press notes about invented companies. Runs ``ingest_flow`` twice in
one process under a throwaway Prefect API and reports both wall times and their ratio. The first
run includes loading the models (spaCy, all-MiniLM-L6-v2), as a scheduled run in a fresh process
does; the second run reads feeds, submissions and files, finds nothing new, extracts nothing and
writes nothing. ``--write-docs`` puts the numbers into docs/ingestion.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = ["Alder", "Brisk", "Cobalt", "Dunmore", "Ember", "Fallow", "Garnet", "Hollis", "Ivory", "Juniper",
         "Kestrel", "Larch", "Marlow", "Nettle", "Orrin", "Pallas", "Quill", "Rowan", "Sable", "Thistle"]
SECOND = ["Peak", "Harbor", "Ridge", "Forge", "Field", "Stone", "Vale", "Crest", "Brook", "Gate"]
KINDS = ["Capital", "Cloud", "AI", "Robotics", "Semiconductor", "Compute", "Labs", "Systems"]
MARKER = re.compile(r"<!-- no-op ratio:.*?-->.*?(?=\n## |\Z)", re.S)


def generated_note(i: int, rng: random.Random) -> str:
    """A short invented press note stating one or two deals."""
    a, b, c = (f"{rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(KINDS)}" for _ in range(3))
    amount, compute = rng.randint(50, 900), rng.randint(20, 400)
    return (
        f"{b} raises ${amount} million from {a}\n\n"
        f"NEW YORK, March {1 + i % 28}, 2026 -- {a} has invested ${amount} million in {b}, the companies said.\n\n"
        f"{b} agreed to buy ${compute} million of computing capacity from {c} over three years.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100, help="generated folder documents")
    parser.add_argument("--write-docs", action="store_true", help="write the result into docs/ingestion.md")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    os.environ["OUROBOROS_HOME"] = str(work / "home")
    for name in ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD"):
        os.environ.pop(name, None)

    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import run_flow
    from graph.server import LocalNeo4j, free_ports
    from ouroboros.core.settings import get_settings
    from tests.fixtures.ingest.server import SITE, FixtureServer

    rng = random.Random(11)
    folder = work / "notes"
    folder.mkdir()
    for i in range(args.documents):
        (folder / f"note-{i:04d}.txt").write_text(generated_note(i, rng), encoding="utf-8")

    get_settings.cache_clear()
    bolt, http = free_ports(2)
    server = LocalNeo4j.from_settings(get_settings(), bolt_port=bolt, http_port=http)
    server.start()
    try:
        with FixtureServer() as site, prefect_test_harness(server_startup_timeout=120):
            sources = work / "sources.yaml"
            sources.write_text(yaml.safe_dump({
                "folders": [{"path": str(folder)}, {"path": str(SITE / "folder")}],
                "feeds": [{"url": site.url("feeds/news.rss")}, {"url": site.url("feeds/wire.atom")}],
                "edgar": {"user_agent": "Ouroboros Bench bench@ouroboros.example", "ciks": ["7340012"],
                          "data_url": site.base, "archives_url": site.base},
            }), encoding="utf-8")
            times, summaries = [], []
            for _ in range(2):
                started = time.perf_counter()
                summaries.append(run_flow(sources=str(sources), alerts_to=str(work / "alerts")))
                times.append(time.perf_counter() - started)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    first, second = summaries
    assert second.extracted == second.loaded == second.new == 0, second
    ratio = times[1] / times[0]
    report = (
        f"<!-- no-op ratio: written by bench/ingest_noop.py -->\n"
        f"`bench/ingest_noop.py --documents {args.documents}` on {platform.machine()}, "
        f"{os.cpu_count()} cores shared with other jobs, Python {platform.python_version()}:\n\n"
        f"| run | documents fetched | new | extracted | loaded | deals | wall time |\n"
        f"|---|---|---|---|---|---|---|\n"
        f"| first | {first.fetched} | {first.new} | {first.extracted} | {first.loaded} | {first.deals} "
        f"| {times[0]:.1f} s |\n"
        f"| second (nothing new) | {second.fetched} | {second.new} | {second.extracted} | {second.loaded} "
        f"| {second.deals} | {times[1]:.1f} s |\n\n"
        f"Second/first ratio: **{ratio:.3f}**. The first run includes loading spaCy and all-MiniLM-L6-v2;\n"
        f"the second reads the feeds, the EDGAR submissions and filing indexes and hashes the files, and\n"
        f"extracts and writes nothing (the remaining cost is mostly Prefect's own task bookkeeping).\n"
    )
    print(report)
    if args.write_docs:
        doc = ROOT / "docs" / "ingestion.md"
        text = doc.read_text(encoding="utf-8")
        doc.write_text(MARKER.sub(lambda _: report, text) if MARKER.search(text) else text + "\n" + report,
                       encoding="utf-8")


if __name__ == "__main__":
    main()
