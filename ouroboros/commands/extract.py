"""``ouroboros extract`` and ``ouroboros eval``: deal records from files, and their score against gold."""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ouroboros.console import console, err_console
from ouroboros.core.errors import ConfigError, ExtractionError, InputError
from ouroboros.core.records import DealRecord, Extractor, SourceDocument

app = typer.Typer(no_args_is_help=True)


class OutputFormat(StrEnum):
    """How ``extract`` prints records."""

    jsonl = "jsonl"
    table = "table"


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err_console, transient=True,
    )


def extract(
    paths: Annotated[list[Path], typer.Argument(help="Text, Markdown, HTML or JSON files, or folders of them.")],
    output_format: Annotated[OutputFormat, typer.Option("--format", help="jsonl (one record per line) or table.")]
    = OutputFormat.jsonl,
    extractor_name: Annotated[str, typer.Option("--extractor", help="Registered extractor: spacy, llm, ensemble.")]
    = "spacy",
) -> None:
    """Extract deal records from text files (no Neo4j needed).

    Records follow shared/gold/FORMAT.md, each with a `source` object (url, title, outlet,
    published, date_basis, form, filer: where and when its document was published). Files that
    cannot be read (empty, binary, not UTF-8, not English, over 5 MB) are reported on stderr and
    skipped; the exit code is then 1.
    """
    from extractors.documents import read_documents
    from extractors.embeddings import torch_deferred
    from extractors.llm_usage import run_summary
    from extractors.registry import get_extractor

    documents, problems = read_documents(paths)
    for problem in problems:
        err_console.print(f"[yellow]skipped[/] {problem}")
    if not documents:
        raise InputError(f"no readable documents in {', '.join(str(p) for p in paths)}; "
                         "give .txt, .md, .html or .json files or folders holding them")
    with torch_deferred():  # the spaCy pipeline without torch; the sentence model loads it if it must
        extractor = get_extractor(extractor_name)
    records = []
    failed = len(problems)
    with _progress() as progress:
        task = progress.add_task("extracting", total=len(documents))
        for document, found, error in _extract_all(extractor, documents):
            if error is not None:
                err_console.print(f"[red]failed[/] {document.source}: {error}")
                failed += 1
            records.extend(found)
            if output_format is OutputFormat.jsonl:
                source = document.provenance()
                for record in found:
                    # Plain echo, not rich: one record per line, never wrapped or highlighted.
                    typer.echo(json.dumps({**record.model_dump(mode="json"), "source": source}, ensure_ascii=False))
            progress.advance(task)
    if output_format is OutputFormat.table:
        table = Table(title=f"{len(records)} deal(s) in {len(documents)} document(s)")
        for column in ("doc", "kind", "investor", "recipient", "amount", "spend-back", "mandate", "status"):
            table.add_column(column)
        for r in records:
            table.add_row(
                r.doc, r.kind, r.investor, r.recipient, r.amount_text or "",
                r.spend_back.payee if r.spend_back else "",
                f"{r.hardware_mandate.product} ({r.hardware_mandate.vendor})" if r.hardware_mandate else "",
                r.status,
            )
        console.print(table)
    err_console.print(f"{len(records)} deal(s) from {len(documents)} document(s)"
                      + (f", {failed} file(s) failed" if failed else ""))
    if usage := run_summary(extractor):
        err_console.print(usage)
    if failed:
        raise typer.Exit(code=1)


# Documents parsed together when the extractor can batch (spaCy's nlp.pipe): several times faster
# than one by one, and a failing batch is redone document by document, so one bad file costs itself.
BATCH = 16


def _extract_all(
    extractor: Extractor, documents: list[SourceDocument]
) -> Iterator[tuple[SourceDocument, list[DealRecord], str | None]]:
    """Each document with its records, or with the error that stopped its extraction."""
    batched = getattr(extractor, "extract_documents", None)
    for start in range(0, len(documents), BATCH):
        batch = documents[start : start + BATCH]
        if batched is not None:
            try:
                results = list(batched(batch))
            except (ConfigError, KeyboardInterrupt):
                raise
            except Exception:  # redone one by one below, where the failing document is named
                results = None
            if results is not None:
                for document, found in results:
                    yield document, found, None
                continue
        for document in batch:
            try:
                yield document, extractor.extract(document.text, document.doc), None
            except (ConfigError, KeyboardInterrupt):
                raise
            except ExtractionError as e:
                yield document, [], str(e)
            except Exception as e:  # one bad document must not lose the others' records
                yield document, [], f"{type(e).__name__}: {e}"


def evaluate(
    gold_dir: Annotated[Path, typer.Argument(help="Folder with gold.jsonl and the documents (docs/ or beside it).")],
    extractor_name: Annotated[str, typer.Option("--extractor", help="Registered extractor: spacy, llm, ensemble.")]
    = "spacy",
    out: Annotated[Path | None, typer.Option("--out", help="Write the full report (per document) as JSON here.")]
    = None,
) -> None:
    """Score an extractor against a gold folder: flow precision/recall/F1, amounts, spend-back, mandates, status."""
    from extractors.evaluate import evaluate_gold_dir

    if not gold_dir.is_dir():
        raise InputError(f"{gold_dir} is not a folder; give a folder laid out like shared/gold")
    with err_console.status(f"evaluating {extractor_name} on {gold_dir}"):
        report = evaluate_gold_dir(gold_dir, extractor_name)
    summary = report.summary()
    table = Table(title=f"{extractor_name} on {gold_dir} ({summary['documents']} documents)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    for problem in report.failed_documents:
        err_console.print(f"[yellow]skipped[/] {problem}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.to_json(), encoding="utf-8")
        err_console.print(f"report written to {out}")
    else:
        err_console.print(json.dumps(summary))
    if report.failed_documents:
        raise typer.Exit(code=1)
