"""spaCy pipeline components for deal extraction, each registered by name with a default config.

Every component follows spaCy's ``span_ruler`` shape: ``__call__(doc) -> Doc`` split into
``match(doc)`` (find things) and ``set_annotations(doc, matches)`` (write them on the doc).

- ``ouroboros_layout``    (before the parser) a line break ends a sentence: headlines, bullets
                          and transcript turns never run into the next line.
- ``ouroboros_companies`` company mentions in ``doc.spans["companies"]``: the curated registry,
                          unknown names that look like companies ("Nimbus Ridge Labs"), the
                          model's ORG entities, short forms of names seen earlier ("Nimbus
                          Ridge") and defined terms of filings (the "Company").
                          ``span.kb_id_`` holds the registry's canonical name, or "".
                          Registry products in ``doc.spans["products"]``: label PRODUCT for
                          hardware, BRAND for software and models; kb_id_ = the owner.
- ``ouroboros_money``     amounts in ``doc.spans["money"]``; ``span._.money`` is the parsed
                          ``extractors.money.Money``.
- ``ouroboros_triggers``  deal words (invest, buy, warrant, loan, stake, ...) found with a
                          ``Matcher`` in ``doc.spans["deal_triggers"]``, label = the deal kind hinted.
"""

from __future__ import annotations

import re
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from extractors.frames import load_frames
from extractors.headlines import is_lower_case_text
from extractors.money import CURRENCY_NAMES, SCALE_PATTERN, Money, find_money
from extractors.places import is_known_place
from extractors.resolve import Registry, clean_name, load_registry
from extractors.vocabulary import (
    CONTRACT_NOUNS,
    FACILITY_NOUNS,
    GOODS_HEADS,
    PERSON_TITLES,
    PRODUCT_LINE_WORDS,
    REPORTING_WORDS,
    SUBSIDIARY_NOUNS,
)

if not Span.has_extension("money"):
    Span.set_extension("money", default=None)

COMPANIES = "companies"
PRODUCTS = "products"
MONEY = "money"
TRIGGERS = "deal_triggers"

# Entity labels of numbers, and the words of amounts that carry them: money.py's scale words
# ("Billion", "bn") and the units after a figure.
_NUMBER_LABELS = {"MONEY", "CARDINAL", "PERCENT", "QUANTITY"}
_AMOUNT_WORD_RE = re.compile(rf"(?:{SCALE_PATTERN}|hundred|dollars?|usd|percent)", re.I)
# Capitalised words the model tags ORG that are never a company on their own.
_NOT_COMPANIES = {
    "ai", "api", "apis", "gpu", "gpus", "cpu", "cpus", "ipo", "company", "commission", "excerpt", "sec", "ceo", "cfo",
    "coo", "wire", "nasdaq", "nyse", "agi", "media", "operator", "board", "item", "exhibits", "llm",
    "the company", "the commission", "securities and exchange commission", "form 8-k", "x86", "sofr",
    "overweight", "underweight", "hold", "buy", "sell", "tpu", "tpus", "q&a", "limited partners",
}
# A capitalised deal or document word on its own ("the Facility", "the Agreement") is no company.
_DEAL_WORDS = CONTRACT_NOUNS | {"facility", "loan", "notes", "financing", "round", "arrangement"}
# "Series A", "Series B-2": a funding round, not a company.
_ROUND_NAME_RE = re.compile(r"Series [A-Z](?:-?\d)?\+?\.?")
# A capitalised phrase ending in one of these is a document or a deal, not a company ("Master Services Agreement").
_DOCUMENT_WORDS = {"agreement", "agreements", "contract", "order", "form", "act", "plan", "facility", "note", "notes",
                   "statement", "statements", "report", "deal", "program", "project", "fund"}
# Words before a person's name ("Nvidia chief Jensen Huang", "CEO Sam Altman").
# Common words an explainer puts before a letter to make a stand-in ("Vendor A sells to Cloud C").
_PLACEHOLDER_WORDS = {"vendor", "company", "firm", "startup", "lab", "investor", "customer", "supplier", "partner",
                      "buyer", "seller", "fund", "bank", "provider", "player", "party"}
# Suffix words that can end a name but do not make it a company on their own.
_WEAK_SUFFIXES = {"technologies", "technology", "energy", "research", "corporation", "corp", "inc"}
LEGAL_WORDS = ["Inc.", "Inc", "Corp.", "Corp", "Ltd.", "Ltd", "LLC", "N.A.", "SAS", "S.A.", "AG",
                "GmbH", "PLC", "plc", "L.P.", "LP", "Co.", "PBC", "B.V.", "N.V.", "Incorporated", "Limited", "Corporation"]
_LEGAL_TAIL: list[dict[str, Any]] = [
    {"ORTH": ",", "OP": "?"},
    {"ORTH": {"IN": LEGAL_WORDS}, "OP": "?"},
]


# --------------------------------------------------------------------------------------------
@Language.factory("ouroboros_layout", default_config={})
def make_layout(nlp: Language, name: str) -> LayoutSentencizer:
    """Line breaks end sentences (must run before the parser, which keeps preset boundaries)."""
    return LayoutSentencizer()


_BULLETS = {"-", "•", "*", "–", "—", "·"}


class LayoutSentencizer:
    """Marks the token after a line break as a sentence start."""

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def match(self, doc: Doc) -> list[int]:
        """Indexes of tokens that follow a line break."""
        starts = []
        for token in doc[:-1]:
            if "\n" in token.whitespace_ or (token.is_space and "\n" in token.text):
                starts.append(token.i + 1)
        return starts

    def set_annotations(self, doc: Doc, starts: list[int]) -> None:
        """Set ``is_sent_start`` on those tokens (the parser respects it); a bullet stays with its item."""
        for i in starts:
            doc[i].is_sent_start = True
            if doc[i].text in _BULLETS and i + 1 < len(doc):
                doc[i + 1].is_sent_start = False


