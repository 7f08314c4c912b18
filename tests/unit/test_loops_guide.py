"""The Neo4j Browser guide is built from the named statements of cypher/browser.cypher."""

from __future__ import annotations

import html
import re

from graph.browser.guide import SLIDES, STYLE_PATH, render_guide
from graph.queries import all_queries


def test_every_runnable_block_is_a_named_statement_or_a_browser_command() -> None:
    guide = render_guide("http://localhost:8765/style.grass")
    blocks = [html.unescape(b) for b in re.findall(r'<pre class="pre-scrollable code runnable">(.*?)</pre>', guide,
                                                   flags=re.S)]
    statements = {q.text for q in all_queries().values()}
    cypher = [b for b in blocks if not b.startswith(":")]
    assert len(cypher) == sum(len(names) for _, _, _, names in SLIDES)
    assert all(block in statements for block in cypher)
    assert ':param company => "OpenAI"' in blocks and ":style http://localhost:8765/style.grass" in blocks
    assert guide.startswith('<article class="guide"><carousel') and guide.count("<slide") == len(SLIDES) + 1


def test_style_sheet_tells_labels_apart_and_labels_flows() -> None:
    style = STYLE_PATH.read_text()
    assert "/*" not in style  # Browser's GRASS parser reads a comment as a selector
    colours = {label: re.search(rf"node\.{label} \{{[^}}]*color: (#\w+);", style)[1]  # type: ignore[index]
               for label in ("Company", "Product", "Deal")}
    assert len(set(colours.values())) == 3
    assert re.search(r"relationship\.FLOW \{[^}]*caption: '\{short\}';", style)
    assert re.search(r"node\.Deal \{[^}]*caption: '\{caption\}';", style)


def test_short_captions_fit_on_a_line() -> None:
    from graph.captions import deal_caption, flow_caption

    assert flow_caption(["investment", "spend_back"], 1e11) == "$100B invest +1"
    assert flow_caption(["mandate", "purchase", "spend_back"], None) == "buy +2"
    assert deal_caption("purchase", 3e11, "announced") == "$300B purchase, announced"
    assert deal_caption("investment", None, "in_talks", rejected=True) == "REJECTED investment, in talks"
