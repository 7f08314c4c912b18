"""Placeholder so the CLI imports; the owner of this area replaces it."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def loops() -> None:
    """List the loops in the graph."""
    raise NotImplementedError
