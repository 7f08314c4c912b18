"""Fetchers: RSS/Atom feeds, SEC EDGAR filings and local folders, each to ``SourceDocument``s.

They do I/O but hold no state: a feed or filing that cannot be read becomes a ``FetchProblem``
(or, for a whole feed, an exception the flow logs and skips), never a crash of the run.
``skip`` is the set of canonical URLs already in the graph: their pages are not fetched again.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXException

import feedparser
import httpx
import trafilatura
from lxml import html as lxml_html
from trafilatura.settings import Document as TrafilaturaDocument

from flows.normalize import canonical_url
from flows.sources import EdgarSource
from ouroboros.core.errors import InputError
from ouroboros.core.records import DateBasis, SourceDocument

FEED_USER_AGENT = "ouroboros/0.1 (news feed reader; +https://github.com/ouroboros-graph/ouroboros)"
# No article, feed or filing document we want is larger; a bigger body is refused, never read whole.
MAX_BODY_BYTES = 10 * 1024 * 1024
# A whole request (connect, headers, body) ends within this many read timeouts, however the server
# trickles its bytes: the read timeout alone restarts with every byte.
DEADLINE_READ_TIMEOUTS = 3
# Longer URLs are not worth keeping: they make oversized index keys and are usually tracking junk.
MAX_URL_LENGTH = 2048


class SourceUnavailable(InputError):
    """A source timed out, refused, or answered 5xx: worth retrying later."""


@dataclass(frozen=True)
class FetchProblem:
    """One item that could not be read; the rest of its source went on."""

    source: str
    reason: str


class RateLimiter:
    """At most ``rate`` calls of ``wait()`` per second, across threads (the SEC allows 10)."""

    def __init__(
        self,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next request may go out."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)


def make_client(user_agent: str, timeout: float) -> httpx.Client:
    """An HTTP client that says who it is and gives up after ``timeout`` seconds."""
    return httpx.Client(headers={"User-Agent": user_agent}, timeout=timeout, follow_redirects=True)


def get(
    client: httpx.Client, url: str, limiter: RateLimiter | None = None, *, max_bytes: int = MAX_BODY_BYTES
) -> httpx.Response:
    """GET ``url`` within a total deadline and a body-size cap (the body is streamed, never read whole).

    Timeouts, connection errors, a missed deadline and 5xx raise ``SourceUnavailable``; 4xx and a
    body over ``max_bytes`` raise ``InputError``.
    """
    if len(url) > MAX_URL_LENGTH:
        raise InputError(f"URL of {len(url)} characters (over {MAX_URL_LENGTH}) skipped: {url[:80]}...")
    if limiter is not None:
        limiter.wait()
    read_timeout = client.timeout.read or 20.0
    deadline = time.monotonic() + DEADLINE_READ_TIMEOUTS * read_timeout
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 500:
                raise SourceUnavailable(f"{url} answered {response.status_code}; it is retried next run")
            if response.status_code >= 400:
                raise InputError(f"{url} answered {response.status_code}; check the URL in the sources file")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InputError(f"{url} is {int(declared):,} bytes, over the {max_bytes:,}-byte limit; skipped")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise InputError(f"{url} sent more than {max_bytes:,} bytes; skipped")
                if time.monotonic() > deadline:
                    raise SourceUnavailable(
                        f"{url} did not finish within {deadline_seconds(client)}s; it is retried next run"
                    )
    except httpx.TimeoutException as e:
        raise SourceUnavailable(f"{url} timed out after {read_timeout}s; it is retried next run") from e
    except httpx.HTTPError as e:
        raise SourceUnavailable(f"{url} could not be reached ({e}); check the URL and the network") from e
    # A complete response over the bytes read, so callers use .text / .json() / .content as usual.
    # The bytes are already decoded: the rebuilt response must not decode them again.
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")]
    return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=response.request)


def deadline_seconds(client: httpx.Client) -> float:
    """The total time one request of ``client`` may take."""
    return DEADLINE_READ_TIMEOUTS * (client.timeout.read or 20.0)


@dataclass(frozen=True)
class Page:
    """A web page's main text, and the title, site name and date it declares about itself."""

    text: str
    metadata: dict[str, str]


