// Review (graph/review.py): an analyst's corrections, each a (:Review) node with who, when
// and why (the audit trail), and their effect on the graph: a rejected deal keeps its node
// (Deal.rejected, Deal.review_note) but forms no FLOW; a merged name's deals move to the
// canonical company. graph.review applies a correction when it is made; the writer honours
// the corrections in force as it writes (review_latest, review_flag_rejected).

// name: review_record
// One correction, appended to the audit trail and linked to the deal or company it concerns.
// params: row
CREATE (r:Review)
SET r = $row
WITH r
OPTIONAL MATCH (d:Deal {id: r.target})
OPTIONAL MATCH (c:Company {name: coalesce(r.into, r.target)})
FOREACH (_ IN CASE WHEN d IS NULL THEN [] ELSE [1] END | MERGE (r)-[:ABOUT]->(d))
FOREACH (_ IN CASE WHEN c IS NULL OR d IS NOT NULL OR r.action = 'dismiss' THEN [] ELSE [1] END | MERGE (r)-[:ABOUT]->(c))
RETURN r.id AS id

// name: review_latest
// The latest correction of each kind per target: what is in force now.
MATCH (r:Review)
WITH r ORDER BY r.at
WITH CASE WHEN r.action IN ['reject', 'restore'] THEN 'deal'
          WHEN r.action IN ['dismiss', 'undismiss'] THEN 'loop' ELSE 'name' END AS kind, r.target AS target,
     last(collect(r {.*})) AS latest
RETURN kind, target, latest

// name: review_trail
// The audit trail, newest first.
// params: limit
MATCH (r:Review)
RETURN r {.*} AS review
ORDER BY r.at DESC
LIMIT $limit

// name: review_find_deals
// The deals with these ids (or id prefixes of 8 or more characters), with their parties.
// params: ids
UNWIND $ids AS wanted
MATCH (a:Company)-[:PAYS]->(d:Deal)-[:TO]->(b:Company)
WHERE d.id = wanted OR (size(wanted) >= 8 AND d.id STARTS WITH wanted)
RETURN wanted, d.id AS id, a.name AS investor, b.name AS recipient, d.kind AS kind, d.amount_text AS amount,
       d.doc AS doc, coalesce(d.rejected, false) AS rejected

// name: review_sync_rejections
// Deal.rejected follows the trail: set on the rejected ids, cleared elsewhere, and the caption
// says so. Returns the deals whose flag changed.
// params: ids, notes, prefix
MATCH (d:Deal)
WHERE d.id IN $ids OR d.rejected = true
WITH d, d.id IN $ids AS wanted, coalesce(d.rejected, false) AS was
SET d.rejected = CASE WHEN wanted THEN true ELSE null END,
    d.review_note = CASE WHEN wanted THEN $notes[d.id] ELSE null END,
    d.caption = CASE
      WHEN wanted AND NOT d.caption STARTS WITH $prefix THEN $prefix + d.caption
      WHEN NOT wanted AND d.caption STARTS WITH $prefix THEN substring(d.caption, size($prefix))
      ELSE d.caption END
WITH d, wanted, was
WHERE wanted <> was
RETURN d.id AS id

// name: review_flag_rejected
// The writer, in the batch that writes these deals: they are rejected (the trail says so), so
// they carry the flag, the note and a caption that says it, and form no FLOW.
// params: rows, prefix
UNWIND $rows AS row
MATCH (d:Deal {id: row.id})
SET d.rejected = true, d.review_note = row.note,
    d.caption = CASE WHEN d.caption STARTS WITH $prefix THEN d.caption ELSE $prefix + d.caption END

// name: review_deal_pairs
// The company pairs the legs of these deals connect: the deal, its spend-back, its mandate.
// params: ids
UNWIND $ids AS id
MATCH (a:Company)-[:PAYS]->(d:Deal {id: id})-[:TO]->(b:Company)
OPTIONAL MATCH (d)-[:SPEND_BACK]->(payee:Company)
OPTIONAL MATCH (d)-[:MANDATES]->(:Product)-[:MADE_BY]->(vendor:Company)
RETURN a.name AS investor, b.name AS recipient, collect(DISTINCT payee.name) AS payees,
       collect(DISTINCT vendor.name) AS vendors

// name: review_merge_company
// Move every deal, spend-back and product of company $from to company $into, then delete
// $from with its FLOWs. Returns the pairs whose FLOW must be derived again (with $from
// already replaced by $into).
// params: from, into
MATCH (a:Company {name: $from})
MERGE (b:Company {name: $into})
WITH a, b,
     COLLECT { MATCH (a)-[:FLOW]->(x:Company) RETURN [b.name, x.name] } +
     COLLECT { MATCH (x:Company)-[:FLOW]->(a) RETURN [x.name, b.name] } AS pairs
CALL { WITH a, b MATCH (a)-[r:PAYS]->(d:Deal) MERGE (b)-[:PAYS]->(d) DELETE r }
CALL { WITH a, b MATCH (d:Deal)-[r:TO]->(a) MERGE (d)-[:TO]->(b) DELETE r }
CALL { WITH a, b MATCH (d:Deal)-[r:SPEND_BACK]->(a) MERGE (d)-[s:SPEND_BACK]->(b) SET s += properties(r) DELETE r }
CALL { WITH a, b MATCH (p:Product)-[r:MADE_BY]->(a) MERGE (p)-[:MADE_BY]->(b) DELETE r }
CALL { WITH a, b MATCH (r:Review)-[x:ABOUT]->(a) MERGE (r)-[:ABOUT]->(b) DELETE x }
DETACH DELETE a
RETURN pairs

// name: review_upsert_flows
// params: rows
UNWIND $rows AS row
MATCH (a:Company {name: row.from}), (b:Company {name: row.to})
MERGE (a)-[f:FLOW]->(b)
SET f = row.props

// name: review_delete_flows
// params: pairs
UNWIND $pairs AS pair
MATCH (:Company {name: pair.from})-[f:FLOW]->(:Company {name: pair.to})
DELETE f

// name: review_find_flagged
// Whether some deal still carries a rejection flag (to clear once it is restored).
OPTIONAL MATCH (d:Deal {rejected: true})
RETURN count(d) > 0 AS flagged
