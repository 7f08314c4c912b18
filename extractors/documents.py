"""Reading documents from files and folders: text in, a clear problem per file that cannot be used.

``read_documents(paths)`` is pure apart from reading the files (no network, no global state), so the
CLI and the ingestion flow's folder sources share it.

Formats (by extension; folders are walked recursively, hidden files skipped, other extensions
ignored inside folders but reported when named directly):

- ``.txt``, ``.md``, ``.text``: UTF-8 text (a byte-order mark is allowed);
- ``.html``, ``.htm``: the main text extracted with trafilatura (title and date from its metadata);
- ``.json``: an object with ``text`` or ``body`` and optional ``title``, ``url``, ``published``
  (or a list of such objects, one document each, ids ``name.json#1``...).

Problems (one ``DocumentProblem`` per file; the other files are still read):

- ``missing`` / ``unreadable``: the path does not exist or cannot be opened;
- ``too_large``: more than ``MAX_BYTES`` (5 MB, far beyond any article or filing excerpt; split it);
- ``binary``: NUL bytes in the first 8 KB (a PDF, an image, an archive);
- ``encoding``: not valid UTF-8. No fallback decode: guessing cp1252 or latin-1 silently garbles
  company names, so we ask for the file to be converted (``iconv -f WINDOWS-1252 -t UTF-8``);
- ``empty``: no text after extraction;
- ``not_english``: fewer than 3% of the words are common English function words (the, of, and,
  to, in, ...) over a text of at least 20 words, or most letters are outside a-z: the extractor's
  grammar rules are English-only;
- ``bad_json`` / ``unsupported``: JSON without text, or an extension we do not read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from ouroboros.core.dates import absolute_url, iso_date
from ouroboros.core.records import SourceDocument

MAX_BYTES = 5 * 1024 * 1024
TEXT_SUFFIXES = {".txt", ".md", ".text"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
_ENGLISH = {"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "on", "with", "as", "was", "by",
            "its", "at", "from", "will", "has", "be", "are", "said", "an", "this", "which", "or", "have"}
_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)

ProblemKind = Literal["missing", "unreadable", "too_large", "binary", "encoding", "empty", "not_english", "bad_front_matter",
                      "bad_json", "unsupported"]


class DocumentProblem(BaseModel):
    """A file that could not be used, why, and what to do about it."""

    model_config = ConfigDict(frozen=True)

    path: str
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class _Skip(Exception):
    def __init__(self, kind: ProblemKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def looks_english(text: str) -> bool:
    """The cheap language check described in the module docstring."""
    words = [w.lower() for w in _WORD_RE.findall(text[:20000])]
    if len(words) < 20:
        return True
    letters = "".join(words)
    ascii_share = sum(c.isascii() for c in letters) / max(1, len(letters))
    if ascii_share < 0.6:
        return False
    return sum(w in _ENGLISH for w in words) / len(words) >= 0.03


def _expand(paths: Iterable[Path | str]) -> tuple[list[Path], list[DocumentProblem]]:
    files: list[Path] = []
    problems: list[DocumentProblem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                children = sorted(path.rglob("*"))
            except OSError as e:  # a subfolder we may not list: say so, keep the rest of the paths
                problems.append(DocumentProblem(path=str(e.filename or path), kind="unreadable",
                                                message=f"cannot be listed ({e.strerror or e}); check its permissions"))
                continue
            for child in children:
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden and child.suffix.lower() in SUPPORTED:
                    files.append(child)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            problems.append(DocumentProblem(path=str(path), kind="unreadable",
                                            message="is neither a regular file nor a folder; give a file or a folder"))
        else:
            problems.append(DocumentProblem(path=str(path), kind="missing",
                                            message="does not exist; check the path"))
    return files, problems


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _Skip("too_large", f"is {size / 1e6:.1f} MB, over the {MAX_BYTES // (1024 * 1024)} MB limit "
                                     "for one document; split it into smaller files")
        data = path.read_bytes()
    except OSError as e:
        raise _Skip("unreadable", f"cannot be read ({e.strerror or e}); check its permissions") from e
    if b"\x00" in data[:8192]:
        raise _Skip("binary", "is a binary file, not text; convert it to .txt, .md, .html or .json first")
    return data


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _Skip("encoding", f"is not valid UTF-8 (byte {e.start}); convert it, e.g. "
                                "iconv -f WINDOWS-1252 -t UTF-8") from e


def _from_html(raw: str, path: Path) -> tuple[str, dict[str, Any]]:
    import trafilatura

    text = trafilatura.extract(raw, include_comments=False, include_tables=True, favor_recall=True) or ""
    metadata = trafilatura.extract_metadata(raw)
    if metadata is None:
        return text, {}
    found = {"title": metadata.title, "published": metadata.date, "outlet": metadata.sitename, "url": metadata.url}
    if metadata.date:
        found["date_basis"] = "page"
    return text, found


# An optional block at the top of a text file says where the text was published:
#   ---
#   url: https://example.com/news/story
#   title: Acme invests in Birch
#   outlet: Example News
#   date: 2025-09-22
#   ---
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<block>.*?)\n---[ \t]*\n", re.DOTALL)
FRONT_MATTER_KEYS = frozenset({"url", "title", "outlet", "date", "published", "form", "filer"})


def split_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """The front-matter fields of a text file and the text after them (``{}`` and ``raw`` without one).

    Raises ``_Skip`` for a block that is not a YAML mapping of the known keys.
    """
    match = _FRONT_MATTER.match(raw)
    if match is None:
        return {}, raw
    try:
        fields = yaml.safe_load(match["block"])
    except yaml.YAMLError as e:
        raise _Skip("bad_front_matter", f"has a front-matter block that is not valid YAML ({e}); fix or remove it") from e
    if not isinstance(fields, dict) or not set(fields) <= FRONT_MATTER_KEYS:
        unknown = sorted(set(fields) - FRONT_MATTER_KEYS) if isinstance(fields, dict) else []
        raise _Skip("bad_front_matter", f"has a front-matter block with unknown keys {unknown}; "
                                        f"use only {', '.join(sorted(FRONT_MATTER_KEYS))}")
    if "date" in fields:
        fields["published"] = fields.pop("date")
    fields = {key: value for key, value in fields.items() if value is not None}
    if "published" in fields:
        fields["date_basis"] = "stated"
    return fields, raw[match.end():]


def _file_date(path: Path) -> dict[str, Any]:
    """The file's modification day, marked as such: the fallback when nothing states a date."""
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date().isoformat()
    return {"published": modified, "date_basis": "file_modified"}


