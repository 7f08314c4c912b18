// Round-trip share (graph/exposure.py): how much of a company's inbound money is its own
// money coming back around a loop. See docs/graph.md, "Round-trip share".

// name: exposure_flows
// Every FLOW with the legs behind it, read again from the deals so that the committed
// amount (legs not in talks) and the amount including talks can be told apart, and so
// that deals an analyst rejected (Deal.rejected, cypher/review.cypher) are left out.
MATCH (a:Company)-[f:FLOW]->(b:Company)
RETURN a.name AS from, b.name AS to,
  COLLECT {
    MATCH (a)-[:PAYS]->(d:Deal)-[:TO]->(b)
    WHERE d.rejected IS NULL OR d.rejected = false
    RETURN {deal_id: d.id, kind: d.kind, amount_usd: d.amount_usd, status: d.status}
  } +
  COLLECT {
    MATCH (a)<-[:TO]-(d:Deal)-[s:SPEND_BACK]->(b)
    WHERE d.rejected IS NULL OR d.rejected = false
    RETURN {deal_id: d.id, kind: 'spend_back', amount_usd: s.amount_usd, status: d.status}
  } +
  COLLECT {
    MATCH (a)<-[:TO]-(d:Deal)-[:MANDATES]->(:Product)-[:MADE_BY]->(b)
    WHERE d.rejected IS NULL OR d.rejected = false
    RETURN {deal_id: d.id, kind: 'mandate', amount_usd: null, status: d.status}
  } AS legs
ORDER BY from, to