# --------------------------------------------------------------------------------------------
@Language.factory("ouroboros_companies", default_config={"use_model_orgs": True})
def make_companies(nlp: Language, name: str, use_model_orgs: bool) -> CompanyRecognizer:
    """Company and product mentions from the registry, name patterns and the model's NER."""
    return CompanyRecognizer(nlp, load_registry(), use_model_orgs=use_model_orgs)


class CompanyRecognizer:
    """Finds company and product mentions; see the module docstring for the sources."""

    def __init__(self, nlp: Language, registry: Registry, *, use_model_orgs: bool = True) -> None:
        self.registry = registry
        self.use_model_orgs = use_model_orgs
        self.company_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        # For texts written all in lower case ("amazon will invest ... in anthropic"), registry names by LOWER.
        self.lower_matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.product_matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.canonical: dict[str, str] = {}
        self.registry_names = {company.name for company in registry.companies}
        self.product_names = {name.casefold() for name in (*registry.product_names(), *registry.brand_names())}
        self.nationalities = {c.nationality.casefold() for c in registry.companies if c.nationality}
        for spelling, canonical in registry.company_names().items():
            for variant in {spelling, spelling.upper()}:
                self.canonical[variant] = canonical
                self.company_matcher.add(canonical, [nlp.make_doc(variant)])
            self.lower_matcher.add(canonical, [nlp.make_doc(spelling.lower())])
        for product, vendor in registry.product_names().items():
            self.product_matcher.add(f"PRODUCT|{vendor}", [nlp.make_doc(product)])
        for brand, owner in registry.brand_names().items():
            self.product_matcher.add(f"BRAND|{owner}", [nlp.make_doc(brand)])
        suffixes = sorted({w for key in registry.name_kinds for w in (key.title(), key.upper(), key.capitalize())})
        self.name_matcher = Matcher(nlp.vocab)
        # One or more capitalised non-stop words ending in a company-suffix word: "Nimbus Ridge Labs".
        self.name_matcher.add(
            "NAME",
            [[{"IS_TITLE": True, "IS_STOP": False, "IS_SENT_START": False, "OP": "+"},
              {"ORTH": {"IN": suffixes}}, *_LEGAL_TAIL],
             [{"IS_TITLE": True, "IS_STOP": False, "OP": "+"}, {"ORTH": {"IN": suffixes}}, *_LEGAL_TAIL],
             # "Pryce & Walcott Bank": partners' names joined by an ampersand.
             [{"IS_TITLE": True, "IS_STOP": False, "OP": "+"}, {"ORTH": "&"}, {"IS_TITLE": True, "IS_STOP": False, "OP": "*"},
              {"ORTH": {"IN": suffixes}}, *_LEGAL_TAIL]],
            greedy="LONGEST",
        )

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def match(self, doc: Doc) -> tuple[list[Span], list[Span]]:
        """(company spans, product spans); company spans carry the registry name in ``kb_id_``."""
        matcher = self.lower_matcher if is_lower_case_text(text_of(doc)) else self.company_matcher
        registry_spans = [
            Span(doc, start, end, label="COMPANY", kb_id=doc.vocab.strings[match_id])
            for match_id, start, end in matcher(doc)
        ]
        products = []
        for match_id, start, end in self.product_matcher(doc):
            label, owner = doc.vocab.strings[match_id].split("|", 1)
            products.append(Span(doc, start, end, label=label, kb_id=owner))
        product_tokens = {i for p in products for i in range(p.start, p.end)}
        named = [self._trim(span) for span in self.name_matcher(doc, as_spans=True)]
        # "proprietary Trainium AI chips" is a product, not a company called "Trainium AI".
        # "Vask Cloud servers", "Corvane Semiconductor chips" keep their name: a company word ends it.
        named = [span for span in named if span is not None and self._is_name(span)
                 and not (set(range(span.start, span.end)) & product_tokens)
                 and not (span.end < len(doc) and doc[span.end].lemma_.lower() in PRODUCT_LINE_WORDS
                          and span[-1].lower_ not in self.registry.name_kinds)]
        model_orgs: list[Span] = []
        if self.use_model_orgs:
            for ent in doc.ents:
                if ent.label_ == "ORG":
                    trimmed = self._trim(ent)
                    # "Zentrix Lattice chips": the last word names the product, the rest the maker.
                    # "Orrin Semiconductor chips" keeps its name: a company word ends it.
                    if trimmed is not None and len(trimmed) > 1 and trimmed.end < len(doc) \
                            and doc[trimmed.end].lemma_.lower() in PRODUCT_LINE_WORDS \
                            and trimmed[-1].lower_ not in self.registry.name_kinds:
                        trimmed = Span(doc, trimmed.start, trimmed.end - 1)
                    if trimmed is not None and self._is_model_org(trimmed):
                        model_orgs.append(trimmed)
        # Registry first, then name patterns, then the model: earlier sources win overlaps.
        named_spans = [self._with_kind_words(doc, s) for s in named if s is not None]
        model_orgs = [Span(doc, s.start, s.end, label="COMPANY", kb_id=clean_name(s.text)) for s in model_orgs]
        named_spans = [_with_capitalised_start(s, model_orgs) for s in named_spans]
        registry_spans = self._with_unit_names(doc, filter_spans(registry_spans), product_tokens)
        companies = _prefer(registry_spans, named_spans, model_orgs)
        companies += self._short_forms(doc, companies)
        # Defined terms win over whatever else covered the same words ("Registrant" tagged ORG).
        defined = self._defined_terms(doc, companies)
        companies = defined + [c for c in companies if not any(_overlaps(c, d) for d in defined)]
        companies += self._deal_party_entities(doc, companies)
        companies += _units_named_with_owner(doc, companies)
        companies += self._short_forms(doc, companies)
        companies = _with_legal_tails(doc, _joined_by_ampersand(doc, filter_spans(companies)))
        companies = [c for c in self._aliases_and_headlines(doc, companies)
                     if not self._placeholder(c) and not self._goods_term(c)]
        outlets = {company_text(c) for c in companies if c.kb_id_ not in self.registry_names and _reports_news(c)}
        companies = [c for c in companies if company_text(c) not in outlets]
        products = [p for p in filter_spans(products) if not any(_overlaps(p, c) for c in companies)]
        return sorted(companies, key=lambda s: s.start), products

    def _with_kind_words(self, doc: Doc, span: Span) -> Span:
        """"Sarab AI Holdings": the name pattern stops at the capitals "AI"; kind words after it
        (Holdings, Capital, Cloud ...) still belong to the name."""
        end = self._after_kind_words(doc, span.end)
        return Span(doc, span.start, end, label="COMPANY", kb_id=clean_name(doc[span.start:end].text))

    def _after_kind_words(self, doc: Doc, end: int) -> int:
        """Where a run of capitalised kind words ("Capital", "Holdings") starting at ``end`` stops."""
        while end < len(doc) and doc[end].is_title and doc[end].lower_ in self.registry.name_kinds:
            end += 1
        return end

    def _with_unit_names(self, doc: Doc, spans: list[Span], product_tokens: set[int]) -> list[Span]:
        """"Intel Capital led the round", "Samsung Next invested": a registry name followed by the
        name of one of its units (a kind word, or the rest of the model's organisation name) is
        one mention of the owner, so the parser's head word ("Capital") is the owner too."""
        org_ends = {ent.start: ent.end for ent in doc.ents if ent.label_ == "ORG"}
        out = []
        for span in spans:
            end = self._after_kind_words(doc, span.end)
            org_end = org_ends.get(span.start, 0)
            while end < min(org_end, span.end + 2) and doc[end].is_title and doc[end].is_alpha \
                    and end not in product_tokens and doc[end].lemma_.lower() not in PRODUCT_LINE_WORDS:
                end += 1
            out.append(span if end == span.end else Span(doc, span.start, end, label=span.label_, kb_id=span.kb_id_))
        return filter_spans(out)

    def _aliases_and_headlines(self, doc: Doc, companies: list[Span]) -> list[Span]:
        """Drop mentions that name no company of their own.

        - an abbreviation in parentheses: "Nokia (NOK)" is Nokia; "a special purpose vehicle (SPV)"
          and "Public Benefit Corporation (PBC)" abbreviate common nouns, not companies;
        - a bare legal form or kind word ("PBC", "Group", "Holdings");
        - an unknown name seen only in a title-case headline ("Putting the AI Numbers in Perspective"),
          where every word is capitalised; registry names and names the body repeats stay.
        """
        titles = _title_lines(text_of(doc))
        body_names = {company_text(c).casefold() for c in companies if not _in_title_line(c, titles)}
        starts = {c.start for c in companies}
        kept: list[Span] = []
        abbreviations: dict[str, str] = {}  # "the Hadeer Investment Authority (HIA)": HIA -> the full name
        for span in companies:
            text = clean_name(span.text)
            stands_for_itself = span.kb_id_ in ("", text)  # not a defined term ("the Company") or short form
            if stands_for_itself and (text.casefold() in _BARE_FORMS or text in LEGAL_WORDS):
                continue
            # "two more NeoCloud partnerships", "the Hyperscaler": a kind of company, capitalised.
            if stands_for_itself and text.casefold() in self.registry.descriptions and span.kb_id_ not in self.registry_names:
                continue
            words = text.split()
            # "French AI startup Mistral AI": a nationality and a kind word describe, they do not name.
            if stands_for_itself and len(words) == 2 and words[0].casefold() in self.nationalities \
                    and words[1].casefold() in self.registry.name_kinds:
                continue
            before = doc[span.start - 1] if span.start > 0 else None
            # "the Dammam Center", "Lancium Clean Campus": a site, not a company ("Data Centers" can be one).
            if span.kb_id_ not in self.registry_names and words[-1] in _SITE_WORDS:
                continue
            # "1,920 MW of grid power", "$240 million CAD": units and currencies.
            if (text in _UNIT_WORDS or text in _CURRENCY_WORDS) and span.kb_id_ not in self.registry_names:
                continue
            # "Alphabet CEO Sundar Pichai", "NVIDIA chief Jensen Huang": a person behind a title, no company.
            titled = words[0].casefold() in PERSON_TITLES or (before is not None and before.lower_ in PERSON_TITLES)
            if titled and span.kb_id_ not in self.registry_names and len(words) <= 3:
                continue
            after = doc[span.end] if span.end < len(doc) else None
            # "Counterparty Financial Support: Google, a subsidiary of ...": a field's label, the company after it.
            opens_line = span.start == 0 or "\n" in doc[span.start - 1].text_with_ws
            if opens_line and after is not None and after.text == ":" and span.kb_id_ not in self.registry_names \
                    and span.end + 1 in starts:
                continue
            if before is not None and before.text == "(" and after is not None and after.text == ")" \
                    and span.kb_id_ not in self.registry_names and text.isupper():
                previous = next((c for c in reversed(kept) if c.end == span.start - 1), None)
                if previous is not None:
                    kept.append(Span(doc, span.start, span.end, label="COMPANY", kb_id=previous.kb_id_))
                    abbreviations[text] = previous.kb_id_
                continue  # an abbreviation of the words before it
            if span.kb_id_ not in self.registry_names and _in_title_line(span, titles) \
                    and company_text(span).casefold() not in body_names:
                continue
            kept.append(span)
        return _with_abbreviations(doc, kept, abbreviations) if abbreviations else kept

    def set_annotations(self, doc: Doc, matches: tuple[list[Span], list[Span]]) -> None:
        """Write ``doc.spans["companies"]`` and ``doc.spans["products"]``."""
        doc.spans[COMPANIES], doc.spans[PRODUCTS] = matches

    def _trim(self, span: Span) -> Span | None:
        """Cut a span at a line break and drop a leading "the" and trailing punctuation."""
        start, end = span.start, span.end
        for token in span:
            breaks = "\n" in token.text or (token.i < span.end - 1 and "\n" in token.whitespace_)
            if breaks and (token.i - start >= 1 or "\n" in token.whitespace_):
                end = token.i + 1 if "\n" not in token.text else token.i
                break
        doc = span.doc
        # "FRANKFURT - Ostrava AG": a dateline in capitals before a dash is no part of the name.
        dash = next((t.i for t in doc[start:end] if t.text in ("-", "–", "—")), None)
        if dash is not None and dash > start and doc[start:dash].text.isupper() and _is_dateline(doc[start:dash]):
            start = dash + 1
        while start < end and (doc[start].lower_ in ("the", "a", "an") or doc[start].is_punct):
            start += 1
        while end > start and (doc[end - 1].is_punct and doc[end - 1].text not in (".",) or doc[end - 1].is_space):
            end -= 1
        if end > start and doc[end - 1].text == "'s":
            end -= 1
        return Span(doc, start, end) if end > start else None

    def _placeholder(self, span: Span) -> bool:
        """"Vendor A", "Lab B", "Cloud C": an explainer's stand-in (a common word and one capital
        letter) is no company; a registry name is never one."""
        if self.registry.by_name(span.kb_id_) is not None:
            return False
        # The first two words decide: "Lab B. Lab B" runs over a sentence end that the initial "B." hides.
        words = [t.text.rstrip(".") for t in span]
        if len(words) < 2 or not (len(words[1]) == 1 and words[1].isupper()):
            return False
        first = words[0].lower()
        return first in self.registry.name_kinds or first in self.registry.descriptions or first in _PLACEHOLDER_WORDS

    def _goods_term(self, span: Span) -> bool:
        """"The GPU Services will be deployed": a contract's capitalised name for what it sells
        (every word a word for goods) is no company; a registry name is never one."""
        words = [t.lower_.removesuffix("s") for t in span if t.is_alpha]
        # "shares of Common Stock", "the Preferred Shares": a security, not its issuer.
        security = len(words) > 1 and span[-1].lower_ in ("stock", "stocks", "share", "shares")
        return bool(words) and (security or all(w in GOODS_HEADS or w + "s" in GOODS_HEADS for w in words)) \
            and self.registry.by_name(span.kb_id_) is None

    def _is_name(self, span: Span) -> bool:
        words = [t.text for t in span if not t.is_punct]
        core = clean_name(span.text).split()
        if len(core) < 2:
            return False
        return core[-1].lower() not in _WEAK_SUFFIXES or len(words) > 2

    def _is_model_org(self, span: Span) -> bool:
        text = clean_name(span.text)
        if text.casefold() in _NOT_COMPANIES or not text[:1].isupper() or _ROUND_NAME_RE.fullmatch(text) \
                or text.casefold() in _DEAL_WORDS:
            return False
        if text.isupper() and (len(text) > 5 or _is_dateline(span)):  # page headers: "UNITED STATES", "FORM 8-K"
            return False
        if _is_wire_credit(span):
            return False
        if _names_a_site(span):
            return False
        # "Item 9.01 Financial Statements", "a Master Services Agreement": documents, not companies.
        # ("First Abu Dhabi Bank": an ordinal word is a name's word, a figure is not)
        if any(t.like_num and not t.is_alpha or t.lower_ in ("agreement", "act", "item", "statements") for t in span):
            return False
        # Lower-case legal tails count as part of the name: "Marrowby & Pell plc".
        return all(t.is_punct or t.text[:1].isupper() or t.lower_ in ("of", "and", "&", "de") or t.text in LEGAL_WORDS
                   for t in span)

    def _deal_party_entities(self, doc: Doc, companies: list[Span]) -> list[Span]:
        """Unknown companies the model missed or mislabelled, found by their place in a deal sentence.

        "Zephyr Grid agreed to buy ..." gets PERSON (or nothing) from ``en_core_web_sm``. A run of
        capitalised proper nouns that is a subject, object or prepositional object in a sentence
        with a deal word is taken as a company. A lone place name ("invest $10 billion in Texas",
        GPE/LOC) is not: it names no counterparty.
        """
        if not doc.has_annotation("SENT_START") or not doc.has_annotation("DEP"):
            return []  # needs the parser (not there in a blank pipeline)
        taken = {i for span in companies for i in range(span.start, span.end)}
        # "Ana Belmonte ... Belmonte is careful": a person's surname, once the text gave the full name.
        surnames = {ent[-1].text for ent in doc.ents if ent.label_ == "PERSON" and len(ent) > 1
                    and ent[-1].lower_ not in self.registry.name_kinds}
        found = []
        amount_led = {w for words in AMOUNT_LED_LEMMAS.values() for w in words}
        strings = doc.vocab.strings
        lemmas = [strings[lemma].lower() for lemma in doc.to_array("LEMMA")]
        for sent in doc.sents:
            if not any(lemmas[i] in TRIGGER_WORDS or lemmas[i] in amount_led and _amount_after(doc[i])
                       for i in range(sent.start, sent.end)):
                continue
            for token in sent:
                # "Ilsworth closed $640 million": the tagger may call an unknown first word a noun; it is
                # a name when the text capitalises it in mid-sentence too.
                named = token.pos_ == "PROPN" or token.pos_ == "NOUN" and token.is_sent_start and token.is_title \
                    and token.text in _mid_sentence_words(doc)
                if not named or (token.dep_ not in ("nsubj", "nsubjpass", "dobj", "pobj", "dative", "conj")
                                 and not _names_a_contract(token)):
                    continue
                chain = [c for c in token.children if c.dep_ == "compound" and c.pos_ == "PROPN" and c.i < token.i]
                start = min([c.i for c in chain] + [token.i])
                span = Span(doc, start, token.i + 1)
                if set(range(span.start, span.end)) & taken or not all(t.text[:1].isupper() for t in span):
                    continue
                if span.end < len(doc) and doc[span.end].lemma_.lower() in PRODUCT_LINE_WORDS:
                    continue
                # "for Kestrel GPUs": a product line named by its hardware noun, not a company.
                if len(span) > 1 and span[-1].lower_.removesuffix("s") in PRODUCT_LINE_WORDS:
                    continue
                # "$3.4B Halvard compute order" can come out as one MONEY entity: a capitalised word
                # that is no number or unit is a name even inside it.
                labels = {t.ent_type_ for t in span if not (t.ent_type_ in _NUMBER_LABELS and t.is_alpha
                                                           and not _AMOUNT_WORD_RE.fullmatch(t.text))}
                if labels & ({"DATE", "TIME", "ORDINAL"} | _NUMBER_LABELS):
                    continue
                # Places are where things happen ("in Texas"), not who pays: a place-like name is
                # taken only as a subject/object or after a counterparty preposition (from, to, with).
                first = token
                while first.dep_ == "conj" and first.head.i != first.i:  # "in Riyadh and Dammam"
                    first = first.head
                where = first.dep_ == "pobj" and first.head.lower_ not in ("from", "to", "with", "by")
                # An unknown name the model calls a place is a party only where a deal word takes it
                # ("an investment in Ombra"), not in "a buildout in Bavaria".
                governor = first.head.head
                if governor.pos_ == "NUM" and governor.head.i != governor.i:  # "invest $5 billion in Quillon"
                    governor = governor.head
                place_like = "LOC" in labels or ("GPE" in labels and (
                    is_known_place(span.text) or governor.lemma_.lower() not in TRIGGER_WORDS))
                # "at Ferrovia's Ohio and Texas sites": a known place naming a site is no party either.
                if place_like and (where or first.dep_ in ("compound", "amod", "nmod")) or _names_a_site(span):
                    continue
                # "Nvidia chief Jensen Huang": a person with a title, not a party.
                if span.start > 0 and doc[span.start - 1].lower_ in PERSON_TITLES or span.text in surnames:
                    continue
                if span.text.isupper() and len(span.text) > 4:  # "SEATTLE, Feb 9 (Wire) -" is a dateline
                    continue
                if clean_name(span.text).casefold() in _NOT_COMPANIES | _DEAL_WORDS \
                        or doc[span.end - 1].lower_ in _DOCUMENT_WORDS or _ROUND_NAME_RE.fullmatch(span.text):
                    continue
                # "The Santa Clara, California-based chipmaker": a place describing a company.
                if _describes_a_base(doc, span.end):
                    continue
                found.append(Span(doc, span.start, span.end, label="COMPANY", kb_id=clean_name(span.text)))
                taken.update(range(span.start, span.end))
        return found

    def _short_forms(self, doc: Doc, companies: list[Span]) -> list[Span]:
        """Other mentions by the same or leading words: "Nimbus Ridge" after "Nimbus Ridge Labs".

        A name found once (as a subject, by a suffix) is a company everywhere in the document,
        also where the model reads it as a place ("invest $500 million in Veyra").
        """
        forms: dict[tuple[str, ...], Span] = {}
        whole: set[tuple[str, ...]] = set()  # names repeated in full, not leading words of a longer name
        for span in companies:
            words = clean_name(span.text).split()
            if words and span.kb_id_ not in self.registry_names and words[0][:1].isupper() \
                    and clean_name(span.text).casefold() not in _NOT_COMPANIES \
                    and clean_name(span.text).casefold() not in self.product_names:
                forms.setdefault(tuple(words), span)
                whole.add(tuple(words))
            if len(words) >= 2 and span.kb_id_ not in self.registry_names:
                for n in range(1, len(words)):
                    if words[n - 1].lower() not in ("&", "and", "of", "de"):
                        forms.setdefault(tuple(words[:n]), span)
                        whole.discard(tuple(words[:n]))
        if not forms:
            return []
        found = []
        taken = {i for span in companies for i in range(span.start, span.end)}
        first_words = {key[0] for key in forms}
        strings = doc.vocab.strings
        # One pass over the token array (no Token objects); candidate checks only on first-word hits.
        words = [strings[orth] for orth in doc.to_array("ORTH")]
        for i, word in enumerate(words):
            if word not in first_words or i in taken:
                continue
            for n in (4, 3, 2, 1):
                key = tuple(words[i: i + n])
                if len(key) == n and key in forms and not (set(range(i, i + n)) & taken):
                    if key in whole and _names_hardware(doc, i + n):
                        break  # "Corvane's Kestrel K2 accelerators": a product line, not the company
                    found.append(Span(doc, i, i + n, label="COMPANY", kb_id=forms[key].kb_id_))
                    taken.update(range(i, i + n))
                    break
        return found

    def _defined_terms(self, doc: Doc, companies: list[Span]) -> list[Span]:
        """Filings define short names: ``CoreWeave, Inc. (the "Company")``; find their later uses."""
        terms: dict[str, Span] = {}
        text = text_of(doc)
        # ("the "Company"), ("Ostrava" or the "Purchaser"): every quoted term in the parentheses.
        for m in _DEFINITION_RE.finditer(text):
            before = [c for c in companies if c.end_char <= m.start() and m.start() - c.end_char <= 12]
            if before:
                for term in _QUOTED_TERM_RE.findall(m.group(0)):
                    terms[term] = before[-1]
        # "Hangzhou Qingtian AI Technology Co., Ltd. (hereinafter "Qingtian AI" or "the Company")": the
        # text's own short name is the company's usual name, for the full name and every other term.
        short = {company.kb_id_: term for term, company in terms.items() if _is_short_name(term, company)}
        names = {term: short.get(company.kb_id_, company.kb_id_) for term, company in terms.items()}
        found = [Span(doc, c.start, c.end, label="COMPANY", kb_id=short[c.kb_id_]) for c in companies
                 if c.kb_id_ in short]
        if not any(term in _FILER_TERMS for term in names):
            filer = _filer_on_cover(text, companies)
            if filer is not None:
                names.update({term: filer for term in _FILER_TERMS})
        for term, name in names.items():
            for m in re.finditer(rf"(?<![\w\"“]){re.escape(term)}(?![\w\"”])", text):
                span = doc.char_span(m.start(), m.end(), label="COMPANY", kb_id=name)
                if span is not None:
                    found.append(span)
        return found


