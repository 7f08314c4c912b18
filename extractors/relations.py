"""Deal relations from grammar: the ``ouroboros_relations`` pipeline component.

For every deal word (``doc.spans["deal_triggers"]``) the component reads the dependency tree
around it: who is the subject (following "agreed to", "plans to", relative clauses "which ..."
and passives "backed by"), which companies hang under "in/into", "from", "to", "with", the
direct or indirect object, or a possessive ("Corvane's Kestrel K2"). A frame per deal word says
which slot is the payer and which the payee, so direction comes from grammar:
"X invests in Y", "Y received $N from X", "Y was backed by X", "X agreed to pay Y".

References are resolved inside the document (``DocContext``): pronouns (it, its, we, which, who),
descriptions ("the chipmaker", "the ChatGPT maker", "the Redmond-based company") to the nearest
earlier company they fit, and filing defined terms (the "Company", via the companies component).

Spend-backs are purchases paid with a deal's money ("which will use the money to rent capacity
from X", "much of the money was spent on X's servers", "the capital comes back to X"), found with
a ``DependencyMatcher``, and attached to the investment or loan they spend. Hardware mandates are
named products the recipient must use, train or run on. Status and polarity come from the words
governing the trigger (denied, ended, in talks, reportedly, past tense); negated, conditional and
questioned deals are dropped, and so is anything without two distinct parties (revenue, market
value, own data-centre spending, lawsuits never name a payee).

The output, ``doc._.deal_candidates``, holds ``Candidate`` objects with document-level names; the
spaCy extractor canonicalises names across documents and turns them into ``DealRecord``s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from spacy.language import Language
from spacy.matcher import DependencyMatcher
from spacy.tokens import Doc, Span, Token

from extractors.addressed import addressed_to_reader
from extractors.components import COMPANIES, MONEY, PRODUCTS, TRIGGERS, company_text
from extractors.frames import Clause, Frame, load_frames
from extractors.money import Money
from extractors.resolve import Registry, clean_name, load_registry
from extractors.vocabulary import (
    CONTRACT_NOUNS,
    FUNDS_REFERENCES,
    GOODS_HEADS,
    HARDWARE_NOUNS,
    LOAN_WORDS,
    MONEY_WORDS,
    ROUND_NOUNS,
    SHARES,
)

if not Doc.has_extension("deal_candidates"):
    Doc.set_extension("deal_candidates", default=None)

# ---------------------------------------------------------------------------------------------
# Vocabulary (why each list exists is in the docstring of the function that uses it)
GENERIC_NOUNS = frozenset(lemma for lemma, frame in load_frames().nouns.items() if frame.generic)
MANDATE_VERBS = {"use", "train", "run", "deploy", "deliver", "build", "power", "host", "adopt", "standardize",
                 "rely", "base", "vest"}
MANDATE_MARKERS_RE = re.compile(r"\b(?:must|required?|requires|requirement|condition|commit\w*|stipulat\w*|"
                                r"obligat\w*|mandat\w*|exclusive\w*|agreed|scheduled|vests?|as part of|will use|"
                                r"will run|will train)\b", re.I)
GOODS_VERBS = {"buy", "purchase", "order", "acquire", "procure", "spend", "pay", "supply", "sell"}
END_LEMMAS = {"end", "terminate", "cancel", "scrap", "unwind", "abandon", "rescind", "drop", "halt"}
COMPLETE_LEMMAS = {"complete", "close", "fund", "finalize", "finalise", "receive", "wire", "send"}
ANNOUNCE_ONLY = {"commit", "agree", "sign", "plan", "enter", "announce", "order", "issue", "grant", "pledge",
                 "expect", "intend", "land", "win", "expand", "deploy"}
PAID_THROUGH_LEMMAS = {"assemble", "make", "build", "borrow", "lend", "draw"}
DENY_LEMMAS = {"deny", "refute", "reject", "dispute"}
TALKS_RE = re.compile(r"\b(?:in (?:early |advanced |preliminary )?(?:talks|discussions|negotiations)|negotiating|"
                      r"considering|exploring|weighing|in the process of discussing)\b", re.I)
REPORTED_RE = re.compile(r"\b(?:reportedly|according to|familiar with|close to the (?:matter|deal|talks)|"
                         r"sources? (?:said|say)|people (?:briefed|knowledgeable)|was reported|were reported|"
                         r"reports? (?:said|say|suggest))\b", re.I)
HYPOTHETICAL_MODALS = {"could", "might", "may"}
HOST_RE = re.compile(r"\b(?:chief executive(?: officer)?|CEO|founder|co-founder|chief financial officer|CFO|president|"
                     r"chairman|spokesperson|spokeswoman|spokesman|head)\s+(?:of|at)\s+", re.I)
FIRST_PERSON = {"we", "us", "our", "ours"}
THIRD_PERSON = {"it", "its", "they", "their", "them"}
RELATIVE = {"which", "who", "that", "whose", "whom"}
# Who sells to whom: chip and hardware makers to everyone; neoclouds and data-centre operators
# rent capacity to hyperscalers and labs; clouds to labs.
VENDOR_RANK_KINDS = (
    ({"chipmaker", "gpu", "foundry", "memory", "chip designer", "hardware maker", "server maker", "networking",
      "chip equipment maker"}, 4),
    ({"neocloud", "GPU cloud", "data center operator"}, 3),
    ({"cloud", "hyperscaler"}, 2),
)
# Kinds of company that provide money rather than goods.
FUNDER_KINDS = {"investor", "fund", "venture firm", "asset manager", "sovereign fund", "bank", "lender"}
# Verbs of raising money: their subject is the one a nearby round belongs to.
RAISE_LEMMAS = {"raise", "close", "secure", "seek", "complete", "finalize", "finalise", "arrange", "land", "receive", "obtain"}
# What a lender takes part in.
DEBT_PARTS = {"portion", "tranche", "facility", "loan", "debt", "syndicate", "consortium", "package"}
# Nouns for the members of a round or a lending group ("Other investors in the round include ...").
MEMBER_NOUNS = {"investor", "backer", "participant", "shareholder", "round", "funding", "financing", "lender",
                "bank", "consortium", "syndicate", "group", "underwriter"}
LENDER_NOUNS = {"lender", "bank", "consortium", "syndicate", "underwriter"}
# Giving verbs whose recipient may be left to the discourse ("Helix will put in $600 million").
IMPLICIT_RECIPIENT_VERBS = {"invest", "put", "contribute", "pour", "inject", "commit", "pledge", "chip"}
SHARE_COUNT_RE = re.compile(r"(?:(?:up to|about|roughly|approximately|some|more than)\s+)?\d[\d,.]*\s*"
                            r"(?:million|billion|thousand)?\s+(?:shares|warrants)", re.I)




@dataclass
class Candidate:
    """A deal found in one sentence, with document-level party names."""

    kind: str
    investor: str | None
    recipient: str | None
    sent_index: int
    trigger: int
    evidence: str
    money: Money | None = None
    amount_text: str | None = None
    status: str = "announced"
    generic: bool = False
    funded: bool = False  # paid with another deal's money (a spend-back)
    fresh_funds: bool = False  # "the fresh capital", "that new money": the newest deal's money
    what: str | None = None
    spend_back: tuple[str, str | None] | None = None  # (payee, what)
    mandate: tuple[str, str] | None = None  # (product, vendor)
    direct: bool = True  # both parties named rather than referred to
    merged: bool = False
    implicit: bool = False  # the recipient is the raiser of a round stated nearby ("Helix will put in $600 million")
    anchor: int | None = None  # the token of the party this deal has of its own (a conjunct): amounts go near it


# ---------------------------------------------------------------------------------------------
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

    def _host(self) -> str | None:
        """Whose "we" it is: the company of a named executive ("CEO of Helix Mind"), else the first company."""
        if not self.companies:
            return None
        for m in HOST_RE.finditer(self.doc.text):
            span = next((c for c in self.companies if c.start_char >= m.end() - 1 and c.start_char - m.end() <= 2), None)
            if span is not None:
                return company_text(span)
            name = re.match(r"(?:[A-Z][\w&.-]*\s?){1,4}", self.doc.text[m.end():])
            if name is not None:
                return clean_name(name.group(0))
        return company_text(self.companies[0])

    # -- kinds -------------------------------------------------------------------------------
    def kinds(self, name: str) -> set[str]:
        """What sort of company ``name`` is: registry kinds, or from its last word ("Labs")."""
        company = self.registry.by_name(name)
        if company is not None:
            return set(company.kinds)
        words = name.lower().split()
        for n in (2, 1):
            if len(words) > n - 1 and " ".join(words[-n:]) in self.registry.name_kinds:
                return set(self.registry.name_kinds[" ".join(words[-n:])])
        return set()

    def vendor_rank(self, name: str) -> int:
        """4 for chip and hardware makers, 3 for neoclouds, 2 for clouds, 1 otherwise: who sells to whom."""
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

    def resolve_pronoun(self, token: Token) -> str | None:
        """"it"/"its": the nearest earlier company that is a subject (this or the previous sentence)."""
        sent_start = token.sent.start
        previous = self.doc[sent_start - 1].sent.start if sent_start > 0 else sent_start
        fallback = None
        for span in self.mentions_before(token):
            if span.start < previous:
                break
            fallback = fallback or span
            if span.root.dep_ in ("nsubj", "nsubjpass") or span.root.head.dep_ in ("nsubj", "nsubjpass"):
                return company_text(span)
        if fallback is not None:
            return company_text(fallback)
        for span in self.mentions_before(token):
            return company_text(span)
        return None

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
        described = self.description_of(token)
        if described is None:
            return None
        phrase, mods = described
        # "the ChatGPT maker", "the maker of ChatGPT": the product's owner.
        if token.lower_ == "maker":
            names = [t.lower_ for t in token.children if t.dep_ == "compound"]
            names += [p.lower_ for c in token.children if c.dep_ == "prep" for p in c.children]
            for n in names:
                owner = self._product_owner.get(n) or self._vendor_of_text(n)
                if owner:
                    return owner
        lemma = token.lemma_.lower()
        wanted: set[str] | None = None
        for key in (phrase, " ".join(phrase.split()[-2:]), lemma, token.lower_):
            if key in self.registry.descriptions:
                wanted = set(self.registry.descriptions[key])
                break
        mods = [re.sub(r"\s*-\s*", "-", m) for m in mods]
        place = next((m.replace("-based", "").strip() for m in mods if m.endswith("-based")), None)
        nationality = next((m for m in mods if m[:1] and m in {n for n in self._nationality.values() if n}), None)
        if token.tag_ in ("NNS", "NNPS"):
            return None  # "the two companies" is not one company
        if wanted is None and place is None and nationality is None:
            if lemma in ("company", "firm", "group", "business"):
                # "the company said": the company the text is talking about, i.e. the latest subject.
                return self.resolve_pronoun(token)
            if lemma not in ("giant", "maker", "partner", "leader", "pioneer", "rival", "owner", "provider"):
                return None
        for span in self.mentions_before(token):
            name = company_text(span)
            if place is not None and place.lower() not in self._places.get(name, set()):
                continue
            if nationality is not None and self._nationality.get(name) != nationality:
                continue
            kinds = self.kinds(name)
            if wanted is not None and kinds and not (kinds & wanted):
                continue
            return name
        return None

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


class SlotCollector:
    """Collects the companies around one trigger by slot; ``add(slot, token)`` resolves the token."""

    def __init__(self, ctx: DocContext, matcher: RelationMatcher, trigger_tokens: set[int]) -> None:
        self.ctx = ctx
        self.matcher = matcher
        self.trigger_tokens = trigger_tokens
        self.slots: dict[str, list[str]] = {}
        self.direct: list[str] = []
        self.tokens: dict[str, int] = {}  # where each party is named (amounts go to the nearest party)
        # "Helix and Brannock invested", "contracts with Orrin, Pell and Vask": the other named conjuncts.
        self.coordinated: dict[str, list[str]] = {}

    def __call__(self, slot: str, token: Token) -> None:
        self.add_token(slot, token)

    def add_token(self, slot: str, token: Token) -> None:
        """The party ``token`` stands for, if any, goes into ``slot``."""
        name = self.ctx.company_at(token)
        if name is None:
            name = self.matcher._party_in(self.ctx, token, self.trigger_tokens)
        if name is not None:
            self.slots.setdefault(slot, []).append(name)
            self.tokens.setdefault(name, token.i)
            if token.i in self.ctx.by_token:
                self.direct.append(name)
                for other in _conjuncts(token):
                    if other.i in self.ctx.by_token:
                        other_name = company_text(self.ctx.by_token[other.i])
                        self.tokens.setdefault(other_name, other.i)
                        group = self.coordinated.setdefault(name, [])
                        if other_name != name and other_name not in group:
                            group.append(other_name)

    def add_name(self, slot: str, name: str) -> None:
        """A party already known by name (a product's vendor)."""
        self.slots.setdefault(slot, []).append(name)


# ---------------------------------------------------------------------------------------------
@Language.factory("ouroboros_relations", default_config={"max_sentence_tokens": 120})
def make_relations(nlp: Language, name: str, max_sentence_tokens: int) -> RelationMatcher:
    """Deal candidates (who pays whom, kind, amount, status) from the sentences' grammar."""
    return RelationMatcher(nlp, load_registry(), max_sentence_tokens=max_sentence_tokens)


class RelationMatcher:
    """Finds deal candidates in each sentence (see the module docstring)."""

    def __init__(self, nlp: Language, registry: Registry, *, max_sentence_tokens: int = 120) -> None:
        self.registry = registry
        self.max_sentence_tokens = max_sentence_tokens
        self.resolve_product = None  # set by the extractor to share its resolver
        self.funds_matcher = DependencyMatcher(nlp.vocab)
        funds = sorted(FUNDS_REFERENCES)
        # "use the money to buy", "which OpenAI will use to purchase"
        self.funds_matcher.add("USE_FUNDS", [[
            {"RIGHT_ID": "use", "RIGHT_ATTRS": {"LEMMA": {"IN": ["use", "apply", "put", "deploy", "direct"]}}},
            {"LEFT_ID": "use", "REL_OP": ">", "RIGHT_ID": "funds",
             "RIGHT_ATTRS": {"DEP": "dobj", "LOWER": {"IN": funds}}},
            {"LEFT_ID": "use", "REL_OP": ">", "RIGHT_ID": "spend",
             "RIGHT_ATTRS": {"DEP": {"IN": ["xcomp", "advcl", "conj"]}}},
        ]])
        # "spent a big share of that money at X", "spend part of that new money on X", "spend the funds on X"
        money_words = sorted(MONEY_WORDS)
        self.funds_matcher.add("SPEND_FUNDS", [
            [{"RIGHT_ID": "spend", "RIGHT_ATTRS": {"LEMMA": {"IN": ["spend", "pay"]}}},
             {"LEFT_ID": "spend", "REL_OP": ">", "RIGHT_ID": "funds",
              "RIGHT_ATTRS": {"DEP": "dobj", "LOWER": {"IN": money_words}}}],
            [{"RIGHT_ID": "spend", "RIGHT_ATTRS": {"LEMMA": {"IN": ["spend", "pay"]}}},
             {"LEFT_ID": "spend", "REL_OP": ">", "RIGHT_ID": "part", "RIGHT_ATTRS": {"DEP": "dobj"}},
             {"LEFT_ID": "part", "REL_OP": ">>", "RIGHT_ID": "funds", "RIGHT_ATTRS": {"LOWER": {"IN": money_words}}}],
        ])
        # "the capital comes back to AWS", "flow back to X"
        self.funds_matcher.add("FLOW_BACK", [[
            {"RIGHT_ID": "flow", "RIGHT_ATTRS": {"LEMMA": {"IN": ["come", "flow", "return", "go", "cycle"]}}},
            {"LEFT_ID": "flow", "REL_OP": ">", "RIGHT_ID": "back", "RIGHT_ATTRS": {"LOWER": "back"}},
            {"LEFT_ID": "flow", "REL_OP": ">", "RIGHT_ID": "to", "RIGHT_ATTRS": {"LOWER": "to", "DEP": "prep"}},
        ]])

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def set_annotations(self, doc: Doc, candidates: list[Candidate]) -> None:
        """Write ``doc._.deal_candidates``."""
        doc._.deal_candidates = candidates

    # ------------------------------------------------------------------------------------------
    def match(self, doc: Doc) -> list[Candidate]:
        """All deal candidates of the doc, merged and with spend-backs and mandates attached."""
        ctx = DocContext(doc, self.registry)
        sents = list(doc.sents)
        sent_of = {}
        for index, sent in enumerate(sents):
            for i in range(sent.start, sent.end):
                sent_of[i] = index
        funded_triggers = self._funded_triggers(doc)
        candidates: list[Candidate] = []
        triggers = list(doc.spans[TRIGGERS])
        trigger_tokens = {span.start for span in triggers}
        mandates: list[tuple[int, tuple[str, str], str | None, Token]] = []
        questions: list[Candidate] = []  # asked, not stated: they only say whose round an answer is about
        for index, sent in enumerate(sents):
            if len(sent) > self.max_sentence_tokens:
                continue
            if sent.text.rstrip().endswith("?"):
                for span in triggers:
                    if sent.start <= span.start < sent.end:
                        questions.extend(self._candidates(ctx, span[0], index, trigger_tokens, funded_triggers))
                continue
            found: list[Candidate] = []
            for span in triggers:
                if span.start < sent.start or span.start >= sent.end:
                    continue
                found.extend(self._candidates(ctx, span[0], index, trigger_tokens, funded_triggers))
            self._flow_back(ctx, sent, index, found)
            self._assign_money(ctx, sent, found)
            candidates.extend(found)
            mandates.extend((index, m, user, tok) for m, user, tok in self._mandates(ctx, sent))
        candidates = self._bullets(ctx, sents, candidates)
        anchors = self._round_anchors(ctx, sents, candidates, questions)
        self._implicit_recipients(candidates, anchors)
        self._orphan_amounts(ctx, sents, candidates)
        candidates = [c for c in candidates if c.investor and c.recipient and c.investor != c.recipient
                      or c.funded]
        self._attach_spend_backs(candidates)
        self._attach_mandates(ctx, candidates, mandates, sents)
        # After amounts, spend-backs and mandates: those belong to the round, kept on its lead record.
        candidates += self._round_participants(ctx, sents, candidates, anchors)
        candidates = [c for c in candidates if c.investor and c.recipient and c.investor != c.recipient]
        return merge_candidates(ctx, candidates)

    def _round_anchors(self, ctx: DocContext, sents: list[Span], candidates: list[Candidate],
                       questions: list[Candidate]) -> list[tuple[int, int, str, str]]:
        """Where a round (or a debt package) is stated, and whose it is: (sentence, token, raiser, status).

        An investment's recipient; the subject of "raised / closed / is raising / arranged" with money
        or a round as object; the owner of "X's funding round", "a round in X"; and the recipient a
        question asks about ("How much did Ostrowe commit to Quillon?").
        """
        anchors = [(c.sent_index, c.trigger, c.recipient, c.status) for c in candidates + questions
                   if c.kind in ("investment", "loan") and c.recipient and not c.funded]
        sent_of = {i: index for index, sent in enumerate(sents) for i in range(sent.start, sent.end)}
        for token in ctx.doc:
            lemma = token.lemma_.lower()
            if token.pos_ == "VERB" and lemma in RAISE_LEMMAS:
                objects = [c for c in token.children if c.dep_ in ("dobj", "nsubjpass")]
                if any(o.lemma_.lower() in ROUND_NOUNS | MONEY_WORDS | {"package", "facility", "loan"}
                       or o.i in {s.root.i for s in ctx.doc.spans[MONEY]} for o in objects):
                    for subject in _subjects(token):
                        raiser = ctx.company_at(_antecedent(subject, ctx))
                        if raiser:
                            anchors.append((sent_of[token.i], token.i, raiser, _status(token, "investment", True)))
            elif token.pos_ == "NOUN" and lemma in ("round", "funding", "financing", "raise"):
                owners = [c for c in token.children if c.dep_ == "poss"]
                owners += [g for c in token.children if c.dep_ == "prep" and c.lower_ in ("in", "for", "of")
                           for g in c.children if g.dep_ == "pobj"]
                for owner in owners:
                    raiser = ctx.company_at(owner)
                    if raiser:
                        anchors.append((sent_of[token.i], token.i, raiser, "announced"))
        return sorted(anchors, key=lambda a: (a[0], a[1]))

    @staticmethod
    def _anchor_before(anchors: list[tuple[int, int, str, str]], index: int, token_i: int,
                       exclude: set[str | None]) -> tuple[int, int, str, str] | None:
        """The nearest round stated in this sentence (before the word) or the two before."""
        near = [a for a in anchors if index - 2 <= a[0] <= index and (a[0] < index or a[1] < token_i)
                and a[2] not in exclude]
        return max(near, key=lambda a: (a[0], a[1])) if near else None

    def _round_participants(self, ctx: DocContext, sents: list[Span], candidates: list[Candidate],
                            anchors: list[tuple[int, int, str, str]]) -> list[Candidate]:
        """Backers of a round stated nearby, without an amount of their own (a round's figure is the round's).

        "X also joined / took part in / participated in the round", "with participation from X",
        "alongside X and Y", "Other investors in the round include X, Y and Z"; lenders "taking part
        in the debt portion" or "included in the consortium" make loans. The recipient is the owner
        of the round named in the phrase, else the raiser of the nearest round stated before.
        """
        sent_of = {i: index for index, sent in enumerate(sents) for i in range(sent.start, sent.end)}
        found: list[Candidate] = []
        for token in ctx.doc:
            lemma = token.lemma_.lower()
            backers: list[Token] = []
            objects: list[Token] = []
            kind = "investment"
            if lemma in ("join", "participate", "take") and token.pos_ == "VERB":
                objects = [c for c in token.children if c.dep_ == "dobj"]
                objects += [g for c in token.children if c.dep_ == "prep" and c.lower_ == "in"
                            for g in c.children if g.dep_ == "pobj"]
                if lemma == "take" and not any(o.lower_ == "part" for o in objects):
                    objects = []
                if any(o.lemma_.lower() in ROUND_NOUNS | DEBT_PARTS for o in objects):
                    backers = _subjects(token)
                    backers += [c for b in backers for c in _conjuncts(b)]
                    if any(o.lemma_.lower() in DEBT_PARTS or any(t.lemma_.lower() in LOAN_WORDS for t in o.subtree)
                           for o in objects if o.lower_ != "part"):
                        kind = "loan"
            elif token.lower_ == "participation":
                backers = [g for c in token.children if c.dep_ == "prep" and c.lower_ == "from"
                           for g in c.children if g.dep_ == "pobj"]
                backers += [c for b in backers for c in _conjuncts(b)]
            elif lemma in ("include", "comprise", "feature") and token.pos_ == "VERB":
                subjects = _subjects(token)
                if any(s.lemma_.lower() in MEMBER_NOUNS for s in subjects):
                    objects = [t for s in subjects for t in s.subtree]
                    backers = [c for c in token.children if c.dep_ == "dobj"]
                    backers += [c for b in backers for c in _conjuncts(b)]
                    if any(s.lemma_.lower() in LENDER_NOUNS for s in subjects):
                        kind = "loan"
            elif lemma == "alongside" and token.head.pos_ == "VERB" and (
                    token.head.lemma_.lower() in ("join", "participate", "take", "invest", "lead", "back")):
                backers = [g for g in token.children if g.dep_ == "pobj"]
                backers += [c for b in backers for c in _conjuncts(b)]
            if not backers or _negated(token) or _hypothetical(token) or addressed_to_reader(token):
                continue
            index = sent_of[token.i]
            # "investors in Quorra's funding round", "took part in Crusoe's round": the owner named there.
            owner = next((ctx.company_at(t) for o in objects for t in o.subtree
                          if t.dep_ in ("poss", "pobj") and t.i in ctx.by_token), None)
            anchor = self._anchor_before(anchors, index, token.i, set())
            recipient = owner or (anchor[2] if anchor else None)
            if recipient is None:
                continue
            for backer in backers:
                investor = ctx.company_at(backer)
                if investor is None or investor == recipient:
                    continue
                status = anchor[3] if anchor and token.pos_ != "VERB" or lemma == "include" and anchor else \
                    _status(token, kind, True)
                found.append(Candidate(kind=kind, investor=investor, recipient=recipient, sent_index=index,
                                       trigger=token.i, evidence=sents[index].text.strip(), status=status))
        return found

    def _implicit_recipients(self, candidates: list[Candidate], anchors: list[tuple[int, int, str, str]]) -> None:
        """"Tamsin is raising money. Helix will put in $600 million": the round's raiser receives it."""
        for c in candidates:
            if c.implicit and c.recipient is None:
                anchor = self._anchor_before(anchors, c.sent_index, c.trigger, {c.investor})
                if anchor is not None:
                    c.recipient = anchor[2]

    # -- one trigger ----------------------------------------------------------------------------
    def _candidates(self, ctx: DocContext, trigger: Token, index: int, trigger_tokens: set[int],
                    funded_triggers: dict[int, bool]) -> list[Candidate]:
        """The deals one trigger states: its frame read on the slots, one per coordinated party
        ("Helix and Brannock invested"), and one per gapped conjunct ("Helix will invest $10 billion
        and Brannock $5 billion in Tamsin", "invested $50 million in A and $20 million in B")."""
        lemma = trigger.lemma_.lower()
        frames = load_frames()
        is_verb = trigger.pos_ in ("VERB", "AUX") or (trigger.pos_ != "NOUN" and lemma in frames.verbs
                                                      and trigger.tag_.startswith("VB"))
        base = frames.verbs.get(lemma) if is_verb else frames.nouns.get(lemma) or frames.nouns.get(trigger.lower_)
        if base is None:
            return []
        if _negated(trigger) or _hypothetical(trigger) or addressed_to_reader(trigger):
            return []
        collector = self._slots(ctx, trigger, trigger_tokens)
        slots = collector.slots
        obj_head = next((c for c in trigger.children if c.dep_ in ("dobj", "nsubjpass")), None)
        obj_lemmas = {t.lemma_.lower() for t in trigger.children if t.dep_ == "dobj"}
        if obj_head is not None:
            obj_lemmas |= {t.lemma_.lower() for t in obj_head.subtree if t.dep_ in ("pobj",) and t.head.head == obj_head}
        clause = Clause(trigger=trigger, is_verb=is_verb, object_lemmas=frozenset(obj_lemmas), slots=slots,
                        funded=trigger.i in funded_triggers, kind=base.kind)
        frame = base.refine(clause, frames.every_verb if is_verb else ())
        if frame is None:
            return []
        gapped = [(conj, self._gapped_slots(ctx, trigger, conj, trigger_tokens)) for conj in trigger.children
                  if conj.dep_ == "conj" and conj.pos_ not in ("VERB", "AUX") and is_verb]
        for _, sub in gapped:  # "... and Brannock $5 billion in Tamsin": "in Tamsin" is shared
            for key, names in sub.slots.items():
                slots.setdefault(key, list(names))
        main = self._from_slots(ctx, trigger, frame, collector, slots, index, is_verb, funded_triggers)
        found = [main] if main is not None else []
        if main is not None and not main.funded:
            for role in ("investor", "recipient"):
                for other in collector.coordinated.get(getattr(main, role) or "", []):
                    if other not in (main.investor, main.recipient):
                        main.anchor = main.anchor if main.anchor is not None else collector.tokens.get(getattr(main, role))
                        found.append(replace(main, **{role: other}, anchor=collector.tokens.get(other)))
        for conj, sub in gapped:
            merged = {**slots, **sub.slots}
            extra = self._from_slots(ctx, trigger, frame, sub, merged, index, is_verb, funded_triggers)
            if extra is not None and all((c.investor, c.recipient) != (extra.investor, extra.recipient) for c in found):
                found.append(replace(extra, anchor=conj.i))
        return found

    def _gapped_slots(self, ctx: DocContext, trigger: Token, conj: Token, trigger_tokens: set[int]) -> SlotCollector:
        """The slots a gapped conjunct fills: its company as subject, the prepositions under it."""
        collector = SlotCollector(ctx, self, trigger_tokens)
        if conj.i in ctx.by_token:
            collector.add_token("subj", conj)
        for token in conj.subtree:
            if token.dep_ == "prep" and token.head.i != trigger.i and not (token.head.pos_ == "VERB"
                                                                          and token.head.i != conj.i):
                self._prep(ctx, token, trigger_tokens, collector)
        return collector

    def _from_slots(self, ctx: DocContext, trigger: Token, frame: Frame, collector: SlotCollector,
                    slots: dict[str, list[str]], index: int, is_verb: bool,
                    funded_triggers: dict[int, bool]) -> Candidate | None:
        """The one deal a frame reads on a set of slots (generic frames: two parties, direction by kind)."""
        kind, investor_slots, recipient_slots = frame.kind, frame.investor, frame.recipient
        funded = funded_triggers.get(trigger.i)
        investor = _first(slots, investor_slots)
        recipient = _first(slots, recipient_slots, exclude=investor)
        generic = frame.generic
        loan_word = next((c for c in trigger.children if c.dep_ == "compound" and c.lemma_ in ("loan", "credit")), None)
        if generic and loan_word is not None and slots.get("lender"):
            lender = slots["lender"][0]
            borrower = next((n for key in ("gov_subj", "subj", "poss", "with") for n in slots.get(key, [])
                             if n != lender), None)
            if borrower is None:
                return None
            generic, kind, investor, recipient = False, "loan", lender, borrower
        if generic:
            parties = _unique([name for key, names in slots.items() for name in names if key != "for"])
            # "Google and Anthropic have struck a deal": the subject's conjuncts are parties too.
            parties = _unique(parties + [m for p in parties for m in collector.coordinated.get(p, [])])
            # The other members of a coordination ("with Orrin, Pell and Vask") stand with their first.
            # "between A and B" is a pair, not a list.
            members = {m for p in parties for m in collector.coordinated.get(p, [])} if len(parties) > 2 else set()
            heads = [p for p in parties if p not in members]
            if len(heads) != 2:
                return None
            a, b = heads
            rank_a, rank_b = ctx.vendor_rank(a), ctx.vendor_rank(b)
            investor, recipient = (a, b) if rank_a < rank_b else (b, a)
            financing = {t.lemma_.lower() for t in trigger.children if t.dep_ in ("compound", "amod")} & (
                ROUND_NOUNS | LOAN_WORDS | {"equity", "investment"})
            funders = [n for n in (a, b) if ctx.kinds(n) & FUNDER_KINDS]
            if financing and len(funders) == 1:
                # "a $27 billion financing deal with Blue Owl": the fund or bank provides the money.
                kind = "loan" if financing & LOAN_WORDS - {"financing"} else "investment"
                investor = funders[0]
                recipient = b if investor == a else a
            elif rank_a == rank_b:
                return None
        if funded is not None:
            # A purchase paid with another deal's money: the buyer may be that deal's recipient.
            if recipient is None:
                return None
            return Candidate(kind="purchase", investor=investor, recipient=recipient, sent_index=index,
                             trigger=trigger.i, evidence=trigger.sent.text.strip(), funded=True,
                             fresh_funds=funded, what=_object_text(trigger))
        if recipient is None and investor is not None and kind == "investment":
            recipient = _stake_owner(ctx, trigger, investor)
        implicit = (recipient is None and investor is not None and kind == "investment" and is_verb
                    and not generic and trigger.lemma_.lower() in IMPLICIT_RECIPIENT_VERBS)
        if investor is None or (recipient is None and not implicit) or investor == recipient:
            return None
        candidate = Candidate(implicit=implicit,
            kind=kind, investor=investor, recipient=recipient, sent_index=index, trigger=trigger.i,
            evidence=trigger.sent.text.strip(), generic=generic, what=_object_text(trigger),
            status=_status(trigger, kind, is_verb),
            direct=all(n in collector.direct for n in (investor, recipient)),
        )
        if kind == "warrant":
            shares = SHARE_COUNT_RE.search(trigger.sent.text)
            if shares:
                candidate.amount_text = shares.group(0)
        return candidate

    def _slots(self, ctx: DocContext, trigger: Token, trigger_tokens: set[int]) -> SlotCollector:
        """Companies around a trigger by grammatical slot (see the slot names above ``VERB_FRAMES``)."""
        collector = SlotCollector(ctx, self, trigger_tokens)
        slots, add = collector.slots, collector

        # Datelines give a second subject ("SEATTLE, ... - Tessaly Cloud will invest"): named companies first.
        for subject in sorted(_subjects(trigger), key=lambda t: t.i not in ctx.by_token):
            antecedent = _antecedent(subject, ctx)
            if ctx.company_at(antecedent) is None and antecedent.lower_ not in MONEY_WORDS:
                # "OpenAI's largest expense is buying ...", "whose main expense is buying ...".
                owner = next((c for c in antecedent.children if c.dep_ == "poss"), None)
                if owner is not None:
                    antecedent = _antecedent(owner, ctx) if owner.lower_ != "whose" else _relcl_head(owner)
            # "NVIDIA is obligated to purchase": a passive subject up the chain is the buyer.
            passive = subject.dep_ == "nsubjpass" and subject.head.i == trigger.i
            add("passsubj" if passive else "subj", antecedent)
        if trigger.pos_ == "NOUN":
            slots.setdefault("gov_subj", []).extend(slots.get("subj", []))
        for token in trigger.subtree:
            # "raised $250 million in a round led by Calloway Ventures"
            if token.lemma_ in ("lead", "back") and token.dep_ == "acl":
                for agent in token.children:
                    if agent.dep_ == "agent":
                        for pobj in agent.children:
                            add("led_by", pobj)
        for child in trigger.children:
            dep = child.dep_
            if dep in ("nsubjpass",):
                add("passsubj", _antecedent(child, ctx))
            elif dep == "agent":
                for pobj in child.children:
                    add("agent", pobj)
            elif dep == "dative" and child.pos_ == "ADP":  # "supply capacity to X" parsed as a dative "to"
                self._prep(ctx, child, trigger_tokens, add)
            elif dep in ("dobj", "dative", "attr", "oprd"):
                add("dative" if dep == "dative" else "dobj", child)
                self._object_mods(ctx, child, trigger_tokens, add)
                for grandchild in child.children:
                    if grandchild.dep_ == "prep":
                        self._prep(ctx, grandchild, trigger_tokens, add)
            elif dep == "prep":
                self._prep(ctx, child, trigger_tokens, add)
            elif dep == "poss":
                add("poss", child)
            elif dep == "compound" and child.i in ctx.by_token:
                add("obj_mod", child)
            elif dep in ("nummod", "quantmod", "appos", "amod", "advmod"):  # "spent ... right back at X"
                for grandchild in child.children:
                    if grandchild.dep_ == "prep":
                        self._prep(ctx, grandchild, trigger_tokens, add)
        if trigger.pos_ == "NOUN":
            self._noun_context(ctx, trigger, add)
        if trigger.lemma_ in LOAN_WORDS or any(c.dep_ == "compound" and c.lemma_ in LOAN_WORDS for c in trigger.children):
            for token in trigger.sent:
                if token.lower_ == "lender" and token.head.lower_ == "as":
                    # "with Ostrander Bank, N.A., as lender": the company just before "as".
                    before = [s for s in ctx.companies if s.end <= token.head.i and s.start >= trigger.sent.start]
                    if before:
                        slots.setdefault("lender", []).append(company_text(before[-1]))
            banks = [n for names in slots.values() for n in names if ctx.kinds(n) & {"bank", "lender"}]
            slots["lender"] = _unique(banks + slots.get("lender", []))
        return collector

    def _noun_context(self, ctx: DocContext, noun: Token, add: SlotCollector) -> None:
        """A noun trigger's parties from the verb it is the object of ("completed its investment")."""
        # "a $1.1 billion, three-year cloud contract": the parser may hang the noun on the amount.
        while noun.dep_ in ("appos", "nmod", "compound") and noun.head.i != noun.i and noun.head.pos_ in ("NUM", "NOUN"):
            noun = noun.head
        head = noun.head
        # Walk up through "of"-chains and conjunctions: "a string of purchases", "part of the deal".
        while head.dep_ in ("pobj", "conj") or head.pos_ == "ADP":
            if head.pos_ == "ADP" and head.lower_ not in ("of", "through", "under", "in"):
                break
            head = head.head
        if noun.dep_ in ("dobj", "nsubjpass", "pobj", "conj", "attr", "nsubj") and head.pos_ in ("VERB", "AUX"):
            for subject in _subjects(head):
                add("gov_subj", _antecedent(subject, ctx))
            for child in head.children:
                if child.dep_ == "dative":
                    add("gov_dative", child)
                if child.dep_ == "dobj" and child.i != noun.i:  # "issued the Registrant a warrant"
                    add("gov_dobj", child)
                if child.dep_ == "prep" and child.lower_ in ("to", "with", "from"):
                    for pobj in child.children:
                        if pobj.dep_ == "pobj":
                            add(f"gov_{child.lower_}", pobj)
        if noun.dep_ == "attr" or noun.head.lemma_ == "be":
            for child in noun.head.children:
                if child.dep_ == "nsubj":
                    add("cop_subj", _antecedent(child, ctx))
        if noun.dep_ == "pobj" and noun.head.lower_ == "as":
            verb = noun.head.head
            for child in verb.children:
                if child.dep_ == "dobj":
                    add("cop_subj", child)
        # "one of NVIDIA's biggest buyers"
        if noun.dep_ == "pobj" and noun.head.lower_ == "of" and noun.head.head.dep_ == "attr":
            for child in noun.head.head.head.children:
                if child.dep_ == "nsubj":
                    add("cop_subj", _antecedent(child, ctx))

    def _prep(self, ctx: DocContext, prep: Token, trigger_tokens: set[int], add: SlotCollector) -> None:
        name = prep.lower_
        for pobj in prep.children:
            if pobj.dep_ in ("pobj", "pcomp"):
                if pobj.lower_ == "what":  # "into what was then a little-known research lab"
                    for child in pobj.head.children:
                        pass
                add(name, pobj)
                self._object_mods(ctx, pobj, trigger_tokens, add, slot=name)
                for conj in pobj.children:
                    if conj.dep_ == "conj":
                        add(name, conj)
            if pobj.dep_ == "pcomp" or (pobj.dep_ == "pobj" and pobj.lower_ == "what"):
                for child in pobj.subtree:
                    if child.dep_ == "attr":
                        add(name, child)

    def _object_mods(self, ctx: DocContext, head: Token, trigger_tokens: set[int], add: SlotCollector,
                     slot: str = "obj_mod") -> None:
        """Companies and product vendors inside an object phrase, not crossing into other deals."""
        stack = [c for c in head.children]
        while stack:
            token = stack.pop()
            if token.dep_ in ("relcl", "acl", "advcl", "ccomp", "appos") or (
                token.i in trigger_tokens and token.pos_ in ("NOUN", "VERB") and token.lemma_ not in
                    ("use", "purchase", "order", "deal", "agreement", "contract", "supply")):
                continue
            if token.dep_ in ("poss", "compound", "nmod", "pobj", "conj", "amod"):
                if token.dep_ == "poss" and head.lemma_ in HARDWARE_NOUNS | {"capacity", "service", "stock",
                                                                             "share", "chip", "server"}:
                    add("poss_obj", token)
                owner_of_goods = token.dep_ == "poss" and token.head.lemma_.lower() in GOODS_HEADS
                if token.i in ctx.by_token and token.dep_ != "poss" or owner_of_goods:
                    add("obj_mod" if slot in ("obj_mod",) else slot, token)
                    if slot != "obj_mod":
                        add("obj_mod", token)
            product = ctx.product_at(token, self.resolve_product)
            if product is not None and product[1]:
                add.add_name("obj_mod", product[1])
            elif product is not None and token.lemma_.lower() in HARDWARE_NOUNS and _looks_like_maker(product[0]):
                # "spend $4 billion on Nerion accelerators": an unknown capitalised maker's name.
                add.add_name("obj_mod", product[0])
            stack.extend(token.children)
        product = ctx.product_at(head, self.resolve_product)
        if product is not None and product[1]:
            add.add_name("obj_mod", product[1])
        elif product is not None and head.lemma_.lower() in HARDWARE_NOUNS and _looks_like_maker(product[0]):
            add.add_name("obj_mod", product[0])

    def _party_in(self, ctx: DocContext, token: Token, trigger_tokens: set[int]) -> str | None:
        """A company named inside a common-noun phrase: "companies like OpenAI", "its use of Google Cloud"."""
        if token.pos_ not in ("NOUN", "PRON", "NUM"):
            return None
        for child in token.subtree:
            if child.i == token.i:
                continue
            if child.dep_ in ("relcl", "acl", "appos"):
                continue
            if child.i in ctx.by_token and child.head.lower_ in ("like", "as", "including", "of", "such"):
                return company_text(ctx.by_token[child.i])
        return None

    # -- spend-backs -------------------------------------------------------------------------
    def _funded_triggers(self, doc: Doc) -> dict[int, bool]:
        """Trigger tokens that spend another deal's money -> whether the money is called new/fresh."""
        found: dict[int, bool] = {}
        # Only sentences with a using/spending verb can spend a deal's money (keeps the matcher cheap).
        matches = []
        for sent in doc.sents:
            if any(t.lemma_ in ("use", "apply", "spend", "pay", "put", "deploy", "direct") for t in sent):
                # Token positions come back relative to the sentence.
                matches.extend((m, [sent.start + i for i in toks]) for m, toks in self.funds_matcher(sent))
        for match_id, tokens in matches:
            label = doc.vocab.strings[match_id]
            if label == "FLOW_BACK":
                continue
            funds = doc[tokens[1]] if label == "USE_FUNDS" else doc[tokens[-1]]
            spend = doc[tokens[2]] if label == "USE_FUNDS" else doc[tokens[0]]
            if funds.lower_ in ("it", "that") and label == "USE_FUNDS" and funds.head.lemma_ != "use":
                continue
            fresh = any(t.lower_ in ("new", "fresh", "additional") for t in funds.children)
            targets = [spend] + [t for t in spend.subtree if t.dep_ in ("xcomp", "conj") and t.pos_ == "VERB"]
            for target in targets:
                found[target.i] = fresh
            # "much of the money was spent on ...": the spend verb itself
        for token in doc:
            if token.lemma_ in ("spend", "pay", "buy", "purchase", "rent", "lease") and token.pos_ == "VERB":
                subject = _subject(token)
                if subject is not None and _mentions_funds(subject):
                    found[token.i] = any(t.lower_ in ("new", "fresh") for t in subject.subtree)
                # "the funds will go toward renting GPUs from X"
                for ancestor in list(token.ancestors)[:3]:
                    if ancestor.lemma_ in ("go", "flow", "fund", "finance", "cover"):
                        head_subject = next((c for c in ancestor.children if c.dep_ in ("nsubj", "nsubjpass")), None)
                        if head_subject is not None and _mentions_funds(head_subject):
                            found[token.i] = any(t.lower_ in ("new", "fresh") for t in head_subject.subtree)
                if token.head.lemma_ in ("mean", "meant", "intend", "help") and token.dep_ in ("xcomp",):
                    head_subject = _subject(token.head)
                    if head_subject is not None and _mentions_funds(head_subject):
                        found[token.i] = False
        return found

    def _flow_back(self, ctx: DocContext, sent: Span, index: int, found: list[Candidate]) -> None:
        """"The capital comes back to AWS": a spend-back to AWS of the newest matching deal."""
        for match_id, tokens in self.funds_matcher(sent.as_doc()) if False else []:
            pass
        for token in sent:
            if token.lemma_ not in ("come", "flow", "return", "go", "cycle"):
                continue
            children = list(token.children)
            if not any(c.lower_ == "back" for c in children):
                continue
            subject = _subject(token)
            if subject is None or not _mentions_funds(subject):
                continue
            payee = None
            back = [c for c in children if c.lower_ == "back"]
            for c in children + [g for b in back for g in b.children]:  # "flow back to AWS": "to" may hang on "back"
                if c.dep_ == "prep" and c.lower_ == "to":
                    for pobj in c.children:
                        payee = payee or ctx.company_at(pobj)
            if payee is None:
                continue
            what = None
            for c in children:
                if c.dep_ == "prep" and c.lower_ == "as":
                    what = " ".join(t.text for t in c.subtree if t.i != c.i)
            fresh = any(t.lower_ in ("new", "fresh") for t in subject.subtree)
            found.append(Candidate(kind="purchase", investor=None, recipient=payee, sent_index=index,
                                   trigger=token.i, evidence=sent.text.strip(), funded=True, fresh_funds=fresh,
                                   what=what))

    def _attach_spend_backs(self, candidates: list[Candidate]) -> None:
        """Attach each funded purchase to the investment or loan whose money it spends."""
        for purchase in [c for c in candidates if c.funded]:
            deals = [c for c in candidates if c.kind in ("investment", "loan") and not c.funded
                     and (c.sent_index, c.trigger) < (purchase.sent_index, purchase.trigger + 1000)
                     and c.sent_index <= purchase.sent_index]
            if purchase.investor is not None:
                deals = [d for d in deals if d.recipient == purchase.investor]
            if purchase.fresh_funds:
                fresh = [d for d in deals if d.status != "completed"]
                deals = fresh or deals
            deals = [d for d in deals if d.recipient != purchase.recipient]
            if not deals:
                continue
            deal = max(deals, key=lambda d: (d.sent_index, d.trigger))
            if deal.spend_back is None:
                deal.spend_back = (purchase.recipient, purchase.what)
            purchase.investor = None  # consumed

    # -- mandates ----------------------------------------------------------------------------
    def _mandates(self, ctx: DocContext, sent: Span) -> list[tuple[tuple[str, str], str | None, Token]]:
        """Named hardware the text requires to be used, with the company that must use it."""
        found = []
        seen: set[str] = set()
        for token in sent:
            product = ctx.product_at(token, self.resolve_product)
            if product is None or not product[1]:
                continue
            name, vendor = product
            if name in seen or _negated(token):
                continue
            user = None
            mandated = False
            goods = False
            for ancestor in [token, *token.ancestors]:
                lemma = ancestor.lemma_.lower()
                if lemma in GOODS_VERBS and ancestor.pos_ == "VERB":
                    goods = True
                    break
                if lemma in MANDATE_VERBS or (ancestor.lower_ == "use" and ancestor.pos_ == "NOUN"):
                    mandated = True
                    subject = _subject(ancestor)
                    if subject is not None and user is None:
                        user = ctx.company_at(_antecedent(subject, ctx))
                    if ancestor.pos_ == "NOUN":
                        poss = next((c for c in ancestor.children if c.dep_ == "poss"), None)
                        if poss is not None:
                            user = user or ctx.company_at(poss)
            requirement = bool(MANDATE_MARKERS_RE.search(sent.text))
            if mandated and not goods and (user is not None or requirement):
                seen.add(name)
                found.append(((name, vendor), user, token))
        return found

    def _attach_mandates(self, ctx: DocContext, candidates: list[Candidate],
                         mandates: list[tuple[int, tuple[str, str], str | None, Token]], sents: list[Span]) -> None:
        """Give each mandate to the deal of its sentence, else the nearest deal of its user."""
        live = [c for c in candidates if c.investor and c.recipient and not c.funded]
        for index, (product, vendor), user, token in mandates:
            def eligible(c: Candidate) -> bool:
                if c.kind == "loan" or c.mandate is not None:
                    return False
                # Chips bought from their maker are the goods, not a requirement.
                if c.kind == "purchase" and c.recipient == vendor and ctx.vendor_rank(vendor) >= 4:
                    return False
                if user is not None and user not in (c.recipient, c.investor):
                    return False
                return True

            same = [c for c in live if c.sent_index == index and eligible(c)]
            before = [c for c in live if c.sent_index < index and eligible(c)]
            after = [c for c in live if index < c.sent_index <= index + 3 and eligible(c)]
            if before and user is not None:
                fresh = [c for c in before if c.status != "completed"]
                before = fresh or before
            target = (same[0] if same else max(before, key=lambda c: (c.sent_index, c.trigger)) if before
                      else min(after, key=lambda c: c.sent_index) if after else None)
            if target is not None:
                target.mandate = (product, vendor)

    # -- amounts -----------------------------------------------------------------------------
    def _assign_money(self, ctx: DocContext, sent: Span, found: list[Candidate]) -> None:
        """Each deal amount of the sentence goes to the nearest candidate in the tree."""
        money = [s for s in ctx.doc.spans[MONEY] if sent.start <= s.start < sent.end and s._.money.is_deal_amount]
        pairs = []
        for candidate in found:
            if candidate.kind == "warrant" or (candidate.funded and candidate.investor is None):
                continue
            trigger = ctx.doc[candidate.trigger]
            anchor = ctx.doc[candidate.anchor] if candidate.anchor is not None else trigger
            for span in money:
                distance = min(_tree_distance(trigger, span.root), _tree_distance(anchor, span.root))
                pairs.append((distance, span.start, id(candidate), candidate, span))
        pairs.sort(key=lambda p: (p[0], p[1]))
        used_money: set[int] = set()
        used_candidates: set[int] = set()
        for distance, _, key, candidate, span in pairs:
            if span.start in used_money or key in used_candidates or distance > 8:
                continue
            if _valuation(span):
                continue
            candidate.money = span._.money
            candidate.amount_text = span._.money.text
            used_money.add(span.start)
            used_candidates.add(key)
            converted = _usd_in_parentheses(span, money)
            if span._.money.amount_usd is None and converted is not None:
                # "€1.3 billion ($1.5 billion)": the text gives the dollar figure itself.
                candidate.money = converted._.money
                candidate.amount_text = ctx.doc.text[span.start_char: converted.end_char + 1]
                used_money.add(converted.start)
        # A second candidate of the same deal word (title + body) may share the amount.

    def _orphan_amounts(self, ctx: DocContext, sents: list[Span], candidates: list[Candidate]) -> None:
        """"The Order Form carries a value of $6.3 billion": an amount beside a deal stated nearby."""
        with_deal = {c.sent_index for c in candidates}
        orphans: list[tuple[int, Span]] = []
        for index, sent in enumerate(sents):
            if index in with_deal:
                continue
            lemmas = {t.lemma_.lower() for t in sent}
            if not lemmas & (CONTRACT_NOUNS | {"value", "worth", "pact", "transaction", "form"}):
                continue
            if lemmas & {"revenue", "valuation", "value"} and not lemmas & CONTRACT_NOUNS | {"form"}:
                continue
            for span in ctx.doc.spans[MONEY]:
                if sent.start <= span.start < sent.end and span._.money.is_deal_amount and not _valuation(span):
                    orphans.append((index, span))
                    break
        for index, span in orphans:
            needing = [c for c in candidates if c.money is None and c.amount_text is None and not c.funded
                       and c.kind != "warrant" and abs(c.sent_index - index) <= 2]
            if not needing:
                continue
            previous = [c for c in needing if c.sent_index < index]
            target = max(previous, key=lambda c: c.sent_index) if previous else min(needing, key=lambda c: c.sent_index)
            target.money = span._.money
            target.amount_text = span._.money.text

    def _bullets(self, ctx: DocContext, sents: list[Span], candidates: list[Candidate]) -> list[Candidate]:
        """List items under a header that states a deal ("... across three agreements:") inherit its parties."""
        out = list(candidates)
        by_sent: dict[int, list[Candidate]] = {}
        for c in candidates:
            by_sent.setdefault(c.sent_index, []).append(c)
        header: Candidate | None = None
        for index, sent in enumerate(sents):
            text = sent.text.strip()
            is_item = bool(re.match(r"^[-•*–]\s|^\d+[.)]\s", text)) or (
                index > 0 and sents[index - 1].text.rstrip().endswith(":") and header is not None)
            if header is not None and is_item:
                if index not in by_sent:
                    money = [s for s in ctx.doc.spans[MONEY]
                             if sent.start <= s.start < sent.end and s._.money.is_deal_amount]
                    lemmas = {t.lemma_.lower() for t in sent}
                    if money and lemmas & (CONTRACT_NOUNS | GENERIC_NOUNS):
                        out.append(replace(header, sent_index=index, evidence=text, money=money[0]._.money,
                                           amount_text=money[0]._.money.text, spend_back=None, mandate=None,
                                           trigger=sent.start))
                continue
            header = None
            if text.endswith(":") and index in by_sent:
                header = by_sent[index][-1]
        return out


# ---------------------------------------------------------------------------------------------
def _first(slots: dict[str, list[str]], keys: Iterable[str], exclude: str | None = None) -> str | None:
    for key in keys:
        for name in slots.get(key, []):
            if name != exclude:
                return name
    return None


def _unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name not in out:
            out.append(name)
    return out


def _stake_owner(ctx: DocContext, trigger: Token, investor: str) -> str | None:
    """Whose stake a payment buys: "invested $1.5 billion to become the largest shareholder in X",
    "paid $2 billion for a 10% stake in X"."""
    for token in trigger.subtree:
        if token.lemma_.lower() in SHARES | {"shareholder", "investor", "owner"} and token.pos_ == "NOUN":
            for prep in token.children:
                if prep.dep_ == "prep" and prep.lower_ in ("in", "of"):
                    for pobj in prep.children:
                        name = ctx.company_at(pobj) if pobj.dep_ == "pobj" else None
                        if name is None and pobj.dep_ == "pobj":
                            named = [t for t in pobj.subtree if t.i in ctx.by_token]
                            name = company_text(ctx.by_token[named[0].i]) if named else None
                        if name is not None and name != investor:
                            return name
    return None


def _conjuncts(token: Token) -> list[Token]:
    """The tokens coordinated with ``token`` ("Orrin, Pell and Vask": Pell and Vask for Orrin)."""
    found: list[Token] = []
    stack = [c for c in token.children if c.dep_ == "conj"]
    while stack:
        conj = stack.pop(0)
        found.append(conj)
        stack.extend(c for c in conj.children if c.dep_ == "conj")
    return found


def _subject(token: Token) -> Token | None:
    """The first subject of ``_subjects``."""
    found = _subjects(token)
    return found[0] if found else None


def _subjects(token: Token) -> list[Token]:
    """The subject(s) of a verb, inherited through "agreed to X", "plans to X", "X and Y" and gerunds.

    A dateline ("SEATTLE, Feb 9 (Wire) - Tessaly Cloud will invest") can give a verb two subjects.
    """
    found = _subject_walk(token)
    if found is None:
        return []
    return [found] + [c for c in found.head.children if c.dep_ == found.dep_ and c.i != found.i]


def _subject_walk(token: Token) -> Token | None:
    current = token
    for _ in range(8):
        for child in current.children:
            if child.dep_ in ("nsubj", "nsubjpass", "csubj"):
                return child
        if current.i != token.i and current.pos_ == "NOUN" and current.lemma_ in ("plan", "intend", "aim"):
            # "NVIDIA plans to invest" mis-parsed as a noun phrase "NVIDIA plans".
            compound = next((c for c in current.children if c.dep_ == "compound" and c.pos_ == "PROPN"), None)
            if compound is not None:
                return compound
        if current.dep_ in ("xcomp", "conj", "advcl", "acomp", "pcomp", "acl", "prep", "pobj", "dobj", "oprd") \
                and current.head.i != current.i:
            if current.pos_ in ("NOUN", "PROPN") and current.i != token.i:
                poss = next((c for c in current.children if c.dep_ == "poss"), None)
                if poss is not None:
                    return poss
            current = current.head
            continue
        if current.dep_ == "relcl":
            return current.head
        break
    if current.pos_ in ("NOUN", "PROPN") and current.i != token.i:
        poss = next((c for c in current.children if c.dep_ == "poss"), None)
        if poss is not None:
            return poss
    return None


def _antecedent(token: Token, ctx: DocContext | None = None) -> Token:
    """What a relative pronoun stands for: "OpenAI, which ..." -> OpenAI; "a partner who" -> the subject."""
    if token.lower_ not in RELATIVE and token.dep_ != "relcl":
        return token
    if ctx is not None and token.lower_ in RELATIVE:
        # "OpenAI, which ...": a company right before the pronoun, whatever the parser attached it to.
        before = token.i - 1
        while before >= token.sent.start and token.doc[before].is_punct:
            before -= 1
        if before >= token.sent.start and before in ctx.by_token and before < token.i - 1:
            return token.doc[before]
    clause = token.head if token.lower_ in RELATIVE else token
    while clause.dep_ != "relcl" and clause.head.i != clause.i and clause.pos_ != "NOUN":
        clause = clause.head
    noun = clause.head if clause.dep_ == "relcl" else clause
    # "a partner who ...", "companies like OpenAI, whose ...": climb appositions to a named company.
    hops = 0
    while hops < 4 and noun.dep_ in ("appos", "attr", "pobj") and noun.pos_ == "NOUN":
        if noun.dep_ == "attr":
            subject = next((c for c in noun.head.children if c.dep_ == "nsubj"), None)
            if subject is not None:
                return subject
        noun = noun.head
        hops += 1
    if noun.pos_ not in ("PROPN",) and noun.dep_ not in ("nsubj",):
        root = noun.sent.root
        subject = next((c for c in root.children if c.dep_ == "nsubj"), None)
        for child in noun.subtree:
            if child.pos_ == "PROPN" and child.head.lower_ in ("like", "including", "such"):
                return child
        if subject is not None and subject.pos_ == "PROPN":
            return subject
    return noun


def _looks_like_maker(name: str) -> bool:
    """A one-word capitalised name without digits ("Nerion"), not a model number ("K2", "MI450")."""
    return " " not in name and name[:1].isupper() and not any(c.isdigit() for c in name) and not name.isupper()


def _relcl_head(token: Token) -> Token:
    """The noun a relative clause containing ``token`` is attached to ("OpenAI, whose ..." -> OpenAI)."""
    for ancestor in token.ancestors:
        if ancestor.dep_ == "relcl":
            return ancestor.head
    return token


def _governed_by(token: Token, lemmas: set[str]) -> bool:
    return any(a.lemma_.lower() in lemmas for a in token.ancestors)


def _verbal_chain(token: Token) -> list[Token]:
    """The trigger and the verbs/nouns it hangs from within its own clause ("agreed to pay")."""
    chain = [token]
    current = token
    while current.dep_ in ("xcomp", "acl", "pcomp", "pobj", "prep", "dobj", "conj", "acomp", "nsubj", "nsubjpass",
                           "attr", "compound") and current.head.i != current.i:
        current = current.head
        chain.append(current)
        if current.pos_ == "VERB" and current.dep_ not in ("xcomp", "acl", "pcomp", "conj"):
            break
    return chain


def _negated(token: Token) -> bool:
    """"did not invest", "no plans to invest", "involves no payment", "never paid"."""
    for item in _verbal_chain(token):
        for child in item.children:
            if child.dep_ == "neg" or (child.dep_ == "det" and child.lower_ in ("no", "neither")):
                return True
        if item.dep_ == "conj":
            for child in item.head.children:
                if child.dep_ == "det" and child.lower_ == "no":
                    return True
    return False


def _hypothetical(token: Token) -> bool:
    """Conditionals and may/might/could: "if ...", "could invest"."""
    for item in _verbal_chain(token):
        for child in item.children:
            if child.dep_ == "mark" and child.lower_ in ("if", "unless", "whether"):
                return True
            if child.dep_ == "aux" and child.lower_ in HYPOTHETICAL_MODALS:
                return True
    return False


def _mentions_funds(token: Token) -> bool:
    return any(t.lower_ in MONEY_WORDS for t in token.subtree)


def _object_text(trigger: Token) -> str | None:
    """What is bought: the object phrase of a purchase, without any company name."""
    for child in trigger.children:
        if child.dep_ in ("dobj",) and child.lower_ not in FUNDS_REFERENCES:
            return " ".join(t.text for t in child.subtree)[:80]
    for child in trigger.children:
        if child.dep_ == "prep" and child.lower_ in ("on", "for"):
            return " ".join(t.text for t in child.subtree if t.i != child.i)[:80]
    return None


def _status(trigger: Token, kind: str, is_verb: bool) -> str:
    """denied > ended > in_talks > reported > completed > announced, from the words around the deal."""
    sent = trigger.sent
    chain = [trigger, *trigger.ancestors]
    if any(t.lemma_.lower() in DENY_LEMMAS for t in chain):
        return "denied"
    if any(t.lemma_.lower() in END_LEMMAS and t.pos_ == "VERB" for t in chain) or any(
            t.lemma_.lower() in END_LEMMAS and t.dep_ == "relcl" for t in trigger.subtree):
        return "ended"
    if TALKS_RE.search(sent.text):
        return "in_talks"
    if REPORTED_RE.search(sent.text):
        return "reported"
    if _completed(trigger, kind, is_verb):
        return "completed"
    return "announced"


def _completed(trigger: Token, kind: str, is_verb: bool) -> bool:
    """Past tense of a payment verb ("invested", "received", "was backed"), or "closed/completed X"."""
    lemma = trigger.lemma_.lower()
    if is_verb:
        if lemma in ANNOUNCE_ONLY or kind == "warrant":
            return False
        if trigger.dep_ in ("xcomp", "acl") and trigger.head.lemma_.lower() not in COMPLETE_LEMMAS:
            return False
        aux = [c for c in trigger.children if c.dep_ in ("aux", "auxpass")]
        if any(a.lower_ in ("will", "would", "'ll", "to", "shall", "can") for a in aux):
            return False
        if trigger.tag_ == "VBD":
            return True
        if trigger.tag_ == "VBN":
            return any(a.lemma_ == "have" or a.tag_ == "VBD" for a in aux)
        return False
    head = trigger.head
    while head.pos_ == "ADP" or head.dep_ in ("pobj",):
        if head.head.i == head.i:
            break
        head = head.head
    if head.pos_ in ("VERB", "AUX") and head.lemma_.lower() not in ANNOUNCE_ONLY | {"say", "disclose"}:
        aux = [c for c in head.children if c.dep_ in ("aux", "auxpass")]
        if any(a.lower_ in ("will", "would", "to") for a in aux):
            return False
        # "borrowed $400 million under a term loan": money moved through the deal noun.
        if head.lemma_.lower() in COMPLETE_LEMMAS | PAID_THROUGH_LEMMAS and head.tag_ in ("VBD", "VBN"):
            return True
    return False


def _usd_in_parentheses(span: Span, money: list[Span]) -> Span | None:
    """The dollar amount in parentheses right after an amount in another currency, if any."""
    after = span.doc.text[span.end_char: span.end_char + 3]
    if "(" not in after:
        return None
    return next((m for m in money if 0 < m.start_char - span.end_char <= 3 and m._.money.amount_usd is not None
                 and span.doc.text[m.end_char: m.end_char + 1] == ")"), None)


def _tree_distance(a: Token, b: Token) -> int:
    ancestors_a = {t.i: d for d, t in enumerate([a, *a.ancestors])}
    for d, t in enumerate([b, *b.ancestors]):
        if t.i in ancestors_a:
            return d + ancestors_a[t.i]
    return 99


def _valuation(span: Span) -> bool:
    """Amounts that price a company rather than a deal: "was valued at $12 billion" (but "a deal valued at")."""
    doc = span.doc
    before = doc[max(span.sent.start, span.start - 4): span.start].text.lower()
    if "valued at" in before:
        valued = next((t for t in doc[max(span.sent.start, span.start - 4): span.start] if t.lower_ == "valued"), None)
        return valued is None or valued.head.lemma_.lower() not in CONTRACT_NOUNS | GENERIC_NOUNS
    return any(w in before for w in ("valuation", "market value", "market cap", "revenue of", "price target"))


# ---------------------------------------------------------------------------------------------
def merge_candidates(ctx: DocContext, candidates: list[Candidate]) -> list[Candidate]:
    """One record per deal: restatements (headline and body, recap sentences) fold into one."""
    specific = [c for c in candidates if not c.generic]
    generic = [c for c in candidates if c.generic]
    kept: list[Candidate] = []
    for candidate in sorted(specific, key=lambda c: (c.money is None, c.sent_index)):
        twin = next((k for k in kept if _same_deal(k, candidate)), None)
        if twin is None:
            kept.append(candidate)
        else:
            _absorb(twin, candidate)
    for candidate in generic:
        pair = {candidate.investor, candidate.recipient}
        other = next((k for k in kept if {k.investor, k.recipient} == pair), None)
        same_amount = other is not None and (candidate.money is None or (
            other.money is not None and other.money.amount_usd == candidate.money.amount_usd))
        if other is not None and same_amount:
            other.mandate = other.mandate or candidate.mandate
            continue  # "the agreement" restates a deal already found between the pair
        # A warrant, loan, backstop or stake sale between the pair is not what a priced agreement means.
        twin = next((k for k in kept if {k.investor, k.recipient} == pair and k.kind in ("purchase", "investment")), None)
        if twin is not None and candidate.money is not None and twin.money is not None \
                and candidate.money.amount_usd != twin.money.amount_usd:
            # Another deal between the same pair ("a further expansion ... worth $6.5 billion").
            kept.append(replace(candidate, kind=twin.kind, investor=twin.investor, recipient=twin.recipient,
                                generic=False))
            continue
        if twin is not None:
            if twin.money is None and candidate.money is not None and twin.kind == "purchase":
                twin.money, twin.amount_text = candidate.money, candidate.amount_text
            twin.mandate = twin.mandate or candidate.mandate
            continue
        same = next((k for k in kept if k.generic and {k.investor, k.recipient} == pair), None)
        if same is not None:
            _absorb(same, candidate)
            continue
        kept.append(candidate)
    _linked_purchases(ctx, kept)
    # An un-sized purchase that restates a spend-back flow is that flow, not a second deal.
    spend_flows = {(k.recipient, k.spend_back[0]) for k in kept if k.spend_back}
    kept = [k for k in kept if not (k.kind == "purchase" and k.money is None and k.amount_text is None
                                    and (k.investor, k.recipient) in spend_flows)]
    return sorted(kept, key=lambda c: (c.sent_index, c.trigger))


# Phrases that tie a sentence to the deal just stated ("As part of the deal, X will buy ...").
LINKED_RE = re.compile(r"\b(?:as part of|under (?:the|that|this) (?:deal|agreement|terms|arrangement|pact)|in return|"
                       r"in exchange|as a condition|in turn)\b", re.I)


def _linked_purchases(ctx: DocContext, kept: list[Candidate]) -> None:
    """A purchase tied to the investment just before it, paid back to the investor, is its spend-back.

    "Orrin will invest $1 billion in Tamsin. As part of the deal, Tamsin has committed to purchase
    Orrin chips": the money comes back to Orrin. The purchase's own sentence is its evidence.
    """
    sents = list(ctx.doc.sents)
    for purchase in [k for k in kept if k.kind == "purchase" and not k.generic]:
        if not LINKED_RE.search(sents[purchase.sent_index].text):
            continue
        deals = [k for k in kept if k.kind in ("investment", "loan") and k.spend_back is None
                 and purchase.sent_index - 2 <= k.sent_index <= purchase.sent_index and k.trigger < purchase.trigger
                 and k.recipient == purchase.investor and k.investor == purchase.recipient]
        if deals:
            max(deals, key=lambda k: k.trigger).spend_back = (purchase.recipient, purchase.what)


def _same_deal(a: Candidate, b: Candidate) -> bool:
    if (a.investor, a.recipient) != (b.investor, b.recipient):
        return False
    kinds = {a.kind, b.kind}
    if a.kind != b.kind and not (kinds <= {"investment", "purchase"} and (a.money is None or b.money is None)):
        return False
    amount_a = a.money.amount_usd if a.money else None
    amount_b = b.money.amount_usd if b.money else None
    if a.money is not None and b.money is not None:
        if amount_a != amount_b or (a.money.text != b.money.text and amount_a is None):
            return False
        return a.status == b.status or "completed" not in (a.status, b.status)
    return True


def _absorb(into: Candidate, other: Candidate) -> None:
    if into.money is None and other.money is not None:
        into.money, into.amount_text = other.money, other.amount_text
    if into.amount_text is None and other.amount_text is not None:
        into.amount_text = other.amount_text
    into.spend_back = into.spend_back or other.spend_back
    into.mandate = into.mandate or other.mandate
    rank = ["announced", "completed", "reported", "in_talks", "ended", "denied"]
    if rank.index(other.status) > rank.index(into.status) and other.status != "completed":
        into.status = other.status
    into.direct = into.direct or other.direct
    into.merged = True
