"""``ouroboros exposure``: how much of each company's inbound money is its own money coming back."""

from __future__ import annotations

from typing import Annotated

import typer


def exposure(
    company: Annotated[str | None, typer.Argument(help="One company (exact name); default: every company on a loop.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    max_length: Annotated[int, typer.Option("--max-length", min=2, max=8, help="Most companies in a loop (2..8).")] = 6,
) -> None:
    """Round-trip share per company: inbound money, the part that went around a loop back to it, best first.

    A loop carries at most its weakest link; unknown amounts stay unknown ("?"), never zero; deals in
    talks count only in the "with talks" column; denied and rejected deals not at all (docs/graph.md).
    """
    # Imported here so `ouroboros --help` stays fast and the other commands load without Neo4j.
    from rich.table import Table

    from graph.driver import get_driver
    from graph.exposure import exposure as compute
    from graph.exposure import exposure_to_csv, exposure_to_json, format_share
    from ouroboros.console import console, err_console
    from ouroboros.core.errors import ConfigError
    from ouroboros.core.formatting import format_usd

    if fmt not in ("table", "json", "csv"):
        raise ConfigError(f"unknown --format {fmt!r}; use table, json or csv")
    with get_driver() as driver:
        items = compute(driver, company, max_length=max_length)
    if fmt == "json":
        print(exposure_to_json(items))
        return
    if fmt == "csv":
        print(exposure_to_csv(items), end="")
        return
    table = Table(title=f"round-trip share, {len(items)} compan{'y' if len(items) == 1 else 'ies'}")
    table.add_column("company", no_wrap=True)
    for column in ("inbound", "round-tripped", "share", "loops", "with talks"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("loops behind it (weakest link)", ratio=1)
    for item in items:
        if item.inbound_unknown and not item.inbound_usd:
            inbound = f"? ({item.inbound_unknown} flow{'s' if item.inbound_unknown > 1 else ''})"
        else:
            inbound = format_usd(item.inbound_usd) + (f" +{item.inbound_unknown} ?" if item.inbound_unknown else "")
        loops = str(item.loops) + (f" ({item.unknown_loops} ?)" if item.unknown_loops else "")
        talks = "" if not item.tentative_loops else format_share(item.with_talks_share)
        behind = "\n".join(f"{s.chain} {format_usd(s.amount_usd)}{' (in talks)' if s.tentative else ''}"
                           for s in item.loop_list[:5])
        if len(item.loop_list) > 5:
            behind += f"\n... {len(item.loop_list) - 5} more (--format json)"
        table.add_row(item.company, inbound, format_usd(item.round_trip_usd),
                      format_share(item.share, item.lower_bound), loops, talks, behind)
    console.print(table)
    console.print("? = amount unknown (never counted as zero); ≥ = some loops' amounts are unknown.")
    if not items:
        err_console.print("No company is on a loop. Load deals first (`ouroboros run`).")