_QUOTED = r"(?:the\s+)?[\"“](?:the\s+)?[A-Z][^\"”]{1,40}[\"”]"
# ("Ostrava"), (the "Company"), (hereinafter "Qingtian AI"), (hereinafter referred to as "Yunhai")
_DEFINITION_RE = re.compile(
    rf"\(\s*(?:hereinafter\s+(?:referred\s+to\s+as\s+|called\s+)?|collectively,?\s+)?{_QUOTED}"
    rf"(?:\s*(?:,|or|and)\s*{_QUOTED})*\s*\)")
_QUOTED_TERM_RE = re.compile(r"[\"“](?:the\s+)?([A-Z][^\"”]{1,40})[\"”]")
# A filing speaks of its filer as "the Company" or "the Registrant", often without defining the term.
_FILER_TERMS = ("Company", "Registrant")
# A cover line naming the filer in capitals: "HALVEX INC.", "ACME HOLDINGS, INC.", "NORDWERK AG".
_COVER_NAME_RE = re.compile(
    r"^[ \t]*([A-Z][A-Z0-9&.'\- ]*?[A-Z0-9])(?:,)?[ \t]+(?:INC|CORP|CORPORATION|LTD|LIMITED|PLC|AG|SE|N\.V|S\.A|LLC)\.?[ \t]*$",
    re.MULTILINE,
)