def html_to_text(html: str, url: str | None = None) -> str:
    """The main text of a web page or filing document (trafilatura; plain text content as fallback)."""
    # The article, not its comments or tables; rather too much text than too little (as read_page).
    text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_recall=True)
    return text or _text_content(html)


def read_page(html: str) -> Page:
    """The main text and the metadata of a feed item's page, from one trafilatura parse.

    ``bare_extraction`` gives the same text as ``extract`` (normalised to NFC, as ``extract``
    does) and the same metadata as ``extract_metadata``. It is not given the page's URL, which
    would only add guesses from the URL (a site name from the domain, a date from the path)
    that the feed's title and date answer better; without links or images the text does not
    depend on it. A page whose main text trafilatura rejects falls back to its plain text, and
    only then is read a second time for its metadata (as is a page trafilatura fails on).
    """
    try:
        document = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=False, favor_recall=True)
    except Exception:  # the metadata part is a bonus: read the page the long way, text then metadata
        return Page(html_to_text(html), page_metadata(html))
    # Without as_dict (deprecated) the answer is a trafilatura Document, or None: no main text.
    if not isinstance(document, TrafilaturaDocument) or not document.text:
        return Page(_text_content(html), page_metadata(html))
    found = {"title": document.title, "outlet": document.sitename, "published": document.date}
    return Page(unicodedata.normalize("NFC", document.text), {key: value for key, value in found.items() if value})


def _text_content(html: str) -> str:
    try:
        return lxml_html.fromstring(html).text_content().strip()
    except (ValueError, lxml_html.etree.ParserError):
        return ""


def fetch_feed(
    client: httpx.Client, url: str, skip: Collection[str] = frozenset()
) -> tuple[list[SourceDocument], list[FetchProblem]]:
    """Every new item of the RSS/Atom feed at ``url``, its page reduced to main text.

    A feed that cannot be fetched or parsed raises (``SourceUnavailable`` when retrying may help);
    an item page that fails is a problem and the other items go on.
    """
    response = get(client, url)
    headers = {"content-location": url, "content-type": response.headers.get("content-type", "application/xml")}
    feed = feedparser.parse(response.content, response_headers=headers)
    # Encoding or content-type quibbles are harmless; broken XML means we cannot trust the items.
    if feed.bozo and (isinstance(feed.bozo_exception, SAXException) or not feed.entries):
        raise InputError(f"feed {url} is not well-formed RSS/Atom ({feed.bozo_exception}); skipped this run")
    documents: list[SourceDocument] = []
    problems: list[FetchProblem] = []
    outlet = feed.feed.get("title")
    for entry in feed.entries:
        link = entry.get("link")
        if not link:
            problems.append(FetchProblem(url, f"item {entry.get('title', '?')!r} has no link"))
            continue
        link = urljoin(url, link)
        canonical = canonical_url(link)
        if canonical in skip:
            continue
        try:
            page = get(client, link)
        except InputError as e:
            problems.append(FetchProblem(link, str(e)))
            continue
        read = read_page(page.text)
        text = read.text or _strip_html(entry.get("summary", ""))
        if not text:
            problems.append(FetchProblem(link, "page has no readable text"))
            continue
        page_meta = read.metadata
        published, basis = _published(entry), cast(DateBasis, "feed")
        if published is None:  # the feed gave no date: the page may
            published, basis = page_meta.get("published"), "page"
        documents.append(SourceDocument(
            doc=canonical, text=text, source=link, url=link,
            title=entry.get("title") or page_meta.get("title"),
            outlet=page_meta.get("outlet") or outlet or urlsplit(link).hostname,
            published=published, date_basis=basis if published else None,
        ))
    return documents, problems


