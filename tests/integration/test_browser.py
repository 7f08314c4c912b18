"""Neo4j Browser in headless Chromium: log in, open the Ouroboros guide, run the loop query from it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from neo4j import Driver

from extractors.evaluate import load_gold
from graph.browser.guide import browser_urls, serve_browser_files
from graph.server import LocalNeo4j, free_ports
from graph.writer import load_records

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
def test_analyst_runs_the_loop_query_from_the_guide(
    clean_graph: Driver, neo4j_server: LocalNeo4j, guide_urls: dict[str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    load_records(clean_graph, [record for line in load_gold(GOLD) for record in line.deals])
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

            def run(command: str | None = None) -> None:
                if command is not None:
                    page.get_by_test_id("activeEditor").click()
                    page.keyboard.insert_text(command)  # typing would trigger the editor's auto-closing
                page.get_by_test_id("editor-Run").click()

            run(f":guide {guide_urls['guide']}")
            expect(page.get_by_text("Circular capital flows in the AI industry.")).to_be_visible(timeout=20_000)
            page.get_by_text(f":style {guide_urls['style']}").click()  # a guide block fills the editor
            run()
            expect(page.get_by_text("node.Company").first).to_be_visible(timeout=20_000)

            page.get_by_text("Next").click()
            page.get_by_text("Every loop of 2 to 6 companies, drawn as a graph").locator("xpath=..").locator(
                "pre").click()
            run()
            captions = page.locator("svg g.node text")
            expect(captions.first).to_be_visible(timeout=30_000)
            page.wait_for_timeout(2_000)  # let the force layout settle for the screenshot
            shown = {text.strip() for text in captions.all_text_contents()}
            page.screenshot(path=str(ARTIFACTS / "browser-loops.png"))
            assert shown >= LOOP_COMPANIES, f"missing in the loop graph: {LOOP_COMPANIES - shown}"
            assert "SoftBank" not in shown  # in the graph, but on no loop
        finally:
            context.close()