def _is_short_name(term: str, company: Span) -> bool:
    """Whether a defined term is the company's name without the city that opens it ("Qingtian AI"
    of "Hangzhou Qingtian AI Technology", as Chinese and Japanese registered names go). Other
    defined forms ("Tarsis" of "Tarsis Holdings") stay uses of the full name, as filings are cited."""
    words, name = term.split(), company.kb_id_.split()
    return len(name) > len(words) and is_known_place(name[0]) and name[0] not in words \
        and all(w in name for w in words)


def _filer_on_cover(text: str, companies: list[Span]) -> str | None:
    """The filer named on a filing's cover (its first lines), when the text calls it "the Company"."""
    if not re.search(r"\b[Tt]he (?:Company|Registrant)\b", text):
        return None
    head = "\n".join(text.splitlines()[:8])
    m = _COVER_NAME_RE.search(head)
    if m is None:
        return None
    name = clean_name(m.group(1).title())
    # Prefer the spelling the text itself uses for that name ("TESLA HOLDINGS" -> "Tesla Holdings").
    for span in companies:
        if company_text(span).casefold() == name.casefold():
            return company_text(span)
    return name


# The last word of a site's name ("the Dammam Center"): the singular facility nouns, capitalised.
_SITE_WORDS = frozenset(word.title() for word in FACILITY_NOUNS)
# Units of power and energy, which the model may tag as organisations ("300 MW").
_UNIT_WORDS = frozenset({"MW", "GW", "KW", "kW", "TW", "MWh", "GWh", "TWh", "kWh", "MWs", "GWs"})
# Currency codes and words as written after a figure ("CAD", "EUR").
_CURRENCY_WORDS = frozenset(name for names in CURRENCY_NAMES.values() for key in ("symbols", "words")
                            for name in names.get(key, []))