def page_metadata(html: str) -> dict[str, str]:
    """Title, site name and publication date a web page declares about itself (trafilatura)."""
    try:
        metadata = trafilatura.extract_metadata(html)
    except Exception:  # metadata is a bonus: a page it cannot read still has its text
        return {}
    if metadata is None:
        return {}
    found = {"title": metadata.title, "outlet": metadata.sitename, "published": metadata.date}
    return {key: value for key, value in found.items() if value}


def fetch_edgar(
    client: httpx.Client, config: EdgarSource, skip: Collection[str] = frozenset(), limiter: RateLimiter | None = None
) -> tuple[list[SourceDocument], list[FetchProblem]]:
    """The configured forms of each company: the primary document, and for 8-Ks the EX-99 exhibits.

    Every request goes through ``limiter`` (``config.requests_per_second``). A company or a
    filing that cannot be read is a problem and the others go on.
    """
    limiter = limiter or RateLimiter(config.requests_per_second)
    documents: list[SourceDocument] = []
    problems: list[FetchProblem] = []
    for cik in config.ciks:
        submissions_url = f"{config.data_url.rstrip('/')}/submissions/CIK{cik}.json"
        try:
            submissions = get(client, submissions_url, limiter).json()
            recent = submissions["filings"]["recent"]
            filings = list(
                zip(recent["accessionNumber"], recent["form"], recent["primaryDocument"], recent["filingDate"], strict=True)
            )
        except InputError as e:
            problems.append(FetchProblem(submissions_url, str(e)))
            continue
        except (ValueError, KeyError, TypeError) as e:
            problems.append(FetchProblem(submissions_url, f"not the expected EDGAR submissions JSON ({e!r})"))
            continue
        company = submissions.get("name") or cik
        wanted = [f for f in filings if f[1] in config.forms][: config.limit]
        for accession, form, primary, filed in wanted:
            folder = f"{config.archives_url.rstrip('/')}/Archives/edgar/data/{int(cik)}/{accession.replace('-', '')}/"
            try:
                names = [primary]
                if form == "8-K":
                    names += _press_release_exhibits(get(client, f"{folder}{accession}-index.htm", limiter).text)
                for name in dict.fromkeys(names):
                    doc_url = urljoin(folder, name)
                    if canonical_url(doc_url) in skip:
                        continue
                    text = html_to_text(get(client, doc_url, limiter).text, doc_url)
                    if not text:
                        problems.append(FetchProblem(doc_url, "filing document has no readable text"))
                        continue
                    documents.append(
                        SourceDocument(
                            doc=canonical_url(doc_url),
                            text=text,
                            source=doc_url,
                            url=doc_url,
                            title=f"{company} {form} {filed} {name}",
                            outlet="SEC EDGAR",
                            published=filed,
                            date_basis="filing",
                            form=form,
                            filer=company,
                        )
                    )
            except InputError as e:
                problems.append(FetchProblem(folder, str(e)))
    return documents, problems


def _press_release_exhibits(index_html: str) -> list[str]:
    """File names of the EX-99.x exhibits (press releases) listed in an EDGAR filing index page."""
    names = []
    for row in lxml_html.fromstring(index_html).xpath("//table[contains(@class, 'tableFile')]//tr[td]"):
        cells = row.xpath("./td")
        if len(cells) < 4 or not cells[3].text_content().strip().upper().startswith("EX-99"):
            continue
        hrefs = cells[2].xpath(".//a/@href")
        if hrefs:
            names.append(hrefs[0].rsplit("/", 1)[-1])
    return names


def fetch_folders(paths: list[Path]) -> tuple[list[SourceDocument], list[FetchProblem]]:
    """The documents of local folders and files, read by the project's one document reader."""
    from extractors.documents import read_documents

    documents, problems = read_documents(paths)
    return documents, [FetchProblem(p.path, p.message) for p in problems]


def _published(entry: feedparser.FeedParserDict) -> str | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime(*parsed[:6]).replace(tzinfo=UTC).isoformat()


def _strip_html(fragment: str) -> str:
    if not fragment.strip():
        return ""
    return lxml_html.fromstring(f"<div>{fragment}</div>").text_content().strip()
