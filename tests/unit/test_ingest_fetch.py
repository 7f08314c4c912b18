"""Fetchers against the local fixture site: feeds, item pages, EDGAR filings, and bad sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import trafilatura

from flows.fetch import (
    Page,
    RateLimiter,
    SourceUnavailable,
    fetch_edgar,
    fetch_feed,
    html_to_text,
    make_client,
    page_metadata,
    read_page,
)
from flows.sources import EdgarSource
from ouroboros.core.errors import InputError
from tests.fixtures.ingest.server import FixtureServer

UA = "Ouroboros Tests tests@ouroboros.example"


def edgar_config(server: FixtureServer, **extra: object) -> EdgarSource:
    return EdgarSource(
        user_agent=UA, ciks=["7340012"], data_url=server.base, archives_url=server.base, **extra  # type: ignore[arg-type]
    )


def test_rss_items_become_documents_with_main_text(site_server: FixtureServer) -> None:
    with make_client(UA, timeout=5) as client:
        documents, problems = fetch_feed(client, site_server.url("feeds/news.rss"))
    assert problems == []
    assert [d.doc for d in documents] == [
        site_server.url("articles/lumora-brightwater.html"),
        site_server.url("articles/brightwater-quarry.html"),
    ]
    first = documents[0]
    assert first.title == "Lumora Systems to invest $2 billion in Brightwater AI"
    # What an analyst cites: the item's link, the feed's name as the outlet, the entry's date.
    assert first.published == "2026-03-03" and first.date_basis == "feed"
    assert first.outlet == "Circuit Ledger: AI infrastructure news"
    assert first.url is not None and first.url.endswith("/articles/lumora-brightwater.html?utm_source=rss&utm_medium=feed#top")
    assert "will invest $2 billion in Brightwater AI" in first.text
    # trafilatura keeps the article and drops navigation, side bar and footer.
    assert "Subscribe" not in first.text and "Ten gadgets" not in first.text and "Copyright" not in first.text
    assert first.source.endswith("?utm_source=rss&utm_medium=feed#top")


def test_atom_feed_and_skip_of_known_urls(site_server: FixtureServer) -> None:
    known = {site_server.url("articles/brightwater-quarry.html")}
    with make_client(UA, timeout=5) as client:
        documents, problems = fetch_feed(client, site_server.url("feeds/wire.atom"), skip=known)
    assert problems == []
    # The tracking-link item canonicalises to a known page: it is not fetched at all.
    assert [d.doc for d in documents] == [
        site_server.url("articles/wire-lumora-brightwater.html"),  # ?ref= is tracking
        site_server.url("articles/tarnwell-quarry.html"),
    ]
    assert "/articles/brightwater-quarry.html" not in site_server.paths()
    assert {r.user_agent for r in site_server.requests} == {UA}


def test_item_page_failure_is_a_problem_not_a_crash(site_server: FixtureServer) -> None:
    site_server.routes["/feeds/mixed.rss"] = (
        200,
        "application/xml",
        '<rss version="2.0"><channel><title>m</title>'
        "<item><title>gone</title><link>{{BASE}}/error/gone.html</link></item>"
        "<item><title>ok</title><link>{{BASE}}/articles/tarnwell-quarry.html</link></item>"
        "</channel></rss>",
    )
    with make_client(UA, timeout=5) as client:
        documents, problems = fetch_feed(client, site_server.url("feeds/mixed.rss"))
    assert [d.doc for d in documents] == [site_server.url("articles/tarnwell-quarry.html")]
    assert len(problems) == 1 and problems[0].source.endswith("/error/gone.html") and "500" in problems[0].reason


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("slow/feeds/news.rss", SourceUnavailable, "timed out"),
        ("error/feeds/news.rss", SourceUnavailable, "answered 500"),
        ("feeds/missing.rss", InputError, "answered 404"),
        ("feeds/broken.xml", InputError, "not well-formed"),
    ],
)
def test_bad_feeds_raise_a_clear_error(site_server: FixtureServer, path: str, error: type, words: str) -> None:
    url = site_server.url(path)
    with make_client(UA, timeout=0.5) as client, pytest.raises(error) as caught:
        fetch_feed(client, url)
    assert url in str(caught.value) and words in str(caught.value)
    if path.endswith("broken.xml"):
        assert not isinstance(caught.value, SourceUnavailable)  # malformed is not retried


def test_edgar_reads_configured_forms_with_press_releases(site_server: FixtureServer) -> None:
    with make_client(UA, timeout=5) as client:
        documents, problems = fetch_edgar(client, edgar_config(site_server))
    assert problems == []
    folder = site_server.url("Archives/edgar/data/7340012/000734001226000014/")
    assert [d.doc for d in documents] == [
        folder + "qpc-8k_20260306.htm",
        folder + "ex99-1.htm",
        site_server.url("Archives/edgar/data/7340012/000734001226000009/qpc-10q_20251231.htm"),
    ]
    press = documents[1]
    assert press.published == "2026-03-06" and press.title == "Quarry Peak Cloud, Inc. 8-K 2026-03-06 ex99-1.htm"
    assert (press.form, press.filer, press.outlet, press.date_basis) == ("8-K", "Quarry Peak Cloud, Inc.", "SEC EDGAR", "filing")
    assert press.url == folder + "ex99-1.htm"
    assert "will purchase $3 billion of Lumora Systems Vega accelerators" in press.text
    paths = site_server.paths()
    assert paths[0] == "/submissions/CIK0007340012.json"
    assert not any("ex10-1" in p or "form4" in p for p in paths)  # other exhibits and forms are not fetched
    assert {r.user_agent for r in site_server.requests} == {UA}


def test_edgar_form_filter_limit_and_skip(site_server: FixtureServer) -> None:
    folder = site_server.url("Archives/edgar/data/7340012/000734001226000014/")
    with make_client(UA, timeout=5) as client:
        documents, _ = fetch_edgar(client, edgar_config(site_server, forms=["8-K"]), skip={folder + "ex99-1.htm"})
        assert [d.doc for d in documents] == [folder + "qpc-8k_20260306.htm"]
        documents, _ = fetch_edgar(client, edgar_config(site_server, forms=["10-Q", "8-K"], limit=1))
        assert len({d.title.split()[4] for d in documents}) == 1  # one filing (the newest): the 8-K


def test_edgar_unknown_company_is_a_problem(site_server: FixtureServer) -> None:
    config = EdgarSource(user_agent=UA, ciks=["1", "7340012"], data_url=site_server.base, archives_url=site_server.base)
    with make_client(UA, timeout=5) as client:
        documents, problems = fetch_edgar(client, config)
    assert len(documents) == 3
    assert [p.source for p in problems] == [site_server.url("submissions/CIK0000000001.json")]


def test_every_edgar_request_waits_for_the_rate_limiter(site_server: FixtureServer) -> None:
    # A virtual clock: the spacing is checked exactly, with no dependence on machine load.
    now = [0.0]
    sent_at: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    class RecordingLimiter(RateLimiter):
        def wait(self) -> None:
            super().wait()
            sent_at.append(now[0])

    limiter = RecordingLimiter(10, clock=lambda: now[0], sleep=sleep)
    with make_client(UA, timeout=5) as client:
        fetch_edgar(client, edgar_config(site_server, requests_per_second=10), limiter=limiter)
    assert len(site_server.requests) == 5
    assert sent_at == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


def test_rate_limiter_spaces_calls_without_real_sleeping() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.wait()
    assert slept == [0.1, 0.1, 0.1]
    now[0] += 5  # after a pause, the next call goes out at once
    limiter.wait()
    assert slept == [0.1, 0.1, 0.1]


ARTICLES = Path(__file__).parents[1] / "fixtures" / "ingest" / "site" / "articles"
SITE_NAMED_PAGE = """<html><head><meta charset="utf-8"><title>Kestrel Fabric raises $90 million | Ledgerline</title>
<meta property="og:site_name" content="Ledgerline"><meta property="article:published_time" content="2026-02-11">
</head><body><article><h1>Kestrel Fabric raises $90 million</h1>
<p>Kestrel Fabric said on Tuesday it raised $90 million from Halden Ventures to build its first data centre.</p>
<p>The company will buy accelerators from Orrin Systems with part of the money, it said in a statement.</p>
</article></body></html>"""


@pytest.mark.parametrize("name", sorted(p.name for p in ARTICLES.glob("*.html")) + ["site-named"])
def test_a_page_is_parsed_once_for_its_text_and_its_provenance(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    html = SITE_NAMED_PAGE if name == "site-named" else (ARTICLES / name).read_text(encoding="utf-8")
    # What the two separate trafilatura calls (text, then metadata) used to give.
    expected = Page(html_to_text(html, f"http://news.example/{name}"), page_metadata(html))
    assert expected.text and expected.metadata["title"] and expected.metadata["published"]

    def second_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the page was parsed a second time")

    monkeypatch.setattr(trafilatura, "extract", second_parse)
    monkeypatch.setattr(trafilatura, "extract_metadata", second_parse)
    assert read_page(html) == expected


def test_the_outlet_a_page_declares_is_its_provenance() -> None:
    page = read_page(SITE_NAMED_PAGE)
    assert page.metadata == {"title": "Kestrel Fabric raises $90 million", "outlet": "Ledgerline",
                             "published": "2026-02-11"}
    assert page.text.startswith("Kestrel Fabric raises $90 million\nKestrel Fabric said on Tuesday")