# A mention that is only a legal form or a kind word names no company.
_BARE_FORMS = {"pbc", "group", "holdings", "capital", "partners", "ventures", "labs", "ai", "inc", "corp", "llc", "ltd",
               "plc", "company", "corporation", "fund", "spv", "vehicle", "jv"}


def _joined_by_ampersand(doc: Doc, companies: list[Span]) -> list[Span]:
    """"Larsen & Toubro", "Ault & Company": capitalised words joined by "&" are one name, whichever
    parts of it were found."""
    by_start = {span.start: span for span in companies}
    out: list[Span] = []
    skip: set[int] = set()
    for span in companies:
        if span.start in skip:
            continue
        start, end = span.start, span.end
        if start >= 2 and doc[start - 1].text == "&" and doc[start - 2].is_title and not doc[start - 2].is_sent_start \
                and (not out or out[-1].end <= start - 2):
            start -= 2
        while end + 1 < len(doc) and doc[end].text == "&" and (doc[end + 1].is_title or doc[end + 1].is_upper) \
                and doc[end + 1].is_alpha:
            skip.add(end + 1)
            end = by_start[end + 1].end if end + 1 in by_start else end + 2
        if (start, end) == (span.start, span.end):
            out.append(span)
            continue
        registry_name = span.kb_id_ if span.kb_id_ != clean_name(span.text) else ""
        out.append(Span(doc, start, end, label=span.label_, kb_id=registry_name or clean_name(doc[start:end].text)))
    return out


