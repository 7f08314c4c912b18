"""Whose amount: each deal amount of a sentence goes to the nearest deal (or party) in the tree;
an amount stated beside a deal in a neighbouring sentence goes to that deal; valuations never size one."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from spacy.tokens import Span, Token

from extractors.candidate import Candidate
from extractors.components import MONEY
from extractors.frames import GENERIC_NOUNS
from extractors.grammar import tree_distance
from extractors.mentions import DocContext
from extractors.vocabulary import CONTRACT_NOUNS, FACILITY_NOUNS

SHARE_COUNT_RE = re.compile(r"(?:(?:up to|about|roughly|approximately|some|more than)\s+)?\d[\d,.]*\s*"
                            r"(?:million|billion|thousand)?\s+(?:shares|warrants)", re.I)


def assign_money(ctx: DocContext, sent: Span, found: list[Candidate]) -> None:
    """Each deal amount of the sentence goes to the nearest candidate in the tree."""
    money = [s for s in ctx.doc.spans[MONEY] if sent.start <= s.start < sent.end and s._.money.is_deal_amount]
    pairs = []
    for candidate in found:
        if candidate.kind == "warrant" or (candidate.funded and candidate.investor is None):
            continue
        trigger = ctx.doc[candidate.trigger]
        anchor = ctx.doc[candidate.anchor] if candidate.anchor is not None else trigger
        own_clause = {t.i for t in trigger.subtree}
        for span in money:
            distance = min(tree_distance(trigger, span.root), tree_distance(anchor, span.root))
            if _from_party(ctx, span, candidate.investor):
                distance = -1  # "raising $20 billion, including $2 billion from X": X's own amount
            # At equal distance the amount in the deal word's own clause: "raised $20 billion, of which
            # Helix contributed $2 billion" gives Helix its $2 billion, not the round's total.
            outside = span.root.i not in own_clause
            pairs.append((distance, outside, span.start, id(candidate), candidate, span))
    pairs.sort(key=lambda p: (p[0], p[1], p[2]))
    # ("15 billion won in Scatter Lab": a deal read with its own amount keeps it)
    used_money = {s.start for s in money for c in found if c.money is s._.money}
    used_candidates = {id(c) for c in found if c.money is not None}
    for distance, _, _, key, candidate, span in pairs:
        if span.start in used_money or key in used_candidates or distance > 8:
            continue
        if valuation(span) or candidate.kind in ("loan", "investment") and _sizes_a_site(span):
            continue
        if _combined(span) and sum(c.trigger == candidate.trigger for c in found) > 1:
            used_money.add(span.start)  # "investments from X and Y, totalling $35 million": no one's own amount
            continue
        candidate.money = span._.money
        candidate.amount_text = span._.money.text
        if not _each(span):  # "$750 million each", "each lending $190m": every party's own amount
            used_money.add(span.start)
        used_candidates.add(key)
        converted = usd_in_parentheses(span, money)
        if span._.money.amount_usd is None and converted is not None:
            # "€1.3 billion ($1.5 billion)": the text gives the dollar figure itself.
            candidate.money = converted._.money
            candidate.amount_text = ctx.doc[span.start: converted.end + 1].text
            used_money.add(converted.start)
    # "following up on its $4 billion investment in X with another $4 billion": a second deal
    # between the same pair, announced beside the first.
    for span in money:
        if span.start in used_money or valuation(span) or not _another(span):
            continue
        near = [(tree_distance(ctx.doc[c.trigger], span.root), i) for i, c in enumerate(found)
                if c.money is not None and c.money is not span._.money and c.kind != "warrant"]
        if near:
            first = found[min(near)[1]]
            if first.status == "announced":
                first.status = "completed"  # the deal that "another" follows is the earlier one, done
            found.append(replace(first, money=span._.money, amount_text=span._.money.text, status="announced",
                                 spend_back=None, mandate=None, trigger=span.root.i, anchor=None))
            used_money.add(span.start)
    # A second candidate of the same deal word (title + body) may share the amount.


def _combined(span: Span) -> bool:
    """"totalling $35 million", "a combined $2 billion", "a total of $5 billion", "..., raising $60
    million": the sum of several deals."""
    doc = span.doc
    before = " ".join(t.lower_ for t in doc[max(span.start - 3, span.sent.start): span.start])
    head = span.root.head
    if head.tag_ == "VBG" and head.dep_ == "advcl" and head.lemma_.lower() in ("raise", "bring", "total"):
        return True
    return bool(re.search(r"\b(?:totall?ing|totals?|combined|together|a total of)$", before))


