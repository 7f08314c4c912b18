// Statements of bench/loops_bench.py only: the bare baseline load and the wipe between runs.

// name: bench_wipe
// Empties the graph in small chunks (needs an auto-commit session): a company with thousands of
// relationships in a 10,000-row chunk overflows a 1 GB heap's transaction memory.
MATCH (n)
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS

// name: bench_create_companies
// params: names
UNWIND $names AS name
CREATE (:Company {name: name})

// name: bench_create_deals
// The floor: the same deals as the writer's, created without MERGE, evidence or FLOWs.
// params: rows
UNWIND $rows AS row
MATCH (a:Company {name: row.investor}), (b:Company {name: row.recipient})
CREATE (a)-[:PAYS]->(:Deal {id: row.id, kind: row.kind, amount_usd: row.amount_usd,
                            amount_text: row.amount_text, doc: row.doc})-[:TO]->(b)
