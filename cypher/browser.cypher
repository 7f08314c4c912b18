// Statements for analysts in Neo4j Browser: graph/browser/guide.py turns the browser_*
// ones into clickable blocks of the Ouroboros guide. Statements with $company or $loop
// need `:param company => "OpenAI"` or `:param loop => 1` first (the guide has blocks for
// them). The snapshot_* statements are written by graph/browser/snapshot.py: Loop nodes,
// and round-trip figures that Browser shows (the captions are the writer's).

// name: browser_loop_ranking
// Every loop as a row, best score first: its rank (for $loop), id, companies, money around
// it (its weakest link) and the round-trip share of each company on it.
MATCH (l:Loop)
RETURN l.rank AS rank, l.chain AS loop, l.money_usd AS money_around_usd, l.shares AS round_trip_shares,
       l.tentative AS in_talks, l.score AS score, l.id AS id
ORDER BY rank

// name: browser_one_loop
// Draw one loop: $loop is its rank (1 = best) or the first characters of its id.
// params: loop
MATCH (l:Loop)
WHERE l.rank = $loop OR (size(toString($loop)) >= 4 AND l.id STARTS WITH toString($loop))
WITH l ORDER BY l.rank LIMIT 1
UNWIND range(0, size(l.orgs) - 1) AS i
MATCH p = (:Company {name: l.orgs[i]})-[:FLOW]->(:Company {name: l.orgs[(i + 1) % size(l.orgs)]})
RETURN p

// name: browser_loop_deals
// The deals behind loop $loop as a table, one row per leg: each flow's deals with the sentence
// that states that leg (a spend-back or mandate leg cites its own sentence, not the
// investment's), the document's title, URL, outlet and date (rejected deals are marked).
// params: loop
MATCH (l:Loop)
WHERE l.rank = $loop OR (size(toString($loop)) >= 4 AND l.id STARTS WITH toString($loop))
WITH l ORDER BY l.rank LIMIT 1
UNWIND range(0, size(l.orgs) - 1) AS i
MATCH (a:Company {name: l.orgs[i]})-[f:FLOW]->(b:Company {name: l.orgs[(i + 1) % size(l.orgs)]})
UNWIND f.deal_ids AS deal_id
MATCH (d:Deal {id: deal_id})-[:STATED_BY]->(e:Evidence)
OPTIONAL MATCH (doc:Document {id: d.doc})
MATCH (payer:Company)-[:PAYS]->(d)-[:TO]->(payee:Company)
OPTIONAL MATCH (d)-[s:SPEND_BACK]->(b)
OPTIONAL MATCH (d)-[m:MANDATES]->(:Product)-[:MADE_BY]->(b)
WITH i, a, b, d, e, doc, payer, payee, payer = a AND payee = b AS own_leg,
     head(collect(s.evidence)) AS spend_back_text, head(collect(m.evidence)) AS mandate_text,
     count(s) > 0 AS spend_back
RETURN i + 1 AS step, a.name + ' -> ' + b.name AS flow,
       CASE WHEN own_leg THEN '' WHEN spend_back THEN 'spend-back of ' ELSE 'mandate of ' END
         + d.caption + ' ' + payer.name + ' -> ' + payee.name AS deal,
       CASE WHEN own_leg THEN e.text ELSE coalesce(spend_back_text, mandate_text, e.text) END AS sentence,
       coalesce(doc.title, d.doc) AS document, coalesce(doc.url, doc.source) AS url, doc.outlet AS outlet,
       coalesce(doc.published, left(d.first_seen, 10)) AS date,
       coalesce(d.review_note, '') AS review, d.id AS deal_id
ORDER BY step, date

// name: browser_company_loops
// The loops through $company as a table; draw one with `:param loop => <rank>` and the
// loop drawing above.
// params: company
MATCH (l:Loop)
WHERE $company IN l.orgs
RETURN l.rank AS rank, l.chain AS loop, l.money_usd AS money_around_usd, l.shares AS round_trip_shares,
       l.tentative AS in_talks
ORDER BY rank

// name: browser_company_roles
// Every deal of $company in every role: investor (pays), recipient, spend-back payee,
// mandated vendor, with the sentence and document that state it.
// params: company
MATCH (c:Company {name: $company})
CALL {
  WITH c MATCH (c)-[:PAYS]->(d:Deal) RETURN d, 'investor / payer' AS role
  UNION
  WITH c MATCH (d:Deal)-[:TO]->(c) RETURN d, 'recipient' AS role
  UNION
  WITH c MATCH (d:Deal)-[:SPEND_BACK]->(c) RETURN d, 'spend-back payee' AS role
  UNION
  WITH c MATCH (d:Deal)-[:MANDATES]->(:Product)-[:MADE_BY]->(c) RETURN d, 'mandated vendor' AS role
}
MATCH (a:Company)-[:PAYS]->(d)-[:TO]->(b:Company)
OPTIONAL MATCH (d)-[:STATED_BY]->(e:Evidence)
OPTIONAL MATCH (doc:Document {id: d.doc})
RETURN role, a.name AS from, d.caption AS deal, b.name AS to, e.text AS sentence,
       coalesce(doc.title, d.doc) AS document, coalesce(doc.url, doc.source) AS url,
       coalesce(d.review_note, '') AS review
