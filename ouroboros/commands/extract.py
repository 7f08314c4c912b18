"""Placeholder so the CLI imports; the owner of this area replaces it."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


def extract() -> None:
    """Extract deal records from text files."""
    raise NotImplementedError


def evaluate() -> None:
    """Score an extractor against a gold folder."""
    raise NotImplementedError
