"""The companies around one deal word, by grammatical slot (the slot names of ``frames.yaml``).

``SlotReader.collect(trigger)`` follows subjects (through "agreed to", relative clauses, passives),
objects, datives, possessives, prepositions and, for a noun trigger, the verb it hangs on;
``SlotCollector`` keeps the parties per slot with where each is named and what it is coordinated with.
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.tokens import Token

from extractors.components import LEGAL_WORDS, company_text
from extractors.grammar import antecedent, conjuncts, looks_like_maker, relcl_head, subjects_of, unique
from extractors.mentions import DocContext
from extractors.vocabulary import (
    BUSINESS_NOUNS,
    FACILITY_NOUNS,
    GOODS_HEADS,
    HARDWARE_NOUNS,
    LOAN_WORDS,
    MONEY_WORDS,
    PERSON_TITLES,
    ROUND_NOUNS,
    SHARES,
    SUBSIDIARY_NOUNS,
)


class SlotCollector:
    """Collects the companies around one trigger by slot; ``add(slot, token)`` resolves the token."""

    def __init__(self, ctx: DocContext, reader: SlotReader, trigger_tokens: set[int]) -> None:
        self.ctx = ctx
        self.reader = reader
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
        token = _described_next(self.ctx, token) or token
        # "its Aligned Data Centres business": the business named, not the nearest company fitting "business".
        if token.lemma_.lower() in BUSINESS_NOUNS:
            token = next((c for c in token.children if c.dep_ == "compound" and c.i in self.ctx.by_token), token)
        name = self.ctx.company_at(token)
        manager = _manager_of(token) if name is None else None
        if manager is not None:  # "led by funds managed by Pimco, Blue Owl and LuminArx"
            token, name = manager, self.ctx.company_at(manager)
        if name is None:
            pair = self.ctx.pair_before(token)
            if pair is not None:  # "the two partners": both, coordinated
                self.slots.setdefault(slot, []).append(pair[0])
                self.tokens.setdefault(pair[0], token.i)
                self.tokens.setdefault(pair[1], token.i)
                group = self.coordinated.setdefault(pair[0], [])
                if pair[1] not in group:
                    group.append(pair[1])
                return
            name = self.reader.party_in(self.ctx, token, self.trigger_tokens)
        if name is not None:
            self.slots.setdefault(slot, []).append(name)
            self.tokens.setdefault(name, token.i)
            if token.i in self.ctx.by_token:
                self.direct.append(name)
                listed = conjuncts(token) or _listed_after(self.ctx, token)
                for conj in listed:
                    # "led by GIC and the hedge fund Coatue Management": the name is the description's apposition.
                    named = [conj] if conj.i in self.ctx.by_token else [
                        a for a in conj.children if a.dep_ == "appos" and a.i in self.ctx.by_token]
                    for other in named:
                        other_name = company_text(self.ctx.by_token[other.i])
                        self.tokens.setdefault(other_name, other.i)
                        group = self.coordinated.setdefault(name, [])
                        if other_name != name and other_name not in group:
                            group.append(other_name)

    def add_name(self, slot: str, name: str) -> None:
        """A party already known by name (a product's vendor)."""
        self.slots.setdefault(slot, []).append(name)



def _listed_after(ctx: DocContext, token: Token) -> list[Token]:
    """"Pimco, Blue Owl and LuminArx Capital Management" when the parser made no coordination of it:
    the names that follow the one at ``token`` separated only by commas, ending on "and"/"&" + a name;
    "from X as well as new investors A, B and C": a list that "as well as" continues, words describing
    the next name ("new investors", "venture capital fund") between."""
    doc = token.doc
    limit = min(len(doc), token.sent.end)
    end = ctx.by_token[token.i].end
    found: list[Token] = []
    while end + 1 < limit:
        closing = as_well_as = False
        if doc[end].text == ",":
            end += 1
        if doc[end].lower_ == "as" and doc[end: end + 3].text.lower() == "as well as":
            end, as_well_as = end + 3, True
        elif doc[end].text in ("and", "&"):
            end, closing = end + 1, True
        elif doc[end - 1].text != ",":
            break
        nxt = end
        while as_well_as and nxt < min(end + 3, limit) and doc[nxt].is_lower and doc[nxt].pos_ in ("ADJ", "NOUN"):
            nxt += 1  # "as well as new investors A, B and C"
        if nxt not in ctx.by_token or ctx.by_token[nxt].start != nxt:
            break
        named = _described_next(ctx, doc[nxt]) or doc[nxt]
        found.append(named)
        end = ctx.by_token[named.i].end
        if closing:
            return found
    return []


def _described_next(ctx: DocContext, token: Token) -> Token | None:
    """"Toyota Motor Corp. supplier Denso Corp.", "Santander venture capital fund Mouro Capital": a
    company named to describe the next one, whose role noun stands between them; the party is the next."""
    span = ctx.by_token.get(token.i)
    if span is None:
        return None
    doc, at = token.doc, span.end
    if at < len(doc) and doc[at].text in LEGAL_WORDS:
        at += 1  # "Toyota Motor Corp."
    start = at
    while at < min(start + 4, len(doc)) and doc[at].is_lower and doc[at].pos_ in ("NOUN", "ADJ", "PROPN"):
        at += 1
    role = doc[at - 1].lemma_.lower() if at > start else ""
    if role in ROLE_NOUNS | SUBSIDIARY_NOUNS and at in ctx.by_token and ctx.by_token[at].start == at:
        return doc[ctx.by_token[at].root.i]
    return None


def _manager_of(token: Token) -> Token | None:
    """The firm behind "funds managed by X", "vehicles advised by X", "an affiliate of X"."""
    if token.lemma_.lower() not in ("fund", "vehicle", "affiliate", "entity", "account"):
        return None
    for child in token.children:
        if child.dep_ == "acl" and child.lemma_ in ("manage", "advise", "run", "operate", "control", "sponsor"):
            for agent in child.children:
                if agent.dep_ == "agent":
                    return next((p for p in agent.children if p.dep_ == "pobj"), None)
        if child.dep_ == "prep" and child.lower_ == "of" and token.lemma_.lower() == "affiliate":
            return next((p for p in child.children if p.dep_ == "pobj"), None)
    return None


# What one company owes another: "X's lease obligations", "X's payments" (whom a backstop covers).
OBLIGATION_NOUNS = frozenset({"obligation", "payment", "commitment", "liability", "rent"})
# Verbs of a purpose that grows a company: "committed $1.2 billion to expand X".
PURPOSE_VERBS = frozenset({"expand", "grow", "scale", "support", "fund", "finance", "capitalise", "capitalize", "back"})
# What an investor becomes in the company it invests in.
HOLDER_NOUNS = {"shareholder", "investor", "owner", "backer", "stakeholder"}
# Nouns for one side of a deal, said of a company in apposition ("X, Y's cloud partner in ...").
ROLE_NOUNS = {"partner", "supplier", "provider", "vendor", "customer", "client", "backer", "investor", "lender"}
# Nouns for a body of lenders or investors that acts through its lead ("a group of banks led by X").
GROUP_NOUNS = {"group", "syndicate", "consortium", "club"}


class SlotReader:
    """Reads the slots of the deal words of one document."""

    def __init__(self, resolve_product: Callable[[str], tuple[str, str] | None] | None = None) -> None:
        self.resolve_product = resolve_product

    def collect(self, ctx: DocContext, trigger: Token, trigger_tokens: set[int]) -> SlotCollector:
        """Companies around a trigger by grammatical slot (see the slot names above ``VERB_FRAMES``)."""
        collector = SlotCollector(ctx, self, trigger_tokens)
        slots, add = collector.slots, collector

        # Datelines give a second subject ("SEATTLE, ... - Tessaly Cloud will invest"): named companies first.
        for subject in sorted(subjects_of(trigger), key=lambda t: t.i not in ctx.by_token):
            ante = antecedent(subject, ctx)
            if ctx.company_at(ante) is None and ante.lower_ not in MONEY_WORDS:
                # "OpenAI's largest expense is buying ...", "whose main expense is buying ...".
                owner = next((c for c in ante.children if c.dep_ == "poss"), None)
                if owner is not None and ante.lower_ not in PERSON_TITLES:  # "its chairman" is a person
                    ante = antecedent(owner, ctx) if owner.lower_ != "whose" else relcl_head(owner)
            # "NVIDIA is obligated to purchase": a passive subject up the chain is the buyer.
            # "Backed by a facility from X, the operator ...": a fronted participle's subject is its passive one.
            passive = subject.dep_ == "nsubjpass" and subject.head.i == trigger.i or (
                trigger.tag_ == "VBN" and trigger.dep_ == "advcl" and trigger.i < subject.i and subject.head.i != trigger.i)
            add("passsubj" if passive else "subj", ante)
        if trigger.dep_ == "acl" and trigger.head.i in ctx.by_token and trigger.head.i < trigger.i and any(
                c.dep_ == "nummod" and c.i < trigger.head.i for c in trigger.head.children) and not slots.get("subj"):
            # "the $550 million Google invested in Anthropic": the parser hangs the clause on its subject.
            add("subj", trigger.head)
        if trigger.pos_ == "NOUN":
            slots.setdefault("gov_subj", []).extend(slots.get("subj", []))
        for token in trigger.subtree:
            # "raised $250 million in a round led by Calloway Ventures"
            # ("raised about $50 million, led by X": the parser hangs the participle on the verb)
            if token.lemma_ in ("lead", "back") and (token.dep_ == "acl" or token.dep_ == "advcl" and token.head.i == trigger.i):
                for agent in token.children:
                    if agent.dep_ == "agent":
                        for pobj in agent.children:
                            add("led_by", pobj)
        for child in trigger.children:
            dep = child.dep_
            if dep in ("nsubjpass",):
                add("passsubj", antecedent(child, ctx))
            elif dep == "agent":
                for pobj in child.children:
                    add("agent", pobj)
                    # "backed by a $2.6bn facility from X and Y": the deal's givers are the agents.
                    if pobj.pos_ == "NOUN" and pobj.lemma_.lower() in ROUND_NOUNS | LOAN_WORDS | {"facility"}:
                        for prep in pobj.children:
                            if prep.dep_ == "prep" and prep.lower_ == "from":
                                self.prep(ctx, prep, trigger_tokens, add)
            elif dep == "dative" and child.pos_ == "ADP":  # "supply capacity to X" parsed as a dative "to"
                self.prep(ctx, child, trigger_tokens, add)
            elif dep in ("dobj", "dative", "attr", "oprd"):
                add("dative" if dep == "dative" else "dobj", child)
                self.object_mods(ctx, child, trigger_tokens, add)
                self.made_by(child, add)
                for grandchild in child.children:
                    # "buy any capacity that goes unused at Tallis's Ohio site": where the goods are.
                    if grandchild.dep_ == "relcl":
                        for prep in grandchild.children:
                            if prep.dep_ == "prep" and prep.lower_ == "at":
                                self.prep(ctx, prep, trigger_tokens, add)
                    if grandchild.dep_ == "prep":
                        self.prep(ctx, grandchild, trigger_tokens, add)
                        # "received $600 million in funding from X", "raising $20 billion, including
                        # $2 billion from X": the round's (or the part's) prepositions are the verb's.
                        for pobj in grandchild.children:
                            if pobj.dep_ == "pobj" and (pobj.lemma_.lower() in ROUND_NOUNS or
                                                        grandchild.lower_ == "including" and pobj.like_num):
                                for prep in pobj.children:
                                    if prep.dep_ == "prep":
                                        self.prep(ctx, prep, trigger_tokens, add)
            elif dep == "prep":
                self.prep(ctx, child, trigger_tokens, add)
            elif dep == "poss":
                add("poss", child)
            elif dep == "compound" and child.i in ctx.by_token:
                add("obj_mod", child)
                # "the OpenAI-Cerebras agreement", "a Microsoft-OpenAI deal": the pair names both parties.
                for partner in hyphen_partners(ctx, child):
                    add("obj_mod", partner)
            elif dep in ("nummod", "quantmod", "appos", "amod", "advmod"):  # "spent ... right back at X"
                for grandchild in child.children:
                    if grandchild.dep_ == "prep":
                        self.prep(ctx, grandchild, trigger_tokens, add)
        if trigger.pos_ == "VERB":
            self.unsold_by(ctx, trigger, add)
        if trigger.pos_ == "NOUN" and trigger.dep_ == "compound" and trigger.head.pos_ == "NOUN":
            # "X's $2 billion credit line to Y": the owner and prepositions of the phrase are the deal word's.
            for child in trigger.head.children:
                if child.dep_ == "poss":
                    add("poss", child)
                elif child.dep_ == "prep" and child.lower_ in ("to", "from"):
                    self.prep(ctx, child, trigger_tokens, add)
        if trigger.pos_ == "NOUN":
            self.noun_context(ctx, trigger, add)
        for name in agreement_parties(ctx, trigger):
            add.add_name("under_agreement", name)
        # "has committed up to $1.2 billion to expand Verne": the company the money is meant to grow.
        for purpose in trigger.children:
            if purpose.dep_ in ("xcomp", "advcl") and purpose.lemma_.lower() in PURPOSE_VERBS and any(
                    c.dep_ == "aux" and c.lower_ == "to" for c in purpose.children):
                for target in purpose.children:
                    if target.dep_ == "dobj":
                        add("purpose", target)
        # "investing €1.3 billion to become the largest shareholder in X": the holding names the company.
        for purpose in trigger.children:
            if purpose.dep_ in ("xcomp", "advcl") and purpose.lemma_ == "become":
                for role in purpose.children:
                    if role.dep_ in ("attr", "oprd") and role.lemma_.lower() in HOLDER_NOUNS:
                        for prep in role.children:
                            if prep.dep_ == "prep" and prep.lower_ in ("in", "of"):
                                self.prep(ctx, prep, trigger_tokens, add)
        # "warrants to acquire 41 million shares of X", "X shares", "X's stock": whose shares they are.
        for token in trigger.subtree:
            if token.lemma_.lower() in SHARES:
                for child in token.children:
                    if child.dep_ in ("compound", "poss"):
                        add("shares_of", child)
                    elif child.dep_ == "prep" and child.lower_ in ("of", "in"):
                        for pobj in child.children:
                            if pobj.dep_ == "pobj":
                                add("shares_of", pobj)
        if trigger.lemma_ in LOAN_WORDS or any(c.dep_ == "compound" and c.lemma_ in LOAN_WORDS for c in trigger.children):
            for token in trigger.sent:
                if token.lower_ == "lender" and token.head.lower_ == "as":
                    # "with Ostrander Bank, N.A., as lender": the company just before "as".
                    before = [s for s in ctx.companies if s.end <= token.head.i and s.start >= trigger.sent.start]
                    if before:
                        slots.setdefault("lender", []).append(company_text(before[-1]))
            banks = [n for names in slots.values() for n in names if ctx.kinds(n) & {"bank", "lender"}]
            slots["lender"] = unique(banks + slots.get("lender", []))
        return collector


    def gapped(self, ctx: DocContext, trigger: Token, conj: Token, trigger_tokens: set[int]) -> SlotCollector:
        """The slots a gapped conjunct fills: its company as subject, the prepositions under it."""
        collector = SlotCollector(ctx, self, trigger_tokens)
        if conj.i in ctx.by_token:
            collector.add_token("subj", conj)
        for token in conj.subtree:
            if token.dep_ == "prep" and token.head.i != trigger.i and not (token.head.pos_ == "VERB"
                                                                          and token.head.i != conj.i):
                self.prep(ctx, token, trigger_tokens, collector)
        return collector


    def noun_context(self, ctx: DocContext, noun: Token, add: SlotCollector) -> None:
        """A noun trigger's parties from the verb it is the object of ("completed its investment")."""
        # "a $1.1 billion, three-year cloud contract": the parser may hang the noun on the amount.
        while noun.dep_ in ("appos", "nmod", "compound") and noun.head.i != noun.i and noun.head.pos_ in ("NUM", "NOUN"):
            noun = noun.head
        head = noun.head
        # Walk up through "of"-chains and conjunctions: "a string of purchases", "part of the deal".
        while head.dep_ in ("pobj", "conj") or head.pos_ == "ADP":
            # "agreed to a $12 billion deal with X": the deal is the object of the agreeing.
            agreed_to = head.lower_ == "to" and head.head.lemma_ in ("agree", "commit", "sign")
            if head.pos_ == "ADP" and head.lower_ not in ("of", "through", "under", "in") and not agreed_to:
                break
            if head.head.i == head.i:
                break  # a preposition at the root of a fragment ("Of the $40 billion, ..."): nowhere to climb
            head = head.head
        # "Orrin, Tamsin's cloud partner in a $300 billion contract": the partner and whose partner it is.
        if noun.dep_ == "pobj" and head.pos_ == "NOUN" and head.lemma_.lower() in ROLE_NOUNS and head.dep_ == "appos":
            add("role_holder", head.head)
            for child in head.children:
                if child.dep_ == "poss":
                    add("role_of", child)
        if noun.dep_ in ("dobj", "nsubjpass", "pobj", "conj", "attr", "nsubj") and head.pos_ in ("VERB", "AUX"):
            for subject in subjects_of(head):
                add("gov_subj", antecedent(subject, ctx))
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
                    add("cop_subj", antecedent(child, ctx))
        if noun.dep_ == "pobj" and noun.head.lower_ == "as":
            verb = noun.head.head
            for child in verb.children:
                if child.dep_ == "dobj":
                    add("cop_subj", child)
        # "X is among the investors in Y's round"
        if noun.dep_ == "pobj" and noun.head.lower_ == "among" and noun.head.head.lemma_ == "be":
            for child in noun.head.head.children:
                if child.dep_ == "nsubj":
                    add("cop_subj", antecedent(child, ctx))
        # "one of NVIDIA's biggest buyers"
        if noun.dep_ == "pobj" and noun.head.lower_ == "of" and noun.head.head.dep_ == "attr":
            for child in noun.head.head.head.children:
                if child.dep_ == "nsubj":
                    add("cop_subj", antecedent(child, ctx))


    def prep(self, ctx: DocContext, prep: Token, trigger_tokens: set[int], add: SlotCollector) -> None:
        """Companies under a preposition go into the slot named by it ("in", "from", ...)."""
        name = prep.lower_
        for pobj in prep.children:
            if pobj.dep_ == "pcomp" and pobj.i in trigger_tokens:
                continue  # "commits to purchasing GPUs from X": the gerund is a deal of its own
            if pobj.dep_ in ("pobj", "pcomp"):
                # "OpenAI, in which Microsoft has invested": the pronoun's company.
                add(name, antecedent(pobj, ctx) if pobj.lower_ in ("which", "whom") else pobj)
                # "for OpenAI's data centers", "at our Reno campus": the owner, not the place.
                # "into the company's Series C", "in Tamsin's latest round": the round's owner.
                round_named = pobj.lemma_.lower() in ROUND_NOUNS or any(
                    c.dep_ == "compound" and c.lower_ == "series" for c in pobj.children)
                # "the debt financing of its upcoming campus": the campus's owner too.
                # "its investment into Cohere's $725-million project": the project's owner is funded.
                site = name in ("for", "at", "of") and pobj.lemma_.lower() in FACILITY_NOUNS or (
                    name in ("in", "into") and pobj.lemma_.lower() == "project")
                if site or name in ("in", "into") and round_named:
                    for owner in pobj.children:
                        if owner.dep_ == "poss":
                            add(name, owner)
                self.object_mods(ctx, pobj, trigger_tokens, add, slot=name)
                if name == "in" and pobj.lemma_.lower() in ("equity", "cash", "capital", "funding"):
                    # "contributing $2.5 billion in equity to the venture": the to-phrase is the verb's.
                    for inner in pobj.children:
                        if inner.dep_ == "prep" and inner.lower_ in ("to", "into"):
                            self.prep(ctx, inner, trigger_tokens, add)
                if name == "of" and (pobj.like_num or pobj.lower_ in MONEY_WORDS):
                    # "an investment of up to $25 billion in X": the parser hangs "in X" on the amount.
                    for inner in pobj.children:
                        if inner.dep_ == "prep" and inner.lower_ in ("in", "into", "to", "from", "with", "for"):
                            self.prep(ctx, inner, trigger_tokens, add)
                for conj in pobj.children:
                    if conj.dep_ == "conj":
                        add(name, conj)
            if pobj.dep_ == "pcomp" or (pobj.dep_ == "pobj" and pobj.lower_ == "what"):
                for child in pobj.subtree:
                    # "to struggling chip maker Intel" parsed as "to struggling [a] chip maker, Intel".
                    described = child.dep_ == "appos" and child.head.dep_ == "dobj" and child.head.head.i == pobj.i
                    if child.dep_ == "attr" or described:
                        add(name, child)


    @staticmethod
    def unsold_by(ctx: DocContext, trigger: Token, add: SlotCollector) -> None:
        """"buy any capacity that X cannot sell", "whatever they can't sell, we've agreed to buy": the
        subject of a negated selling in the trigger's sentence is whom the buyer backstops."""
        for verb in trigger.sent:
            if verb.lemma_ == "sell" and verb.i != trigger.i and any(c.dep_ == "neg" for c in verb.children):
                for subject in subjects_of(verb):
                    add("unsold_by", antecedent(subject, ctx))

    @staticmethod
    def made_by(head: Token, add: SlotCollector) -> None:
        """"$15 billion of capacity earmarked by X", "chips made by X": the by-phrase of the object's
        participle (on the object or on the noun of its of-phrase) names who sells the goods."""
        nouns = [head] + [pobj for prep in head.children if prep.lower_ == "of" for pobj in prep.children
                          if pobj.dep_ == "pobj"]
        for noun in nouns:
            for participle in noun.children:
                if participle.dep_ == "acl" and participle.tag_ == "VBN":
                    for agent in participle.children:
                        if agent.dep_ == "agent":
                            for pobj in agent.children:
                                add("made_by", pobj)

    def object_mods(self, ctx: DocContext, head: Token, trigger_tokens: set[int], add: SlotCollector,
                     slot: str = "obj_mod") -> None:
        """Companies and product vendors inside an object phrase, not crossing into other deals
        nor into where the goods go ("chips for the Abilene site")."""
        stack = [c for c in head.children]
        while stack:
            token = stack.pop()
            if token.dep_ == "prep" and any(p.lemma_.lower() in FACILITY_NOUNS for p in token.children):
                continue
            if token.dep_ in ("relcl", "acl", "advcl", "ccomp", "appos") or (
                token.i in trigger_tokens and token.pos_ in ("NOUN", "VERB") and token.lemma_ not in
                    ("use", "purchase", "order", "deal", "agreement", "contract", "supply")):
                continue
            if token.dep_ in ("compound", "nmod") and token.head.lemma_.lower() in FACILITY_NOUNS and any(
                    c.dep_ == "poss" for c in token.head.children):
                continue  # "at Hut 8's River Bend campus": the site's name, its owner is the poss
            if token.dep_ in ("poss", "compound", "nmod", "pobj", "conj", "amod"):
                # "Nerion's chips", "Tamsin's $2 billion round": whose goods, whose round.
                if token.dep_ == "poss" and head.lemma_ in HARDWARE_NOUNS | ROUND_NOUNS | {
                        "capacity", "service", "stock", "share", "chip", "server"}:
                    add("poss_obj", token)
                elif token.dep_ == "poss" and token.head.lemma_.lower() in OBLIGATION_NOUNS:
                    add("poss_obj", token)  # "backstop $1.8 billion of Fluidstack's lease obligations"
                owner_of_goods = token.dep_ == "poss" and token.head.lemma_.lower() in GOODS_HEADS
                if token.i in ctx.by_token and token.dep_ != "poss" or owner_of_goods:
                    add("obj_mod" if slot in ("obj_mod",) else slot, token)
                    if slot != "obj_mod":
                        add("obj_mod", token)
            product = ctx.product_at(token, self.resolve_product)
            if product is not None and product[1]:
                add.add_name("obj_mod", product[1])
            elif product is not None and token.lemma_.lower() in HARDWARE_NOUNS and looks_like_maker(product[0]):
                # "spend $4 billion on Nerion accelerators": an unknown capitalised maker's name.
                add.add_name("obj_mod", product[0])
            stack.extend(token.children)
        product = ctx.product_at(head, self.resolve_product)
        if product is not None and product[1]:
            add.add_name("obj_mod", product[1])
        elif product is not None and head.lemma_.lower() in HARDWARE_NOUNS and looks_like_maker(product[0]):
            add.add_name("obj_mod", product[0])


    def party_in(self, ctx: DocContext, token: Token, trigger_tokens: set[int]) -> str | None:
        """A company named inside a common-noun phrase: "companies like OpenAI", "its use of Google Cloud"."""
        if token.pos_ not in ("NOUN", "PRON", "NUM"):
            return named_after_description(ctx, token)
        for child in token.subtree:
            if child.i == token.i:
                continue
            if child.dep_ in ("relcl", "acl", "appos"):
                continue
            if child.i in ctx.by_token and child.head.lower_ in ("like", "as", "including", "of", "such"):
                named = _described_next(ctx, child) or child  # "investors including Toyota supplier Denso"
                return company_text(ctx.by_token[named.i])
            # "from a group of banks led by JPMorgan": the group stands for the company leading it.
            leads = child.head.head if child.head.dep_ == "agent" else None
            if (child.i in ctx.by_token and token.lemma_.lower() in GROUP_NOUNS and leads is not None
                    and leads.lemma_ == "lead" and leads.head.i == token.i):
                return company_text(ctx.by_token[child.i])
        return named_after_description(ctx, token)



# Word classes that end a descriptive phrase ("startup", "cloud provider") before a name.
NOT_DESCRIPTIVE = frozenset({"ADP", "CCONJ", "SCONJ", "DET", "PRON", "AUX", "PART", "NUM", "PUNCT"})


def agreement_parties(ctx: DocContext, trigger: Token) -> list[str]:
    """"X entered into an agreement with Y, under which Y committed to purchase capacity": the
    companies named before "under which" (or "pursuant to which") are the agreement's parties."""
    clause = trigger
    while clause.dep_ in ("xcomp", "conj", "ccomp") and clause.head.i != clause.i:
        clause = clause.head
    if clause.dep_ != "relcl":
        return []
    opener = next((p for p in clause.children if p.dep_ == "prep" and p.lower_ in ("under", "pursuant")
                   and any(t.lower_ == "which" for t in p.subtree)), None)
    if opener is None:
        return []
    sent = trigger.sent
    return unique([company_text(s) for s in ctx.companies if s.start >= sent.start and s.end <= opener.i])


def named_after_description(ctx: DocContext, token: Token) -> str | None:
    """The company a descriptive phrase introduces, when the parser cut the phrase from the name:
    "in artificial intelligence startup Anthropic" can come out with "intelligence" as the object
    and "startup Anthropic" elsewhere. Up to three lower-case words may stand between them."""
    doc = token.doc
    if token.i in ctx.by_token or token.pos_ not in ("NOUN", "ADJ", "PROPN") or not (token.is_lower or token.is_upper):
        return None  # ("in French AI startup X": an acronym may end the description too)
    for j in range(token.i + 1, min(token.i + 4, len(doc))):
        if j in ctx.by_token:
            named = _described_next(ctx, doc[j]) or doc[j]  # "investors including Toyota supplier Denso"
            return company_text(ctx.by_token[named.i]) if j > token.i + 1 else None
        word = doc[j]
        if not (word.is_alpha and word.is_lower) or word.pos_ in NOT_DESCRIPTIVE:
            return None
    return None


def hyphen_partners(ctx: DocContext, token: Token) -> list[Token]:
    """Companies joined to the one at ``token`` by a bare hyphen ("OpenAI-Cerebras"), either side."""
    span = ctx.by_token[token.i]
    doc = token.doc
    partners = []
    before, after = span.start - 1, span.end
    if before >= 1 and doc[before].text in ("-", "–") and not doc[before - 1].whitespace_ \
            and not doc[before].whitespace_ and before - 1 in ctx.by_token:
        partners.append(doc[before - 1])
    if after + 1 < len(doc) and doc[after].text in ("-", "–") and not doc[after - 1].whitespace_ \
            and not doc[after].whitespace_ and after + 1 in ctx.by_token:
        partners.append(doc[after + 1])
    return partners


def stake_owner(ctx: DocContext, trigger: Token, investor: str) -> str | None:
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
                            # "in French AI startup Mistral AI": the name the phrase ends on
                            name = company_text(ctx.by_token[named[-1].i]) if named else None
                        if name is not None and name != investor:
                            return name
    return None
