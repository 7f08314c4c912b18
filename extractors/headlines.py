"""Title Case headlines in sentence case, so the small model parses them like prose.

``en_core_web_sm`` reads "Microsoft Invests $10 Billion In OpenAI" as a string of proper names (no
verb, no deal); in sentence case ("Microsoft invests $10 billion in OpenAI") it parses the deal.
``sentence_case_headlines(text)`` lowers the capital of the ordinary words of Title Case lines and
keeps everything that may be a name (ALL-CAPS lines likewise, their other words capitalised), and the
text keeps its length, so every character offset
(evidence, spans) still points at the same place of the original text.

A word is lowered only when it is known to be an ordinary word: a function word, a money word, a
deal word of the frames (any inflection: "Signs", "Invests", "Raises"), a headline word
(``HEADLINE_WORDS``), or a word the same text writes in lower case elsewhere. A registry name
as written ("Google Cloud", "Advanced Micro Devices") or written capitalised in the middle of a sentence of
the body is kept, and so is every other word, so an unknown company's name is never lowered.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractors.frames import load_frames
from extractors.resolve import load_registry

__all__ = ["is_lower_case_text", "sentence_case_headlines", "truecase_lower_case_text"]

# Words of headlines that are not deal words of the frames: function words, money and time words,
# and the verbs and nouns headlines use for deals ("inks", "seals", "taps", "stake", "talks").
HEADLINE_WORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "to", "in", "into", "on", "of", "for", "with", "from", "by", "at",
    "as", "up", "over", "after", "amid", "about", "its", "their", "new", "more", "than", "worth", "first",
    "is", "are", "be", "will", "could", "may", "can", "not", "no", "all", "big", "major", "multibillion",
    "billion", "million", "trillion", "bn", "dollar", "dollars", "year", "years", "multiyear", "multi",
    "ink", "seal", "strike", "tap", "take", "agree", "plan", "say", "report", "reportedly", "bet", "join",
    "near", "eye", "unveil", "expand", "extend", "deepen", "boost", "double", "add", "get", "hand", "make",
    "set", "team", "partner", "talk", "talks", "announce", "close", "reach", "lead", "led", "seek",
    "stake", "cloud", "chip", "computing", "compute", "capacity", "data", "center", "centre", "power",
    "infrastructure", "startup", "giant", "maker", "firm", "partnership", "alliance", "tie", "ties",
    "round", "financing", "funding", "valuation", "share", "shares", "push", "race", "bid",
})
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_SENTENCE_END = (".", "!", "?", ":", ";", ",")


@lru_cache(maxsize=1)
def _ordinary_words() -> frozenset[str]:
    """Headline words plus every deal word (frames and cues) of ``frames.yaml``."""
    return HEADLINE_WORDS | _deal_words()


@lru_cache(maxsize=1)
def _registry_names() -> re.Pattern[str]:
    """Every registry name, alias, product and brand as written (longest first): never lowered."""
    registry = load_registry()
    spellings = {spelling for company in registry.companies
                 for spelling in (company.name, *company.aliases, *company.products, *company.brands)}
    alternatives = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def _lemma_forms(word: str) -> set[str]:
    """The forms a lower-cased word may be an inflection of ("invests", "raises", "signed", "leading")."""
    forms = {word}
    for suffix, replacements in (("ies", ("y",)), ("es", ("", "e")), ("s", ("",)), ("ed", ("", "e")),
                                 ("ing", ("", "e")), ("d", ("",))):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            forms.update(word[: -len(suffix)] + r for r in replacements)
    return forms


def _is_title_case_headline(line: str) -> bool:
    """A short line with no sentence end where most longer words start with a capital."""
    stripped = line.strip()
    words = _WORD.findall(stripped)
    if not 3 <= len(words) <= 25 or stripped.endswith(_SENTENCE_END):
        return False
    longer = [w for w in words if len(w) > 3]
    return len(longer) >= 2 and sum(w[0].isupper() for w in longer) >= 0.75 * len(longer)


def _is_all_caps_headline(line: str) -> bool:
    """A short line whose words are written in capitals and that names a deal ("HALBERD TO INVEST
    $5 BILLION IN NIMBUS"); a filing's cover ("BRANNOCK HOLDINGS, INC.") stays as it is."""
    words = [w for w in _WORD.findall(line) if len(w) > 1]
    if not (3 <= len(words) <= 25 and sum(w.isupper() for w in words) >= 0.8 * len(words)):
        return False
    deal_words = _deal_words()
    return any(_lemma_forms(w.lower()) & deal_words for w in words)


@lru_cache(maxsize=1)
def _deal_words() -> frozenset[str]:
    """The trigger words of ``frames.yaml`` (verbs, nouns and cues)."""
    return frozenset(w for words in load_frames().trigger_lemmas().values() for w in words)


@lru_cache(maxsize=1)
def _registry_names_any_case() -> re.Pattern[str]:
    return re.compile(_registry_names().pattern, re.I)


@lru_cache(maxsize=1)
def _registry_spelling() -> dict[str, str]:
    """Each registry spelling by its lower case ("nvidia" -> "NVIDIA", "openai" -> "OpenAI")."""
    registry = load_registry()
    return {spelling.lower(): spelling for company in registry.companies
            for spelling in (company.name, *company.aliases, *company.products, *company.brands)}


def _caps_to_sentence_case(line: str, lower_in_body: set[str], names_in_body: set[str]) -> str:
    """An ALL-CAPS line in sentence case: registry names as the registry writes them, names the body
    writes capitalised as the body does, ordinary words lowered, every other word capitalised (it
    may be an unknown company's name). Two-letter words ("AI", "US") keep their capitals."""
    chars = list(line)
    named: set[int] = set()
    for m in _registry_names_any_case().finditer(line):
        spelling = _registry_spelling().get(m.group(0).lower())
        if spelling is not None and len(spelling) == len(m.group(0)):
            chars[m.start(): m.end()] = spelling
            named.update(range(m.start(), m.end()))
    body_spelling = {w.lower(): w for w in names_in_body}
    ordinary = _ordinary_words()
    company_words = set(load_registry().name_kinds)
    name_before = False  # the previous word is (part of) a name: "HALBERD COMPUTE" keeps "Compute"
    for match in _WORD.finditer(line):
        word = match.group(0)
        lower = word.lower()
        if match.start() in named or not word.isupper():
            name_before = match.start() in named or word[:1].isupper()
            continue
        if len(word) <= 2:
            new = lower if lower in ordinary else word  # "TO", "IN" are words; "AI", "US" stay
        elif (lower in lower_in_body or _lemma_forms(lower) & ordinary) and not (name_before and lower in company_words):
            new = lower
        else:
            new = body_spelling.get(lower, word.capitalize())
        name_before = new[:1].isupper()
        if len(new) == len(word):
            chars[match.start(): match.end()] = new
    return "".join(chars)


def sentence_case_headlines(text: str) -> str:
    """``text`` with the ordinary words of its Title Case lines lowered, and its ALL-CAPS lines in
    sentence case (same length, same offsets)."""
    lines = text.split("\n")
    capitals = {i for i, line in enumerate(lines) if _is_all_caps_headline(line)}
    headlines = {i for i, line in enumerate(lines) if i not in capitals and _is_title_case_headline(line)}
    if not headlines and not capitals:
        return text
    body = "\n".join(line for i, line in enumerate(lines) if i not in headlines | capitals)
    lower_in_body = {w for w in _WORD.findall(body) if w.islower()}
    # Capitalised words run after a lower-case word: a name ("signed with Vask Cloud").
    names_in_body = {w for run in re.findall(r"(?<=[a-z,] )[A-Z][\w'’]*(?: [A-Z][\w'’]*)*", body)
                     for w in run.split()}
    company_words = set(load_registry().name_kinds)
    ordinary = _ordinary_words()

    def lowered(line: str) -> str:
        named = {i for m in _registry_names().finditer(line) for i in range(m.start(), m.end())}
        words = []
        kept_before = False  # the previous word kept its capital: "Vask Cloud" keeps "Cloud"
        for match in _WORD.finditer(line):
            word = match.group(0)
            keep = (match.start() == 0 or match.start() in named or not word.istitle() or word in names_in_body
                    or (kept_before and word.lower() in company_words)
                    or not (word.lower() in lower_in_body or _lemma_forms(word.lower()) & ordinary))
            words.append((match.start(), word if keep else word.lower()))
            kept_before = keep and word[0].isupper()
        chars = list(line)
        for start, word in words:
            chars[start: start + len(word)] = word
        return "".join(chars)

    for i in headlines:
        lines[i] = lowered(lines[i])
    for i in capitals:
        lines[i] = _caps_to_sentence_case(lines[i], lower_in_body, names_in_body)
    return "\n".join(lines)


_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n\s*)([a-z])")
# Words a lower-case text lost the capitals of, that the parser reads better with them.
_ACRONYMS = frozenset({"ai", "ceo", "cfo", "cto", "gpu", "gpus", "tpu", "tpus", "cpu", "cpus", "hbm", "uk", "eu"})
_CALENDAR = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
                       "february", "march", "april", "june", "july", "august", "september", "october",
                       "november", "december"})


