"""The sources file: which folders, feeds and SEC filings to ingest, and when.

One YAML file (``sources.example.yaml`` at the repository root shows every key); each top-level
key is optional::

    folders:  [{path: corpus/}]
    feeds:    [{url: https://example.com/feed.xml}]
    edgar:    {user_agent: "Name email", ciks: ["0001045810"], forms: ["8-K", "10-Q"]}
    schedule: {cron: "0 */6 * * *"}
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ouroboros.core.errors import ConfigError

EDGAR_FORMS: tuple[str, ...] = ("8-K", "10-Q", "10-K")
# The SEC asks automated clients to say who they are: a name and a way to reach them.
_CONTACT = re.compile(r"\S+@\S+\.\S+|https?://\S+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FolderSource(_Strict):
    """A local folder (or file) of ``.txt``, ``.md``, ``.html`` and ``.json`` documents."""

    path: Path


class FeedSource(_Strict):
    """An RSS or Atom feed; each item's page is fetched and reduced to its main text."""

    url: str

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value


class EdgarSource(_Strict):
    """SEC EDGAR filings of the companies ``ciks``, limited to ``forms``."""

    user_agent: str = Field(description="Who is asking, as the SEC requires: 'Name contact@example.com'.")
    ciks: list[str] = Field(min_length=1)
    forms: list[str] = Field(default_factory=lambda: list(EDGAR_FORMS))
    limit: int = Field(default=20, ge=1, description="Most recent matching filings read per company.")
    data_url: str = "https://data.sec.gov"
    archives_url: str = "https://www.sec.gov"
    requests_per_second: float = Field(default=10.0, gt=0, le=10.0)

    @field_validator("user_agent")
    @classmethod
    def _descriptive(cls, value: str) -> str:
        if not _CONTACT.search(value) or len(value.split()) < 2:
            raise ValueError("must name you and give a contact, e.g. 'Acme Research ops@acme.example'")
        return value

    @field_validator("ciks")
    @classmethod
    def _ten_digits(cls, value: list[str]) -> list[str]:
        ciks = []
        for cik in value:
            digits = str(cik).strip()
            if not digits.isdigit() or len(digits) > 10:
                raise ValueError(f"{cik!r} is not a CIK: up to 10 digits, e.g. '0001045810'")
            ciks.append(digits.zfill(10))
        return ciks

    @field_validator("forms")
    @classmethod
    def _known_forms(cls, value: list[str]) -> list[str]:
        unknown = [form for form in value if form not in EDGAR_FORMS]
        if unknown:
            raise ValueError(f"unsupported forms {unknown}; choose from {list(EDGAR_FORMS)}")
        return value


class Schedule(_Strict):
    """When ``ouroboros serve`` runs the flow: a cron expression or an interval in seconds."""

    cron: str | None = None
    interval: timedelta | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        if (self.cron is None) == (self.interval is None):
            raise ValueError("give exactly one of 'cron' (e.g. '0 */6 * * *') or 'interval' (seconds)")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"cron {self.cron!r} needs 5 fields: minute hour day month weekday")
        return self


class Dedupe(_Strict):
    """How close two texts must be (cosine of their embeddings) to count as the same story."""

    near_duplicate_threshold: float = Field(default=0.9, gt=0.0, le=1.0)


class SourcesConfig(_Strict):
    """Everything one sources file says."""

    folders: list[FolderSource] = Field(default_factory=list)
    feeds: list[FeedSource] = Field(default_factory=list)
    edgar: EdgarSource | None = None
    schedule: Schedule | None = None
    dedupe: Dedupe = Field(default_factory=Dedupe)
    timeout: float = Field(default=20.0, gt=0, description="Seconds before an HTTP request gives up.")
    extract_timeout: float = Field(
        default=300.0, gt=0,
        description="Seconds one document's extraction may take; past it the document is marked failed and retried next run.",
    )


def load_sources(path: Path) -> SourcesConfig:
    """Read and check the sources file at ``path``; relative folder paths resolve against its folder."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"sources file {path} not found; copy sources.example.yaml and edit it") from None
    except UnicodeDecodeError as e:
        hint = " (it looks like UTF-16)" if e.object[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise ConfigError(
            f"sources file {path} is not UTF-8{hint}; convert it, e.g. iconv -f UTF-16 -t UTF-8 {path} > sources.yaml"
        ) from e
    except OSError as e:
        raise ConfigError(f"sources file {path} cannot be read ({e.strerror or e}); check its permissions") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"sources file {path} is not valid YAML ({e}); fix the syntax") from e
    return parse_sources(raw if raw is not None else {}, path)


def parse_sources(raw: object, path: Path) -> SourcesConfig:
    """Check already-parsed YAML; every problem names the file, the key and what to fix."""
    if not isinstance(raw, dict):
        raise ConfigError(f"sources file {path}: the top level must be a mapping of folders/feeds/edgar/schedule")
    try:
        config = SourcesConfig.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"key '{_key(err['loc'])}': {err['msg']}" for err in e.errors())
        raise ConfigError(f"sources file {path}: {problems}") from e
    base = path.resolve().parent
    folders = [FolderSource(path=f.path if f.path.is_absolute() else base / f.path) for f in config.folders]
    return config.model_copy(update={"folders": folders})


def _key(loc: tuple[int | str, ...]) -> str:
    return ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in loc).replace(".[", "[")
