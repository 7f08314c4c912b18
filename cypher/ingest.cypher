// Ingestion bookkeeping (flows/ingest.py): what the graph remembers of each document so that
// runs are incremental and nothing is lost. Properties of (:Document) beside the writer's:
// canonical_url, state ('fetched' | 'extracted' | 'loaded' | 'failed'), attempts, error,
// sources (every canonical URL that carried this text), embedding (all-MiniLM-L6-v2 of the text)
// and facts (its numbers and capitalised names), both for near-duplicates, text (kept only until the
// document is loaded, so a failed one is retried even when its source is gone), fetched_at, loaded_at,
// and the provenance an analyst cites: url, title, outlet, published, date_basis, form, filer.
// graph/model.py declares them.

// name: ingest_known_documents
// Every document the graph holds; one loaded by `ouroboros run` (no state) counts as loaded.
MATCH (d:Document)
RETURN d.id AS id, d.content_hash AS content_hash, coalesce(d.state, 'loaded') AS state,
       d.canonical_url AS canonical_url, coalesce(d.sources, []) AS sources, coalesce(d.attempts, 0) AS attempts

// name: ingest_document_embeddings
// The text embeddings and facts of loaded documents: what a new document is compared with
// for near-duplicates.
MATCH (d:Document)
WHERE d.embedding IS NOT NULL AND coalesce(d.state, 'loaded') = 'loaded'
RETURN d.id AS id, d.embedding AS embedding, coalesce(d.facts, []) AS facts

// name: ingest_pending_documents
// Documents fetched earlier whose extraction or load did not finish, with the text kept for them.
// params: max_attempts
MATCH (d:Document)
WHERE d.state IN ['fetched', 'extracted', 'failed'] AND coalesce(d.attempts, 0) < $max_attempts
  AND d.text IS NOT NULL
RETURN d.id AS id, d.text AS text, d.source AS source, d.title AS title, d.published AS published,
       d.url AS url, d.outlet AS outlet, d.date_basis AS date_basis, d.form AS form, d.filer AS filer

// name: ingest_mark_fetched
// params: rows, now
UNWIND $rows AS row
MERGE (d:Document {id: row.id})
SET d.source = row.source, d.title = row.title, d.published = row.published,
    d.url = row.url, d.outlet = row.outlet, d.date_basis = row.date_basis, d.form = row.form, d.filer = row.filer,
    d.content_hash = row.content_hash, d.canonical_url = row.canonical_url, d.text = row.text,
    d.embedding = row.embedding, d.facts = row.facts, d.state = 'fetched', d.fetched_at = $now,
    d.attempts = coalesce(d.attempts, 0),
    d.sources = CASE WHEN row.canonical_url IN coalesce(d.sources, []) THEN d.sources
                     ELSE coalesce(d.sources, []) + row.canonical_url END

// name: ingest_mark_extracted
// params: ids
UNWIND $ids AS id
MATCH (d:Document {id: id})
SET d.state = 'extracted'

// name: ingest_mark_failed
// The document stays with its text; the next run tries again (up to the attempt limit).
// params: rows
UNWIND $rows AS row
MATCH (d:Document {id: row.id})
SET d.state = 'failed', d.attempts = coalesce(d.attempts, 0) + 1, d.error = row.error

// name: ingest_mark_loaded
// params: ids, now
UNWIND $ids AS id
MATCH (d:Document {id: id})
SET d.state = 'loaded', d.error = null, d.text = null, d.loaded_at = $now

// name: ingest_add_sources
// A duplicate adds where it was seen to the document it repeats; it makes no deals of its own.
// params: rows
UNWIND $rows AS row
MATCH (d:Document {id: row.id})
WHERE NOT row.url IN coalesce(d.sources, [])
SET d.sources = coalesce(d.sources, []) + row.url
