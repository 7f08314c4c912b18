// Loop statements (graph/loops.py). Loops are directed cycles of FLOW relationships
// (graph/model.py). Each cycle is found once: from its smallest company name (plain
// string order), walking only through larger names inside the same strongly connected
// component (Company.scc, kept fresh by graph.writer.refresh_components).

// name: find_loops
// Cycles of min_length..max_length FLOWs (at most 8: the quantifier below is 0..7 hops
// plus the closing one); company, when not null, keeps the loops through that company.
// params: min_length, max_length, company
OPTIONAL MATCH (target:Company {name: $company})
WITH target
WHERE $company IS NULL OR target IS NOT NULL
MATCH (s:Company)
WHERE s.scc IS NOT NULL AND (target IS NULL OR s.scc = target.scc)
MATCH p = (s)((a:Company)-[:FLOW]->(b:Company) WHERE b.scc = s.scc AND b.name > s.name){0,7}(last:Company)-[:FLOW]->(s)
WITH p, nodes(p) AS ns
WHERE $min_length <= length(p) <= $max_length
  AND all(i IN range(1, size(ns) - 2) WHERE NOT ns[i] IN ns[i + 1 .. size(ns) - 1])
  AND ($company IS NULL OR any(n IN ns WHERE n.name = $company))
RETURN [n IN ns[0 .. size(ns) - 1] | n.name] AS orgs,
       [f IN relationships(p) | f {.*, from: startNode(f).name, to: endNode(f).name}] AS edges
ORDER BY size(orgs), orgs

// name: deal_evidence
// The sentence behind each leg (a deal seen on one FLOW), with where and when its document was
// published, and for an amount stated in another currency the rate that gave its USD figure.
// A deal's own leg cites the deal's sentence; its spend-back or mandate leg cites the sentence
// of that leg (kept on SPEND_BACK / MANDATES), never the investment's when it was stated apart.
// params: legs
UNWIND $legs AS leg
MATCH (d:Deal {id: leg.deal_id})-[:STATED_BY]->(e:Evidence)
OPTIONAL MATCH (e)-[:IN_DOCUMENT]->(doc:Document)
OPTIONAL MATCH (payer:Company {name: leg.from})-[:PAYS]->(d)
OPTIONAL MATCH (d)-[s:SPEND_BACK]->(:Company {name: leg.to})
OPTIONAL MATCH (d)-[m:MANDATES]->(:Product)-[:MADE_BY]->(:Company {name: leg.to})
WITH leg, d, e, doc, payer IS NOT NULL AND EXISTS { (d)-[:TO]->(:Company {name: leg.to}) } AS own_leg,
     head(collect(s.evidence)) AS spend_back_text, head(collect(m.evidence)) AS mandate_text
RETURN d.id AS deal_id, leg.from AS from, leg.to AS to, d.doc AS doc,
       CASE WHEN own_leg THEN e.text ELSE coalesce(spend_back_text, mandate_text, e.text) END AS text,
       doc.title AS title, doc.url AS url,
       doc.outlet AS outlet, doc.published AS published, doc.date_basis AS date_basis,
       CASE WHEN d.fx_rate IS NULL THEN null ELSE d.amount_text END AS amount_text,
       d.fx_currency AS fx_currency, d.fx_rate AS fx_rate, d.fx_rate_date AS fx_rate_date, d.fx_basis AS fx_basis

// name: company_exists
// params: name
OPTIONAL MATCH (c:Company {name: $name})
RETURN c IS NOT NULL AS found

// name: search_names
// Companies whose name looks like the query (full-text index), best first.
// params: query, limit
CALL db.index.fulltext.queryNodes('names', $query) YIELD node, score
WHERE node:Company
RETURN node.name AS name, score
ORDER BY score DESC
LIMIT $limit

// name: similar_evidence
// Evidence sentences nearest in meaning to an embedding (vector index).
// params: embedding, limit
CALL db.index.vector.queryNodes('evidence_vector_embedding', $limit, $embedding) YIELD node, score
MATCH (e:Evidence)-[:EMBEDDED_AS]->(node)
RETURN e.doc AS doc, e.text AS text, score
