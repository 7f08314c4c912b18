"""One record per deal: restatements (headline and body, recap sentences) fold into one; two
deals between the same pair with different amounts or statuses stay two (``extractors.sameness``)."""

from __future__ import annotations

from dataclasses import replace

from spacy.tokens import Span

from extractors.candidate import Candidate
from extractors.components import text_of
from extractors.mentions import DocContext
from extractors.sameness import same_deal
from extractors.status import earlier_deal
from extractors.vocabulary import SERVICE_WORDS

# Nouns that name a sale, never an investment (a "commitment" or a "deal" can be either).
SALE_NOUNS = {"contract", "order"}


def merge_candidates(ctx: DocContext, candidates: list[Candidate]) -> list[Candidate]:
    """One record per deal: restatements (headline and body, recap sentences) fold into one."""
    specific = [c for c in candidates if not c.generic]
    generic = [c for c in candidates if c.generic]
    kept: list[Candidate] = []
    for candidate in sorted(specific, key=lambda c: (c.money is None, c.sent_index)):
        twin = next((k for k in kept if same_deal(k, candidate)), None)
        if twin is None:
            kept.append(candidate)
        else:
            absorb(twin, candidate)
    for candidate in generic:
        pair = {candidate.investor, candidate.recipient}
        # "a previous data-centre sale" between the pair is another, earlier deal: never what an agreement restates.
        current = [k for k in kept if not earlier_deal(ctx.doc[k.trigger])]
        # "Google also signed a major cloud deal with Anthropic": a sale, never a restated investment.
        deal_word = ctx.doc[candidate.trigger]
        nouns = [deal_word, *(o for o in deal_word.children if o.dep_ == "dobj")]
        sale = {c.lemma_.lower() for n in nouns for c in n.children if c.dep_ in ("compound", "amod")} & SERVICE_WORDS
        other = next((k for k in current if {k.investor, k.recipient} == pair and not (sale and k.kind == "investment")),
                     None)
        same_amount = other is not None and (candidate.money is None or (
            other.money is not None and other.money.amount_usd == candidate.money.amount_usd))
        if other is not None and same_amount:
            take_mandate(other, candidate)
            continue  # "the agreement" restates a deal already found between the pair
        # "X's agreement with Y obliges X to buy any capacity Y cannot sell, up to $1.6 billion": the
        # agreement is the backstop (loan, warrant) its own sentence states between the pair.
        stated = next((k for k in kept if {k.investor, k.recipient} == pair and k.sent_index == candidate.sent_index
                       and k.kind not in ("purchase", "investment")), None)
        if stated is not None:
            absorb(stated, candidate)
            continue
        # A warrant, loan, backstop or stake sale between the pair is not what a priced agreement means.
        twin = next((k for k in current if {k.investor, k.recipient} == pair and k.kind in ("purchase", "investment")
                     and not (sale and k.kind == "investment")), None)
        if twin is not None and candidate.money is not None and twin.money is not None \
                and candidate.money.amount_usd != twin.money.amount_usd:
            # Another deal between the same pair ("a further expansion ... worth $6.5 billion"); a
            # contract beside an investment is a sale of its own ("X, Y's cloud partner in a $9 billion
            # contract, will invest $1.5bn in Y"): it keeps the direction the companies give it.
            if twin.kind == "investment" and ctx.doc[candidate.trigger].lemma_.lower() in SALE_NOUNS:
                kept.append(replace(candidate, generic=False))
            else:
                kept.append(replace(candidate, kind=twin.kind, investor=twin.investor, recipient=twin.recipient,
                                    generic=False))
            continue
        if twin is not None:
            if twin.money is None and candidate.money is not None and twin.kind == "purchase":
                twin.money, twin.amount_text = candidate.money, candidate.amount_text
            take_mandate(twin, candidate)
            continue
        same = next((k for k in kept if k.generic and {k.investor, k.recipient} == pair), None)
        if same is not None:
            absorb(same, candidate)
            continue
        kept.append(candidate)
    # An un-sized purchase that restates a spend-back flow is that flow, not a second deal.
    spend_flows = {(k.recipient, k.spend_back[0]) for k in kept if k.spend_back}
    kept = [k for k in kept if not (k.kind == "purchase" and k.money is None and k.amount_text is None
                                    and (k.investor, k.recipient) in spend_flows)]
    return sorted(kept, key=lambda c: (c.sent_index, c.trigger))


