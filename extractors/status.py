"""Status and polarity of a deal from the words around its trigger: denied, ended, in talks,
reported, completed (past tense of a payment verb), otherwise announced; negated and hypothetical
deals are dropped by the caller."""

from __future__ import annotations

import re
from collections.abc import Callable

from spacy.tokens import Span, Token

from extractors.candidate import Candidate
from extractors.grammar import verbal_chain

END_LEMMAS = {"end", "terminate", "cancel", "scrap", "unwind", "abandon", "rescind", "drop", "halt"}
COMPLETE_LEMMAS = {"complete", "close", "fund", "finalize", "finalise", "receive", "wire", "send"}
ANNOUNCE_ONLY = {"commit", "agree", "sign", "plan", "enter", "announce", "order", "issue", "grant", "pledge",
                 "expect", "intend", "land", "win", "expand", "deploy"}
PAID_THROUGH_LEMMAS = {"assemble", "make", "build", "borrow", "lend", "draw"}
DENY_LEMMAS = {"deny", "refute", "reject", "dispute"}
TALKS_RE = re.compile(r"\b(?:in (?:early |advanced |preliminary )?(?:talks|discussions|negotiations)|negotiating|"
                      r"considering|exploring|weighing|in the process of discussing)\b", re.I)
# "according to a filing" or "a statement" names its source: that is the deal announced, not a report.
REPORTED_RE = re.compile(r"\b(?:reportedly|according to(?! (?:an?|the|its|their) (?:[\w-]+ )?(?:filing|statement|"
                         r"release|announcement|document|prospectus|disclosure|agreement|contract|terms?)s?\b)|familiar with|"
                         r"close to the (?:matter|deal|talks)|"
                         r"sources? (?:said|say)|people (?:briefed|knowledgeable)|was reported|were reported|"
                         r"reports? (?:said|say|suggest)|reports?(?: (?:last|this) \w+)? that|"
                         r"media (?:reported|reports))\b", re.I)
# "the completion of a round", "the closing of its Series B": the deal is done.
COMPLETION_NOUNS = frozenset({"completion", "closing", "conclusion"})
HYPOTHETICAL_MODALS = {"could", "might", "may"}
# "was open to participating", "is willing to invest": a stance, not a deal.
STANCE_ADJECTIVES = {"open", "willing"}


def negated(token: Token) -> bool:
    """"did not invest", "no plans to invest", "involves no payment", "never paid"."""
    for item in verbal_chain(token):
        for child in item.children:
            if child.dep_ == "neg" or (child.dep_ == "det" and child.lower_ in ("no", "neither")):
                return True
        if item.dep_ == "conj" and item.pos_ == "VERB" and item.head.i < item.i \
                and any(t.text == "," for t in item.doc[item.head.i + 1: item.i]) \
                and any(c.dep_ == "dobj" for c in item.children):
            # "did not disclose the amounts, and named X among the investors": a clause of its own.
            return False
        if item.dep_ == "conj":
            for child in item.head.children:
                if child.dep_ == "det" and child.lower_ == "no":
                    return True
    return False


def hypothetical(token: Token) -> bool:
    """Conditionals, may/might/could and stances: "if ...", "could invest", "is open to investing"."""
    if any(a.pos_ == "ADJ" and a.lower_ in STANCE_ADJECTIVES for a in token.ancestors):
        return True
    for item in verbal_chain(token):
        for child in item.children:
            if child.dep_ == "mark" and child.lower_ in ("if", "unless", "whether"):
                return True
            if child.dep_ == "aux" and child.lower_ in HYPOTHETICAL_MODALS:
                return True
    return False


def deal_status(trigger: Token, kind: str, is_verb: bool) -> str:
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
    if completed(trigger, kind, is_verb):
        return "completed"
    return "announced"


