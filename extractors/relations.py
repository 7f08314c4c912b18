"""Deal relations from grammar: the ``ouroboros_relations`` pipeline component.

For every deal word (``doc.spans["deal_triggers"]``) the component reads the slots around it
(``extractors.slots``) and interprets the word's frame (``extractors/data/frames.yaml``, loaded by
``extractors.frames``): which slot holds the payer and which the payee, so direction comes from
grammar ("X invests in Y", "Y received $N from X", "Y was backed by X", "X agreed to pay Y"). One
deal word may state several deals: coordinated parties and gapped conjuncts each give one.

The rest is by concern, each module readable alone: mentions and references (``mentions``),
status and polarity (``status``), amounts (``amounts``), spend-backs (``spend_backs``),
hardware mandates (``mandates``), rounds and other roles carried by the discourse (``rounds``),
and merging restatements (``merging``). Negated, conditional, questioned and reader-addressed
deals are dropped, and so is anything without two distinct parties (revenue, market value, own
data-centre spending, lawsuits never name a payee).

The output, ``doc._.deal_candidates``, holds ``Candidate`` objects with document-level names; the
spaCy extractor canonicalises names across documents and turns them into ``DealRecord``s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from extractors.addressed import addressed_to_reader
from extractors.amounts import SHARE_COUNT_RE, assign_money, orphan_amounts
from extractors.candidate import Candidate
from extractors.components import MONEY, TRIGGERS, company_text, text_of
from extractors.digests import digest_lines
from extractors.frames import Clause, Frame, gives_money, load_frames
from extractors.grammar import conjuncts, first, object_text, subjects_of, unique
from extractors.mandates import attach_mandates, find_mandates
from extractors.mentions import DocContext
from extractors.merging import drop_restated_headlines, headline_sentences, headline_statuses, merge_candidates
from extractors.places import is_known_place
from extractors.resolve import Registry, load_registry
from extractors.rounds import (
    bullets,
    implicit_recipients,
    listed_backers,
    round_anchors,
    round_participants,
    shares_from,
)
from extractors.slots import SlotCollector, SlotReader, stake_owner
from extractors.spend_backs import SpendBackFinder, attach_spend_backs, linked_purchases
from extractors.status import (
    CLARIFY_LEMMAS,
    DENY_LEMMAS,
    deal_status,
    denied_in_answers,
    hypothetical,
    later_denials,
    negated,
)
from extractors.vocabulary import INVESTOR_NOUNS, LOAN_WORDS, ROUND_NOUNS, SERVICE_WORDS

__all__ = ["Candidate", "RelationMatcher", "make_relations"]

if not Doc.has_extension("deal_candidates"):
    Doc.set_extension("deal_candidates", default=None)

# Kinds of company that provide money rather than goods.
FUNDER_KINDS = {"investor", "fund", "venture firm", "asset manager", "sovereign fund", "bank", "lender"}
# Giving verbs whose recipient may be left to the discourse ("Helix will put in $600 million").
IMPLICIT_RECIPIENT_VERBS = {"invest", "put", "contribute", "pour", "inject", "commit", "pledge", "chip", "lead",
                            "provide", "lend", "subscribe"}
# Verbs whose object is a deal its subject makes: "have confirmed their investments".
MADE_DEAL_VERBS = {"confirm", "complete", "finalize", "finalise", "make"}
CLOUD_KINDS = {"cloud", "neocloud", "GPU cloud", "data center operator", "hyperscaler"}
# "a master purchase agreement", "a procurement contract": the agreement's maker is the buyer.
PURCHASE_AGREEMENT_WORDS = {"purchase", "procurement", "purchasing"}
# "a power purchase agreement with X": data centres, clouds and chipmakers buy power; they never sell it.
POWER_WORDS = {"power", "electricity", "energy", "nuclear", "ppa"}
# Verbs that give a round or loan stated nearby its money only when their object is an amount
# ("JPMorgan is providing $1 billion"), not "providing for borrowings".
GIVING_VERBS = {"provide", "lend"}


SAY_LEMMAS = {"say", "announce", "confirm", "disclose", "state", "tell", "note", "add"}


def _speaker(ctx: DocContext, trigger: Token) -> str | None:
    """The company that says the sentence a deal word sits in ("Tamsin said the agreement ...").

    Only a speaker known to be a company of some kind (registry, or a name like "Tamsin Labs"):
    news agencies and people say things about deals they are not party to.
    """
    for ancestor in trigger.ancestors:
        if ancestor.lemma_.lower() in SAY_LEMMAS and ancestor.pos_ == "VERB":
            for child in ancestor.children:
                if child.dep_ == "nsubj":
                    name = ctx.company_at(child)
                    return name if name is not None and ctx.kinds(name) else None
            return None
    return None


@Language.factory("ouroboros_relations", default_config={"max_sentence_tokens": 120})
def make_relations(nlp: Language, name: str, max_sentence_tokens: int) -> RelationMatcher:
    """Deal candidates (who pays whom, kind, amount, status) from the sentences' grammar."""
    return RelationMatcher(nlp, load_registry(), max_sentence_tokens=max_sentence_tokens)


