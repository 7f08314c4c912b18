"""Named text blocks: one file holds several named parts, each opened by a header line.

Cypher files (``// name: upsert_companies``) and LLM prompt files (``<!-- role: system -->``)
are both read this way; each caller gives the header pattern and checks its own blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TextBlock:
    """One named part of a file: its name, its lines and where it starts (1-based)."""

    name: str
    lines: tuple[str, ...]
    line: int
    source: Path


class BlockError(ValueError):
    """A file of named blocks is malformed; the message names the file and line."""


def split_blocks(text: str, source: Path, header: re.Pattern[str], *, preamble: re.Pattern[str] | None = None) -> list[TextBlock]:
    """Split ``text`` at lines matching ``header`` (which captures the block's name as group ``name``).

    Lines before the first header must be blank or match ``preamble`` (comments); anything else
    raises ``BlockError``, so stray content never silently joins no block.
    """
    blocks: list[tuple[str, int, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        match = header.match(line)
        if match:
            blocks.append((match["name"], lineno, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip() and not (preamble is not None and preamble.match(line)):
            raise BlockError(f"{source}:{lineno}: text before the first block header; start it with a header line")
    return [TextBlock(name=name, lines=tuple(lines), line=lineno, source=source) for name, lineno, lines in blocks]
