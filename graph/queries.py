"""Named Cypher statements, loaded from ``cypher/*.cypher`` (aiosql style).

A file holds blocks like::

    // name: upsert_companies
    // Free text lines after the header document the statement.
    // params: rows
    UNWIND $rows AS row MERGE (c:Company {name: row.name})

``// params:`` lists every ``$parameter`` the statement uses; a block without it takes
no parameters. A duplicate name, an empty statement, or a parameter that is used but
not declared (or declared but unused) fails when the files are loaded, not mid-run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ouroboros.core.errors import GraphError, ServerError
from ouroboros.core.textblocks import BlockError, split_blocks

CYPHER_DIR = Path(__file__).resolve().parent.parent / "cypher"

_NAME_LINE = re.compile(r"^\s*//\s*name:\s*(?P<name>\S*)\s*$")
_PARAMS_LINE = re.compile(r"^\s*//\s*params:(?P<params>.*)$")
_COMMENT_LINE = re.compile(r"^\s*//")
_VALID_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# A Cypher parameter; `$` inside a string literal is not one, so string literals are blanked first.
_PARAM_USE = re.compile(r"\$(?P<param>[A-Za-z_][A-Za-z0-9_]*)")
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


@dataclass(frozen=True)
class Query:
    """One named statement: its Cypher text and the parameters it takes."""

    name: str
    text: str
    params: frozenset[str]
    doc: str
    source: Path

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``params`` as a dict after checking they are exactly the declared ones."""
        given = set(params)
        missing, extra = self.params - given, given - self.params
        if missing or extra:
            raise GraphError(
                f"query {self.name!r} ({self.source.name}) takes parameters {sorted(self.params)}; "
                f"missing {sorted(missing)}, unexpected {sorted(extra)}: fix the caller"
            )
        return dict(params)


def parse_cypher(text: str, source: Path) -> list[Query]:
    """Split one ``.cypher`` file into named, checked statements."""
    try:
        blocks = split_blocks(text, source, _NAME_LINE, preamble=_COMMENT_LINE)
    except BlockError as e:
        raise GraphError(f"{e}: name each statement with a '// name:' line") from e
    for block in blocks:
        if not _VALID_NAME.match(block.name):
            raise GraphError(f"{source}:{block.line}: query name {block.name!r} must be lower_snake_case")
    return [_build(block.name, list(block.lines), source) for block in blocks]


def _build(name: str, lines: list[str], source: Path) -> Query:
    declared: frozenset[str] = frozenset()
    doc: list[str] = []
    body: list[str] = []
    for line in lines:
        params = _PARAMS_LINE.match(line)
        if params:
            declared = frozenset(p.strip().lstrip("$") for p in params["params"].split(",") if p.strip())
        elif _COMMENT_LINE.match(line):
            if not body:
                doc.append(line.strip().removeprefix("//").strip())
        else:
            body.append(line)
    statement = "\n".join(body).strip().rstrip(";").strip()
    if not statement:
        raise GraphError(f"{source}: query {name!r} has no statement")
    used = frozenset(m["param"] for m in _PARAM_USE.finditer(_STRING_LITERAL.sub("''", statement)))
    if used != declared:
        raise GraphError(
            f"{source}: query {name!r} uses parameters {sorted(used)} but declares {sorted(declared)}; "
            "make its '// params:' line match the statement"
        )
    return Query(name=name, text=statement, params=declared, doc=" ".join(d for d in doc if d), source=source)


def load_queries(directory: Path = CYPHER_DIR) -> dict[str, Query]:
    """Load every statement of every ``*.cypher`` file in ``directory``; names are unique."""
    if not directory.is_dir():
        raise GraphError(f"Cypher folder {directory} not found; reinstall the project or restore cypher/")
    queries: dict[str, Query] = {}
    for path in sorted(directory.glob("*.cypher")):
        for query in parse_cypher(path.read_text(encoding="utf-8"), path):
            if query.name in queries:
                raise GraphError(
                    f"query {query.name!r} is defined twice ({queries[query.name].source.name} and {path.name})"
                )
            queries[query.name] = query
    return queries


@lru_cache(maxsize=1)
def all_queries() -> dict[str, Query]:
    """Every statement of ``cypher/``, loaded and checked once per process."""
    return load_queries()


def get_query(name: str) -> Query:
    """The statement called ``name``; an unknown name fails loudly."""
    queries = all_queries()
    try:
        return queries[name]
    except KeyError:
        raise GraphError(f"no Cypher statement named {name!r} in {CYPHER_DIR}; known: {sorted(queries)}") from None


def run_query(runner: Any, name: str, /, **params: Any) -> Any:
    """Run statement ``name`` on a session or transaction with checked ``params``; returns its result."""
    return run_statement(runner, get_query(name), **params)


def run_statement(runner: Any, query: Query, /, **params: Any) -> Any:
    """Run a loaded statement (also one of the tests' or benchmarks' own folders) with checked ``params``."""
    return runner.run(query.text, query.check(params))


def server_gone(error: Exception) -> ServerError:
    """Neo4j stopped answering mid-command: a server problem (exit 4); what was committed stays."""
    return ServerError(
        f"Neo4j stopped answering ({error}); what was stored before is kept. Check `ouroboros neo4j status`, "
        "start it again (`ouroboros neo4j start`) and rerun"
    )
