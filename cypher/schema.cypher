// The schema of graph/model.py: one uniqueness constraint per key, the indexes the
// writer and the loop statement look up by, a full-text index on names and a vector
// index on evidence embeddings (on EvidenceVector nodes). Every statement is idempotent (IF NOT EXISTS);
// graph.writer.ensure_schema runs them all, in file order.

// name: constraint_company_name
CREATE CONSTRAINT company_name IF NOT EXISTS FOR (c:Company) REQUIRE c.name IS UNIQUE

// name: constraint_product_key
CREATE CONSTRAINT product_key IF NOT EXISTS FOR (p:Product) REQUIRE (p.name, p.vendor) IS UNIQUE

// name: constraint_document_id
CREATE CONSTRAINT document_id IF NOT EXISTS FOR (d:Document) REQUIRE d.id IS UNIQUE

// name: constraint_evidence_id
CREATE CONSTRAINT evidence_id IF NOT EXISTS FOR (e:Evidence) REQUIRE e.id IS UNIQUE

// name: constraint_evidence_vector_id
// An Evidence node's embedding lives on its own node (same id), off the node an analyst clicks.
CREATE CONSTRAINT evidence_vector_id IF NOT EXISTS FOR (v:EvidenceVector) REQUIRE v.id IS UNIQUE

// name: constraint_deal_id
CREATE CONSTRAINT deal_id IF NOT EXISTS FOR (d:Deal) REQUIRE d.id IS UNIQUE

// name: constraint_alert_id
CREATE CONSTRAINT alert_id IF NOT EXISTS FOR (a:Alert) REQUIRE a.id IS UNIQUE

// name: constraint_review_id
CREATE CONSTRAINT review_id IF NOT EXISTS FOR (r:Review) REQUIRE r.id IS UNIQUE

// name: constraint_loop_id
CREATE CONSTRAINT loop_id IF NOT EXISTS FOR (l:Loop) REQUIRE l.id IS UNIQUE

// name: constraint_graph_state_id
CREATE CONSTRAINT graph_state_id IF NOT EXISTS FOR (s:GraphState) REQUIRE s.id IS UNIQUE

// name: index_deal_doc
// A document's deals are replaced as a whole on reload.
CREATE INDEX deal_doc IF NOT EXISTS FOR (d:Deal) ON (d.doc)

// name: index_evidence_doc
CREATE INDEX evidence_doc IF NOT EXISTS FOR (e:Evidence) ON (e.doc)

// name: index_company_scc
// The loop statement starts only from companies that sit in a cycle.
CREATE INDEX company_scc IF NOT EXISTS FOR (c:Company) ON (c.scc)

// name: index_company_dirty
// The incremental component refresh starts from the companies whose FLOWs changed.
CREATE INDEX company_dirty IF NOT EXISTS FOR (c:Company) ON (c.dirty)

// name: index_alert_channel
CREATE INDEX alert_channel IF NOT EXISTS FOR (a:Alert) ON (a.channel)

// name: fulltext_names
// Fuzzy lookup of companies and products by name ("did you mean ...?").
CREATE FULLTEXT INDEX names IF NOT EXISTS FOR (n:Company|Product) ON EACH [n.name]

// name: drop_evidence_embedding_index
// Older homes indexed Evidence.embedding; the vectors move to EvidenceVector nodes below.
DROP INDEX evidence_embedding IF EXISTS

// name: migrate_evidence_embeddings
// Older homes: move each Evidence.embedding to its (:EvidenceVector) (idempotent: nothing to move
// the second time). Runs in transactions of 1000, outside any explicit one (ensure_schema).
MATCH (e:Evidence)
WHERE e.embedding IS NOT NULL
CALL {
  WITH e
  MERGE (v:EvidenceVector {id: e.id})
  MERGE (e)-[:EMBEDDED_AS]->(v)
  WITH e, v
  CALL db.create.setNodeVectorProperty(v, 'embedding', e.embedding)
  REMOVE e.embedding
} IN TRANSACTIONS OF 1000 ROWS

// name: vector_evidence_embedding
// all-MiniLM-L6-v2 sentence embeddings: 384 dimensions, cosine similarity.
CREATE VECTOR INDEX evidence_vector_embedding IF NOT EXISTS
FOR (v:EvidenceVector) ON (v.embedding)
OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine'}}

// name: await_indexes
// Wait until every index is online before the first write uses it.
CALL db.awaitIndexes(300)
