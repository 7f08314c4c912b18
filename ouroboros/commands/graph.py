"""``ouroboros loops`` and ``ouroboros graph``: the loops in the graph, resetting it, and the Browser guide."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)


def loops(
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json (the full loops with evidence) or csv.")
    ] = "table",
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="Only loops through this company (exact name).")
    ] = None,
    max_length: Annotated[int, typer.Option("--max-length", help="Most companies in a loop (2..8).")] = 6,
    min_length: Annotated[int, typer.Option("--min-length", help="Fewest companies in a loop.")] = 2,
    since: Annotated[
        datetime | None, typer.Option("--since", formats=["%Y-%m-%d"],
                                      help="Only loops whose last leg was announced on or after this day (YYYY-MM-DD).")
    ] = None,
    window: Annotated[
        int | None, typer.Option("--window", min=0, help="Only loops whose legs were all announced within this many "
                                                         "days of each other (time-bounded cycles).")
    ] = None,
) -> None:
    """List the loops in the graph: directed cycles of money flows, each once, best score first.

    Dates are publication dates of the documents that state each leg (a loop closes when its
    last leg is announced); loops with an undated leg are left out by --since and --window.
    """
    # Imported here so `ouroboros --help` stays fast and the other commands load without Neo4j.
    from rich.table import Table

    from graph.driver import get_driver
    from graph.loops import find_loops, loops_to_csv, loops_to_json
    from ouroboros.console import console, err_console
    from ouroboros.core.errors import ConfigError
    from ouroboros.core.formatting import format_usd

    if fmt not in ("table", "json", "csv"):
        raise ConfigError(f"unknown --format {fmt!r}; use table, json or csv")
    driver = get_driver()
    try:
        found = find_loops(driver, min_length=min_length, max_length=max_length, company=company,
                           since=since.date() if since else None, window_days=window)
    finally:
        driver.close()
    if fmt == "json":
        print(loops_to_json(found))
        return
    if fmt == "csv":
        print(loops_to_csv(found), end="")
        return
    table = Table(title=f"{len(found)} loop(s)")
    table.add_column("score", justify="right")
    table.add_column("loop", ratio=1)
    for column in ("money around", "tentative", "first announced", "first seen", "id"):
        table.add_column(column, no_wrap=True)
    for loop in found:
        table.add_row(
            f"{loop.score:.3f}", loop.chain, format_usd(loop.score_parts.get("money_usd")),
            "yes" if loop.tentative else "",
            loop.first_announced or f"? ({len(loop.undated_legs)} undated leg(s))", (loop.first_seen or "")[:10],
            loop.id[:8],
        )
    console.print(table)
    if not found:
        err_console.print("No loops. Load deals first (`ouroboros run`), or widen --max-length.")


@app.command("browser")
def browser(
    port: Annotated[int, typer.Option("--port", help="Port on localhost for the guide and the style sheet.")] = 8765,
    refresh: Annotated[bool, typer.Option("--refresh/--no-refresh", help="First write what Browser shows: loops "
                                          "one by one, short captions, round-trip shares.")] = True,
) -> None:
    """Serve the Ouroboros guide and style sheet for Neo4j Browser until Ctrl-C."""
    from graph.browser.guide import browser_urls, serve_browser_files
    from graph.browser.snapshot import refresh_browser
    from graph.driver import get_driver
    from ouroboros.console import console
    from ouroboros.core.errors import ConfigError

    if refresh:
        with get_driver() as driver:
            snapshot = refresh_browser(driver)
        console.print(f"Browser snapshot: {snapshot.loops} loop(s), {snapshot.companies} round-trip share(s) "
                      "(rerun after a load)")

    try:
        server = serve_browser_files(port)
    except OSError as e:
        raise ConfigError(f"cannot serve on localhost:{port} ({e}); pick another port with --port") from e
    urls = browser_urls(port)
    console.print("In Neo4j Browser (see `ouroboros neo4j status`), run:")
    console.print(f"  :style {urls['style']}", markup=False)
    console.print(f"  :guide {urls['guide']}", markup=False)
    console.print("Serving until Ctrl-C.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command("reset")
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Really delete every node and relationship.")] = False,
) -> None:
    """Empty the graph (every node and relationship; constraints and indexes stay). Needs --yes."""
    from graph.driver import get_driver, reset_graph
    from ouroboros.console import console
    from ouroboros.core.errors import ConfigError

    if not yes:
        raise ConfigError("`ouroboros graph reset` deletes the whole graph; run it again with --yes to go ahead")
    with get_driver() as driver:
        removed = reset_graph(driver)
    console.print(f"Graph emptied: {removed} node(s) deleted.")
