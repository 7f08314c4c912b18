// Maintenance statements of the `ouroboros graph` and `ouroboros neo4j` commands.

// name: reset_graph
// Empty the graph: every node and relationship (schema constraints and indexes stay).
MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 1000 ROWS

// name: count_nodes
// How many nodes the graph holds (what `graph reset` reports it removed).
MATCH (n) RETURN count(n) AS nodes
