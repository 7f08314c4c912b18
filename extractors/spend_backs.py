"""Spend-backs: purchases paid with a deal's money, attached to the investment or loan they spend.

"which will use the money to rent capacity from X", "much of the money was spent on X's servers",
"the capital comes back to X", and a purchase tied to the deal just before ("As part of the deal,
X will buy ..."). Each keeps its own sentence as evidence of the second leg.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.matcher import DependencyMatcher
from spacy.tokens import Doc, Span, Token

from extractors.candidate import Candidate
from extractors.grammar import mentions_funds, subject_of
from extractors.mentions import DocContext
from extractors.vocabulary import FUNDS_REFERENCES, MONEY_WORDS

# Phrases that tie a sentence to the deal just stated ("As part of the deal, X will buy ...").
LINKED_RE = re.compile(r"\b(?:as part of|under (?:the|that|this) (?:deal|agreement|terms|arrangement|pact)|in return|"
                       r"in exchange|as a condition|in turn)\b", re.I)


# A deal's own money named by the deal noun ("much of the investment", "a portion of the funding"):
# spending it or its flowing back is a spend-back, as with "the money".
DEAL_MONEY_WORDS = MONEY_WORDS | {"investment", "funding", "financing"}


# Verbs that make a purchase a condition of the deal ("the investment is tied to / conditional on /
# comes with a commitment to buy ...").
TIED_LEMMAS = frozenset({"tie", "condition", "link", "come", "require", "hinge", "depend"})


def _names_deal_money(token: Token) -> bool:
    return any(t.lower_ in DEAL_MONEY_WORDS for t in token.subtree)


class SpendBackFinder:
    """The ``DependencyMatcher`` patterns of money being spent, and the attachment rules."""

    def __init__(self, nlp: Language) -> None:
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
        # "spent a big share of that money at X", "spend part of that new money on X", "spend the funds on X",
        # "deploy the capital on X hardware"
        money_words = sorted(DEAL_MONEY_WORDS)
        self.funds_matcher.add("SPEND_FUNDS", [
            [{"RIGHT_ID": "spend", "RIGHT_ATTRS": {"LEMMA": {"IN": ["spend", "pay", "deploy"]}}},
             {"LEFT_ID": "spend", "REL_OP": ">", "RIGHT_ID": "funds",
              "RIGHT_ATTRS": {"DEP": "dobj", "LOWER": {"IN": money_words}}}],
            [{"RIGHT_ID": "spend", "RIGHT_ATTRS": {"LEMMA": {"IN": ["spend", "pay", "deploy"]}}},
             {"LEFT_ID": "spend", "REL_OP": ">", "RIGHT_ID": "part", "RIGHT_ATTRS": {"DEP": "dobj"}},
             {"LEFT_ID": "part", "REL_OP": ">>", "RIGHT_ID": "funds", "RIGHT_ATTRS": {"LOWER": {"IN": money_words}}}],
        ])

    def funded_triggers(self, doc: Doc) -> dict[int, bool]:
        """Trigger tokens that spend another deal's money -> whether the money is called new/fresh."""
        found: dict[int, bool] = {}
        # Only sentences with a using/spending verb can spend a deal's money (keeps the matcher cheap).
        matches: list[tuple[int, list[int]]] = []
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
        strings = doc.vocab.strings
        paying = {"spend", "pay", "buy", "purchase", "rent", "lease"}
        for token in [doc[i] for i, lemma in enumerate(doc.to_array("LEMMA")) if strings[lemma] in paying]:
            if token.pos_ == "VERB":
                subject = subject_of(token)
                if subject is not None and mentions_funds(subject):
                    found[token.i] = any(t.lower_ in ("new", "fresh") for t in subject.subtree)
                # "the funds will go toward renting GPUs from X"; "the investment is tied to a commitment
                # to purchase X capacity" (the deal's money, named by the deal noun, comes with the purchase).
                for ancestor in list(token.ancestors)[:4]:
                    lemma = ancestor.lemma_
                    if lemma in ("go", "flow", "fund", "finance", "cover") or lemma in TIED_LEMMAS:
                        head_subject = next((c for c in ancestor.children if c.dep_ in ("nsubj", "nsubjpass")), None)
                        names_money = mentions_funds if lemma not in TIED_LEMMAS else _names_deal_money
                        if head_subject is not None and names_money(head_subject):
                            found[token.i] = any(t.lower_ in ("new", "fresh") for t in head_subject.subtree)
                if token.head.lemma_ in ("mean", "meant", "intend", "help") and token.dep_ in ("xcomp",):
                    head_subject = subject_of(token.head)
                    if head_subject is not None and mentions_funds(head_subject):
                        found[token.i] = False
        return found


    @staticmethod
    def flow_back(ctx: DocContext, sent: Span, index: int, found: list[Candidate]) -> None:
        """"The capital comes back to AWS": a spend-back to AWS of the newest matching deal."""
        for token in sent:
            if token.lemma_ not in ("come", "flow", "return", "go", "cycle"):
                continue
            children = list(token.children)
            if not any(c.lower_ == "back" for c in children):
                continue
            subject = subject_of(token)
            if subject is None or not _names_deal_money(subject):
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



def attach_spend_backs(candidates: list[Candidate]) -> None:
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
        payee = deal.investor if purchase.pays_investor else purchase.recipient
        if deal.spend_back is None and payee is not None:
            deal.spend_back = (payee, purchase.what)
            deal.spend_back_evidence = purchase.evidence
        purchase.investor = None  # consumed


def linked_purchases(kept: list[Candidate], sents: list[Span]) -> None:
    """A purchase tied to the investment just before it, paid back to the investor, is its spend-back.

    "Orrin will invest $1 billion in Tamsin. As part of the deal, Tamsin has committed to purchase
    Orrin chips": the money comes back to Orrin. The purchase's own sentence is its evidence.
    """
    for purchase in [k for k in kept if k.kind == "purchase" and not k.generic]:
        if not LINKED_RE.search(sents[purchase.sent_index].text):
            continue
        deals = [k for k in kept if k.kind in ("investment", "loan") and k.spend_back is None
                 and purchase.sent_index - 2 <= k.sent_index <= purchase.sent_index and k.trigger < purchase.trigger
                 and k.recipient == purchase.investor and k.investor == purchase.recipient]
        if deals and purchase.recipient is not None:
            deal = max(deals, key=lambda k: k.trigger)
            deal.spend_back = (purchase.recipient, purchase.what)
            deal.spend_back_evidence = purchase.evidence
