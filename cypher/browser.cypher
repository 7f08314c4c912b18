// Statements for analysts in Neo4j Browser: graph/browser/guide.py turns each into a
// clickable block of the Ouroboros guide. Statements with $company need
// `:param company => "OpenAI"` first (the guide has a block for it).

// name: browser_loops
// Every loop of 2 to 6 companies, drawn as a graph: the FLOWs between companies.
MATCH (s:Company)
WHERE s.scc IS NOT NULL
MATCH p = (s)((a:Company)-[:FLOW]->(b:Company) WHERE b.scc = s.scc AND b.name > s.name){1,5}(last:Company)-[:FLOW]->(s)
WHERE all(i IN range(1, size(nodes(p)) - 2) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1 .. size(nodes(p)) - 1])
RETURN p

// name: browser_loop_table
// Every loop as a row: the companies in flow order, each edge's kinds and largest amount.
MATCH (s:Company)
WHERE s.scc IS NOT NULL
MATCH p = (s)((a:Company)-[:FLOW]->(b:Company) WHERE b.scc = s.scc AND b.name > s.name){1,5}(last:Company)-[:FLOW]->(s)
WHERE all(i IN range(1, size(nodes(p)) - 2) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1 .. size(nodes(p)) - 1])
RETURN [n IN nodes(p) | n.name] AS loop, [f IN relationships(p) | f.label] AS flows,
       reduce(m = null, f IN relationships(p) | CASE WHEN m IS NULL OR f.amount_usd < m THEN f.amount_usd ELSE m END) AS weakest_usd,
       any(f IN relationships(p) WHERE f.tentative) AS tentative
ORDER BY size(loop), loop

// name: browser_loops_through_company
// The loops through $company, drawn as a graph.
// params: company
MATCH (s:Company)
WHERE s.scc IS NOT NULL
MATCH p = (s)((a:Company)-[:FLOW]->(b:Company) WHERE b.scc = s.scc AND b.name > s.name){1,5}(last:Company)-[:FLOW]->(s)
WHERE any(n IN nodes(p) WHERE n.name = $company)
  AND all(i IN range(1, size(nodes(p)) - 2) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1 .. size(nodes(p)) - 1])
RETURN p

// name: browser_company_deals
// Every deal $company pays or receives, with the sentence and document that state it.
// params: company
MATCH p = (:Company)-[:PAYS]->(d:Deal)-[:TO]->(:Company)
WHERE EXISTS { (c:Company {name: $company})-[:PAYS|TO]-(d) }
OPTIONAL MATCH q = (d)-[:STATED_BY]->(:Evidence)-[:IN_DOCUMENT]->(:Document)
OPTIONAL MATCH r = (d)-[:SPEND_BACK|MANDATES]->()
RETURN p, q, r

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
