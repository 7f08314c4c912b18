// The writer's statements (graph/writer.py). Each runs inside the one transaction that
// loads a batch of whole documents, so a batch is written entirely or not at all.
// Rows are built by graph.writer from DealRecords; keys are stable ids (graph/model.py).

// name: lock_graph
// A batch's first statement: writing GraphState (the value stays the same) takes its lock until
// the batch commits, so batches of concurrent loads, and component refreshes, run one at a time
// and a batch's existence checks (existing_deals, existing_flows) stay true until it commits.
MERGE (s:GraphState {id: 'graph'})
SET s.flow_changes = coalesce(s.flow_changes, 0)

// name: upsert_documents
// Returns each document's `published` as stored, for the FLOWs the batch derives, and whether
// it has deals stored already (a batch of documents that have none has nothing to replace).
// params: rows
UNWIND $rows AS row
WITH row, EXISTS { MATCH (:Deal {doc: row.id}) } AS had_deals
MERGE (d:Document {id: row.id})
// Ingestion may have stored these already; a record-only document (no SourceDocument) keeps them.
SET d.source = coalesce(row.source, d.source), d.title = coalesce(row.title, d.title),
    d.content_hash = coalesce(row.content_hash, d.content_hash), d.published = coalesce(row.published, d.published),
    d.url = coalesce(row.url, d.url), d.outlet = coalesce(row.outlet, d.outlet),
    d.date_basis = coalesce(row.date_basis, d.date_basis), d.form = coalesce(row.form, d.form),
    d.filer = coalesce(row.filer, d.filer)
RETURN d.id AS id, d.published AS published, had_deals

// name: document_deal_legs
// Every flow leg of the deals these documents stated so far: the pairs to re-derive
// when the documents' deals are rewritten or removed.
// params: docs
UNWIND $docs AS doc
MATCH (d:Deal {doc: doc})
MATCH (a:Company)-[:PAYS]->(d)-[:TO]->(b:Company)
OPTIONAL MATCH (d)-[:SPEND_BACK]->(payee:Company)
OPTIONAL MATCH (d)-[:MANDATES]->(:Product)-[:MADE_BY]->(vendor:Company)
RETURN a.name AS investor, b.name AS recipient, collect(DISTINCT payee.name) AS payees,
       collect(DISTINCT vendor.name) AS vendors

// name: delete_stale_deals
// A document's records are its complete set of deals: drop the ones it no longer states.
// params: docs, keep
UNWIND $docs AS doc
MATCH (d:Deal {doc: doc})
WHERE NOT d.id IN $keep
DETACH DELETE d

// name: delete_deal_extras
// Spend-backs and mandates are rewritten from the records on every load.
// params: ids
UNWIND $ids AS id
MATCH (d:Deal {id: id})-[r:SPEND_BACK|MANDATES]->()
DELETE r

// name: delete_orphan_evidence
// A sentence no deal cites any more goes, with its vector.
// params: docs
UNWIND $docs AS doc
MATCH (e:Evidence {doc: doc})
WHERE NOT EXISTS { (:Deal)-[:STATED_BY]->(e) }
OPTIONAL MATCH (e)-[:EMBEDDED_AS]->(v:EvidenceVector)
DETACH DELETE e, v

// name: upsert_companies
// params: names
UNWIND $names AS name
MERGE (:Company {name: name})

// name: upsert_evidence
// params: rows
UNWIND $rows AS row
MATCH (doc:Document {id: row.doc})
MERGE (e:Evidence {id: row.id})
SET e.text = row.text, e.doc = row.doc
MERGE (e)-[:IN_DOCUMENT]->(doc)

// name: evidence_without_embedding
// params: ids
UNWIND $ids AS id
OPTIONAL MATCH (e:Evidence {id: id})
WITH id, e
WHERE e IS NULL OR NOT EXISTS { (e)-[:EMBEDDED_AS]->(:EvidenceVector) }
RETURN id

// name: set_evidence_embeddings
// The vector on its own node, so Browser's panel for the sentence shows the sentence.
// params: rows
UNWIND $rows AS row
MATCH (e:Evidence {id: row.id})
MERGE (v:EvidenceVector {id: row.id})
MERGE (e)-[:EMBEDDED_AS]->(v)
WITH v, row
CALL db.create.setNodeVectorProperty(v, 'embedding', row.embedding)

// name: existing_deals
// The deal ids already stored (the rest are created without MERGE).
// params: ids
UNWIND $ids AS id
MATCH (d:Deal {id: id})
RETURN id

