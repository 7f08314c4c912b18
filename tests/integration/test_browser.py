"""Neo4j Browser in headless Chromium: log in, open the Ouroboros guide, run the loop query from it."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import networkx as nx
import pytest
from neo4j import Driver

from extractors.documents import split_front_matter
from extractors.evaluate import load_gold
from graph.browser.guide import CONNECT_OFF, browser_urls, serve_browser_files
from graph.browser.snapshot import refresh_browser
from graph.model import loop_id
from graph.review import reject_deal
from graph.server import LocalNeo4j, free_ports
from graph.writer import load_records
from ouroboros.core.records import DealRecord, SourceDocument

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# The repository's own corpus and gold: the suite never reads outside the checkout.
GOLD = Path(__file__).resolve().parents[2] / "corpus"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Short names: Browser truncates long captions inside the node circles.
LOOP_COMPANIES = {"NVIDIA", "OpenAI", "Oracle", "Microsoft", "AMD", "CoreWeave", "Amazon", "Anthropic", "Google"}
D01_URL = "https://news.example/2025/09/22/nvidia-openai"
D01_TITLE = "NVIDIA to put up to $100 billion into OpenAI, tightening a circle of AI spending"
BRIEF_INVESTMENT = "NVIDIA plans to invest $100 billion in OpenAI."
BRIEF_SPEND_BACK = "OpenAI will in turn spend that money on computing capacity from Oracle."


def gold_with_d01_sentences() -> tuple[list[DealRecord], list[SourceDocument]]:
    """The gold records (which carry no sentences), d01's three deals given theirs, and d01 as a web article."""
    text = (GOLD / "docs" / "d01.txt").read_text()
    sentences = [s.strip() + "." for s in text.replace("\n", " ").split(". ")]

    def sentence(start: str) -> str:
        found = next(s for s in sentences if start in s)
        return found[found.index(start):]

    evidence = {("NVIDIA", "OpenAI"): sentence("NVIDIA said on Monday"), ("OpenAI", "Oracle"): sentence("Earlier this month"),
                ("Oracle", "NVIDIA"): sentence("The cloud provider") + " " + sentence("Oracle reportedly")}
    def sentence_naming(doc: str, *names: str) -> str:
        """The document's first sentence naming every one of names (else the first naming the first), as the
        extractor would have quoted it: gold records carry no sentence, and an empty cell on screen reads as a bug."""
        path = next(p for p in (GOLD / "docs" / doc, GOLD / doc) if p.is_file())
        _, body = split_front_matter(path.read_text())
        doc_sentences = re.split(r"(?<=[.!?])\s+", body.replace("\n", " "))
        for wanted in (names, names[:1]):
            found = [s for s in doc_sentences if all(n.lower() in s.lower() for n in wanted)]
            if found:
                return found[0].strip()
        return ""

    records = []
    for line in load_gold(GOLD):
        for record in line.deals:
            if not record.evidence:
                record = record.model_copy(update={"evidence": sentence_naming(record.doc, record.investor, record.recipient)})
            if record.doc == "d01.txt":
                record = record.model_copy(update={"evidence": evidence[(record.investor, record.recipient)]})
            elif record.doc == "circular_deals_brief.txt" and record.spend_back and record.spend_back.payee == "Oracle":
                # A spend-back stated in a sentence of its own: its leg must cite that sentence.
                spend_back = record.spend_back.model_copy(update={"evidence": BRIEF_SPEND_BACK})
                record = record.model_copy(update={"evidence": BRIEF_INVESTMENT, "spend_back": spend_back})
            records.append(record)
    d01 = SourceDocument(doc="d01.txt", text=text, source=D01_URL, title=D01_TITLE, published="2025-09-22")
    return records, [d01]