def _another(span: Span) -> bool:
    """"another $4 billion", "an additional $2 billion", "a further $500 million"."""
    doc = span.doc
    return any(doc[i].lower_ in ("another", "additional", "further") for i in range(max(span.start - 2, 0), span.start))


def _each(span: Span) -> bool:
    """"Morgan Stanley and MUFG $750 million each", "with Lloyds and NatWest each lending $190m",
    "Tidewater Bank and Caldera Credit Partners each committed $500 million" ("each" on the subject)."""
    doc = span.doc
    after = doc[span.end] if span.end < len(doc) else None
    verb = span.root.head
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
    return (after is not None and after.lower_ == "each") or any(
        c.lower_ == "each" for c in [*verb.children, *(g for s in subjects for g in s.children)] if c.i < span.start)


def _payer_named(ctx: DocContext, span: Span) -> str | None:
    """The company an amount says it comes from: "$100 million investment from SoftBank"."""
    heads = [span.root, span.root.head] if span.root.head.pos_ == "NOUN" else [span.root]
    return _company_under(ctx, heads, ("from",))


def _bought_named(ctx: DocContext, span: Span) -> str | None:
    """The company an amount's noun is about: "$19 billion acquisition of WhatsApp", "$2 billion stake in X"."""
    if span.root.dep_ not in ("nummod", "compound", "quantmod", "amod") or span.root.head.pos_ != "NOUN":
        return None
    return _company_under(ctx, [span.root.head], ("of", "in", "into"))


def _company_under(ctx: DocContext, heads: list[Token], prepositions: tuple[str, ...]) -> str | None:
    """The first company that is the object of one of ``prepositions`` under one of ``heads``."""
    return next((name for head in heads for prep in head.children if prep.dep_ == "prep" and prep.lower_ in prepositions
                 for pobj in prep.children if pobj.dep_ == "pobj" and (name := ctx.company_at(pobj)) is not None), None)


def _from_party(ctx: DocContext, span: Span, investor: str | None) -> bool:
    """Whether the amount is said to come from ``investor`` ("$2 billion from X")."""
    return investor is not None and any(
        ctx.company_at(pobj) == investor for prep in span.root.children if prep.dep_ == "prep" and prep.lower_ == "from"
        for pobj in prep.children if pobj.dep_ == "pobj")