def is_lower_case_text(text: str) -> bool:
    """A text written without capitals (fewer than 1 letter in 200 upper case, 200+ letters)."""
    letters = sum(c.isalpha() for c in text[:20000])
    return letters >= 200 and sum(c.isupper() for c in text[:20000]) * 200 < letters


def truecase_lower_case_text(text: str) -> str:
    """A text written without capitals (a scraped page in lower case), with the capitals the parser
    needs: registry names as the registry writes them, the first letter of each sentence, "I".
    Same length, same offsets; any other text is returned as it is."""
    if not is_lower_case_text(text):
        return text
    chars = list(text)
    for m in _registry_names_any_case().finditer(text):
        spelling = _registry_spelling().get(m.group(0).lower())
        if spelling is not None and len(spelling) == len(m.group(0)):
            chars[m.start(): m.end()] = spelling
    for m in _SENTENCE_START.finditer(text):
        chars[m.start(1)] = chars[m.start(1)].upper()
    for m in re.finditer(r"(?<![\w'])i(?![\w'])", text):
        chars[m.start()] = "I"
    for m in re.finditer(r"[a-z]+", text):
        word = m.group(0)
        if word in _ACRONYMS:
            chars[m.start(): m.end()] = word.upper()
        elif word in _CALENDAR:
            chars[m.start()] = word[0].upper()
    return "".join(chars)
