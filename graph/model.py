"""The graph model, written down once: labels, keys, relationship types and their properties.

``cypher/schema.cypher``, the writer's statements in ``cypher/write.cypher`` and the tests follow
this module (``tests/unit/test_queries.py`` checks that the schema covers every key and that the
write statements use only the labels and relationship types declared here). ``docs/graph.md``
draws it.

Money moves along ``(:Company)-[:PAYS]->(:Deal)-[:TO]->(:Company)``; each deal is its own node,
so two deals between the same pair stay two. The writer derives one walkable
``(:Company)-[:FLOW]->(:Company)`` per ordered pair from every deal leg that is not denied; the
loop queries walk only ``FLOW``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ouroboros.core.ids import stable_hash

LegRole = Literal["deal", "spend_back", "mandate"]


@dataclass(frozen=True)
class NodeSpec:
    """A node label, the properties that identify it and the ones it carries."""

    label: str
    key: tuple[str, ...]
    properties: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class RelSpec:
    """A relationship type between two labels and its properties."""

    type: str
    start: str
    end: str
    properties: tuple[str, ...]
    doc: str


COMPANY = NodeSpec(
    "Company",
    key=("name",),
    properties=("name", "scc", "dirty", "inbound_usd", "round_trip_usd", "round_trip_share", "round_trip_text"),
    doc=(
        "A canonical company name. `scc` names its strongly connected component of FLOWs (null when alone); "
        "`dirty` is set while a FLOW of it appeared or vanished and `scc` is not yet updated for it; "
        "the round-trip figures are a Browser snapshot (graph/browser/snapshot.py)."
    ),
)
PRODUCT = NodeSpec(
    "Product",
    key=("name", "vendor"),
    properties=("name", "vendor"),
    doc="Hardware or a cloud a deal mandates (Trainium, Vera Rubin), made by `vendor`.",
)
DOCUMENT = NodeSpec(
    "Document",
    key=("id",),
    properties=(
        "id", "source", "title", "content_hash", "published",
        # Where and when it was published, as an analyst cites it (ouroboros.core.records.SourceDocument).
        "url", "outlet", "date_basis", "form", "filer",
        # Ingestion bookkeeping (cypher/ingest.cypher, flows/ingest.py).
        "canonical_url", "state", "attempts", "error", "sources", "embedding", "facts", "text", "fetched_at",
        "loaded_at",
    ),
    doc=(
        "A source document; `id` is the `doc` field of its records; `url`, `title`, `outlet`, `published` "
        "(ISO day), `date_basis` (stated/feed/page/filing/file_modified), `form` and `filer` say where and "
        "when it was published. Ingestion adds `state` "
        "(fetched/extracted/loaded/failed), `attempts`, `error`, `sources` (every URL that carried it), "
        "`embedding` and `facts` (of its text, for near-duplicates) and `text` (kept until it is loaded)."
    ),
)
EVIDENCE = NodeSpec(
    "Evidence",
    key=("id",),
    properties=("id", "text", "doc"),
    doc="The sentence(s) stating a deal; `id` = hash(doc, text).",
)
EVIDENCE_VECTOR = NodeSpec(
    "EvidenceVector",
    key=("id",),
    properties=("id", "embedding"),
    doc=("The embedding of an Evidence sentence (same `id`): 384 floats (all-MiniLM-L6-v2), vector index "
         "`evidence_vector_embedding`; a node of its own so Browser's panel for the sentence shows the sentence."),
)
DEAL = NodeSpec(
    "Deal",
    key=("id",),
    properties=(
        "id", "doc", "kind", "amount_usd", "amount_text", "status", "extractor", "confidence",
        # `caption` is what Browser shows ("$300B purchase, announced"; "REJECTED ..." when rejected);
        # `fingerprint` a 16-hex digest of the deal's content (updated_at moves when it changes).
        "caption", "fingerprint", "first_seen", "updated_at",
        # From the review trail (graph.review; the writer sets them on rejected deals it writes).
        "rejected", "review_note",
    ),
    doc="One deal one document states; `id` = DealRecord.deal_id. A rejected deal forms no FLOW.",
)
ALERT = NodeSpec(
    "Alert",
    key=("id",),
    properties=(
        "id", "loop_id", "channel", "orgs", "sent_state", "sent_fingerprint", "sent_at",
        "pending", "pending_since", "attempts", "last_error",
    ),
    doc="What was last delivered about one loop to one destination (`channel`), and what is pending.",
)
REVIEW = NodeSpec(
    "Review",
    key=("id",),
    properties=("id", "action", "target", "into", "who", "at", "why", "state"),
    doc=(
        "One analyst correction (graph/review.py): reject/restore a deal, merge a name into another, "
        "dismiss/undismiss a loop's alerts; the latest per target is in force."
    ),
)
LOOP = NodeSpec(
    "Loop",
    key=("id",),
    properties=("id", "rank", "chain", "orgs", "score", "money_usd", "tentative", "shares", "refreshed_at"),
    doc=(
        "A snapshot of one loop for Neo4j Browser (graph/browser/snapshot.py): its id, rank and the "
        "round-trip shares of its companies, so the guide can draw one loop at a time. Rewritten on refresh."
    ),
)
GRAPH_STATE = NodeSpec(
    "GraphState",
    key=("id",),
    properties=("id", "flow_changes", "components_at"),
    doc=(
        "A single bookkeeping node: `flow_changes` counts the FLOWs that appeared or vanished since "
        "`Company.scc` was last brought up to date (0 = up to date)."
    ),
)

PAYS = RelSpec("PAYS", "Company", "Deal", (), "The party the money or value comes from (investor, buyer, lender...).")
TO = RelSpec("TO", "Deal", "Company", (), "The party it goes to (recipient, vendor, warrant holder...).")
SPEND_BACK = RelSpec(
    "SPEND_BACK", "Deal", "Company", ("what", "amount_usd"),
    "The recipient's obligation to spend the money at this payee: a second flow recipient -> payee.",
)
MANDATES = RelSpec("MANDATES", "Deal", "Product", (), "The deal requires this hardware: a flow recipient -> vendor.")
MADE_BY = RelSpec("MADE_BY", "Product", "Company", (), "The product's vendor.")
STATED_BY = RelSpec("STATED_BY", "Deal", "Evidence", ("extractor", "confidence"), "Where the deal is stated.")
EMBEDDED_AS = RelSpec("EMBEDDED_AS", "Evidence", "EvidenceVector", (), "The sentence's embedding.")
IN_DOCUMENT = RelSpec("IN_DOCUMENT", "Evidence", "Document", (), "The document the sentence is in.")
ABOUT = RelSpec("ABOUT", "Review", "Deal", (), "The deal (or Company, for a merge) a correction concerns.")
FLOW = RelSpec(
    "FLOW", "Company", "Company",
    (
        "deal_ids", "kinds", "amount_usd", "statuses", "docs", "sources", "tentative", "confidence",
        "first_seen", "latest", "label",
        # A short caption for Neo4j Browser ("$100B invest +1"), set by the writer with the FLOW.
        "short",
    ),
    "Derived by the writer: every non-denied deal leg from start to end, aggregated; loop queries walk it.",
)

NODES: tuple[NodeSpec, ...] = (COMPANY, PRODUCT, DOCUMENT, EVIDENCE, EVIDENCE_VECTOR, DEAL, ALERT, REVIEW, LOOP, GRAPH_STATE)
RELATIONSHIPS: tuple[RelSpec, ...] = (
    PAYS, TO, SPEND_BACK, MANDATES, MADE_BY, STATED_BY, EMBEDDED_AS, IN_DOCUMENT, ABOUT, FLOW,
)

EMBEDDING_DIMENSIONS = 384
# Deals in these statuses do not move money, so they never make a FLOW.
NON_FLOW_STATUSES: frozenset[str] = frozenset({"denied"})
# Deals in these statuses make a FLOW that is marked tentative.
TENTATIVE_STATUSES: frozenset[str] = frozenset({"in_talks"})
# The longest loop the loop statement can walk (its quantifier is a literal in cypher/loops.cypher;
# tests/unit/test_queries.py ties the two together).
MAX_LOOP_LENGTH = 8
# Neo4j refuses a range-index key above about 8 KB (8,167 bytes for one string). Every indexed
# string the writer stores (names, document ids) must stay below this many UTF-8 bytes; a product's
# composite key (name, vendor) below it in total.
MAX_KEY_BYTES = 4000


def evidence_id(doc: str, text: str) -> str:
    """The id of an evidence node: the same sentence of the same document is one node."""
    return stable_hash("evidence", doc, text)


def loop_id(orgs: tuple[str, ...] | list[str]) -> str:
    """The id of a loop: a hash of its canonical org sequence (see ``graph.loops.canonical_rotation``)."""
    return stable_hash("loop", *orgs, size=16)
