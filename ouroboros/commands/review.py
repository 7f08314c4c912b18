"""``ouroboros review``: an analyst corrects the machine; each correction is kept in Neo4j with who, when, why."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, help="Corrections: reject or restore a deal, merge two names, dismiss a "
                                             "loop's alerts. Each is kept in Neo4j (who, when, why).")


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


WhoOption = Annotated[str | None, typer.Option("--by", help="Who makes the correction [default: your user name].")]
WhyOption = Annotated[str, typer.Option("--why", help="Why: the note the next analyst reads.")]


@app.command("reject")
def reject(
    deal_id: Annotated[str, typer.Argument(help="The deal's id (or its first 8+ characters).")],
    why: Annotated[str, typer.Option("--why", help="Why the deal is wrong (required).")],
    by: WhoOption = None,
) -> None:
    """Mark a deal wrong: it stays in the graph with the note but forms no flow, loop or round-trip share."""
    from graph.driver import get_driver
    from graph.review import reject_deal
    from ouroboros.console import console

    with get_driver() as driver:
        deal = reject_deal(driver, deal_id, who=by or _who(), why=why)
    console.print(f"rejected {deal['id']}: {deal['investor']} -> {deal['recipient']} {deal['kind']} "
                  f"{deal['amount'] or ''} ({deal['doc']})", markup=False)


@app.command("restore")
def restore(
    deal_id: Annotated[str, typer.Argument(help="The deal's id (or its first 8+ characters).")],
    why: WhyOption = "",
    by: WhoOption = None,
) -> None:
    """Undo a rejection: the deal forms flows and loops again."""
    from graph.driver import get_driver
    from graph.review import restore_deal
    from ouroboros.console import console

    with get_driver() as driver:
        deal = restore_deal(driver, deal_id, who=by or _who(), why=why)
    console.print(f"restored {deal['id']}: {deal['investor']} -> {deal['recipient']}", markup=False)


@app.command("merge")
def merge(
    name: Annotated[str, typer.Argument(help="The name to retire (an alias), exactly as stored.")],
    into: Annotated[str, typer.Argument(help="The company it is (exact stored name).")],
    why: WhyOption = "",
    by: WhoOption = None,
) -> None:
    """Merge company NAME into INTO: its deals move to INTO; the alias is kept and applied after every load."""
    from graph.driver import get_driver
    from graph.review import merge_names
    from ouroboros.console import console

    with get_driver() as driver:
        merge_names(driver, name, into, who=by or _who(), why=why)
    console.print(f"merged {name!r} into {into!r} (kept: later loads are merged too)", markup=False)


@app.command("dismiss")
def dismiss(
    loop_id: Annotated[str, typer.Argument(help="The loop's id (or its first 8+ characters), see `ouroboros loops`.")],
    why: WhyOption = "",
    by: WhoOption = None,
    undo: Annotated[bool, typer.Option("--undo", help="Alert on this loop again.")] = False,
) -> None:
    """Dismiss a loop's alerts until the loop changes (a new edge, a larger amount, a status change)."""
    from graph.alerts import dismiss_loop
    from graph.driver import get_driver
    from ouroboros.console import console

    with get_driver() as driver:
        loop = dismiss_loop(driver, loop_id, who=by or _who(), why=why, undo=undo)
    console.print(f"{'undismissed' if undo else 'dismissed'} {loop.id}: {loop.chain}", markup=False)


@app.command("trail")
def show_trail(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many corrections, newest first.")] = 50,
) -> None:
    """The audit trail: every correction, who made it, when and why."""
    from rich.table import Table

    from graph.driver import get_driver
    from graph.review import trail
    from ouroboros.console import console

    with get_driver() as driver:
        rows = trail(driver, limit)
    table = Table(title=f"{len(rows)} correction(s)")
    for column in ("at", "who", "action", "target", "why"):
        table.add_column(column)
    for row in rows:
        target = row["target"] + (f" -> {row['into']}" if row.get("into") else "")
        table.add_row(row["at"][:19], row["who"], row["action"], target, row.get("why", ""))
    console.print(table)
