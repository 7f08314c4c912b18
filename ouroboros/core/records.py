"""The deal record: the one contract between extractors, the graph writer and evaluation.

Fields follow ``shared/gold/FORMAT.md``; ``ouroboros extract --format jsonl`` prints these.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from ouroboros.core.dates import absolute_url, iso_date
from ouroboros.core.names import clean_text, normalize_name

# A company or product name as every record holds it: NFKC, no control characters, bounded
# (ouroboros.core.names), so no extractor can hand the graph or graphviz a name they cannot hold.
Name = Annotated[str, AfterValidator(normalize_name)]
# Evidence (sentences copied from a document) keeps its line breaks but loses NUL and other control characters.
Evidence = Annotated[str, AfterValidator(clean_text)]

DealKind = Literal["investment", "purchase", "warrant", "backstop", "loan", "stake_sale"]
DealStatus = Literal["announced", "completed", "in_talks", "reported", "denied", "ended"]

DEAL_KINDS: tuple[str, ...] = DealKind.__args__  # type: ignore[attr-defined]
DEAL_STATUSES: tuple[str, ...] = DealStatus.__args__  # type: ignore[attr-defined]


class SpendBack(BaseModel):
    """The recipient's obligation or stated plan to spend the money at a payee."""

    model_config = ConfigDict(frozen=True)

    payee: Name
    what: str | None = None
    amount_usd: float | None = None
    # The sentence(s) that state this leg; empty when the deal's own evidence states it too.
    evidence: Evidence = ""


class HardwareMandate(BaseModel):
    """A requirement to use named hardware, owned by ``vendor``."""

    model_config = ConfigDict(frozen=True)

    product: Name
    vendor: Name
    # The sentence(s) that state the mandate; empty when the deal's own evidence states it too.
    evidence: Evidence = ""


class Conversion(BaseModel):
    """How a deal's USD figure was worked out from an amount stated in another currency."""

    model_config = ConfigDict(frozen=True)

    currency: str  # ISO 4217 code of the amount as written
    amount: float  # the figure in that currency
    rate: float  # USD per unit of ``currency``
    rate_date: str  # the ECB reference day used (ISO)
    # document_date: the rate of the document's publication day; latest_rate: it had no date.
    basis: Literal["document_date", "latest_rate"]


class DealRecord(BaseModel):
    """One capital flow ``investor -> recipient`` that a document states."""

    model_config = ConfigDict(frozen=True)

    doc: str
    kind: DealKind
    investor: Name
    recipient: Name
    amount_usd: float | None = None
    amount_text: str | None = None
    spend_back: SpendBack | None = None
    hardware_mandate: HardwareMandate | None = None
    status: DealStatus = "announced"
    evidence: Evidence = ""
    # Set by the pipeline when amount_usd was converted from another currency (never by an extractor).
    fx: Conversion | None = None
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    extractor: str = Field(default="spacy", exclude=True)

    @property
    def deal_id(self) -> str:
        """A stable id: the same deal stated by the same sentence of the same document."""
        key = json.dumps(
            [self.doc, self.kind, self.investor, self.recipient, self.amount_text, self.evidence],
            ensure_ascii=False,
        )
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]

    def flows(self) -> list[tuple[str, str]]:
        """The company-to-company flows this record adds (FORMAT.md: spend-back adds a second)."""
        edges = [(self.investor, self.recipient)]
        if self.spend_back is not None and self.spend_back.payee != self.recipient:
            edges.append((self.recipient, self.spend_back.payee))
        return edges


@runtime_checkable
class Extractor(Protocol):
    """Text in, deal records out. Implementations register themselves by name."""

    name: str

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        """Return every deal that ``text`` (the document named ``doc``) states."""
        ...


DateBasis = Literal["stated", "feed", "page", "filing", "file_modified"]


class SourceDocument(BaseModel):
    """A document as it enters the pipeline: its id, its text, and where and when it was published.

    The provenance fields are what an analyst cites: ``url`` (public address), ``title``, ``outlet``
    (site, feed or registry), ``published`` (ISO date) and how that date is known (``date_basis``:
    stated in the file's front matter or JSON, from the feed entry, from the page's metadata, the
    filing date, or only the file's modification time); filings add ``form`` and ``filer``.
    Bad metadata never fails a document: an unparsable date or a relative URL becomes None.
    """

    model_config = ConfigDict(frozen=True)

    doc: str = Field(description="The id records carry in their `doc` field (file name or the tool's id).")
    text: str
    source: str = Field(description="Where it came from: a file path or a URL.")
    title: str | None = None
    published: str | None = Field(default=None, description="ISO 8601 date (YYYY-MM-DD), when known.")
    url: str | None = Field(default=None, description="The public address to cite (absolute http(s) URL).")
    outlet: str | None = None
    date_basis: DateBasis | None = None
    form: str | None = None
    filer: str | None = None

    @field_validator("published", mode="before")
    @classmethod
    def _iso_date(cls, value: object) -> str | None:
        return iso_date(value)

    @field_validator("url", mode="before")
    @classmethod
    def _absolute_url(cls, value: object) -> str | None:
        return absolute_url(value)

    @field_validator("title", "outlet", "form", "filer", mode="before")
    @classmethod
    def _short_text(cls, value: object) -> str | None:
        if value is None:
            return None
        text = " ".join(clean_text(str(value)).split())
        return text[:300] or None

    def provenance(self) -> dict[str, str | None]:
        """What an analyst cites, as ``extract --format jsonl`` prints it under ``source``."""
        return {"url": self.url, "title": self.title, "outlet": self.outlet, "published": self.published,
                "date_basis": self.date_basis, "form": self.form, "filer": self.filer}

    @property
    def content_hash(self) -> str:
        """SHA-256 of the text: the identity used for deduplication and incremental runs."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()
