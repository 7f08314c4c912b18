"""Entity resolution: registry aliases, run memory, rapidfuzz, and the real embedding model."""

from __future__ import annotations

import pytest

from extractors.resolve import CompanyResolver, clean_name, load_registry


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