def _with_legal_tails(doc: Doc, companies: list[Span]) -> list[Span]:
    """"Ostrava AG" where only "Ostrava" was found: the parser makes "AG" the subject."""
    starts = {span.start for span in companies}
    out = []
    for span in companies:
        end = span.end
        if end < len(doc) and doc[end].text in LEGAL_WORDS and end not in starts:
            span = Span(doc, span.start, end + 1, label=span.label_, kb_id=span.kb_id_)
        out.append(span)
    return out


def _names_a_site(span: Span) -> bool:
    """"The Hyderabad campus", "clusters in Hyderabad", a dateline: a known place the model tagged
    ORG names where something is, unless a deal word takes it ("an investment in Nokia")."""
    root = span.root
    if not is_known_place(span.text):
        return False
    if root.dep_ in ("compound", "nmod", "amod") or _is_dateline(span):  # "New Delhi, Jan 7 ..."
        return True
    governor = root.head.head
    return root.dep_ == "pobj" and root.head.lower_ in ("in", "at", "near") \
        and governor.lemma_.lower() not in TRIGGER_WORDS


def _describes_a_base(doc: Doc, end: int) -> bool:
    """Whether the words from ``end`` make the name before them a place: "-based", ", California-based"."""
    after = [t.lower_ for t in doc[end: end + 4]]
    return after[:2] == ["-", "based"] or (after[:1] == [","] and "based" in after[2:4] and "-" in after[1:4])


