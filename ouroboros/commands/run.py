"""``ouroboros run``: the main job, the ingestion flow over one folder, once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ouroboros.commands.options import (
    AlertsFormatOption,
    AlertsToOption,
    ExtractorOption,
    MaxLengthOption,
    run_ingestion,
)

# The corpus the project ships, next to the packages (the checkout is installed editable).
SHIPPED_CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def run(
    corpus: Annotated[
        Path, typer.Option("--corpus", help="Folder (or file) of .txt/.md/.html/.json documents.")
    ] = SHIPPED_CORPUS,
    extractor: ExtractorOption = "spacy",
    max_length: MaxLengthOption = 6,
    alerts_to: AlertsToOption = None,
    alerts_format: AlertsFormatOption = None,
) -> None:
    """Read a folder, extract the deals, load them into Neo4j, find the loops and write alerts.

    This is the ingestion flow of `ouroboros ingest` over one folder: the same stages, state,
    deduplication, failure policy and alerts, so a second run only processes what changed.
    Starts the local Neo4j of $OUROBOROS_HOME when NEO4J_URI is not set. Exits 1 when some
    documents could not be read or extracted (the others are still loaded).
    """
    from ouroboros.core.errors import InputError

    if not corpus.exists():
        raise InputError(f"corpus {corpus} does not exist; pass --corpus with a folder of documents")
    run_ingestion(folder=str(corpus.resolve()), extractor=extractor, alerts_to=alerts_to,
                  alerts_format=alerts_format, max_length=max_length)
