"""Extraction throughput: our spaCy pipeline against the bare en_core_web_sm, on the same texts.

    .venv/bin/python bench/extract_bench.py [--docs 300] [--rounds 3] [--batch-size 32]

The corpus documents (``corpus/``) are repeated to ``--docs`` texts. Both sides parse with
``nlp.pipe`` after a warm-up; ours also builds the deal records (names resolved). Each side is
timed ``--rounds`` times, alternating bare and ours, and the best round of each counts (the
machine is shared; the best round is the least disturbed one). The figures go into ``docs/extraction.md`` by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _texts(count: int) -> list[str]:
    from extractors.documents import read_documents

    documents, _ = read_documents([ROOT / "corpus"])
    base = [d.text for d in documents]
    return [base[i % len(base)] for i in range(count)]


def _rate(run: object, texts: list[str]) -> float:
    start = time.perf_counter()
    run(texts)  # type: ignore[operator]
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    """Run the benchmark and print the figures as JSON and as a Markdown table row."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from extractors.pipeline import load_base_model
    from extractors.spacy_extractor import SpacyExtractor
    from ouroboros.core.records import SourceDocument

    texts = _texts(args.docs)
    bare = load_base_model()
    extractor = SpacyExtractor()

    def run_bare(batch: list[str]) -> None:
        for _ in bare.pipe(batch, batch_size=args.batch_size):
            pass

    def run_ours(batch: list[str]) -> None:
        documents = [SourceDocument(doc=f"{i}.txt", text=t, source="bench") for i, t in enumerate(batch)]
        for _ in extractor.extract_documents(documents, batch_size=args.batch_size):
            pass

    warm = texts[: min(30, len(texts))]
    run_bare(warm)
    run_ours(warm)
    # Rounds alternate bare/ours so both sides see the same background load.
    bare_rate = ours_rate = 0.0
    for _ in range(args.rounds):
        bare_rate = max(bare_rate, _rate(run_bare, texts))
        ours_rate = max(ours_rate, _rate(run_ours, texts))
    result = {
        "docs": len(texts),
        "words": sum(len(t.split()) for t in texts),
        "bare_docs_per_s": round(bare_rate, 1),
        "ours_docs_per_s": round(ours_rate, 1),
        "ratio": round(ours_rate / bare_rate, 3),
        "cpus": os.cpu_count(),
        "batch_size": args.batch_size,
        "rounds": args.rounds,
    }
    print(json.dumps(result, indent=2))
    print(f"| {result['docs']} | {result['bare_docs_per_s']} | {result['ours_docs_per_s']} | {result['ratio']:.0%} |")


if __name__ == "__main__":
    main()
