"""The named-Cypher loader and the statements of cypher/*.cypher."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graph import model
from graph.queries import CYPHER_DIR, get_query, load_queries, parse_cypher
from ouroboros.core.errors import GraphError


def test_every_statement_loads_with_matching_parameters() -> None:
    queries = load_queries()
    assert {"upsert_deals", "read_flow_legs", "find_loops", "constraint_deal_id"} <= set(queries)
    for query in queries.values():
        assert query.text and not query.text.endswith(";")
        used = set(re.findall(r"\$([A-Za-z_]\w*)", query.text))
        assert used == set(query.params), query.name


def test_test_and_bench_statements_live_beside_their_code_not_in_cypher() -> None:
    from pathlib import Path

    from tests.queries import test_queries

    shipped = load_queries()
    assert not [name for name in shipped if name.startswith(("inspect_", "bench_"))]
    assert "inspect_nodes" in test_queries()  # loads and checks like cypher/
    bench = load_queries(Path(__file__).resolve().parents[2] / "bench" / "cypher")
    assert {"bench_wipe", "bench_create_companies", "bench_create_deals"} <= set(bench)


def test_unknown_name_fails_loudly() -> None:
    with pytest.raises(GraphError, match="no Cypher statement named 'nope'"):
        get_query("nope")


def test_undeclared_parameter_fails_at_load() -> None:
    text = "// name: q\n// params: a\nMATCH (n {x: $a, y: $b}) RETURN n\n"
    with pytest.raises(GraphError, match=r"uses parameters \['a', 'b'\] but declares \['a'\]"):
        parse_cypher(text, Path("t.cypher"))


def test_unused_declared_parameter_fails_at_load() -> None:
    with pytest.raises(GraphError, match="declares"):
        parse_cypher("// name: q\n// params: a, b\nRETURN $a\n", Path("t.cypher"))


def test_dollar_inside_string_literal_is_not_a_parameter() -> None:
    (query,) = parse_cypher("// name: q\nRETURN '$100B' AS s, \"$x\" AS t\n", Path("t.cypher"))
    assert query.params == frozenset()


def test_statement_before_a_name_and_duplicates_fail(tmp_path: Path) -> None:
    with pytest.raises(GraphError, match="before the first"):
        parse_cypher("MATCH (n) RETURN n\n", Path("t.cypher"))
    (tmp_path / "a.cypher").write_text("// name: q\nRETURN 1\n")
    (tmp_path / "b.cypher").write_text("// name: q\nRETURN 2\n")
    with pytest.raises(GraphError, match="defined twice"):
        load_queries(tmp_path)


def test_call_checks_parameters() -> None:
    query = get_query("upsert_companies")
    assert query.check({"names": []}) == {"names": []}
    with pytest.raises(GraphError, match="missing"):
        query.check({})


def test_schema_follows_the_model() -> None:
    schema = (CYPHER_DIR / "schema.cypher").read_text()
    for node in model.NODES:
        match = re.search(rf"FOR \((\w+):{node.label}\) REQUIRE \(?([^)]*?)\)? IS UNIQUE", schema)
        assert match, f"no uniqueness constraint for {node.label}"
        var, keys = match.groups()
        assert [k.strip() for k in keys.split(",")] == [f"{var}.{k}" for k in node.key], node.label
    assert f"`vector.dimensions`: {model.EMBEDDING_DIMENSIONS}" in schema


def test_statements_use_only_model_labels_and_types() -> None:
    labels = {n.label for n in model.NODES}
    types = {r.type for r in model.RELATIONSHIPS}
    for query in load_queries().values():
        text = re.sub(r"'[^']*'", "''", query.text)
        for label in re.findall(r"\(\w*:(\w+)", text):
            assert label in labels, (query.name, label)
        for rel in re.findall(r"\[\w*:([\w|]+)", text):
            assert set(rel.split("|")) <= types, (query.name, rel)