def _mid_sentence_words(doc: Doc) -> set[str]:
    """Capitalised words that stand inside a sentence (names, not sentence-initial common words)."""
    if "mid_sentence_words" not in doc.user_data:
        strings = doc.vocab.strings
        doc.user_data["mid_sentence_words"] = {
            strings[orth] for orth, title, start in doc.to_array(["ORTH", "IS_TITLE", "SENT_START"])
            if title and start != 1}
    words: set[str] = doc.user_data["mid_sentence_words"]
    return words


def _amount_after(token: Token) -> bool:
    """An amount within three words after ``token`` (as the trigger Matcher's amount-led pattern)."""
    return any(t.text in _CURRENCY_SIGNS or t.like_num for t in token.doc[token.i + 1: token.i + 4])


def _with_abbreviations(doc: Doc, companies: list[Span], abbreviations: dict[str, str]) -> list[Span]:
    """Every later use of an abbreviation defined in parentheses ("HIA denied a report") names the
    company it abbreviates, whether or not the model found it."""
    out = [Span(doc, c.start, c.end, label=c.label_, kb_id=abbreviations[c.text]) if c.text in abbreviations else c
           for c in companies]
    taken = {i for span in out for i in range(span.start, span.end)}
    for short, name in abbreviations.items():
        for m in re.finditer(rf"(?<![\w(]){re.escape(short)}(?![\w)])", text_of(doc)):
            span = doc.char_span(m.start(), m.end(), label="COMPANY", kb_id=name)
            if span is not None and not set(range(span.start, span.end)) & taken:
                out.append(span)
                taken.update(range(span.start, span.end))
    return sorted(out, key=lambda s: s.start)


def _units_named_with_owner(doc: Doc, companies: list[Span]) -> list[Span]:
    """"NVentures, NVIDIA's venture arm, and ...": a capitalised name that the text calls a
    company's unit is a company (the mentions layer then resolves it to its owner)."""
    taken = {i for span in companies for i in range(span.start, span.end)}
    found = []
    wanted = {doc.vocab.strings.add(word) for word in SUBSIDIARY_NOUNS}
    # Only the tokens whose lemma is a unit word, read from the array (no Token per word of the text).
    for i, lemma in enumerate(doc.to_array("LEMMA")):
        if lemma not in wanted:
            continue
        token = doc[i]
        if token.pos_ != "NOUN" or not any(c.dep_ == "poss" and c.i in taken for c in token.children):
            continue
        name = token.head
        # The parser may make the apposition a conjunct of the name: "NVentures, NVIDIA's venture arm".
        after_comma = token.left_edge.i > 0 and doc[token.left_edge.i - 1].text == ","
        if token.dep_ != "appos" and not (token.dep_ == "conj" and after_comma) or name.i >= token.i:
            continue
        chain = [c.i for c in name.children if c.dep_ == "compound" and c.pos_ == "PROPN" and c.i < name.i]
        span = Span(doc, min([*chain, name.i]), name.i + 1)
        # The tagger may call an odd name a noun ("NVentures"); a capital that is not the sentence's
        # first letter (or one inside the word) still says it is a name.
        named = name.pos_ == "PROPN" or not name.is_sent_start or any(ch.isupper() for ch in name.text[1:])
        if named and all(t.text[:1].isupper() for t in span) and not set(range(span.start, span.end)) & taken:
            found.append(Span(doc, span.start, span.end, label="COMPANY", kb_id=clean_name(span.text)))
    return found


def _names_a_contract(token: Token) -> bool:
    """"lands $3.4B Halvard compute order", "the Pendrel contract": a name modifying a contract noun."""
    head = token
    while head.dep_ == "compound" and head.head.i != head.i:
        head = head.head
        if head.lemma_.lower() in CONTRACT_NOUNS:
            return head.is_lower  # "Master Services Agreement" is a document's name, not a party's
    return False


def _is_dateline(span: Span) -> bool:
    """"SEOUL (Reuters) -", "PARIS, Oct 2 -": a capitalised place opening a line, then a bracket or comma."""
    doc = span.doc
    opens_line = span.start == 0 or "\n" in doc[span.start - 1].text_with_ws
    return opens_line and span.end < len(doc) and doc[span.end].text in ("(", ",", "-", "—", "–")


def _is_wire_credit(span: Span) -> bool:
    """"SEOUL (Reuters) -": the agency credited in a dateline's brackets reports the deal, it is no party."""
    doc = span.doc
    return (span.start >= 2 and doc[span.start - 1].text == "(" and span.end < len(doc) and doc[span.end].text == ")"
            and doc[span.start - 2].text.isupper() and _is_dateline(doc[span.start - 2: span.start - 1]))


def _reports_news(span: Span) -> bool:
    """"Bloomberg reported, citing sources", "first reported by the Tribune", "a Ledger report": a news
    outlet, which reports the deal and is no party to it (a company that reports figures has an object)."""
    root, head = span.root, span.root.head
    if head.lemma_.lower() in REPORTING_WORDS and head.pos_ == "VERB" and root.dep_ == "nsubj":
        return not any(c.dep_ == "dobj" for c in head.children)
    if root.dep_ == "pobj" and head.lower_ == "by" and head.head.lemma_.lower() in REPORTING_WORDS:
        return True
    return root.dep_ in ("compound", "poss") and head.lemma_.lower() == "report" and head.pos_ == "NOUN"


def _title_lines(text: str) -> list[tuple[int, int]]:
    """Character ranges of headline lines: 3+ words of 4+ letters, all capitalised, no final full stop."""
    ranges = []
    start = 0
    for line in text.split("\n"):
        words = [w for w in re.findall(r"[A-Za-z][\w'’-]*", line) if len(w) >= 4]
        if len(words) >= 3 and all(w[:1].isupper() for w in words) and not line.rstrip().endswith("."):
            ranges.append((start, start + len(line)))
        start += len(line) + 1
    return ranges


def _in_title_line(span: Span, titles: list[tuple[int, int]]) -> bool:
    """Whether ``span`` sits in one of the headline lines ``titles``."""
    return any(a <= span.start_char and span.end_char <= b for a, b in titles)


