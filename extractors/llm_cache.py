"""On-disk state of the LLM extractor under ``$OUROBOROS_HOME``.

- ``llm-cache/``: one JSON file per model answer, keyed by model, prompt (name and file hash) and
  passage (text, context and lead), so a rerun over the same text calls the model zero times. The
  answer is stored before grounding: improving grounding never needs a new call.
- ``llm-retry.json``: the documents that fell back to spaCy because the model kept failing, with
  the reason; a later run that reads them successfully removes them.
- ``llm-usage.jsonl``: one line per document read: calls, cache hits, tokens, estimated cost and
  what grounding dropped. A run spread over worker processes is summed from it
  (``extractors.llm_usage.summarise``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def _write_json(path: Path, data: object) -> None:
    """Write atomically, so an interrupted run never leaves half a file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, sort_keys=True)
    os.replace(tmp, path)


def answer_key(model: str, prompt_name: str, prompt_sha: str, passage: str, context: str, lead: str) -> str:
    """The cache key of one model answer."""
    material = json.dumps([model, prompt_name, prompt_sha, passage, context, lead], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class AnswerCache:
    """Model answers on disk, one file per key (``<dir>/<key[:2]>/<key>.json``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored answer, or None (a missing or unreadable entry is a miss, never an error)."""
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return entry.get("answer") if isinstance(entry, dict) else None

    def put(self, key: str, answer: dict, meta: dict) -> None:
        """Store a parsed answer with what produced it (model, prompt, token usage)."""
        _write_json(self._path(key), {**meta, "answer": answer})


class RetryQueue:
    """The documents whose LLM extraction failed and should be tried again."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def pending(self) -> dict[str, dict]:
        """doc -> {"reason", "at"} for every document waiting for an LLM retry."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def mark(self, doc: str, reason: str) -> None:
        """Record that ``doc`` fell back to spaCy because of ``reason``."""
        data = self.pending()
        data[doc] = {"reason": reason, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        _write_json(self.path, data)

    def clear(self, doc: str) -> None:
        """Forget ``doc`` once the model has read it."""
        data = self.pending()
        if data.pop(doc, None) is not None:
            _write_json(self.path, data)


class UsageLog:
    """An append-only JSON-lines log of what each document's LLM reading used."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, doc: str, usage: dict) -> None:
        """Add one line for ``doc`` (one write in append mode, so parallel workers do not mix lines)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"), "doc": doc, **usage},
                          ensure_ascii=False, sort_keys=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def read(self, since: str | None = None) -> list[dict]:
        """Every line (at or after the ISO time ``since``, when given); unreadable lines are skipped."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if since is None or entry.get("at", "") >= since:
                entries.append(entry)
        return entries
