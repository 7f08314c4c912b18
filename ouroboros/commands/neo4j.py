"""``ouroboros neo4j fetch|start|stop|status``: the local Neo4j server of ``OUROBOROS_HOME``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from graph.server import LocalNeo4j

app = typer.Typer(
    no_args_is_help=True,
    help="The local Neo4j server of OUROBOROS_HOME (assembled from Maven Central; needs Java 17 and Maven).",
)

BoltPort = Annotated[
    int | None,
    typer.Option("--bolt-port", min=1, max=65535, help="Bolt port [default: the home's current one, else 7687]."),
]
HttpPort = Annotated[
    int | None,
    typer.Option(
        "--http-port", min=1, max=65535, help="HTTP/Browser port [default: the home's current one, else 7474]."
    ),
]


@app.command("fetch")
def fetch() -> None:
    """Fetch the Neo4j jars from Maven Central into the shared cache (once; later runs do nothing)."""
    from graph.server import NEO4J_VERSION, fetch, is_fetched, lib_dir
    from ouroboros.console import console, err_console
    from ouroboros.core.settings import get_settings

    cache = get_settings().cache_dir
    if is_fetched(cache):
        console.print(f"Neo4j {NEO4J_VERSION} is already in {lib_dir(cache)}")
        return
    began = time.monotonic()
    with err_console.status(f"fetching Neo4j {NEO4J_VERSION} from Maven Central into {cache}"):
        lib = fetch(cache)
    console.print(f"Fetched Neo4j {NEO4J_VERSION} into {lib} in {time.monotonic() - began:.0f}s")


@app.command("start")
def start(bolt_port: BoltPort = None, http_port: HttpPort = None) -> None:
    """Start the local Neo4j in the background and wait until it answers (a running server is left alone)."""
    from graph.server import LocalNeo4j
    from ouroboros.console import console, err_console
    from ouroboros.core.settings import get_settings

    settings = get_settings()
    server = LocalNeo4j.from_settings(settings, bolt_port=bolt_port, http_port=http_port)
    began = time.monotonic()
    with err_console.status(f"starting Neo4j in {server.neo4j_home}"):
        started = server.start()
    if started:
        console.print(f"[green]Neo4j started[/] in {time.monotonic() - began:.0f}s (pid {server.pid()}).")
    else:
        console.print(f"Neo4j already runs (pid {server.pid()}).")
    _print_where(server, show_password=False)
    if settings.neo4j_uri:
        err_console.print(
            f"[yellow]note:[/] NEO4J_URI is set ({settings.neo4j_uri}), so the other commands use that "
            "server, not this one; unset it to use this one."
        )


@app.command("stop")
def stop() -> None:
    """Stop the local Neo4j cleanly (it is killed if it has not stopped after a minute)."""
    from graph.server import LocalNeo4j
    from ouroboros.console import console, err_console
    from ouroboros.core.settings import get_settings

    server = LocalNeo4j.from_settings(get_settings())
    with err_console.status("stopping Neo4j"):
        stopped = server.stop()
    console.print("Neo4j stopped." if stopped else f"Neo4j of {server.home} was not running.")


@app.command("status")
def status(
    show_password: Annotated[bool, typer.Option("--show-password", help="Print the password too.")] = False,
) -> None:
    """Say whether the local Neo4j runs, where, and how to log in to Browser; exit code 1 when it does not run."""
    from graph.server import LocalNeo4j
    from ouroboros.console import console
    from ouroboros.core.settings import get_settings

    settings = get_settings()
    server = LocalNeo4j.from_settings(settings)
    pid = server.pid()
    if settings.neo4j_uri:
        console.print(f"NEO4J_URI is set: commands use {settings.neo4j_uri} (user {settings.neo4j_user}).")
    if pid is None:
        console.print(f"[red]Neo4j is not running[/] (home {server.neo4j_home}); start it with `ouroboros neo4j start`.")
        raise typer.Exit(1)
    console.print(f"[green]Neo4j runs[/] (pid {pid}, home {server.neo4j_home}).")
    _print_where(server, show_password=show_password)


def _print_where(server: LocalNeo4j, *, show_password: bool) -> None:
    from rich.table import Table

    from graph.browser.guide import DEFAULT_PORT
    from graph.server import USER
    from ouroboros.console import console

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Bolt", server.bolt_uri)
    table.add_row("Browser", server.browser_url)
    table.add_row("user", USER)
    if show_password:
        table.add_row("password", server.password())
    else:
        table.add_row("password", f"in {server.password_file} (or `ouroboros neo4j status --show-password`)")
    table.add_row("connection", str(server.connection_file))
    console.print(table)
    console.print(
        f"Open {server.browser_url}, keep the Connect URL {server.bolt_uri}, "
        f"choose 'Username / Password' and log in as {USER}."
    )
    console.print(
        f"Analyst guide and style: run `ouroboros graph browser`, then in Browser "
        f"`:style http://localhost:{DEFAULT_PORT}/style.grass` and `:guide http://localhost:{DEFAULT_PORT}/ouroboros.html`."
    )
