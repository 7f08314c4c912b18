// Read-only statements that look at the whole graph: for tests, checks and debugging.

// name: inspect_nodes
// Every node: its first label, its key and its properties.
MATCH (n)
RETURN labels(n)[0] AS label, coalesce(n.id, n.name) + coalesce('/' + n.vendor, '') AS key, properties(n) AS props

// name: inspect_relationships
// Every relationship: its type, the keys of its ends and its properties.
MATCH (a)-[r]->(b)
RETURN type(r) AS type, coalesce(a.id, a.name) AS start, coalesce(b.id, b.name) AS end, properties(r) AS props

// name: inspect_counts
MATCH (n)
WITH count(n) AS nodes
OPTIONAL MATCH ()-[r]->()
RETURN nodes, count(r) AS relationships

// name: inspect_deals_per_document
MATCH (d:Deal)
RETURN d.doc AS doc, count(d) AS deals

// name: inspect_incomplete_deals
// Deals missing a payer, a payee, or their evidence and document: must always be 0.
MATCH (d:Deal)
WHERE NOT (d)<-[:PAYS]-(:Company) OR NOT (d)-[:TO]->(:Company)
   OR NOT (d)-[:STATED_BY]->(:Evidence)-[:IN_DOCUMENT]->(:Document)
RETURN count(d) AS deals

// name: inspect_company_names
MATCH (c:Company)
RETURN c.name AS name

// name: inspect_product_names
MATCH (p:Product)
RETURN p.name AS name, p.vendor AS vendor

// name: inspect_flows
MATCH (a:Company)-[f:FLOW]->(b:Company)
RETURN a.name AS from, b.name AS to, properties(f) AS props
ORDER BY from, to

// name: inspect_evidence_embedding_sizes
// The vector of each sentence, on its own node (none left on the Evidence node itself).
MATCH (e:Evidence)
OPTIONAL MATCH (e)-[:EMBEDDED_AS]->(v:EvidenceVector)
RETURN e.text AS text, size(v.embedding) AS dimensions, e.embedding IS NOT NULL AS on_evidence

// name: old_home_evidence_index
// An older home's vector index, on Evidence.embedding (graph.writer.ensure_schema drops it).
CREATE VECTOR INDEX evidence_embedding IF NOT EXISTS
FOR (e:Evidence) ON (e.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine'}}

// name: old_home_layout
// What an older writer stored: the embedding on the Evidence node and the fingerprint as JSON.
// params: embeddings, fingerprints
MATCH (e:Evidence)-[r:EMBEDDED_AS]->(v:EvidenceVector)
SET e.embedding = $embeddings[e.id]
DELETE r, v
WITH count(*) AS moved
MATCH (d:Deal)
SET d.fingerprint = $fingerprints[d.id]

// name: inspect_deal_bookkeeping
MATCH (d:Deal)
RETURN d.id AS id, d.fingerprint AS fingerprint, d.updated_at AS updated_at ORDER BY id

// name: inspect_alerts
MATCH (a:Alert)
RETURN a.loop_id AS loop_id, a.channel AS channel, a.pending AS pending, a.attempts AS attempts,
       a.last_error AS last_error, a.sent_at IS NOT NULL AS sent