def _names_hardware(doc: Doc, end: int) -> bool:
    """Whether the words from ``end`` on make a name before it a product: "Kestrel K2 accelerators"."""
    for token in doc[end: end + 3]:
        if token.lemma_.lower() in PRODUCT_LINE_WORDS:
            return True
        if not (token.text[:1].isupper() or token.like_num or any(ch.isdigit() for ch in token.text)):
            return False
    return False


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _with_capitalised_start(span: Span, model_orgs: list[Span]) -> Span:
    """"First Abu Dhabi Bank": the name pattern skips a capitalised stop word that opens the name;
    the model's organisation that adds only such words in front is the whole name."""
    doc = span.doc
    for org in model_orgs:
        if org.start < span.start <= org.end and all(t.is_title for t in doc[org.start: span.start]) and all(
                t.is_space for t in doc[span.end: org.end]):
            return Span(doc, org.start, span.end, label=span.label_, kb_id=clean_name(doc[org.start: span.end].text))
    return span


def _prefer(*groups: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for group in groups:
        for span in group:
            if not any(_overlaps(span, other) for other in kept):
                kept.append(span)
    return kept


def text_of(doc: Doc) -> str:
    """``doc.text``, built once per document: Doc.text joins every token on each call (about a
    millisecond for an article), and a dozen rules read it."""
    text: str | None = doc.user_data.get("text")
    if text is None:
        text = doc.user_data["text"] = doc.text
    return text


def company_text(span: Span) -> str:
    """The name a company span stands for (registry name, full name of a short form, defined term)."""
    return span.kb_id_ or clean_name(span.text)


# --------------------------------------------------------------------------------------------
@Language.factory("ouroboros_money", default_config={})
def make_money(nlp: Language, name: str) -> MoneyRecognizer:
    """Amounts of money as spans with their parsed value."""
    return MoneyRecognizer()


class MoneyRecognizer:
    """Regex-based amounts (``extractors.money``) aligned to tokens."""

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def match(self, doc: Doc) -> list[tuple[Span, Money]]:
        """Each amount as a token span with its parse."""
        found = []
        for money in find_money(text_of(doc)):
            span = doc.char_span(money.start, money.end, label="MONEY", alignment_mode="expand")
            if span is not None:
                found.append((span, money))
        return found

    def set_annotations(self, doc: Doc, matches: list[tuple[Span, Money]]) -> None:
        """Write ``doc.spans["money"]`` with ``span._.money`` set."""
        spans = []
        for span, money in matches:
            span._.money = money
            spans.append(span)
        doc.spans[MONEY] = spans


# --------------------------------------------------------------------------------------------
# Deal words by kind: every frame's word plus the cue words (extractors/data/frames.yaml).
TRIGGER_LEMMAS: dict[str, list[str]] = load_frames().trigger_lemmas()
TRIGGER_WORDS = frozenset(w for words in TRIGGER_LEMMAS.values() for w in words)
# Common verbs that are deal words only with an amount right after them ("KTX takes $250M from Google").
AMOUNT_LED_LEMMAS: dict[str, list[str]] = load_frames().amount_led_lemmas()
_CURRENCY_SIGNS = ["$", "US$", "€", "£", "¥", "₹"]


@Language.factory("ouroboros_triggers", default_config={"lemmas": TRIGGER_LEMMAS, "amount_led": AMOUNT_LED_LEMMAS})
def make_triggers(nlp: Language, name: str, lemmas: dict[str, list[str]],
                  amount_led: dict[str, list[str]]) -> TriggerMatcher:
    """Deal words (see ``TRIGGER_LEMMAS``) as spans labelled with the kind they hint at."""
    return TriggerMatcher(nlp, lemmas, amount_led)


class TriggerMatcher:
    """A ``Matcher`` over lemmas of verbs and nouns; ``amount_led`` verbs need an amount within
    three words after them."""

    def __init__(self, nlp: Language, lemmas: dict[str, list[str]], amount_led: dict[str, list[str]] | None = None) -> None:
        self.matcher = Matcher(nlp.vocab)
        for kind, words in lemmas.items():
            self.matcher.add(kind, [[{"LEMMA": {"IN": words}, "POS": {"IN": ["VERB", "NOUN", "ADJ", "AUX"]}}],
                                    [{"LOWER": {"IN": words}}]])
        for kind, words in (amount_led or {}).items():
            verb = {"LEMMA": {"IN": words}, "POS": {"IN": ["VERB"]}}
            between = {"IS_ALPHA": True, "OP": "{0,2}"}
            self.matcher.add(f"{kind}|amount", [[verb, between, {"ORTH": {"IN": _CURRENCY_SIGNS}}],
                                                [verb, between, {"LIKE_NUM": True}]])

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def match(self, doc: Doc) -> list[Span]:
        """One span per trigger token (a token hinting two kinds keeps the first)."""
        # "70 billion won", "IMM Investment": a word inside an amount or a company's name is no deal word.
        seen = {i for group in (MONEY, COMPANIES) if group in doc.spans for span in doc.spans[group]
                for i in range(span.start, span.end)}
        spans = []
        for match_id, start, end in self.matcher(doc):
            if start not in seen:
                seen.add(start)
                kind, _, amount_led = doc.vocab.strings[match_id].partition("|")
                spans.append(Span(doc, start, start + 1 if amount_led else end, label=kind))
        return sorted(spans, key=lambda s: s.start)

    def set_annotations(self, doc: Doc, spans: list[Span]) -> None:
        """Write ``doc.spans["deal_triggers"]``."""
        doc.spans[TRIGGERS] = spans


def tokens_in(group: list[Span] | Any, sent: Span) -> list[Span]:
    """The spans of ``group`` that lie inside sentence ``sent``."""
    return [s for s in group if s.start >= sent.start and s.end <= sent.end]


def token_span(group: Any, token: Token) -> Span | None:
    """The span of ``group`` that contains ``token``."""
    for span in group:
        if span.start <= token.i < span.end:
            return span
    return None