class RelationMatcher:
    """Finds deal candidates in each sentence (see the module docstring)."""

    def __init__(self, nlp: Language, registry: Registry, *, max_sentence_tokens: int = 120) -> None:
        self.registry = registry
        self.max_sentence_tokens = max_sentence_tokens
        # Set by the extractor to share its resolver's product knowledge.
        self.resolve_product: Callable[[str], tuple[str, str] | None] | None = None
        self.spend_backs = SpendBackFinder(nlp)

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def set_annotations(self, doc: Doc, candidates: list[Candidate]) -> None:
        """Write ``doc._.deal_candidates``."""
        doc._.deal_candidates = candidates

    def match(self, doc: Doc) -> list[Candidate]:
        """All deal candidates of the doc, merged and with spend-backs and mandates attached."""
        ctx = DocContext(doc, self.registry)
        sents = list(doc.sents)
        sent_of = {}
        for index, sent in enumerate(sents):
            for i in range(sent.start, sent.end):
                sent_of[i] = index
        funded_triggers = self.spend_backs.funded_triggers(doc)
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
            SpendBackFinder.flow_back(ctx, sent, index, found)
            assign_money(ctx, sent, found)
            candidates.extend(found)
            mandates.extend((index, m, user, tok) for m, user, tok in find_mandates(ctx, sent, self.resolve_product))
        candidates = bullets(ctx, sents, candidates)
        candidates += digest_lines(ctx, sents, candidates)
        anchors = round_anchors(ctx, sents, candidates, questions)
        implicit_recipients(candidates, anchors, sents)
        orphan_amounts(ctx, sents, candidates)
        candidates = [c for c in candidates if c.investor and c.recipient and c.investor != c.recipient
                      or c.funded]
        attach_spend_backs(candidates)
        attach_mandates(ctx, candidates, mandates, sents)
        # After amounts, spend-backs and mandates: those belong to the round, kept on its lead record.
        candidates += round_participants(ctx, sents, candidates, anchors) + listed_backers(ctx, sents, anchors)
        candidates += shares_from(ctx, sents, anchors)
        candidates = [c for c in candidates if c.investor and c.recipient and c.investor != c.recipient]
        linked_purchases(candidates, sents)
        # A company and its own subsidiary or vehicle: money moving inside one group is no flow.
        candidates = [c for c in candidates if not (c.investor and c.recipient and ctx.related(c.investor, c.recipient))]
        # With anyone else, a subsidiary or vehicle stands for its owner (FORMAT.md: never a division),
        # and a short name for the document's fuller one (a headline's "Quillfeather": "Quillfeather AI").
        for c in candidates:
            c.investor = ctx.stands_for(c.investor)
            c.recipient = ctx.stands_for(c.recipient)
            if c.spend_back is not None:
                c.spend_back = (ctx.stands_for(c.spend_back[0]) or c.spend_back[0], c.spend_back[1])
            if c.mandate is not None:
                c.mandate = (c.mandate[0], ctx.stands_for(c.mandate[1]) or c.mandate[1])
        later_denials(ctx.tokens_with(DENY_LEMMAS | CLARIFY_LEMMAS), sents, candidates, ctx.company_at)
        denied_in_answers(text_of(doc), sents, candidates)
        headline_at = headline_sentences(sents, candidates)
        headline_statuses(candidates, headline_at)
        candidates = drop_restated_headlines(candidates, headline_at)
        return merge_candidates(ctx, candidates)

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
        if negated(trigger) or hypothetical(trigger) or addressed_to_reader(trigger):
            return []
        reader = SlotReader(self.resolve_product)
        collector = reader.collect(ctx, trigger, trigger_tokens)
        slots = collector.slots
        obj_head = next((c for c in trigger.children if c.dep_ in ("dobj", "nsubjpass")), None)
        obj_lemmas = {t.lemma_.lower() for t in trigger.children if t.dep_ == "dobj"}
        if obj_head is None and is_verb:
            # "locked in a $12 billion package of capacity": the particle parsed as a preposition.
            obj_head = next((p for c in trigger.children if c.dep_ == "prep" and c.lower_ in ("in", "up")
                             for p in c.children if p.dep_ == "pobj"), None)
            if obj_head is not None:
                obj_lemmas.add(obj_head.lemma_.lower())
        if obj_head is not None and obj_head.dep_ == "nsubjpass":  # "That round was led by X"
            obj_lemmas.add(obj_head.lemma_.lower())
        if obj_head is not None:
            # "closed a $600 million Series C": a named round's words are its object's too.
            obj_lemmas |= {t.lemma_.lower() for t in obj_head.children if t.dep_ == "compound"}
        if obj_head is not None:
            obj_lemmas |= {t.lemma_.lower() for t in obj_head.subtree if t.dep_ in ("pobj",) and t.head.head == obj_head}
        clause = Clause(trigger=trigger, is_verb=is_verb, object_lemmas=frozenset(obj_lemmas), slots=slots,
                        funded=trigger.i in funded_triggers, kind=base.kind, rank=ctx.vendor_rank,
                        is_funder=lambda name: bool(ctx.kinds(name) & FUNDER_KINDS))
        frame = base.refine(clause, frames.every_verb if is_verb else ())
        if frame is None:
            return []
        gapped = [(conj, reader.gapped(ctx, trigger, conj, trigger_tokens)) for conj in trigger.children
                  if conj.dep_ == "conj" and conj.pos_ not in ("VERB", "AUX") and is_verb]
        for _, sub in gapped:  # "... and Brannock $5 billion in Tamsin": "in Tamsin" is shared
            for key, names in sub.slots.items():
                slots.setdefault(key, list(names))
        main = self._from_slots(ctx, trigger, frame, collector, slots, index, is_verb, funded_triggers)
        # "invested $100 million in A, as well as 15 billion won in B", "invested 50 billion won in local
        # startups, including 15 billion won in Moreh, ...": each figure "in" a company is a deal of its own.
        amounts_in = _amounts_in_companies(ctx, trigger, trigger_tokens) if is_verb and frame.kind == "investment" else []
        if main is None and amounts_in:
            main = self._from_slots(ctx, trigger, frame, collector, {**slots, "in": [amounts_in[0][0]]}, index, is_verb,
                                    funded_triggers)
        found = [main] if main is not None else []
        if main is not None and not main.funded:
            for role in ("investor", "recipient"):
                for other in collector.coordinated.get(getattr(main, role) or "", []):
                    if other not in (main.investor, main.recipient):
                        main.anchor = main.anchor if main.anchor is not None else collector.tokens.get(getattr(main, role))
                        twin = replace(main, investor=other) if role == "investor" else replace(main, recipient=other)
                        twin.anchor = collector.tokens.get(other)
                        found.append(twin)
        if main is not None and not main.funded:
            for recipient, at, money in amounts_in:
                if recipient == main.recipient and main.money is None and len(amounts_in) > 1:
                    main.money, main.amount_text, main.anchor = money._.money, money.text, at
                elif recipient != main.investor and all(c.recipient != recipient for c in found):
                    found.append(replace(main, recipient=recipient, anchor=at, money=money._.money, amount_text=money.text))
        for conj, sub in gapped:
            merged = {**slots, **sub.slots}
            extra = self._from_slots(ctx, trigger, frame, sub, merged, index, is_verb, funded_triggers)
            if extra is not None and all((c.investor, c.recipient) != (extra.investor, extra.recipient) for c in found):
                found.append(replace(extra, anchor=conj.i))
                # "... and Morgan Stanley and MUFG $750 million each": every payer of the gapped conjunct.
                if extra.investor == ctx.company_at(conj):
                    for payer in conjuncts(conj):
                        name = ctx.company_at(payer)
                        if name is not None and name not in (extra.investor, extra.recipient):
                            found.append(replace(extra, investor=name, anchor=payer.i))
        return found


    def _from_slots(self, ctx: DocContext, trigger: Token, frame: Frame, collector: SlotCollector,
                    slots: dict[str, list[str]], index: int, is_verb: bool,
                    funded_triggers: dict[int, bool]) -> Candidate | None:
        """The one deal a frame reads on a set of slots (generic frames: two parties, direction by kind)."""
        kind, investor_slots, recipient_slots = frame.kind, frame.investor, frame.recipient
        funded = funded_triggers.get(trigger.i)
        investor = first(slots, investor_slots)
        recipient = first(slots, recipient_slots, exclude=investor)
        generic = frame.generic
        loan_word = next((c for c in trigger.children if c.dep_ == "compound" and c.lemma_ in ("loan", "credit", "financing")),
                         None)
        if generic and loan_word is not None and slots.get("lender"):
            lender = slots["lender"][0]
            borrower = next((n for key in ("gov_subj", "subj", "poss", "with") for n in slots.get(key, [])
                             if n != lender), None)
            if borrower is None:
                return None
            # ("a $27 billion financing deal with Blue Owl": a fund's financing is equity unless a bank lends)
            lends = loan_word.lemma_ != "financing" or bool(ctx.kinds(lender) & {"bank"})
            generic, kind, investor, recipient = False, "loan" if lends else "investment", lender, borrower
        if generic:
            # "an agreement with Dell for NVIDIA GPUs": the maker of the goods is no party to it.
            named_as_party = {n for key in ("with", "subj", "gov_subj", "poss", "gov_with") for n in slots.get(key, [])}
            goods_makers = set(slots.get("for", [])) - named_as_party
            parties = unique([name for key, names in slots.items() for name in names if key != "for"])
            # ("an order for Oberlin's accelerators" with no other seller named: the maker sells)
            sellers_named = [p for p in parties if p not in goods_makers]
            parties = sellers_named if len(sellers_named) >= 2 else parties
            # "Google and Anthropic have struck a deal": the subject's conjuncts are parties too.
            parties = unique(parties + [m for p in parties for m in collector.coordinated.get(p, [])])
            # "Helix Compute, a unit of Helix Holdings": one party, named twice.
            parties = unique([ctx.parents.get(p, p) for p in parties])
            # The other members of a coordination ("with Orrin, Pell and Vask") stand with their first.
            # "between A and B" is a pair, not a list.
            members = {m for p in parties for m in collector.coordinated.get(p, [])} if len(parties) > 2 else set()
            heads = [p for p in parties if p not in members]
            if len(heads) == 1:
                # "Tamsin said the $38 billion Vask agreement ...": the company speaking is the other party.
                speaker = _speaker(ctx, trigger)
                heads += [speaker] if speaker is not None and speaker != heads[0] else []
            if len(heads) != 2:
                return None
            a, b = heads
            rank_a, rank_b = ctx.vendor_rank(a), ctx.vendor_rank(b)
            investor, recipient = (a, b) if rank_a < rank_b else (b, a)
            # The deal noun's words: "a cloud contract", or the object of "signed / entered into".
            nouns = [trigger] + [o for o in trigger.children if o.dep_ == "dobj"] + [
                o for p in trigger.children if p.dep_ == "prep" and p.lower_ == "into" for o in p.children]
            modifiers = {t.lemma_.lower() for t in trigger.children if t.dep_ in ("compound", "amod")}
            object_words = {t.lemma_.lower() for n in nouns for t in n.children if t.dep_ in ("compound", "amod")}
            hosts = [n for n in (a, b) if ctx.kinds(n) & CLOUD_KINDS]
            service = len(hosts) == 1 and bool(object_words & SERVICE_WORDS)
            if service:
                # "a $3.4 billion AI cloud contract with NVIDIA": the cloud sells the service, whoever
                # makes chips; a chipmaker renting capacity is the customer.
                recipient = hosts[0]
                investor = b if recipient == a else a
            described = {t.lemma_.lower() for n in nouns for m in n.children if m.dep_ in ("compound", "amod", "nmod")
                         for t in m.subtree}
            if described & POWER_WORDS and not described & {"computing", "compute"} and rank_a != rank_b:
                investor, recipient = (a, b) if rank_a > rank_b else (b, a)
            financing = modifiers & (ROUND_NOUNS | LOAN_WORDS | {"equity", "investment"})
            funders = [n for n in (a, b) if ctx.kinds(n) & FUNDER_KINDS]
            if financing and len(funders) == 1:
                # "a $27 billion financing deal with Blue Owl": the fund or bank provides the money.
                kind = "loan" if financing & LOAN_WORDS - {"financing"} else "investment"
                investor = funders[0]
                recipient = b if investor == a else a
            elif rank_a == rank_b and not service:
                # "X entered into a master purchase agreement with Y": the company that made it buys.
                buyer = next((n for key in ("gov_subj", "subj", "poss") for n in slots.get(key, []) if n in (a, b)), None)
                if buyer is None or not modifiers & PURCHASE_AGREEMENT_WORDS:
                    return None
                investor, recipient, generic = buyer, b if buyer == a else a, False
        if funded is not None:
            # A purchase paid with another deal's money: the buyer may be that deal's recipient.
            pays_investor = _from_its_investor(trigger)
            sellers = [name for slot in recipient_slots for name in slots.get(slot, [])]
            relative = any(t.lower_ in ("which", "that", "who") for t in subjects_of(trigger))
            if recipient is None and investor is not None and investor in sellers and relative:
                # "X will invest in the cloud provider, which has agreed to spend the proceeds on X
                # systems": the relative pronoun was read as X; the buyer is whoever got X's money.
                investor, recipient = None, investor
            if recipient is None and not pays_investor:
                return None
            return Candidate(kind="purchase", investor=investor, recipient=recipient, sent_index=index,
                             trigger=trigger.i, evidence=trigger.sent.text.strip(), funded=True,
                             fresh_funds=funded, what=object_text(trigger), pays_investor=pays_investor)
        if recipient is None and investor is not None and kind == "investment":
            recipient = stake_owner(ctx, trigger, investor)
        implicit = (recipient is None and investor is not None and kind in ("investment", "loan") and not generic
                    and (is_verb and trigger.lemma_.lower() in IMPLICIT_RECIPIENT_VERBS
                         and (trigger.lemma_.lower() not in GIVING_VERBS or gives_money(trigger))
                         and not _invested_in_no_company(trigger)
                         # "this new credit facility from Brookfield", "A and B have confirmed their investments":
                         # the round or facility stated nearby is the recipient's
                         or not is_verb and (investor in slots.get("from", []) or trigger.dep_ == "dobj"
                                             and trigger.head.lemma_.lower() in MADE_DEAL_VERBS)))
        if investor is None or (recipient is None and not implicit) or investor == recipient:
            return None
        candidate = Candidate(implicit=implicit,
            kind=kind, investor=investor, recipient=recipient, sent_index=index, trigger=trigger.i,
            evidence=trigger.sent.text.strip(), generic=generic, what=object_text(trigger),
            status=deal_status(trigger, kind, is_verb),
            direct=all(n in collector.direct for n in (investor, recipient)),
        )
        if kind == "warrant":
            shares = SHARE_COUNT_RE.search(trigger.sent.text)
            if shares:
                candidate.amount_text = shares.group(0)
        return candidate


