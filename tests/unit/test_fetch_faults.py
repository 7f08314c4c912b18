"""Issue 9, rows 2, 4 and 5: hostile responses from the local fixture site end within their bounds.

Trickling, huge and redirecting responses each become one clear problem; the feed's other items
are still read, and nothing waits longer than the request deadline.
"""

from __future__ import annotations

import time

import pytest

from flows.fetch import DEADLINE_READ_TIMEOUTS, MAX_URL_LENGTH, SourceUnavailable, fetch_feed, get, make_client
from ouroboros.core.errors import InputError
from tests.fixtures.ingest.server import FixtureServer

UA = "Ouroboros Tests tests@ouroboros.example"


def test_a_trickling_response_ends_at_the_request_deadline(site_server: FixtureServer) -> None:
    # One byte every 0.5 s never trips a 1 s read timeout; the total deadline (3 read timeouts) does.
    started = time.monotonic()
    with make_client(UA, timeout=1.0) as client, pytest.raises(SourceUnavailable, match="did not finish within 3"):
        get(client, site_server.url("trickle/feeds/news.rss"))
    elapsed = time.monotonic() - started
    assert DEADLINE_READ_TIMEOUTS * 1.0 <= elapsed < DEADLINE_READ_TIMEOUTS * 1.0 + 2


def test_a_huge_body_is_refused_without_reading_it_whole(site_server: FixtureServer) -> None:
    with make_client(UA, timeout=5) as client, pytest.raises(InputError, match="more than 1,048,576 bytes"):
        get(client, site_server.url("huge/50"), max_bytes=1024 * 1024)


def test_a_redirect_loop_is_a_clear_problem(site_server: FixtureServer) -> None:
    with make_client(UA, timeout=5) as client, pytest.raises(SourceUnavailable, match="redirect"):
        get(client, site_server.url("loop/1"))


def test_hostile_items_are_problems_and_the_other_items_are_read(site_server: FixtureServer) -> None:
    long_link = site_server.url("articles/" + "x" * 9000 + ".html")
    items = "".join(
        f"<item><title>{name}</title><link>{link}</link></item>"
        for name, link in [
            ("huge", "{{BASE}}/huge/50"),
            ("long", long_link),
            ("trickle", "{{BASE}}/trickle/articles/tarnwell-quarry.html"),
            ("good", "{{BASE}}/articles/tarnwell-quarry.html"),
        ]
    )
    site_server.routes["/feeds/hostile.rss"] = (
        200, "application/xml", f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>',
    )
    started = time.monotonic()
    with make_client(UA, timeout=1.0) as client:
        documents, problems = fetch_feed(client, site_server.url("feeds/hostile.rss"))
    assert [d.doc for d in documents] == [site_server.url("articles/tarnwell-quarry.html")]
    reasons = {p.source: p.reason for p in problems}
    assert "bytes" in reasons[site_server.url("huge/50")]
    assert f"over {MAX_URL_LENGTH}" in reasons[long_link]
    assert "did not finish" in reasons[site_server.url("trickle/articles/tarnwell-quarry.html")]
    assert time.monotonic() - started < 30
