"""Neo4j Browser for analysts: a guide with clickable loop queries and a GRASS style sheet."""
