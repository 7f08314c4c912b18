// Data migrations of older homes that need Python (graph.writer.ensure_schema runs them after
// cypher/schema.cypher; each is idempotent and finds nothing to do on a current graph).

// name: migrate_json_fingerprints
// Deals whose fingerprint is still the JSON older writers stored (a digest never starts with '{').
// params: limit
MATCH (d:Deal)
WHERE d.fingerprint STARTS WITH '{'
RETURN d.id AS id, d.fingerprint AS fingerprint
LIMIT $limit

// name: migrate_set_fingerprints
// params: rows
UNWIND $rows AS row
MATCH (d:Deal {id: row.id})
SET d.fingerprint = row.fingerprint
