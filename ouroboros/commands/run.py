"""``ouroboros run``: the one-shot main job on a folder of documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

# The corpus the project ships, next to the packages (the checkout is installed editable).
SHIPPED_CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def run(
    corpus: Annotated[
        Path, typer.Option("--corpus", help="Folder (or file) of .txt/.md/.html/.json documents.")
    ] = SHIPPED_CORPUS,
    extractor_name: Annotated[
        str, typer.Option("--extractor", "-e", help="spacy, llm or ensemble (llm needs OUROBOROS_LLM).")
    ] = "spacy",
    max_length: Annotated[int, typer.Option("--max-length", help="Most companies in a loop (2..8).")] = 6,
    alerts_to: Annotated[
        str | None,
        typer.Option("--alerts-to", help="Folder, file or webhook URL for alerts [default: $OUROBOROS_HOME/alerts/]."),
    ] = None,
    alerts_format: Annotated[
        str, typer.Option("--alerts-format", help="md (report with pictures), jsonl or csv.")
    ] = "md",
) -> None:
    """Read a corpus, extract the deals, load them into Neo4j, find the loops and write alerts.

    Starts the local Neo4j of $OUROBOROS_HOME when NEO4J_URI is not set. Exits 1 when some documents
    could not be read (the others are still processed).
    """
    # Heavy imports here so `ouroboros --help` stays fast.
    from rich.progress import Progress
    from rich.table import Table

    from extractors.documents import read_documents
    from extractors.llm_usage import run_summary
    from extractors.records import DealRecord
    from extractors.registry import get_extractor
    from graph.alerts import export_alerts
    from graph.driver import connection_info, get_driver
    from graph.loops import find_loops
    from graph.writer import format_usd, load_records
    from ouroboros.console import console, err_console
    from ouroboros.errors import InputError
    from ouroboros.settings import get_settings

    if not corpus.exists():
        raise InputError(f"corpus {corpus} does not exist; pass --corpus with a folder of documents")
    documents, problems = read_documents([corpus])
    for problem in problems:
        err_console.print(f"[yellow]skipped[/] {problem}")
    if not documents:
        raise InputError(f"no readable documents in {corpus}; it needs .txt, .md, .html or .json files")

    extractor = get_extractor(extractor_name)
    records: list[DealRecord] = []
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("extracting", total=len(documents))
        for document in documents:
            records.extend(extractor.extract(document.text, document.doc))
            progress.advance(task)
    err_console.print(f"extracted {len(records)} deal(s) from {len(documents)} document(s)")
    if usage := run_summary(extractor):
        err_console.print(usage)

    driver = get_driver()
    try:
        with err_console.status("loading into Neo4j"):
            summary = load_records(driver, records, documents)
        err_console.print(f"loaded {summary.deals} deal(s) in {summary.seconds:.1f}s")
        loops = find_loops(driver, max_length=max_length)
        exported = export_alerts(driver, alerts_to, alerts_format, loops=loops)
    finally:
        driver.close()

    table = Table(title=f"{len(loops)} loop(s)")
    for column in ("score", "loop", "money around", "tentative"):
        table.add_column(column)
    for loop in loops:
        table.add_row(
            f"{loop.score:.3f}", loop.chain, format_usd(loop.score_parts.get("money_usd")),
            "yes" if loop.tentative else "",
        )
    console.print(table)
    console.print(f"alerts: {exported.delivered} new or changed -> {exported.destination}")
    info = connection_info(get_settings())
    console.print(f"Neo4j Browser: {info.browser_url} (login: `ouroboros neo4j status`)")
    if problems:
        raise typer.Exit(code=1)
