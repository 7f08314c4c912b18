"""``ouroboros alerts``: deliver each new or changed loop once, to files or a webhook."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Alerts about loops: each loop once, again when it changes.")


@app.command("export")
def export(
    to: Annotated[
        str | None,
        typer.Option("--to", help="A folder, a .jsonl/.csv/.md file, or an http(s):// webhook. "
                                  "Default: $OUROBOROS_HOME/alerts/"),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="jsonl, csv or md (Markdown report with pictures). "
                                            "Default: from the file suffix, else jsonl."),
    ] = None,
) -> None:
    """Export the loops that are new or changed since the last export to the same destination."""
    # Imported here so `ouroboros --help` stays fast and the other commands load without Neo4j.
    from graph.alerts import export_alerts
    from graph.driver import get_driver
    from ouroboros.console import console, err_console
    from ouroboros.errors import DeliveryError

    driver = get_driver()
    try:
        summary = export_alerts(driver, to, fmt)
    finally:
        driver.close()
    console.print(
        f"{summary.loops} loop(s); {summary.due} new or changed; {summary.delivered} delivered "
        f"to {summary.destination} ({summary.format})"
    )
    for path in summary.files[:1]:
        console.print(f"wrote {path}")
    if not summary.pictures:
        err_console.print("[yellow]graphviz `dot` is not installed: the report has no pictures "
                          "(apt-get install graphviz).[/]")
    if summary.failed:
        raise DeliveryError(
            f"{summary.failed} alert(s) could not be delivered to {summary.destination} "
            f"({'; '.join(summary.errors[:3])}); they are kept and retried by the next export"
        )
