"""Hardware mandates: a named product that a party must use, train or run on, given to its deal.

Goods being bought are not mandates; a product resolves to its maker (``DocContext.product_at``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spacy.tokens import Span, Token

from extractors.candidate import Candidate
from extractors.grammar import antecedent, subject_of
from extractors.mentions import DocContext
from extractors.status import negated

MANDATE_VERBS = {"use", "train", "run", "deploy", "deliver", "build", "power", "host", "adopt", "standardize",
                 "rely", "base", "vest"}
MANDATE_MARKERS_RE = re.compile(r"\b(?:must|required?|requires|requirement|condition|commit\w*|stipulat\w*|"
                                r"obligat\w*|mandat\w*|exclusive\w*|agreed|scheduled|vests?|as part of|will use|"
                                r"will run|will train)\b", re.I)
BUILT_ON_VERBS = {"power", "build", "base", "run", "equip", "accelerate"}
GOODS_VERBS = {"buy", "purchase", "order", "acquire", "procure", "spend", "pay", "supply", "sell"}


def find_mandates(ctx: DocContext, sent: Span, resolve_product: Callable[[str], tuple[str, str] | None] | None = None
                  ) -> list[tuple[tuple[str, str], str | None, Token]]:
    """Named hardware the text requires to be used, with the company that must use it."""
    found = []
    seen: set[str] = set()
    for token in sent:
        product = ctx.product_at(token, resolve_product)
        if product is None:
            continue
        name, vendor = product
        if not vendor:
            continue
        if name in seen or negated(token):
            continue
        user = None
        mandated = False
        built_on = False
        goods = False
        for ancestor in [token, *token.ancestors]:
            lemma = ancestor.lemma_.lower()
            if lemma in GOODS_VERBS and ancestor.pos_ == "VERB":
                goods = True
                break
            if lemma in MANDATE_VERBS or (ancestor.lower_ == "use" and ancestor.pos_ == "NOUN"):
                mandated = True
                # "capacity powered by X's GB300 systems", "clusters built with X chips": what is sold
                # is defined by the named hardware, whoever has to use it.
                if ancestor.dep_ == "acl" and lemma in BUILT_ON_VERBS:
                    built_on = True
                    break  # the verb that buys the capacity above is about the capacity, not the chips
                subject = subject_of(ancestor)
                if subject is not None and user is None:
                    user = ctx.company_at(antecedent(subject, ctx))
                if ancestor.pos_ == "NOUN":
                    poss = next((c for c in ancestor.children if c.dep_ == "poss"), None)
                    if poss is not None:
                        user = user or ctx.company_at(poss)
        requirement = bool(MANDATE_MARKERS_RE.search(sent.text))
        if mandated and not goods and (user is not None or requirement or built_on):
            seen.add(name)
            found.append(((name, vendor), user, token))
    return found


def attach_mandates(ctx: DocContext, candidates: list[Candidate],
                     mandates: list[tuple[int, tuple[str, str], str | None, Token]], sents: list[Span]) -> None:
    """Give each mandate to the deal of its sentence, else the nearest deal of its user."""
    live = [c for c in candidates if c.investor and c.recipient and not c.funded]
    for index, (product, vendor), user, _ in mandates:
        # ("deploying capital through its Verne platform" into Verne: a deal's party is no product of it)
        eligible = [c for c in live if _may_carry(ctx, c, vendor, user) and product not in (c.investor, c.recipient)]
        same = [c for c in eligible if c.sent_index == index]
        if not same:
            # "$750m from Amazon, on condition it trains on Trainium": the vendor's own money in the
            # mandate's sentence carries it, whoever the pronoun was read as.
            same = [c for c in live if c.sent_index == index and c.investor == vendor and _may_carry(ctx, c, vendor, None)]
        before = [c for c in eligible if c.sent_index < index]
        after = [c for c in eligible if index < c.sent_index <= index + 3]
        if before and user is not None:
            fresh = [c for c in before if c.status != "completed"]
            before = fresh or before
        target = (same[0] if same else max(before, key=lambda c: (c.sent_index, c.trigger)) if before
                  else min(after, key=lambda c: c.sent_index) if after else None)
        if target is not None:
            target.mandate = (product, vendor)
            target.mandate_evidence = sents[index].text.strip()


def _may_carry(ctx: DocContext, c: Candidate, vendor: str, user: str | None) -> bool:
    """Whether deal ``c`` can carry a mandate on ``vendor``'s product that ``user`` must use."""
    if c.kind == "loan" or c.mandate is not None:
        return False
    # Chips bought from their maker are the goods, not a requirement.
    if c.kind == "purchase" and c.recipient == vendor and ctx.vendor_rank(vendor) >= 4:
        return False
    return user is None or user in (c.recipient, c.investor)
