"""Company names as the graph keeps them: normalised, bounded, and checked for look-alike letters."""

from __future__ import annotations

import unicodedata

# Longest name kept: real company names are far shorter, and graph index keys have a size limit.
MAX_NAME_CHARS = 200

# Letters of other scripts that render like Latin ones (the common homoglyphs of Unicode's
# confusables list); enough to say which Latin name a mixed-script name imitates.
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "B", "е": "e", "к": "k", "м": "M", "н": "H", "о": "o", "р": "p", "с": "c", "т": "T",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ո": "n",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I",
    "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})


def normalize_name(value: str) -> str:
    """NFKC, no control or invisible format characters, single spaces.

    Raises:
        ValueError: the name is longer than ``MAX_NAME_CHARS``.
    """
    text = unicodedata.normalize("NFKC", value)
    # Tabs and line breaks separate words; other control and invisible format characters go.
    text = "".join(ch for ch in text if ch.isspace() or not unicodedata.category(ch).startswith("C"))
    text = " ".join(text.split())
    if len(text) > MAX_NAME_CHARS:
        raise ValueError(
            f"a name of {len(text):,} characters (over {MAX_NAME_CHARS}) is not a company name: {text[:60]!r}..."
        )
    return text


def clean_text(value: str) -> str:
    """Text (an evidence sentence) without NUL and other control characters; line breaks and tabs stay."""
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def scripts(name: str) -> set[str]:
    """The scripts of the letters of ``name`` ("LATIN", "CYRILLIC", "GREEK", ...)."""
    return {unicodedata.name(ch, "UNKNOWN").split()[0] for ch in name if ch.isalpha()}


def lookalike_of(name: str) -> str | None:
    """The all-Latin name a mixed-script name imitates ("Microsоft" with a Cyrillic o -> "Microsoft").

    None for a name in one script (a genuinely Cyrillic or Greek name is fine) and for one whose
    foreign letters have no Latin twin.
    """
    found = scripts(name)
    if len(found) < 2 or "LATIN" not in found:
        return None
    latin = name.translate(_LOOKALIKES)
    return latin if scripts(latin) == {"LATIN"} else None