@pytest.fixture
def guide_urls() -> Iterator[dict[str, str]]:
    (port,) = free_ports(1)
    server = serve_browser_files(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield browser_urls(port)
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)")
def test_analyst_reads_loops_companies_shares_and_reviews_from_the_guide(
    clean_graph: Driver, neo4j_server: LocalNeo4j, guide_urls: dict[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    records, documents = gold_with_d01_sentences()
    load_records(clean_graph, records, documents)
    restated = next(r for r in records if r.doc == "circular_deals_brief.txt" and r.kind == "stake_sale")
    reject_deal(clean_graph, restated.deal_id, who="ana", why="restates d13's stake sale")
    snapshot = refresh_browser(clean_graph)
    # The loops the corpus gold forms, computed apart from the graph (denied deals move no money).
    flows = [edge for r in records if r.status != "denied" and r.deal_id != restated.deal_id for edge in r.flows()]
    assert snapshot.loops == len(list(nx.simple_cycles(nx.DiGraph(flows), length_bound=6)))
    triangle = loop_id(("NVIDIA", "OpenAI", "Oracle"))
    credentials = json.loads(neo4j_server.connection_file.read_text())
    ARTIFACTS.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1500, "height": 1000},
        )
        # Tests never touch the network: Browser's calls home (fonts, usage reports) are refused.
        context.route(
            lambda url: urlparse(url).hostname not in ("127.0.0.1", "localhost"), lambda route: route.abort()
        )
        try:
            page = context.new_page()
            page.goto(credentials["browser_url"])
            page.get_by_test_id("username").fill(credentials["user"])
            page.get_by_test_id("password").fill(credentials["password"])
            page.get_by_test_id("connect").click()
            expect(page.get_by_text("You are connected as user")).to_be_visible(timeout=30_000)
            # The editor prompt names the database once Browser has read the server's settings
            # (among them the hosts it may load guides from).
            expect(page.get_by_test_id("activeEditor")).to_contain_text("neo4j$", timeout=30_000)

            def run(command: str | None = None, frame: bool = True) -> None:
                frames = page.locator("article")
                before = frames.count()
                if command is not None:
                    page.get_by_test_id("activeEditor").click()
                    page.keyboard.insert_text(command)  # typing would trigger the editor's auto-closing
                for _ in range(3):
                    # Browser's banners can slide in and move the button under the click: check, retry.
                    page.get_by_test_id("editor-Run").click()
                    if not frame:
                        return
                    try:
                        expect(frames).to_have_count(before + 1, timeout=10_000)
                        return
                    except AssertionError:
                        continue
                raise AssertionError(f"Browser ran nothing for {command or 'the block'}")

            def block(caption: str) -> None:
                """Put the guide's block with this caption into the editor and run it."""
                pre = page.get_by_text(caption).locator("xpath=..").locator("pre")
                first_line = pre.inner_text().strip().splitlines()[0]
                pre.click()
                # The editor shows only the block's first lines: wait for the first one to arrive.
                expect(page.get_by_test_id("activeEditor")).to_contain_text(first_line, timeout=10_000)
                run()

            def top() -> Any:
                """The newest result frame (Browser puts it at the top of the stream)."""
                return page.locator("article").first

            def shot(name: str) -> None:
                page.wait_for_timeout(2_000)  # let the force layout settle
                page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"))

            run(f":guide {guide_urls['guide']}", frame=False)
            expect(page.get_by_text("Circular capital flows in the AI industry.")).to_be_visible(timeout=20_000)
            page.get_by_text(f":style {guide_urls['style']}").click()  # a guide block fills the editor
            run()
            expect(page.get_by_text("node.Company").first).to_be_visible(timeout=20_000)
            page.get_by_text(CONNECT_OFF, exact=True).click()
            run()

            page.get_by_text("Next").click()  # Loops, one at a time
            run(f':param loop => "{triangle[:8]}"')
            block("Every loop as a row, best score first")
            expect(top()).to_contain_text("NVIDIA -> OpenAI -> Oracle -> NVIDIA", timeout=30_000)
            expect(top()).to_contain_text("NVIDIA ≥87%")
            shot("loop-ranking")

            block("Draw one loop:")
            nodes = top().locator("svg g.node text")
            expect(nodes.first).to_be_visible(timeout=30_000)
            shot("one-loop")
            assert {t.strip() for t in nodes.all_text_contents()} == {"NVIDIA", "OpenAI", "Oracle"}
            flows = {t.strip() for t in top().locator("svg g.relationship text").all_text_contents()}
            # Exactly the loop's three flows, captions whole (no OpenAI -> NVIDIA spend-back of another loop).
            assert flows == {"$100B invest", "$300B buy +1", "$40B buy"}, flows

            block("The deals behind loop $loop as a table")
            expect(top()).to_contain_text("NVIDIA said on Monday it will invest up to $100 billion in OpenAI",
                                          timeout=30_000)
            for text in (D01_TITLE, D01_URL, "2025-09-22", "$300B purchase, reported OpenAI -> Oracle", "spend-back of "):
                expect(top()).to_contain_text(text)
            # The OpenAI -> Oracle spend-back leg cites its own sentence, not the investment's.
            spend_back_row = top().locator("tr", has_text="spend-back of ").filter(has_text="OpenAI -> Oracle")
            expect(spend_back_row).to_contain_text(BRIEF_SPEND_BACK)
            expect(spend_back_row).not_to_contain_text(BRIEF_INVESTMENT)
            shot("loop-deals")

            page.get_by_text("Next").click()  # One company
            run(':param company => "NVIDIA"')
            block("Every deal of $company in every role")
            for role in ("investor / payer", "recipient", "spend-back payee", "mandated vendor"):
                expect(top()).to_contain_text(role, timeout=30_000)
            shot("company-roles")

            page.get_by_text("Next").click()  # Round-trip share
            block("The round-trip ranking")
            expect(top()).to_contain_text("≥87% ($40B of $45.8B + ?)", timeout=30_000)
            shot("round-trip-ranking")

            page.get_by_text("Next").click()  # Review
            block("The analysts' corrections, newest first")
            expect(top()).to_contain_text("restates d13's stake sale", timeout=30_000)
            expect(top()).to_contain_text("SoftBank -> NVIDIA: REJECTED stake sale, completed (circular_deals_brief.txt)")
            shot("review-trail")
        finally:
            context.close()