// name: create_deals
// Deals the graph does not hold yet (checked in the same transaction; one writer per home):
// plain CREATE, as fast as the bare load, plus the evidence link. A deal id appears once in $rows.
// params: rows, now
UNWIND $rows AS row
MATCH (investor:Company {name: row.investor})
MATCH (recipient:Company {name: row.recipient})
MATCH (e:Evidence {id: row.evidence_id})
CREATE (investor)-[:PAYS]->(d:Deal {id: row.id, doc: row.doc, kind: row.kind, amount_usd: row.amount_usd,
        amount_text: row.amount_text, status: row.status, extractor: row.extractor, confidence: row.confidence,
        caption: row.caption, fingerprint: row.fingerprint, first_seen: $now, updated_at: $now,
        fx_currency: row.fx_currency, fx_amount: row.fx_amount, fx_rate: row.fx_rate, fx_rate_date: row.fx_rate_date,
        fx_basis: row.fx_basis})-[:TO]->(recipient)
CREATE (d)-[:STATED_BY {extractor: row.extractor, confidence: row.confidence}]->(e)

// name: upsert_deals
// Deals stored before: `updated_at` moves only when the deal's content changed (its fingerprint).
// params: rows, now
UNWIND $rows AS row
MATCH (investor:Company {name: row.investor})
MATCH (recipient:Company {name: row.recipient})
MATCH (e:Evidence {id: row.evidence_id})
MERGE (d:Deal {id: row.id})
ON CREATE SET d.first_seen = $now, d.updated_at = $now
SET d.updated_at = CASE WHEN d.fingerprint = row.fingerprint THEN d.updated_at ELSE $now END
SET d.doc = row.doc, d.kind = row.kind, d.amount_usd = row.amount_usd, d.amount_text = row.amount_text,
    d.status = row.status, d.extractor = row.extractor, d.confidence = row.confidence,
    d.caption = row.caption, d.fingerprint = row.fingerprint,
    d.fx_currency = row.fx_currency, d.fx_amount = row.fx_amount, d.fx_rate = row.fx_rate,
    d.fx_rate_date = row.fx_rate_date, d.fx_basis = row.fx_basis
MERGE (investor)-[:PAYS]->(d)
MERGE (d)-[:TO]->(recipient)
MERGE (d)-[s:STATED_BY]->(e)
SET s.extractor = row.extractor, s.confidence = row.confidence
RETURN d.id AS id, d.first_seen AS first_seen

// name: upsert_spend_backs
// The recipient's spend at the payee, with the sentence that states that leg (`evidence`).
// params: rows
UNWIND $rows AS row
MATCH (d:Deal {id: row.deal_id})
MATCH (payee:Company {name: row.payee})
MERGE (d)-[s:SPEND_BACK]->(payee)
SET s.what = row.what, s.amount_usd = row.amount_usd, s.evidence = row.evidence

// name: upsert_mandates
// params: rows
UNWIND $rows AS row
MATCH (d:Deal {id: row.deal_id})
MATCH (vendor:Company {name: row.vendor})
MERGE (p:Product {name: row.product, vendor: row.vendor})
MERGE (p)-[:MADE_BY]->(vendor)
MERGE (d)-[m:MANDATES]->(p)
SET m.evidence = row.evidence

// name: existing_flows
// The pairs that have a FLOW now.
// params: pairs
UNWIND $pairs AS pair
MATCH (:Company {name: pair.from})-[:FLOW]->(:Company {name: pair.to})
RETURN pair.from AS from, pair.to AS to

// name: read_flow_legs
// Every deal leg from one company to another, for pairs whose FLOW exists and is re-derived,
// with the FLOW's properties now (null when it has none). A rejected deal (graph.review) has no leg.
// params: pairs
UNWIND $pairs AS pair
MATCH (a:Company {name: pair.from}), (b:Company {name: pair.to})
OPTIONAL MATCH (a)-[f:FLOW]->(b)
WITH a, b, f,
  COLLECT {
    MATCH (a)-[:PAYS]->(d:Deal)-[:TO]->(b)
    WHERE d.rejected IS NULL
    OPTIONAL MATCH (doc:Document {id: d.doc})
    RETURN {deal_id: d.id, kind: d.kind, amount_usd: d.amount_usd, status: d.status, doc: d.doc,
            first_seen: d.first_seen, confidence: d.confidence, published: doc.published}
  } +
  COLLECT {
    MATCH (a)<-[:TO]-(d:Deal)-[s:SPEND_BACK]->(b)
    WHERE d.rejected IS NULL
    OPTIONAL MATCH (doc:Document {id: d.doc})
    RETURN {deal_id: d.id, kind: 'spend_back', amount_usd: s.amount_usd, status: d.status, doc: d.doc,
            first_seen: d.first_seen, confidence: d.confidence, published: doc.published}
  } +
  COLLECT {
    MATCH (a)<-[:TO]-(d:Deal)-[:MANDATES]->(:Product)-[:MADE_BY]->(b)
    WHERE d.rejected IS NULL
    OPTIONAL MATCH (doc:Document {id: d.doc})
    RETURN {deal_id: d.id, kind: 'mandate', amount_usd: null, status: d.status, doc: d.doc,
            first_seen: d.first_seen, confidence: d.confidence, published: doc.published}
  } AS legs