ORDER BY role, from, to

// name: browser_company_deals
// Every deal $company pays or receives, drawn with the sentence and document that state it.
// params: company
MATCH p = (:Company)-[:PAYS]->(d:Deal)-[:TO]->(:Company)
WHERE EXISTS { (c:Company {name: $company})-[:PAYS|TO]-(d) }
OPTIONAL MATCH q = (d)-[:STATED_BY]->(:Evidence)-[:IN_DOCUMENT]->(:Document)
OPTIONAL MATCH r = (d)-[:SPEND_BACK|MANDATES]->()
RETURN p, q, r

// name: browser_round_trip_ranking
// The round-trip ranking: per company, its inbound money, the part that came back around
// a loop, and the share ("?" = unknown, never zero; see docs/graph.md).
MATCH (c:Company)
WHERE c.round_trip_text IS NOT NULL
RETURN c.name AS company, c.round_trip_text AS share, c.round_trip_usd AS round_trip_usd, c.inbound_usd AS inbound_usd
ORDER BY coalesce(c.round_trip_share, -1) DESC, coalesce(c.round_trip_usd, -1) DESC, company

// name: browser_review_trail
// The analysts' corrections, newest first: who, when, what and why.
MATCH (r:Review)
OPTIONAL MATCH (a:Company)-[:PAYS]->(d:Deal {id: r.target})-[:TO]->(b:Company)
RETURN left(r.at, 19) AS at, r.who AS who, r.action AS action, r.why AS why,
       CASE WHEN d IS NOT NULL THEN a.name + ' -> ' + b.name + ': ' + d.caption + ' (' + d.doc + ')'
            WHEN r.into IS NOT NULL THEN r.target + ' is ' + r.into
            ELSE r.target END AS concerns,
       r.target AS target
ORDER BY r.at DESC
LIMIT 100

// name: browser_rejected_deals
// Deals an analyst rejected: still in the graph, with the note, but in no flow or loop.
MATCH (a:Company)-[:PAYS]->(d:Deal {rejected: true})-[:TO]->(b:Company)
OPTIONAL MATCH (d)-[:STATED_BY]->(e:Evidence)
RETURN a.name AS from, d.caption AS deal, b.name AS to, d.review_note AS note, e.text AS sentence,
       d.id AS deal_id

// name: browser_flow_overview
// The money-flow map: every FLOW between companies (first 300).
MATCH p = (:Company)-[:FLOW]->(:Company)
RETURN p
LIMIT 300

// name: browser_evidence_table
// The evidence behind every deal, as a table, newest first.
MATCH (a:Company)-[:PAYS]->(d:Deal)-[:TO]->(b:Company)
MATCH (d)-[:STATED_BY]->(e:Evidence)
RETURN a.name AS from, d.kind AS kind, d.amount_text AS amount, b.name AS to, d.status AS status,
       d.doc AS document, e.text AS evidence
ORDER BY d.first_seen DESC, document
LIMIT 200

// name: browser_find_company
// Companies whose name looks like $company (full-text index; typos allowed with ~).
// params: company
CALL db.index.fulltext.queryNodes('names', $company + '~') YIELD node, score
RETURN labels(node) AS kind, node.name AS name, score
LIMIT 10

// name: snapshot_loops
// Replace the Loop snapshot with these rows.
// params: rows, now
MATCH (old:Loop)
WHERE NOT old.id IN [row IN $rows | row.id]
DETACH DELETE old
WITH count(*) AS removed
UNWIND $rows AS row
MERGE (l:Loop {id: row.id})
SET l += row, l.refreshed_at = $now

// name: snapshot_flow_captions
// params: rows
UNWIND $rows AS row
MATCH (:Company {name: row.from})-[f:FLOW]->(:Company {name: row.to})
SET f.short = row.short

// name: snapshot_company_figures
// Round-trip figures on the companies (cleared on the others).
// params: rows
MATCH (c:Company)
WHERE c.round_trip_text IS NOT NULL AND NOT c.name IN [row IN $rows | row.name]
SET c.round_trip_text = null, c.round_trip_share = null, c.round_trip_usd = null, c.inbound_usd = null
WITH count(*) AS cleared
UNWIND $rows AS row
MATCH (c:Company {name: row.name})
SET c.round_trip_text = row.text, c.round_trip_share = row.share, c.round_trip_usd = row.round_trip_usd,
    c.inbound_usd = row.inbound_usd

// name: snapshot_flows_without_caption
// FLOWs an older writer stored without a short caption (the writer sets it with the FLOW now).
MATCH (a:Company)-[f:FLOW]->(b:Company)
WHERE f.short IS NULL
RETURN a.name AS from, b.name AS to, f.kinds AS kinds, f.amount_usd AS amount_usd