def _amounts_in_companies(ctx: DocContext, trigger: Token, trigger_tokens: set[int]) -> list[tuple[str, int, Span]]:
    """The companies after the deal word that an amount is put "in", with that amount: "... 15 billion
    won in local startup Scatter Lab" (a few lower-case words may describe the company); an amount
    after another deal word is that one's ("began investing in 2019 and has invested $14 billion in X")."""
    doc, sent = trigger.doc, trigger.sent
    by_end = {span.end: span for span in doc.spans[MONEY] if trigger.i < span.start and span.end < sent.end
              and not any(trigger.i < t < span.start and doc[t].pos_ == "VERB" for t in trigger_tokens)}
    found = []
    for span in ctx.companies:
        # ("invest $1.5 billion in Abu Dhabi AI group G42": a known place the model sees as one is no company)
        place = span.root.ent_type_ in ("GPE", "LOC") and is_known_place(span.text)
        if span.start <= trigger.i + 1 or span.end > sent.end or place:
            continue
        at = span.start - 1
        while at > span.start - 4 and doc[at].is_lower and doc[at].is_alpha and doc[at].lower_ not in ("in", "into"):
            at -= 1
        if doc[at].lower_ in ("in", "into") and at in by_end and by_end[at]._.money.is_deal_amount:
            found.append((company_text(span), span.start, by_end[at]))
    return found