def _from_json(raw: str, path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise _Skip("bad_json", f"is not valid JSON ({e.msg}, line {e.lineno})") from e
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise _Skip("bad_json", 'must hold an object like {"text": ..., "title": ...} or a list of them')
        text = item.get("text") or item.get("body")
        if not isinstance(text, str):
            raise _Skip("bad_json", 'has no "text" or "body" string; add the article text under "text"')
        fields = {key: item.get(key) for key in ("title", "url", "outlet", "published") if item.get(key) is not None}
        if "published" in fields:
            fields["date_basis"] = "stated"
        out.append((text, fields))
    return out


def _check(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _Skip("empty", "has no text; nothing to extract")
    if not looks_english(text):
        raise _Skip("not_english", "does not look like English text; the extractor reads English only")
    return text


def read_document(path: Path, doc_id: str | None = None) -> list[SourceDocument]:
    """The documents in one file (a JSON list may hold several); raises ``_Skip`` on a problem."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise _Skip("unsupported", f"has an extension we do not read ({suffix or 'none'}); "
                                   f"use one of {', '.join(sorted(SUPPORTED))}")
    raw = _decode(_read_bytes(path))
    doc_id = doc_id or path.name
    if suffix in TEXT_SUFFIXES:
        fields, text = split_front_matter(raw.replace("\r\n", "\n"))
        return [_document(doc_id, text, path, fields)]
    if suffix in HTML_SUFFIXES:
        text, fields = _from_html(raw, path)
        return [_document(doc_id, text, path, fields)]
    items = _from_json(raw, path)
    return [
        _document(doc_id if len(items) == 1 else f"{doc_id}#{number}", text, path, fields)
        for number, (text, fields) in enumerate(items, start=1)
    ]


def _document(doc_id: str, text: str, path: Path, fields: dict[str, Any]) -> SourceDocument:
    """A document of ``path`` with what its file says of its publication, else the file's date."""
    dated = fields if iso_date(fields.get("published")) else {**fields, **_file_date(path)}
    # A stated URL is where the text really comes from (and lets dedupe see syndicated copies).
    return SourceDocument(doc=doc_id, text=_check(text), source=absolute_url(fields.get("url")) or str(path), **dated)


def read_documents(paths: Iterable[Path | str]) -> tuple[list[SourceDocument], list[DocumentProblem]]:
    """Read every file (folders recursively); unusable files become problems, the rest documents.

    Document ids are file names; when two files share a name, their paths are used instead.
    """
    files, problems = _expand(paths)
    names = [f.name for f in files]
    documents: list[SourceDocument] = []
    for path in files:
        doc_id = path.name if names.count(path.name) == 1 else str(path)
        try:
            documents.extend(read_document(path, doc_id))
        except _Skip as skip:
            problems.append(DocumentProblem(path=str(path), kind=skip.kind, message=skip.message))
    return documents, problems
