"""Deals stated as verbless digest lines: a list item or bold lead naming the parties, a colon, the terms.

- ``- **Glasswing AI -> Velmont**: $4bn over five years for capacity``: an arrow header gives the
  direction of the flow (payer -> payee); the terms give the kind (a loan, a backstop, a warrant,
  an investment; otherwise a purchase).
- ``- **Brightwater Labs**: $2.5bn from Google, closed in March``: one company in the header and
  "$N from Y" in the terms: Y invests in (or lends to) the header's company.

Only sentences that no other rule read a deal from are looked at, and a header must start a list
item or be in bold.
"""

from __future__ import annotations

import re

from spacy.tokens import Span

from extractors.candidate import Candidate
from extractors.components import MONEY, company_text, text_of
from extractors.mentions import DocContext
from extractors.status import deal_status
from extractors.vocabulary import LOAN_WORDS

# A list item ("- ", "• ") or a bold lead ("**X**:"): a line that is only "Name: text" is too often a
# speaker, a dateline or a caption.
_HEADER_RE = re.compile(r"^\s*(?:[-•*–]\s+(?:\*\*)?|\*\*)(?P<header>[^:*\n]{2,80}?)(?:\*\*)?\s*:\s")
_ARROW_RE = re.compile(r"\s(?:->|→)\s")
# The kind a digest line's terms name, first match wins (a purchase when none does).
_KIND_WORDS = (("backstop", {"backstop", "unsold", "unused"}), ("warrant", {"warrant", "warrants"}),
               ("loan", set(LOAN_WORDS)), ("investment", {"investment", "invest", "stake", "equity", "round", "funding"}))


def digest_lines(ctx: DocContext, sents: list[Span], candidates: list[Candidate]) -> list[Candidate]:
    """The deals of digest lines in sentences with no deal of their own (see the module docstring)."""
    with_deal = {c.sent_index for c in candidates}
    found: list[Candidate] = []
    text = text_of(ctx.doc)
    for index, sent in enumerate(sents):
        if index in with_deal or ":" not in text[sent.start_char: sent.end_char]:
            continue
        match = _HEADER_RE.match(text[sent.start_char: sent.end_char])
        if match is None:
            continue
        header_end = sent.start_char + match.end("header")
        in_header = [c for c in ctx.companies if sent.start_char <= c.start_char and c.end_char <= header_end]
        in_terms = [c for c in ctx.companies if c.start_char >= sent.start_char + match.end() and c.end < sent.end]
        money = [m for m in ctx.doc.spans[MONEY] if sent.start <= m.start < sent.end and m._.money.is_deal_amount]
        words = {t.lemma_.lower() for t in sent} | {t.lower_ for t in sent}
        kind = next((k for k, cue in _KIND_WORDS if words & cue), "purchase")
        arrow = _ARROW_RE.search(match.group("header"))
        if arrow is not None and len(in_header) == 2 and "<" not in match.group("header"):
            payer, payee = (company_text(c) for c in in_header)
        elif arrow is None and len(in_header) == 1 and money:
            source = next((company_text(c) for c in in_terms for m in money
                           if c.start_char > m.end_char and ctx.doc[c.start - 1].lower_ == "from"), None)
            if source is None:
                continue
            payer, payee = source, company_text(in_header[0])
            kind = "loan" if kind == "loan" else "investment"
        else:
            continue
        if payer == payee or not (money or words & {"deal", "order", "contract", "agreement", "backstop", "loan"}):
            continue
        amount = money[0]._.money if money else None
        trigger = money[0].root if money else sent[len(sent) // 2]
        found.append(Candidate(kind=kind, investor=payer, recipient=payee, sent_index=index, trigger=trigger.i,
                               evidence=sent.text.strip(), money=amount, amount_text=amount.text if amount else None,
                               status=deal_status(trigger, kind, False)))
    return found
