"""The Ouroboros guide for Neo4j Browser, built from ``cypher/browser.cypher``, and a tiny server for it.

Neo4j Browser 5 plays an HTML guide with ``:guide <url>`` (or ``:play <url>``) and loads a style
sheet with ``:style <url>``, fetching both from the page with CORS, only from hosts allowed by
``browser.remote_content_hostname_allowlist`` (default ``guides.neo4j.com,localhost``). Neo4j's
own HTTP port serves no extra files, so ``serve_browser_files`` serves them on ``localhost``.
"""

from __future__ import annotations

import html
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from graph.queries import all_queries

STYLE_PATH = Path(__file__).resolve().parent / "style.grass"
GUIDE_NAME = "ouroboros.html"
DEFAULT_PORT = 8765

# (title, lead text, Browser commands, statements) per slide; statements are names in cypher/browser.cypher.
SLIDES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Loops, one at a time",
     "Directed cycles of money between companies, best first. Pick one by its rank (or the first characters "
     "of its id), draw it, then read the deals behind each flow.",
     (":param loop => 1",), ("browser_loop_ranking", "browser_one_loop", "browser_loop_deals")),
    ("One company", "Set the company first (click the :param block, edit the name, run it).",
     (':param company => "NVIDIA"',),
     ("browser_company_loops", "browser_company_roles", "browser_company_deals", "browser_find_company")),
    ("Round-trip share",
     "How much of a company's inbound money is its own money coming back around a loop: a loop carries at most "
     "its weakest link; ? is unknown, never zero; deals in talks are left out (docs/graph.md).",
     (), ("browser_round_trip_ranking",)),
    ("Review", "An analyst's corrections (ouroboros review): who, when, what and why; rejected deals stay with "
               "their note but form no flow.", (), ("browser_review_trail", "browser_rejected_deals")),
    ("Evidence and the map", "Every deal keeps the sentence and the document that state it.",
     (), ("browser_evidence_table", "browser_flow_overview")),
)
# Browser also draws every relationship between the nodes a query returns ("Connect result
# nodes", setting autoComplete): off, a loop is drawn alone, without the FLOWs of other loops.
CONNECT_OFF = ":config autoComplete: false"


def _runnable(code: str, caption: str) -> str:
    return (f'<figure><pre class="pre-scrollable code runnable">{html.escape(code)}</pre>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def render_guide(style_url: str | None = None) -> str:
    """The guide as a Browser HTML guide: one slide per topic, each statement a runnable block."""
    queries = all_queries()
    slides = []
    intro = [
        "<p>The graph: <b>Company</b> -PAYS-> <b>Deal</b> -TO-> <b>Company</b>; every deal is STATED_BY "
        "<b>Evidence</b> IN_DOCUMENT <b>Document</b>. <b>FLOW</b> joins two companies when any deal "
        "(or its spend-back or hardware mandate) moves money between them; loops walk FLOWs.</p>",
        _runnable(CONNECT_OFF, "First: draw only what a query returns (turns off Browser's "
                               "'Connect result nodes', which would add the FLOWs of other loops)."),
        _runnable(':param company => "OpenAI"', "The company the per-company queries use."),
        _runnable(":param loop => 1", "The loop the loop queries draw: its rank, or the first characters of its id."),
    ]
    if style_url:
        intro.append(_runnable(f":style {style_url}", "Colours: companies blue, deals yellow, products green; "
                                                       "FLOWs red with their amount and kind."))
    slides.append(_slide("Ouroboros", "Circular capital flows in the AI industry.", "".join(intro)))
    for title, lead, commands, names in SLIDES:
        body = "".join(_runnable(command, "Set it first.") for command in commands)
        body += "".join(_runnable(queries[name].text, queries[name].doc) for name in names)
        slides.append(_slide(title, lead, body))
    return ('<article class="guide"><carousel class="deck container-fluid">'
            + "".join(slides) + "</carousel></article>\n")


def _slide(title: str, lead: str, body: str) -> str:
    return (f'<slide class="row-fluid"><div class="col-sm-3"><h3>{html.escape(title)}</h3>'
            f'<p class="lead">{html.escape(lead)}</p></div><div class="col-sm-9">{body}</div></slide>')


def browser_urls(port: int) -> dict[str, str]:
    """The URLs to paste into Browser while ``serve_browser_files`` runs on ``port``."""
    base = f"http://localhost:{port}"
    return {"guide": f"{base}/{GUIDE_NAME}", "style": f"{base}/style.grass"}


def serve_browser_files(port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server for the guide and the style sheet (call ``serve_forever``; ``shutdown`` to stop)."""
    urls = browser_urls(port)
    files = {
        f"/{GUIDE_NAME}": (render_guide(urls["style"]).encode("utf-8"), "text/html; charset=utf-8"),
        "/style.grass": (STYLE_PATH.read_bytes(), "text/plain; charset=utf-8"),
    }

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, content_type = files.get(self.path.split("?")[0], (b"not found", "text/plain"))
            self.send_response(200 if self.path.split("?")[0] in files else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            # Browser fetches guides from its own page: a cross-origin request.
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(body)

        def do_OPTIONS(self) -> None:
            # Browser's fetch sends headers that make Chromium ask first (a CORS preflight).
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "GET, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", self.headers.get("Access-Control-Request-Headers", "*"))
            self.send_header("Access-Control-Allow-Private-Network", "true")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)
