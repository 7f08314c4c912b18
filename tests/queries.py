"""The tests' own Cypher (tests/cypher/*.cypher: inspecting the graph), beside the project's statements.

Test-only statements live here, not in cypher/, so the project ships only what it runs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from graph.queries import Query, all_queries, load_queries, run_statement

TEST_CYPHER = Path(__file__).resolve().parent / "cypher"


@lru_cache(maxsize=1)
def test_queries() -> dict[str, Query]:
    """The tests' statements; a name that clashes with one of cypher/ fails loudly."""
    own = load_queries(TEST_CYPHER)
    clash = set(own) & set(all_queries())
    assert not clash, f"tests/cypher redefines project statements {sorted(clash)}"
    return own


def run_test_query(runner: Any, name: str, /, **params: Any) -> Any:
    """Run a statement of tests/cypher, else of cypher/, with checked parameters."""
    query = test_queries().get(name) or all_queries().get(name)
    assert query is not None, f"no Cypher statement {name!r} in tests/cypher or cypher/"
    return run_statement(runner, query, **params)
