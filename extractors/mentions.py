"""Company mentions of a document and the resolution of references to them (``DocContext``).

Pronouns (it, its, we, which, who), descriptions ("the chipmaker", "the ChatGPT maker", "the
Redmond-based company") resolve to the nearest earlier company they fit; products resolve to
their maker; ``vendor_rank`` says who sells to whom when an agreement gives no direction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from spacy.tokens import Doc, Span, Token

from extractors.components import COMPANIES, PRODUCTS, company_text, text_of
from extractors.grammar import conjuncts, subjects_of
from extractors.resolve import Registry, clean_name
from extractors.vocabulary import FUNDS_REFERENCES, HARDWARE_NOUNS, SUBSIDIARY_NOUNS

# Nouns for a company owned by another: a deal between them is no flow between companies.
HOST_RE = re.compile(r"\b(?:chief executive(?: officer)?|CEO|founder|co-founder|chief financial officer|CFO|president|"
                     r"chairman|spokesperson|spokeswoman|spokesman|head)\s+(?:of|at)\s+", re.I)
FIRST_PERSON = {"we", "us", "our", "ours"}
# Plurals that can stand for two companies named before ("the two partners", "both companies").
PAIR_NOUNS = frozenset({"partner", "company", "firm", "party", "investor", "backer", "lender", "bank", "shareholder",
                        "owner", "parent", "group", "giant", "rival", "sponsor"})
THIRD_PERSON = {"it", "its", "they", "their", "them"}
# Who sells to whom: chip and hardware makers to everyone; data-centre operators host neoclouds
# (a host that also rents GPUs out is a neocloud); neoclouds rent capacity to hyperscalers and labs;
# clouds to labs.
VENDOR_RANK_KINDS: tuple[tuple[set[str], float], ...] = (
    ({"chipmaker", "gpu", "foundry", "memory", "chip designer", "hardware maker", "server maker", "networking",
      "chip equipment maker"}, 4),
    ({"neocloud", "GPU cloud"}, 3),
    ({"data center operator"}, 3.5),
    ({"cloud", "hyperscaler"}, 2),
)


# Words for a joint venture: "the JV" is the venture the text named, not its parents.
JOINT_VENTURE_WORDS = frozenset({"jv", "venture"})


class DocContext:
    """Company mentions of a document and the reference resolution over them."""

    def __init__(self, doc: Doc, registry: Registry) -> None:
        self.doc = doc
        self.registry = registry
        self.companies = list(doc.spans[COMPANIES])
        self.products = list(doc.spans[PRODUCTS])
        self.by_token: dict[int, Span] = {i: span for span in self.companies for i in range(span.start, span.end)}
        self.product_by_token: dict[int, Span] = {
            i: span for span in self.products if span.label_ == "PRODUCT" for i in range(span.start, span.end)
        }
        self.host = self._host()
        self.product_vendors: dict[str, str] = {}
        self._places = {c.name: {p.lower() for p in c.places} for c in registry.companies}
        self._nationality = {c.name: (c.nationality or "").lower() for c in registry.companies}
        self._product_owner = {p.lower(): c.name for c in registry.companies for p in (*c.products, *c.brands)}
        # Lemma and lower-case form of every token, read from the arrays (no Token objects): rules
        # that look for a few words visit only the tokens that have them.
        strings = doc.vocab.strings
        self._words = [(strings[lemma].lower(), strings[lower]) for lemma, lower in doc.to_array(["LEMMA", "LOWER"])] \
            if len(doc) else []
        self._described: dict[str, set[str]] | None = None  # what the text calls each company, when first asked
        self._fuller: dict[str, str] | None = None  # short names to the document's fuller ones, when first asked
        self._ventures: list[tuple[int, str]] | None = None  # the joint ventures the text names, when first asked
        self.parents = self._parents()

    def tokens_with(self, words: set[str] | frozenset[str]) -> list[Token]:
        """The tokens whose lemma or lower-case form is one of ``words``, in order."""
        return [self.doc[i] for i, (lemma, lower) in enumerate(self._words) if lemma in words or lower in words]

    def _parents(self) -> dict[str, str]:
        """Subsidiaries and vehicles named with their owner: "its wholly owned subsidiary X",
        "X, a unit of Y", "Y's financing vehicle X" -> {X: Y}."""
        parents: dict[str, str] = {}
        for token in self.tokens_with(SUBSIDIARY_NOUNS):
            if token.lemma_.lower() not in SUBSIDIARY_NOUNS or token.pos_ not in ("NOUN", "PROPN"):
                continue
            owner = next((self.company_at(c) for c in token.children if c.dep_ == "poss"), None)
            owner = owner or next((self.company_at(g) for c in token.children if c.dep_ == "prep" and c.lower_ == "of"
                                   for g in c.children if g.dep_ == "pobj"), None)
            # "the investment vehicle wholly owned by the Hadeer Investment Authority"
            owner = owner or next((self.company_at(g) for c in token.children
                                   if c.dep_ == "acl" and c.lemma_ in ("own", "control")
                                   for a in c.children if a.dep_ == "agent" for g in a.children if g.dep_ == "pobj"), None)
            child = None
            # "NVentures, NVIDIA's venture arm, and ...": the parser may make the apposition a conjunct.
            comma_conj = token.dep_ == "conj" and token.left_edge.i > 0 and self.doc[token.left_edge.i - 1].text == ","
            if token.head.i in self.by_token and (token.dep_ in ("compound", "appos", "nmod") or comma_conj):
                child = company_text(self.by_token[token.head.i])
            child = child or next((company_text(self.by_token[c.i]) for c in token.children
                                   if c.dep_ in ("appos", "compound") and c.i in self.by_token), None)
            # A state fund's companies are companies of their own (its portfolio, not its divisions).
            if owner and child and owner != child and "sovereign fund" not in self.kinds(owner):
                parents[child] = owner
        return parents

    def stands_for(self, name: str | None) -> str | None:
        """The party ``name`` stands for in a record: its fuller name in this document, then its owner."""
        if name is None:
            return None
        if self._fuller is None:
            self._fuller = self._fuller_names()
        name = self._fuller.get(name, name)
        return self.parents.get(name, name)

    def _fuller_names(self) -> dict[str, str]:
        """Short names to the one fuller name of the document that adds only company words to them
        ("Quillfeather" -> "Quillfeather AI": "AI", "Labs", "Cloud" ... are the registry's name words).
        Registry names are left to the registry."""
        names = {company_text(span) for span in self.companies}
        fuller: dict[str, str] = {}
        for name in names:
            if self.registry.by_name(name) is not None:
                continue
            longer = [other for other in names if other.startswith(name + " ")
                      and all(word.lower() in self.registry.name_kinds for word in other[len(name) + 1:].split())]
            if len(longer) == 1:
                fuller[name] = longer[0]
        return fuller

    def related(self, a: str, b: str) -> bool:
        """Whether one company is the other's subsidiary or vehicle (or both share an owner)."""
        return self.parents.get(a) == b or self.parents.get(b) == a or (
            a in self.parents and self.parents.get(a) == self.parents.get(b))

    def _host(self) -> str | None:
        """Whose "we" it is: the company of a named executive ("CEO of Helix Mind"), else the first company."""
        if not self.companies:
            return None
        text = text_of(self.doc)
        for m in HOST_RE.finditer(text):
            span = next((c for c in self.companies if c.start_char >= m.end() - 1 and c.start_char - m.end() <= 2), None)
            if span is not None:
                return company_text(span)
            name = re.match(r"(?:[A-Z][\w&.-]*\s?){1,4}", text[m.end():])
            if name is not None:
                return clean_name(name.group(0))
        return company_text(self.companies[0])

    # -- kinds -------------------------------------------------------------------------------
    def kinds(self, name: str) -> set[str]:
        """What sort of company ``name`` is: registry kinds, what the text calls it ("Kestova, a cloud
        operator"), or from its last word ("Labs")."""
        company = self.registry.by_name(name)
        if company is not None:
            return set(company.kinds)
        if self._described is None:
            self._described = self._described_kinds()
        if name in self._described:
            return self._described[name]
        words = name.lower().split()
        for n in (2, 1):
            if len(words) > n - 1 and " ".join(words[-n:]) in self.registry.name_kinds:
                return set(self.registry.name_kinds[" ".join(words[-n:])])
        return set()

    def _described_kinds(self) -> dict[str, set[str]]:
        """What the text says an unknown company is, by the registry's descriptions: an apposition
        ("Kestova, a cloud operator based in Oslo") or a title before the name ("chipmaker Zentrix")."""
        descriptions = self.registry.descriptions
        found: dict[str, set[str]] = {}
        for span in self.companies:
            phrases: list[list[str]] = []
            for noun in span.root.children:
                if noun.dep_ == "appos" and noun.pos_ == "NOUN":
                    phrases.append([t.lower_ for t in noun.lefts if t.dep_ in ("compound", "amod")] + [noun.lemma_.lower()])
            before: list[str] = []
            for token in reversed(self.doc[max(span.start - 3, 0): span.start]):
                # ("Chipmaker Zentrix ..." opening a sentence is a title too)
                if not (token.is_alpha and (token.is_lower or token.is_sent_start and token.is_title)
                        and token.pos_ in ("NOUN", "ADJ", "PROPN")):
                    break
                before.insert(0, token.lemma_.lower() if not before else token.lower_)
            phrases.append(before)
            for words in phrases:
                key = next((" ".join(words[-n:]) for n in (3, 2, 1) if len(words) >= n
                            and " ".join(words[-n:]) in descriptions), None)
                if key is not None:
                    found.setdefault(company_text(span), set()).update(descriptions[key])
                    break
        return found

    def vendor_rank(self, name: str) -> float:
        """4 for chip and hardware makers, 3.5 for data-centre operators, 3 for neoclouds, 2 for clouds,
        1 otherwise: who sells to whom (the first group of ``VENDOR_RANK_KINDS`` that fits)."""
        kinds = self.kinds(name)
        for group, rank in VENDOR_RANK_KINDS:
            if kinds & group:
                return rank
        return 1

    # -- mentions ----------------------------------------------------------------------------
    def company_at(self, token: Token) -> str | None:
        """The party a token stands for: a company, a product's vendor, or a resolved reference."""
        span = self.by_token.get(token.i)
        if span is not None:
            return company_text(span)
        lower = token.lower_
        if lower in FIRST_PERSON:
            return self.host
        if lower in THIRD_PERSON:
            return self.resolve_pronoun(token)
        if token.pos_ in ("NOUN", "PROPN") and token.lower_ not in FUNDS_REFERENCES:
            return self.resolve_description(token)
        return None

    def mentions_before(self, token: Token) -> Iterable[Span]:
        """Company mentions before ``token``, nearest first."""
        for span in reversed(self.companies):
            if span.end <= token.i:
                yield span

    def resolve_pronoun(self, token: Token, depth: int = 0) -> str | None:
        """"it"/"its": the nearest earlier company that is a subject (this or the previous sentence);
        else the company a subject pronoun or description of those sentences stands for ("The firm
        said it sold Nvidia shares. It also sold ...": the firm, not Nvidia); else the nearest company."""
        own = self._own_subject(token, depth)
        if own is not None:
            return own
        excluded = self._own_subjects(token)
        sent_start = token.sent.start
        previous = self.doc[sent_start - 1].sent.start if sent_start > 0 else sent_start
        fallback = None
        for span in self.mentions_before(token):
            if company_text(span) in excluded:
                continue
            if span.start < previous:
                break
            fallback = fallback or span
            if span.root.dep_ in ("nsubj", "nsubjpass") or span.root.head.dep_ in ("nsubj", "nsubjpass"):
                return company_text(span)
        if depth < 3:
            subjects = [t for t in self.doc[previous: token.i]
                        if t.dep_ in ("nsubj", "nsubjpass") and t.i not in self.by_token and t.i != token.i
                        and (t.lower_ in THIRD_PERSON or t.pos_ == "NOUN")]
            for subject in reversed(subjects):
                named = self._subject_named(subject, depth)
                if named is not None:
                    return named
        if fallback is not None:
            return company_text(fallback)
        for span in self.mentions_before(token):
            if company_text(span) not in excluded:
                return company_text(span)
        return None

    def _own_subjects(self, token: Token) -> set[str]:
        """"Microsoft invested $16 million in the company": a description in an object is never its own
        clause's subject (nor its subject's conjuncts); "pay $300 billion for it": a bare pronoun there
        is often no company at all, so it keeps the nearest-subject rule."""
        if token.dep_ not in ("pobj", "dobj", "poss") or token.lower_ in THIRD_PERSON and token.lower_ != "its":
            return set()
        # "pick up stakes in X as part of the company's round": up through the phrases to their verb.
        verb = token.head
        for _ in range(4):
            if verb.pos_ in ("VERB", "AUX") or verb.dep_ not in ("pobj", "prep", "poss", "dobj"):
                break
            verb = verb.head
        if verb.pos_ not in ("VERB", "AUX"):
            return set()
        subjects = [t for s in subjects_of(verb) for t in (s, *conjuncts(s))]
        if token.lower_ == "its" and len(subjects) < 2:
            return set()  # "X and Y are leading the financing of its campus": "its" is neither of them
        return {company_text(self.by_token[s.i]) for s in subjects if s.i in self.by_token}

    def _own_subject(self, token: Token, depth: int) -> str | None:
        """"which the JV will fund from its equity": a possessive pronoun in a clause whose subject
        is a company description ("the JV") or pronoun is that subject's."""
        if token.dep_ != "poss" or depth >= 3:
            return None
        verb = token.head
        while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
            verb = verb.head
        for subject in subjects_of(verb) if verb.pos_ in ("VERB", "AUX") else []:
            if token.lower_ == "their" and subject.i in self.by_token and subject.i < token.i and any(
                    c.dep_ == "conj" for c in subject.children):
                # "A, B and C have confirmed their investments": the list, which its first member stands for.
                return company_text(self.by_token[subject.i])
            if subject.i == token.i or subject.i in self.by_token or subject.i > token.i:
                continue  # a named subject is found by the nearest-mention rule below
            if subject.lower_ not in THIRD_PERSON and subject.pos_ not in ("NOUN", "PROPN"):
                continue
            named = self._subject_named(subject, depth)
            if named is not None:
                return named
        return None

    def _subject_named(self, subject: Token, depth: int) -> str | None:
        """The company an unnamed subject stands for: a pronoun's antecedent or a description's company."""
        if subject.lower_ in THIRD_PERSON:
            return self.resolve_pronoun(subject, depth + 1)
        return self.resolve_description(subject)

    def description_of(self, token: Token) -> tuple[str, list[str]] | None:
        """(head phrase, modifiers) if ``token`` heads a definite description like "the chipmaker"."""
        dets = [c for c in token.children if c.dep_ in ("det", "poss")]
        definite = any(c.lower_ in ("the", "this", "that") or c.dep_ == "poss" for c in dets)
        indefinite_attr = (
            any(c.lower_ in ("a", "an") for c in dets) and token.dep_ == "attr"
            and any(s.lower_ == "what" for s in token.head.children if s.dep_ == "nsubj")
        )
        mods = [c for c in token.children if c.dep_ in ("compound", "amod", "nmod") and c.i < token.i]
        headline = not dets and mods and token.lower_ == "maker"
        if not (definite or indefinite_attr or headline):
            return None
        compounds = " ".join(t.lower_ for t in mods if t.dep_ == "compound")
        phrase = f"{compounds} {token.lower_}".strip() if compounds else token.lower_
        return phrase, [" ".join(t.lower_ for t in m.subtree) for m in mods]

    def resolve_description(self, token: Token) -> str | None:
        """The nearest earlier company a description fits ("the chipmaker" -> the last chipmaker)."""
        misparsed_place = self._place_headed_description(token)
        if misparsed_place is not None:
            token, place_name = misparsed_place
            return self._nearest_fitting(token, token.lower_, place_name, None)
        described = self.description_of(token)
        if described is None:
            return None
        # "Elon Musk's artificial intelligence startup, xAI, ...": the description names its company.
        named = next((self.by_token[c.i] for c in token.children if c.dep_ == "appos" and c.i in self.by_token), None)
        if named is not None:
            return company_text(named)
        phrase, mods = described
        if token.lemma_.lower() in JOINT_VENTURE_WORDS and token.tag_ not in ("NNS", "NNPS"):
            # "the JV", "the joint venture": the venture the text has named, never one of its parents.
            return next((name for start, name in reversed(self._joint_ventures())
                         if start < token.i or token.left_edge.i <= start <= token.right_edge.i), None)
        # "the ChatGPT maker", "the maker of ChatGPT": the product's owner.
        if token.lower_ == "maker":
            names = [t.lower_ for t in token.children if t.dep_ == "compound"]
            names += [p.lower_ for c in token.children if c.dep_ == "prep" for p in c.children]
            for n in names:
                owner = self._product_owner.get(n) or self._vendor_of_text(n)
                if owner:
                    return owner
        mods = [re.sub(r"\s*-\s*", "-", m) for m in mods]
        place = next((m.replace("-based", "").strip() for m in mods if m.endswith("-based")), None)
        nationality = next((m for m in mods if m[:1] and m in {n for n in self._nationality.values() if n}), None)
        if token.tag_ in ("NNS", "NNPS"):
            return None  # "the two companies" is not one company
        return self._nearest_fitting(token, phrase, place, nationality)

    def _place_headed_description(self, token: Token) -> tuple[Token, str] | None:
        """"The Santa Clara, California-based chipmaker": the parser makes the place the head ("The
        Santa Clara") and the description its apposition; (description, place) when that is so."""
        if token.ent_type_ not in ("GPE", "LOC") or not any(c.lower_ == "the" for c in token.children):
            return None
        description = next((c for c in token.children if c.dep_ == "appos" and c.pos_ == "NOUN"
                            and c.tag_ == "NN" and any(m.text.endswith("based") for m in c.children)), None)
        if description is None:
            return None
        place = next((e.text for e in token.doc.ents if e.start <= token.i < e.end), token.text)
        return description, place

    def _nearest_fitting(self, token: Token, phrase: str, place: str | None, nationality: str | None) -> str | None:
        """The nearest company before ``token`` that the description's head, place and nationality fit."""
        lemma = token.lemma_.lower()
        wanted: set[str] | None = None
        for key in (phrase, " ".join(phrase.split()[-2:]), lemma, token.lower_):
            if key in self.registry.descriptions:
                wanted = set(self.registry.descriptions[key])
                break
        if wanted is None and place is None and nationality is None:
            if lemma in ("company", "firm", "group", "business"):
                # "the company said": the company the text is talking about, i.e. the latest subject.
                return self.resolve_pronoun(token)
            if lemma not in ("giant", "maker", "partner", "leader", "pioneer", "rival", "owner", "provider"):
                return None
        excluded = self._own_subjects(token)
        for span in self.mentions_before(token):
            name = company_text(span)
            if name in excluded:
                continue
            if place is not None and not self._based_in(name, place, token):
                continue
            if nationality is not None and self._nationality.get(name) != nationality:
                continue
            kinds = self.kinds(name)
            if wanted is not None and kinds and not (kinds & wanted):
                continue
            # "Jensen Huang said ... put $2 billion into the neocloud": a name the model calls a person
            # is kept as a party where it acts, but no description of a kind of company stands for it.
            if wanted is not None and not kinds and span.root.ent_type_ == "PERSON":
                continue
            return name
        return None

    def pair_before(self, token: Token) -> list[str] | None:
        """"The two partners are each contributing ...", "both companies": the two companies the text
        last named together ("owned equally by HIA and Oracle"), when ``token`` is such a plural."""
        if token.tag_ not in ("NNS", "NNPS") or token.lemma_.lower() not in PAIR_NOUNS or not any(
                c.lower_ in ("two", "both") for c in token.children if c.dep_ in ("nummod", "det", "predet")):
            return None
        for span in self.mentions_before(token):
            if span.sent.start < token.sent.start - 80:
                break
            head = span.root
            others = [self.by_token[o.i] for o in conjuncts(head) if o.i in self.by_token]
            if len(others) == 1 and head.dep_ != "conj":
                return [company_text(span), company_text(others[0])]
        return None

    def _joint_ventures(self) -> list[tuple[int, str]]:
        """Companies the text names as a joint venture, where it names them: "The joint venture,
        to be called X, ...", "a joint venture, X,", "X, the joint venture, ..."."""
        if self._ventures is not None:
            return self._ventures
        found: list[tuple[int, str]] = []
        for venture in self.tokens_with(JOINT_VENTURE_WORDS):
            if venture.i in self.by_token:
                continue  # "Kaveri Ventures" is a name, not a venture
            named = [c for c in venture.children if c.dep_ == "appos"]
            named += [venture.head] if venture.dep_ == "appos" else []
            for verb in venture.children:
                if verb.dep_ in ("acl", "relcl") and verb.lemma_.lower() in ("call", "name"):
                    named += [c for c in verb.children if c.dep_ in ("oprd", "attr", "dobj", "xcomp")]
            for token in named:  # the name's head may be its legal form ("... Compute Pvt Ltd")
                span = next((self.by_token[t.i] for t in token.subtree if t.i in self.by_token), None)
                if span is not None:
                    found.append((span.start, company_text(span)))
        self._ventures = found
        return found

    def _based_in(self, name: str, place: str, description: Token) -> bool:
        """Whether "the Austin-based firm" can be ``name``: the registry's places for a known company;
        for one it does not know, another sentence names the place beside the company."""
        if name in self._places:
            return place.lower() in self._places[name]
        return any(company_text(span) == name and span.sent != description.sent
                   and place.lower() in span.sent.text.lower() for span in self.companies)

    def _vendor_of_text(self, text: str) -> str | None:
        return self.product_vendors.get(text.lower())

    # -- products ----------------------------------------------------------------------------
    def product_at(self, token: Token, resolve_product: object | None = None) -> tuple[str, str | None] | None:
        """(product, vendor) for a hardware noun phrase headed at or containing ``token``.

        Registry products ("Trainium chips") come with their vendor; unknown ones ("Kestrel K2
        accelerators") take the vendor from a company word before them ("Corvane Kestrel K2"), a
        possessive ("Corvane's"), "made by X", or an earlier sentence that said so.
        """
        head = token
        if head.lemma_.lower() not in HARDWARE_NOUNS and head.i not in self.product_by_token:
            return None
        registry_product = next(
            (self.product_by_token[c.i] for c in head.subtree if c.i in self.product_by_token and c.i <= head.i),
            None,
        )
        if head.i in self.product_by_token:
            registry_product = self.product_by_token[head.i]
        vendor = None
        for child in head.children:
            if child.dep_ == "poss" or (child.dep_ == "compound" and child.i in self.by_token):
                vendor = vendor or self.company_at(child)
            if child.dep_ in ("compound", "nmod") and vendor is None:
                # "Orrin Vale accelerators": the maker's name inside the compound chain.
                named = [t for t in child.subtree if t.i in self.by_token]
                if named:
                    vendor = self.company_at(named[0])
            if child.dep_ == "acl" and child.lemma_ in ("make", "build", "design", "supply", "produce"):
                for agent in child.children:
                    if agent.dep_ == "agent":
                        for pobj in agent.children:
                            vendor = vendor or self.company_at(pobj)
        if registry_product is not None:
            return registry_product.text, registry_product.kb_id_ or vendor
        # "Kestrel K2 accelerators": the parser may hang the name words as compound, nmod or amod.
        words = [c for c in head.children if c.dep_ in ("compound", "nmod", "amod") and c.i < head.i]
        words = [w for w in sorted({t for c in words for t in c.subtree}, key=lambda t: t.i)
                 if w.i not in self.by_token and w.i not in self.product_by_token and (w.text[:1].isupper() or w.like_num)]
        words = [w for w in words if w.pos_ in ("PROPN", "NOUN", "NUM", "X") and w.lemma_.lower() not in HARDWARE_NOUNS]
        if not words or words[0].text.isupper() and len(words) == 1 and words[0].text in ("GPU", "CPU", "AI", "PC"):
            return None
        name = " ".join(w.text for w in words)
        name = re.sub(r"\s+(?:AI|GPU|GPUs|series)$", "", name)
        if name in ("AI", "GPU", "CPU", "PC", "RTX"):
            return None
        if callable(resolve_product):
            known = resolve_product(name)
            if known is not None:
                return known
        vendor = vendor or self.product_vendors.get(name.lower())
        if vendor is not None:
            self.product_vendors.setdefault(name.lower(), vendor)
        return name, vendor