def is_headline(sent: Span, text: str | None = None) -> bool:
    """A line of its own with no sentence end: a headline or subhead (``text``: the doc's text, if known)."""
    text = text_of(sent.doc) if text is None else text
    stripped = sent.text.strip()
    if not stripped or stripped.endswith((".", "!", "?", ":", ";", '"', "”")):
        return False
    start = sent.start_char + len(sent.text) - len(sent.text.lstrip())
    before = start - 1
    while before >= 0 and text[before] in " \t":
        before -= 1
    after = start + len(stripped)
    while after < len(text) and text[after] in " \t":
        after += 1
    return (before < 0 or text[before] == "\n") and (after >= len(text) or text[after] == "\n")


def headline_sentences(sents: list[Span], candidates: list[Candidate]) -> dict[int, bool]:
    """Whether each candidate's sentence is a headline, by sentence index."""
    if not candidates:
        return {}
    text = text_of(sents[0].doc)
    return {i: is_headline(sents[i], text) for i in {c.sent_index for c in candidates}}


def headline_statuses(candidates: list[Candidate], headline_at: dict[int, bool]) -> None:
    """A headline's tense says nothing ("Helix Backs Tamsin" for a closed deal): a headline deal
    restated in the body takes the body's status, so the two fold into one."""
    for headline in (c for c in candidates if headline_at[c.sent_index]):
        body = next((c for c in candidates if c.sent_index > headline.sent_index and not headline_at[c.sent_index]
                     and (c.investor, c.recipient, c.kind) == (headline.investor, headline.recipient, headline.kind)
                     and (headline.money is None or c.money is None
                          or headline.money.amount_usd == c.money.amount_usd)), None)
        if body is not None:
            headline.status = body.status


def drop_restated_headlines(candidates: list[Candidate], headline_at: dict[int, bool]) -> list[Candidate]:
    """"Pallweather raises $4 billion from Tallis and Amazon" over "Tallis will invest $3 billion and
    Amazon $1 billion in Pallweather": a headline that the body states party by party is no deal of its own."""
    # The body's share: a smaller figure than the headline's total.
    body: dict[tuple[str | None, str | None, str], float] = {}
    for c in candidates:
        if not headline_at[c.sent_index] and c.money is not None and c.money.amount_usd is not None:
            key = (c.investor, c.recipient, c.kind)
            body[key] = min(body.get(key, c.money.amount_usd), c.money.amount_usd)
    return [c for c in candidates if not (
        headline_at[c.sent_index] and c.money is not None and c.money.amount_usd is not None
        and body.get((c.investor, c.recipient, c.kind), c.money.amount_usd) < c.money.amount_usd)]


def absorb(into: Candidate, other: Candidate) -> None:
    if into.money is None and other.money is not None:
        into.money, into.amount_text = other.money, other.amount_text
    if into.amount_text is None and other.amount_text is not None:
        into.amount_text = other.amount_text
    if into.spend_back is None and other.spend_back is not None:
        into.spend_back, into.spend_back_evidence = other.spend_back, other.spend_back_evidence
    take_mandate(into, other)
    rank = ["announced", "completed", "reported", "in_talks", "ended", "denied"]
    if rank.index(other.status) > rank.index(into.status) and other.status != "completed":
        into.status = other.status
    into.direct = into.direct or other.direct
    into.merged = True


def take_mandate(into: Candidate, other: Candidate) -> None:
    """``other``'s mandate for ``into`` when it has none, with the sentence that states it."""
    if into.mandate is None and other.mandate is not None:
        into.mandate, into.mandate_evidence = other.mandate, other.mandate_evidence
