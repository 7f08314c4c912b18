"""Placeholder so the CLI imports; the owner of this area replaces it."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def run() -> None:
    """Run the main job on a corpus folder."""
    raise NotImplementedError
