"""``ouroboros alerts``: deliver each new or changed loop once, to files, a webhook or an Apprise channel."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Alerts about loops: each loop once, again when it changes.")


@app.command("export")
def export(
    to: Annotated[
        str | None,
        typer.Option("--to", "--alerts-to", help="A folder, a .jsonl/.csv/.md file, an http(s):// webhook (Slack-style), or "
                                  "an Apprise URL (json://, mailto://, msteams://, discord://, tgram://, apprise://...). "
                                  "Default: $OUROBOROS_HOME/alerts/"),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "--alerts-format", "-f", help="md (Markdown report with pictures), jsonl or csv. "
                                            "Default: from the file suffix, else md."),
    ] = None,
    digest: Annotated[
        bool, typer.Option("--digest", help="Webhook or Apprise: one message per export listing every new or "
                                            "changed loop, instead of one message per loop.")
    ] = False,
    deadline: Annotated[
        float, typer.Option("--deadline", min=1, help="Seconds the whole delivery of messages may take; alerts not "
                                                      "sent by then stay pending for the next export.")
    ] = 120.0,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds one message request may take.")
    ] = 10.0,
) -> None:
    """Export the loops that are new or changed since the last export to the same destination."""
    # Imported here so `ouroboros --help` stays fast and the other commands load without Neo4j.
    from graph.alerts import export_alerts
    from graph.driver import get_driver
    from ouroboros.console import console, err_console
    from ouroboros.core.errors import DeliveryError
    from ouroboros.core.lock import writer_lock
    from ouroboros.core.settings import get_settings

    settings = get_settings()
    with writer_lock(settings.home_dir, settings.lock_wait_s):
        driver = get_driver()
        try:
            summary = export_alerts(driver, to, fmt, digest=digest, deadline_s=deadline, timeout_s=timeout)
        finally:
            driver.close()
    console.print(
        f"{summary.loops} loop(s); {summary.due} new or changed; {summary.delivered} delivered "
        f"to {summary.destination} ({summary.format})"
    )
    if summary.dismissed:
        console.print(f"{summary.dismissed} dismissed loop(s) kept quiet (`ouroboros review dismiss --undo`)")
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