def completed(trigger: Token, kind: str, is_verb: bool) -> bool:
    """Past tense of a payment verb ("invested", "received", "was backed"), or "closed/completed X"."""
    lemma = trigger.lemma_.lower()
    if is_verb:
        if any(c.dep_ == "dobj" and c.lemma_.lower() in COMPLETION_NOUNS for c in trigger.children):
            return True  # "announced the completion of its round"
        if lemma in ANNOUNCE_ONLY or kind == "warrant":
            return False
        if _said_of_the_past(trigger):
            return True  # "investing $50 million in the startup last year"
        if trigger.dep_ == "acl" and trigger.head.ent_type_ == "MONEY":
            # "The round closed in October: $250 million led by X": the amount's verb says it is done.
            verb = trigger.head.head
            return verb.lemma_.lower() in COMPLETE_LEMMAS and verb.tag_ == "VBD"
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
    if earlier_deal(trigger):
        return True
    head = trigger.head
    while head.pos_ == "ADP" or head.dep_ in ("pobj",):
        if head.head.i == head.i:
            break
        # "announced the completion of a $20 billion funding round": done, whoever announces it.
        if head.lower_ == "of" and head.head.lemma_.lower() in COMPLETION_NOUNS:
            return True
        head = head.head
    if head.pos_ in ("VERB", "AUX") and head.lemma_.lower() not in ANNOUNCE_ONLY | {"say", "disclose"}:
        if _said_of_the_past(head):
            return True  # "In August last year, X co-led a $100 million investment in Y"
        aux = [c for c in head.children if c.dep_ in ("aux", "auxpass")]
        if any(a.lower_ in ("will", "would", "to") for a in aux):
            return False
        # "borrowed $400 million under a term loan": money moved through the deal noun.
        if head.lemma_.lower() in COMPLETE_LEMMAS | PAID_THROUGH_LEMMAS and head.tag_ in ("VBD", "VBN"):
            return True
    return False


PAST_TIME_RE = re.compile(r"\b(?:(?:last|past) (?:year|month|week|quarter|spring|summer|autumn|fall|winter)|"
                          r"earlier this (?:year|month|week)|\w+ (?:years?|months?|weeks?) ago)\b", re.I)


def _said_of_the_past(verb: Token) -> bool:
    """A time modifier of the verb that places it in the past: "last year", "earlier this year", "two years ago"."""
    return any(c.dep_ in ("npadvmod", "advmod", "prep") and PAST_TIME_RE.search(" ".join(t.text for t in c.subtree))
               for c in verb.children)


def earlier_deal(trigger: Token) -> bool:
    """"a previous data-centre sale", "an earlier investment": a deal noun marked as past, so done."""
    return trigger.pos_ == "NOUN" and any(c.dep_ == "amod" and c.lower_ in ("previous", "earlier", "prior", "past")
                                          for c in trigger.children)


# What a later denial is about: a report, talks, a deal ("denied that it was in talks", "denied the report").
DENIED_OBJECTS = {"report", "talk", "talks", "discussion", "negotiation", "deal", "plan", "claim", "rumour", "rumor",
                  "speculation"}
# "The company clarified that such report is not true": a statement that calls a report false denies it.
CLARIFY_LEMMAS = {"clarify"}
FALSE_WORDS = {"untrue", "false", "baseless", "inaccurate", "unfounded"}


def later_denials(deny_words: list[Token], sents: list[Span], candidates: list[Candidate],
                  company_at: Callable[[Token], str | None]) -> None:
    """"A report said SoftBank was preparing to invest $5 billion in Vask. SoftBank denied that it
    was in talks with the company": a party's denial in the next sentence makes the reported deal denied.
    ``deny_words``: the document's tokens with a lemma of DENY_LEMMAS (looked up once, not per token)."""
    if not deny_words or not candidates:
        return
    sent_index = {sent.start: index for index, sent in enumerate(sents)}
    for verb in deny_words:
        if verb.pos_ != "VERB" or negated(verb):
            continue
        index = sent_index.get(verb.sent.start)
        about = {t.lemma_.lower() for t in verb.subtree} | {t.lower_ for t in verb.subtree}
        if index is None or not about & DENIED_OBJECTS:
            continue
        if verb.lemma_.lower() in CLARIFY_LEMMAS and not (about & FALSE_WORDS or {"not", "true"} <= about):
            continue
        deniers = {company_at(s) for s in verb.children if s.dep_ == "nsubj"} - {None}
        for c in candidates:
            if index - 2 <= c.sent_index < index and c.status in ("reported", "in_talks") \
                    and deniers & {c.investor, c.recipient}:
                c.status = "denied"


# An interview answer that says the question's claim is wrong: "A: That's not right.", "A: No."
ANSWER_DENIAL_RE = re.compile(r"A:\s*(?:No\b|Not true\b|That(?:'s| is) (?:not (?:right|true|correct|accurate)|wrong|"
                              r"untrue|false|incorrect)\b)", re.I)


def denied_in_answers(text: str, sents: list[Span], candidates: list[Candidate]) -> None:
    """"Q: There was a report that X had offered Y a loan. A: That's not right.": a reported deal stated
    in an interview question is denied when the answer opens by saying the claim is wrong."""
    for c in candidates:
        if c.status not in ("reported", "in_talks"):
            continue
        sent = sents[c.sent_index]
        line_start = text.rfind("\n", 0, sent.start_char) + 1
        if not text[line_start:sent.start_char + 2].lstrip().startswith("Q:"):
            continue
        answer = text[sent.end_char:].lstrip()
        if answer.startswith("A:") and ANSWER_DENIAL_RE.match(answer):
            c.status = "denied"