def orphan_amounts(ctx: DocContext, sents: list[Span], candidates: list[Candidate]) -> None:
    """"The Order Form carries a value of $6.3 billion": an amount beside a deal stated nearby."""
    # "... an order from NVIDIA worth $6.3 billion. Under that agreement, NVIDIA commits to buying
    # unused capacity": the deal stated under the agreement before is sized by it.
    for candidate in candidates:
        if candidate.money is None and candidate.amount_text is None and _under_that_agreement(ctx.doc[candidate.trigger]):
            stated = next((c for c in candidates if c.sent_index == candidate.sent_index - 1 and c.money is not None
                           and {c.investor, c.recipient} == {candidate.investor, candidate.recipient}), None)
            if stated is not None:
                candidate.money, candidate.amount_text = stated.money, stated.amount_text
    with_deal = {c.sent_index for c in candidates}
    orphans: list[tuple[int, Span]] = []
    for index, sent in enumerate(sents):
        if index in with_deal:
            continue
        lemmas = {t.lemma_.lower() for t in sent}
        if not lemmas & (CONTRACT_NOUNS | {"value", "worth", "pact", "transaction", "form", "consideration"}):
            continue
        for span in ctx.doc.spans[MONEY]:
            if sent.start <= span.start < sent.end and span._.money.is_deal_amount and not valuation(span):
                orphans.append((index, span))
                break
    # "A, B and C have confirmed their investments": a figure nearby is their round's, no one member's.
    triggers = Counter(c.trigger for c in candidates)
    listed = {trigger for trigger, count in triggers.items() if count > 1}
    # "agreed to take a £150mn stake in X": a second deal word of a pair already sized in its sentence.
    sized = {(c.sent_index, c.investor, c.recipient) for c in candidates if c.money is not None}
    listed |= {c.trigger for c in candidates if (c.sent_index, c.investor, c.recipient) in sized}
    for index, span in orphans:
        # "OpenAI is assembling a round of up to $100bn": a sentence naming companies sizes their deals only.
        named = {ctx.company_at(c.root) for c in ctx.companies if sents[index].start <= c.start < sents[index].end} - {None}
        # "Led by $100 million investment from SoftBank, this round ...": the amount names its payer.
        payer = _payer_named(ctx, span)
        # "following its $19 billion acquisition of WhatsApp": the amount of a deal with another company.
        bought = _bought_named(ctx, span)
        needing = [c for c in candidates if c.money is None and c.amount_text is None and not c.funded
                   and c.kind != "warrant" and abs(c.sent_index - index) <= 2 and c.trigger not in listed
                   and (not named or bool(named & {c.investor, c.recipient}))
                   and (payer is None or c.investor == payer) and (bought is None or bought in (c.investor, c.recipient))]
        if not needing:
            continue
        previous = [c for c in needing if c.sent_index < index]
        target = max(previous, key=lambda c: c.sent_index) if previous else min(needing, key=lambda c: c.sent_index)
        target.money = span._.money
        target.amount_text = span._.money.text


def _under_that_agreement(trigger: Token) -> bool:
    """Whether the trigger's clause opens with "Under that (this, the) agreement"."""
    verb = trigger
    while verb.dep_ in ("xcomp", "pcomp", "prep") and verb.head.i != verb.i:
        verb = verb.head
    return any(prep.dep_ == "prep" and prep.lower_ == "under" and pobj.lemma_.lower() in CONTRACT_NOUNS
               and any(d.lower_ in ("that", "this", "the") for d in pobj.children)
               for prep in verb.children for pobj in prep.children)


def usd_in_parentheses(span: Span, money: list[Span]) -> Span | None:
    """The dollar amount in parentheses right after an amount in another currency, if any."""
    doc = span.doc
    if span.end >= len(doc) or doc[span.end].text != "(":
        return None
    return next((m for m in money if m.start == span.end + 1 and m._.money.amount_usd is not None
                 and m.end < len(doc) and doc[m.end].text == ")"), None)


def _sizes_a_site(span: Span) -> bool:
    """"the debt financing of its upcoming $25 billion data center campus": the cost of the project
    being financed, not what the lender or investor puts in."""
    head = span.root.head
    return span.root.dep_ in ("nummod", "compound", "amod") and head.lemma_.lower() in FACILITY_NOUNS - {"facility"} | {"project"}


def valuation(span: Span) -> bool:
    """Amounts that price a company rather than a deal: "was valued at $12 billion" (but "a deal valued at")."""
    doc = span.doc
    before = doc[max(span.sent.start, span.start - 4): span.start].text.lower()
    if "valued at" in before:
        valued = next((t for t in doc[max(span.sent.start, span.start - 4): span.start] if t.lower_ == "valued"), None)
        return valued is None or valued.head.lemma_.lower() not in CONTRACT_NOUNS | GENERIC_NOUNS
    # "values Nscale at about $3bn", "valuing the company at $22 billion"
    if re.search(r"\bvalu(?:es|ing)\b(?:\s+\S+){0,3}\s+at\b", doc[max(span.sent.start, span.start - 7): span.start].text.lower()):
        return True
    return any(w in before for w in ("valuation", "market value", "market cap", "revenue of", "price target"))