RETURN a.name AS from, b.name AS to, properties(f) AS current, legs

// name: create_flows
// FLOWs of pairs that had none (checked under the lock_graph lock).
// params: rows
UNWIND $rows AS row
MATCH (a:Company {name: row.from}), (b:Company {name: row.to})
CREATE (a)-[f:FLOW]->(b)
SET f = row.props

// name: upsert_flows
// params: rows
UNWIND $rows AS row
MATCH (a:Company {name: row.from}), (b:Company {name: row.to})
MERGE (a)-[f:FLOW]->(b)
SET f = row.props

// name: delete_flows
// params: pairs
UNWIND $pairs AS pair
MATCH (:Company {name: pair.from})-[f:FLOW]->(:Company {name: pair.to})
DELETE f

// name: count_flow_changes
// FLOWs appeared or vanished: count them, and mark their companies for the incremental
// component refresh while the count stays within the limit (above it the refresh walks the
// whole FLOW graph and needs no marks): `dirty` is true at an end of a FLOW that appeared
// (it can join components), false at an end of one that only vanished (it can split one).
// The batch holds the GraphState lock already (lock_graph).
// params: changes, rows, limit
MERGE (s:GraphState {id: 'graph'})
SET s.flow_changes = coalesce(s.flow_changes, 0) + $changes
WITH s
WHERE s.flow_changes <= $limit
UNWIND $rows AS row
MATCH (c:Company {name: row.name})
SET c.dirty = coalesce(c.dirty, false) OR row.added

// name: flow_edges
// The FLOW edge list (for cross-checks).
MATCH (a:Company)-[:FLOW]->(b:Company)
RETURN a.name AS from, b.name AS to

// name: components_state
// How many FLOWs appeared or vanished since Company.scc was brought up to date (read without a lock).
OPTIONAL MATCH (s:GraphState {id: 'graph'})
RETURN coalesce(s.flow_changes, 0) AS changes

// name: lock_components
// The refresh's first statement: writing GraphState takes its lock until the refresh commits,
// so no batch can count a FLOW change in between; then reads the count under the lock.
// params: now
MERGE (s:GraphState {id: 'graph'})
SET s.components_at = $now
RETURN coalesce(s.flow_changes, 0) AS changes

// name: dirty_companies
// The companies with a FLOW that appeared or vanished since the last refresh, and their old component.
MATCH (c:Company)
WHERE c.dirty IS NOT NULL
RETURN c.name AS name, c.scc AS scc, c.dirty AS added

// name: flow_successors
// params: names
UNWIND $names AS name
MATCH (:Company {name: name})-[:FLOW]->(b:Company)
RETURN name AS from, b.name AS to

// name: flow_predecessors
// params: names
UNWIND $names AS name
MATCH (a:Company)-[:FLOW]->(:Company {name: name})
RETURN a.name AS from, name AS to

// name: companies_components
// params: names
UNWIND $names AS name
MATCH (c:Company {name: name})
RETURN name, c.scc AS scc

// name: component_members
// params: sccs
UNWIND $sccs AS scc
MATCH (c:Company {scc: scc})
RETURN c.name AS name, scc

// name: flow_adjacency
// The FLOW graph for the whole-graph refresh, by internal node id (a short integer travels
// faster than a name; the ids are used only within this transaction). A company with no
// incoming or no outgoing FLOW lies on no cycle: the companies that have both are found first
// (a degree check per company, not per edge), and only the FLOWs between them are expanded.
MATCH (a:Company)
WHERE EXISTS { (a)<-[:FLOW]-() } AND EXISTS { (a)-[:FLOW]->() }
WITH collect(a) AS inner
UNWIND inner AS a
MATCH (a)-[:FLOW]->(b:Company)
WHERE b IN inner
RETURN id(a) AS from, collect(id(b)) AS to

// name: company_names_by_id
// params: ids
UNWIND $ids AS id
MATCH (c:Company)
WHERE id(c) = id
RETURN id, c.name AS name

// name: current_components
MATCH (c:Company)
WHERE c.scc IS NOT NULL
RETURN c.name AS name, c.scc AS scc

// name: set_components
// params: rows
UNWIND $rows AS row
MATCH (c:Company {name: row.name})
SET c.scc = row.scc

// name: finish_components
// The refresh's last statement, under the lock it took first: the marks it read are cleared
// and the count starts again from zero.
// params: now
OPTIONAL MATCH (c:Company)
WHERE c.dirty IS NOT NULL
REMOVE c.dirty
WITH count(c) AS cleared
MERGE (s:GraphState {id: 'graph'})
SET s.flow_changes = 0, s.components_at = $now