def _invested_in_no_company(trigger: Token) -> bool:
    """"are heavily invested in the industry", "investing £2.5bn in the UK": the money's destination is
    named and is no company (nor a round, whose company the discourse gives)."""
    # (The destination follows the verb: "In addition, X contributed $950 million" names none.)
    return any(prep.dep_ == "prep" and prep.i > trigger.i and prep.lower_ in ("in", "into") and pobj.dep_ == "pobj"
               and pobj.pos_ == "NOUN"
               # ("invested in local startups": many companies, none of them the round's raiser)
               and (pobj.lemma_.lower() not in ROUND_NOUNS | {"deal", "transaction", "company", "startup", "venture"}
                    or pobj.tag_ == "NNS" and pobj.lemma_.lower() not in ROUND_NOUNS)
               for prep in _verb_and_object_children(trigger) for pobj in prep.children)


def _verb_and_object_children(trigger: Token) -> list[Token]:
    """The verb's dependents and its object's ("invested 50 billion won in local startups" hangs "in" on the amount)."""
    objects = [c for c in trigger.children if c.dep_ == "dobj"]
    return [*trigger.children, *(g for o in objects for g in o.children)]


def _from_its_investor(trigger: Token) -> bool:
    """"use the money to rent clusters from its investor": the seller is the deal's own investor."""
    return any(prep.dep_ == "prep" and prep.lower_ == "from" and pobj.lemma_.lower() in INVESTOR_NOUNS
               and any(c.dep_ == "poss" and c.lower_ in ("its", "their") for c in pobj.children)
               for prep in trigger.children for pobj in prep.children)
