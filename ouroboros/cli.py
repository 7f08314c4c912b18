"""The ``ouroboros`` command line. Each area keeps its commands in ``ouroboros.commands``."""

from __future__ import annotations

import sys

import typer

from ouroboros.commands import alerts, extract, graph, ingest, neo4j, run
from ouroboros.console import err_console
from ouroboros.errors import OuroborosError

app = typer.Typer(
    name="ouroboros",
    help=(
        "Find circular capital flows in the AI industry: read news and filings, extract deals, "
        "load them into Neo4j and report the loops.\n\n"
        "Exit codes: 0 ok; 1 some inputs failed (the rest was processed); 2 bad configuration or "
        "arguments; 3 unusable input; 4 Neo4j server problem; 5 graph query or write failed; "
        "6 extraction failed; 7 alert delivery failed (kept for retry)."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)

app.add_typer(neo4j.app, name="neo4j")
app.add_typer(graph.app, name="graph")
app.add_typer(alerts.app, name="alerts")
app.command("run")(run.run)
app.command("extract")(extract.extract)
app.command("eval")(extract.evaluate)
app.command("loops")(graph.loops)
app.command("ingest")(ingest.ingest)
app.command("serve")(ingest.serve)


def main() -> None:
    """Console-script entry point: known errors become one clear message and a meaningful exit code."""
    try:
        app()
    except OuroborosError as error:
        err_console.print(f"[bold red]error:[/] {error}")
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
