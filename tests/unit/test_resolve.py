"""Entity resolution: registry aliases, run memory, rapidfuzz, and the real embedding model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from extractors import embeddings
from extractors.resolve import CompanyResolver, clean_name, load_registry
from ouroboros.core.settings import get_settings


@pytest.fixture()
def resolver() -> CompanyResolver:
    return CompanyResolver()


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("AWS", "Amazon"), ("Amazon Web Services", "Amazon"), ("Azure", "Microsoft"), ("Google Cloud", "Google"),
     ("Alphabet", "Google"), ("OCI", "Oracle"), ("Oracle Cloud Infrastructure", "Oracle"),
     ("NVIDIA Corporation", "NVIDIA"), ("Nvidia", "NVIDIA"), ("SoftBank Group", "SoftBank"),
     ("CoreWeave, Inc.", "CoreWeave"), ("Amazon's", "Amazon"), ("Open AI", "OpenAI")],
)
def test_registry_aliases_and_divisions(resolver: CompanyResolver, name: str, canonical: str) -> None:
    result = resolver.resolve(name)
    assert result.name == canonical
    assert result.method == "registry"


def test_products_resolve_to_their_owner(resolver: CompanyResolver) -> None:
    assert resolver.resolve_product("Trainium") == ("Trainium", "Amazon")
    assert resolver.resolve_product("Trainium2") == ("Trainium2", "Amazon")
    assert resolver.resolve_product("Vera Rubin") == ("Vera Rubin", "NVIDIA")
    assert resolver.resolve("GB200").name == "NVIDIA"
    assert resolver.resolve_product("Kestrel K2") is None  # unknown product, unknown vendor


def test_legal_suffixes_are_dropped() -> None:
    assert clean_name("Halberd Compute, Inc.") == "Halberd Compute"
    assert clean_name("Ostrander Bank, N.A.") == "Ostrander Bank"
    assert clean_name("Aurelle Datacenters SAS") == "Aurelle Datacenters"
    assert clean_name("the Company") == "Company"


def test_unknown_companies_are_kept_and_short_forms_follow_the_full_name(resolver: CompanyResolver) -> None:
    # Document 1 names the company in full; document 2 uses the short form.
    assert resolver.canonical("Corvane Semiconductor, Inc.") == "Corvane Semiconductor"
    assert resolver.resolve("Corvane").name == "Corvane Semiconductor"
    assert resolver.resolve("Corvane").method == "seen"
    assert resolver.canonical("Quillfeather AI") == "Quillfeather AI"


def test_fuzzy_catches_misspellings(resolver: CompanyResolver) -> None:
    assert resolver.resolve("Antropic").name == "Anthropic"
    assert resolver.resolve("Antropic").method == "fuzzy"
    assert resolver.resolve_product("Tranium") == ("Trainium", "Amazon")


def test_embedding_decides_the_grey_zone_with_the_real_model(resolver: CompanyResolver) -> None:
    # "oracle cloud infra" is only 80% similar in spelling to "oracle cloud infrastructure":
    # too far for rapidfuzz alone, close in meaning for all-MiniLM-L6-v2.
    result = resolver.resolve("Oracle Cloud Infra")
    assert (result.name, result.method) == ("Oracle", "embedding")
    # A new company that merely shares a word with a known one is not merged into it.
    assert resolver.resolve("Orrin Systems").name == "Orrin Systems"


def test_registry_holds_no_gold_set_fictional_companies() -> None:
    names = {c.name for c in load_registry().companies}
    aliases = {a for c in load_registry().companies for a in c.aliases}
    for fictional in ("Corvane Semiconductor", "Nimbus Ridge Labs", "Halberd Compute", "Tessaly Cloud",
                      "Quillfeather AI", "Veradyne Capital", "Orrin Systems", "Aurelle Datacenters"):
        assert fictional not in names | aliases


# The grey-zone names of the resolver tests: decided by the model, the same way from its cached vectors.
GREY_ZONE_NAMES = ("Oracle Cloud Infra", "Orrin Systems", "Amazon Web Svcs", "Nvidia Corp", "Quillfeather AI")


@pytest.fixture()
def vector_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty OUROBOROS_CACHE for one test."""
    monkeypatch.setenv("OUROBOROS_CACHE", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path / "embeddings"
    get_settings.cache_clear()


def _resolutions() -> list[tuple[str, str, float]]:
    resolver = CompanyResolver()
    return [(r.name, r.method, round(r.score, 6)) for r in map(resolver.resolve, GREY_ZONE_NAMES)]


def test_cached_vectors_resolve_names_exactly_as_the_model_does(
        vector_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = _resolutions()
    assert cold[0][:2] == ("Oracle", "embedding")
    assert list(vector_cache.rglob("*.npy"))  # the registry's spellings and each grey-zone name

    def no_model() -> None:
        raise AssertionError("the model was loaded although every vector was cached")

    monkeypatch.setattr(embeddings, "get_model", no_model)
    assert _resolutions() == cold


def test_cached_vectors_are_the_models_numbers(vector_cache: Path) -> None:
    names = ["oracle cloud infra", "trainium"]
    computed = embeddings.cached_embeddings(names)
    assert np.array_equal(np.load(embeddings.vector_cache_path(names)), computed)
    direct = embeddings.get_model().encode(names, normalize_embeddings=True, convert_to_numpy=True)
    assert np.array_equal(embeddings.cached_embeddings(names), direct)


def test_an_unreadable_vector_cache_is_recomputed(vector_cache: Path) -> None:
    cold = _resolutions()
    for path in vector_cache.rglob("*.npy"):
        path.write_bytes(b"not a numpy file")
    assert _resolutions() == cold


SUBPROCESS = """
import json, sys
from extractors.embeddings import torch_deferred
with torch_deferred():  # as `ouroboros extract` builds its spaCy pipeline
    from extractors.pipeline import get_nlp
    get_nlp()
from extractors.resolve import CompanyResolver
result = CompanyResolver().resolve("Oracle Cloud Infra")
print(json.dumps([result.name, result.method, "torch" in sys.modules]))
"""


def test_spacy_runs_without_torch_and_the_model_loads_it_only_for_an_uncached_name(tmp_path: Path) -> None:
    env = {**os.environ, "OUROBOROS_CACHE": str(tmp_path), "PYTHONPATH": str(Path(__file__).parents[2])}

    def run() -> list[object]:
        done = subprocess.run([sys.executable, "-c", SUBPROCESS], env=env, capture_output=True, text=True, check=True)
        return list(json.loads(done.stdout.splitlines()[-1]))

    assert run() == ["Oracle", "embedding", True]  # first run: the model (and torch) computed the vectors
    assert run() == ["Oracle", "embedding", False]  # later runs: the same answer, torch never imported
