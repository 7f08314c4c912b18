"""Placeholder so the CLI imports; the owner of this area replaces it."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def ingest() -> None:
    """Run the ingestion flow once."""
    raise NotImplementedError


def serve() -> None:
    """Serve the ingestion flow on its schedule."""
    raise NotImplementedError
