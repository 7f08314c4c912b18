"""Roles carried by the discourse: rounds and their members, recipients left to a nearby round,
and list items that inherit the parties of the header above them."""

from __future__ import annotations

import re
from dataclasses import replace

from spacy.tokens import Span, Token

from extractors.addressed import addressed_to_reader
from extractors.candidate import Candidate
from extractors.components import MONEY, company_text, text_of
from extractors.frames import GENERIC_NOUNS
from extractors.grammar import antecedent, conjuncts, subjects_of
from extractors.mentions import DocContext
from extractors.status import COMPLETION_NOUNS, deal_status, hypothetical, negated
from extractors.vocabulary import CONTRACT_NOUNS, LOAN_WORDS, MONEY_WORDS, ROUND_NOUNS

# Vocabulary (why each list exists is in the docstring of the function that uses it)
# Verbs of raising money: their subject is the one a nearby round belongs to.
RAISE_LEMMAS = {"raise", "close", "secure", "seal", "seek", "complete", "finalize", "finalise", "arrange", "land", "receive",
                "obtain", "line"}
# What a lender takes part in.
DEBT_PARTS = {"portion", "tranche", "facility", "loan", "debt", "syndicate", "consortium", "package"}
# Nouns for the members of a round or a lending group ("Other investors in the round include ...").
MEMBER_NOUNS = {"investor", "backer", "participant", "shareholder", "round", "funding", "financing", "lender",
                "bank", "consortium", "syndicate", "group", "underwriter"}
LENDER_NOUNS = {"lender", "bank", "consortium", "syndicate", "underwriter"}

# The banks that arrange a loan: "Same lead arrangers, Morgan Stanley and MUFG", "X joined Y as lead arrangers".
ARRANGER_NOUNS = {"arranger", "bookrunner", "co-arranger", "organizer", "organiser"}

# The words the member rules start from.
MEMBER_WORDS = {"join", "participate", "take", "participation", "include", "comprise", "feature", "alongside", "make",
                "among", "lead"} | {"investment", "backing", "support", "funding", "contribution"} | ARRANGER_NOUNS
# "The latest deal, led by X": a deal noun that a round rule does not read (a round is the frames').
LED_DEAL_NOUNS = {"deal", "financing", "facility", "package", "transaction"}
# "with participation from X", "with significant investment from X, Y and Z": the backers of a round.
WITH_FROM_NOUNS = {"participation", "investment", "backing", "support", "funding", "contribution"}
# A round stated in the text: (sentence index, token, raiser, status).
Anchor = tuple[int, int, str, str]

# Verbs whose subject raises the round in their object: "announced the completion of a round".
ROUND_STATING_VERBS = frozenset({"announce", "complete", "close", "finalize", "report", "enter"})
# Where a raise stands: "has entered the final stage of its round".
STAGE_NOUNS = frozenset({"stage", "phase", "process", "middle", "midst"})
# Pools of money raised for one company: "a $20 billion vehicle for Tamsin, of which Helix puts in $2 billion".
VEHICLE_NOUNS = frozenset({"vehicle", "package", "facility"})


def round_anchors(ctx: DocContext, sents: list[Span], candidates: list[Candidate],
                   questions: list[Candidate]) -> list[tuple[int, int, str, str]]:
    """Where a round (or a debt package) is stated, and whose it is: (sentence, token, raiser, status).

    An investment's recipient; the subject of "raised / closed / is raising / arranged" with money
    or a round as object; the owner of "X's funding round", "a round in X"; and the recipient a
    question asks about ("How much did Ostrowe commit to Quillon?").
    """
    anchors = [(c.sent_index, c.trigger, c.recipient, c.status) for c in candidates + questions
               if c.kind in ("investment", "loan") and c.recipient and not c.funded]
    sent_of = {i: index for index, sent in enumerate(sents) for i in range(sent.start, sent.end)}
    for token in ctx.tokens_with(RAISE_LEMMAS | {"round", "funding", "financing", "raise", "series"} | VEHICLE_NOUNS):
        lemma = token.lemma_.lower()
        if lemma == "series":
            # "its Series D": the round's name, whatever the parser made of the words after it.
            if token.dep_ != "compound" or token.head.pos_ != "PROPN":
                continue
            token, lemma = token.head, "round"
        if token.pos_ == "VERB" and lemma in RAISE_LEMMAS:
            # ("advmod": the small model sometimes parses "closed a $600 million funding round" so)
            objects = [c for c in token.children if c.dep_ in ("dobj", "nsubjpass", "advmod", "npadvmod")]
            # "the $4 billion funding round Mirrow closed in March": the round is the clause's head ("a
            # facility secured against contracts" is a participle describing it, no raise of its own).
            if token.dep_ == "acl" and token.tag_ == "VBN":
                continue
            objects += [token.head] if token.dep_ in ("relcl", "acl") else []
            # "closed a $600 million Series C": the round's name counts as a round word.
            words = {w.lemma_.lower() for o in objects for w in [o, *o.children] if w is o or w.dep_ == "compound"}
            if words & (ROUND_NOUNS | MONEY_WORDS | {"package", "facility", "loan"}) or any(
                    o.i in {s.root.i for s in ctx.doc.spans[MONEY]} for o in objects):
                for subject in subjects_of(token):
                    raiser = ctx.company_at(antecedent(subject, ctx))
                    if raiser:
                        anchors.append((sent_of[token.i], token.i, raiser, deal_status(token, "investment", True)))
        elif token.pos_ in ("NOUN", "PROPN") and lemma in {"round", "funding", "financing", "raise"} | VEHICLE_NOUNS:
            owners = [c for c in token.children if c.dep_ == "poss"]
            owners += [g for c in token.children if c.dep_ == "prep" and c.lower_ in ("in", "for", "of")
                       for g in c.children if g.dep_ == "pobj"]
            for owner in owners:
                raiser = ctx.company_at(owner)
                if raiser:
                    anchors.append((sent_of[token.i], token.i, raiser, deal_status(token, "investment", False)))
            if not owners:
                # "X announced the completion of a $1 billion Series C funding round": X raised it;
                # "X has entered the final stage of the Series D round": X is raising it.
                head, done = token.head, False
                while (head.lower_ == "of" or head.lemma_.lower() in COMPLETION_NOUNS | STAGE_NOUNS) and head.head.i != head.i:
                    done = done or head.lemma_.lower() in COMPLETION_NOUNS
                    head = head.head
                if head.pos_ == "VERB" and head.lemma_.lower() in ROUND_STATING_VERBS:
                    for subject in subjects_of(head):
                        raiser = ctx.company_at(antecedent(subject, ctx))
                        if raiser:
                            status = "completed" if done or head.lemma_.lower() not in ("announce", "enter") else "announced"
                            anchors.append((sent_of[token.i], token.i, raiser, status))
    return sorted(anchors, key=lambda a: (a[0], a[1]))


def _sole_round_before(anchors: list[tuple[int, int, str, str]], index: int) -> tuple[int, int, str, str] | None:
    """A feature about one raise ("The strategic money came next. X also took part") may name its
    backers paragraphs after the round: when every round stated before is the same company's, it is that one."""
    before = [a for a in anchors if a[0] < index]
    return before[-1] if before and len({a[2] for a in before}) == 1 else None


def anchor_before(anchors: list[tuple[int, int, str, str]], index: int, token_i: int,
                  exclude: set[str | None], sents: list[Span]) -> tuple[int, int, str, str] | None:
    """The nearest round stated in this sentence (before the word) or the two before it.

    Speaker labels and one-word turns ("A:", "Yes.") are not sentences that could carry a round
    away: only sentences of three words or more count in the distance.
    """
    near = [a for a in anchors if a[0] <= index and (a[0] < index or a[1] < token_i)
            and _content_gap(sents, a[0], index) <= 2 and a[2] not in exclude]
    return max(near, key=lambda a: (a[0], a[1])) if near else None


def round_participants(ctx: DocContext, sents: list[Span], candidates: list[Candidate],
                        anchors: list[tuple[int, int, str, str]]) -> list[Candidate]:
    """Backers of a round stated nearby, without an amount of their own (a round's figure is the round's).

    "X also joined / took part in / participated in the round", "with participation from X",
    "alongside X and Y", "Other investors in the round include X, Y and Z"; lenders "taking part
    in the debt portion" or "included in the consortium" make loans. The recipient is the owner
    of the round named in the phrase, else the raiser of the nearest round stated before.
    """
    sent_of = {i: index for index, sent in enumerate(sents) for i in range(sent.start, sent.end)}
    found: list[Candidate] = []
    for token in ctx.tokens_with(MEMBER_WORDS):
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
                backers = subjects_of(token)
                backers += [c for b in backers for c in conjuncts(b)]
                if any(o.lemma_.lower() in DEBT_PARTS or any(t.lemma_.lower() in LOAN_WORDS for t in o.subtree)
                       for o in objects if o.lower_ != "part"):
                    kind = "loan"
            elif not [o for o in objects if o.lower_ != "part"] and not any(
                    (c.dep_ == "dobj" and c.lower_ != "part") or (c.dep_ == "prep" and c.lower_ in ("in", "into", "on"))
                    for c in token.children) \
                    and (lemma != "take" or objects):
                # "Corvane also participated", "Pell and Vask also took part", "It joined later"
                # (in the round stated just before); "X, Y's venture arm, and Z": Z hangs on the apposition.
                backers = subjects_of(token)
                backers += [c for b in backers for a in [b, *(a for a in b.children if a.dep_ == "appos")]
                            for c in conjuncts(a)]
        elif lemma == "include" and token.pos_ == "VERB" and any(c.dep_ in ("nsubjpass", "auxpass") for c in token.children):
            # "Wells Fargo and BNP Paribas were also included in the consortium"
            groups = [g for c in token.children if c.dep_ == "prep" and c.lower_ in ("in", "among")
                      for g in c.children if g.dep_ == "pobj" and g.lemma_.lower() in MEMBER_NOUNS | DEBT_PARTS]
            if groups:
                objects = groups
                backers = _listed([c for c in token.children if c.dep_ == "nsubjpass"], ctx) or _names_before(
                    ctx, min(c.i for c in token.children if c.dep_ == "auxpass"))
                if any(g.lemma_.lower() in LENDER_NOUNS | DEBT_PARTS for g in groups):
                    kind = "loan"
        elif lemma == "make" and token.pos_ == "VERB" and any(c.dep_ == "prt" and c.lower_ == "up" for c in token.children):
            # "while Coatue and Altimeter make up the remaining $10 billion" (of the round).
            objects = [c for c in token.children if c.dep_ == "dobj"]
            if any(o.i in {m.root.i for m in ctx.doc.spans[MONEY]} or o.lemma_.lower() in {"rest", "remainder", "balance"}
                   for o in objects):
                backers = _listed(subjects_of(token), ctx)
            objects = []
        elif lemma == "among" and any(p.lemma_.lower() in MEMBER_NOUNS for p in token.children if p.dep_ == "pobj"):
            # "raised $1.1 billion, with Nvidia and Aker among the investors"
            backers = _listed([p for w in token.head.children if w.dep_ == "prep" and w.lower_ == "with"
                               for p in w.children if p.dep_ == "pobj"], ctx)
            naming = token.head
            while naming.pos_ in ("NOUN", "PROPN") and naming.dep_ in ("dobj", "conj") and naming.head.i != naming.i:
                naming = naming.head  # the parser may hang "among" on the last name of the list
            if not backers and naming.pos_ == "VERB" and naming.lemma_.lower() in ("name", "count", "list"):
                # "named Stepstone, Fidelity and MGX among other investors who participated"
                backers = _listed([c for c in naming.children if c.dep_ == "dobj"], ctx)
        elif lemma == "lead" and token.dep_ == "acl" and token.head.lemma_.lower() in LED_DEAL_NOUNS:
            # "The latest deal, led by J.P. Morgan, was oversubscribed" (the facility stated before).
            backers = _listed([p for a in token.children if a.dep_ == "agent" for p in a.children if p.dep_ == "pobj"], ctx)
            here = sent_of[token.i]
            stated = [t for i in range(max(here - 1, 0), here + 1) for t in sents[i]]
            kind = "loan" if any(t.lemma_.lower() in LOAN_WORDS for t in stated) else "investment"
        elif lemma in ARRANGER_NOUNS and token.pos_ == "NOUN":
            kind = "loan"
            # "Same lead arrangers, Morgan Stanley and MUFG": the names in apposition.
            # ("Same lead arrangers, X and Y." may come out with the names as conjuncts of the noun)
            backers = _listed([c for c in token.children if c.dep_ in ("appos", "conj")], ctx)
            if token.dep_ == "attr":  # "JPMorgan and MUFG are the organizers of the deal"
                backers += _listed(subjects_of(token.head), ctx)
            # ("as coordinating lead arrangers" may come out with "coordinating" as the preposition's verb)
            role = next((a for a in list(token.ancestors)[:3] if a.lower_ == "as" and a.pos_ == "ADP"), None)
            if role is not None and role.head.pos_ == "VERB":
                # "Goldman Sachs and JPMorgan joined MUFG and Morgan Stanley as lead arrangers": all four.
                verb = role.head
                backers += _listed(subjects_of(verb), ctx)
                if verb.lemma_.lower() == "join":
                    backers += _listed([c for c in verb.children if c.dep_ == "dobj"], ctx)
        elif lemma in WITH_FROM_NOUNS and token.pos_ == "NOUN" and (
                token.lower_ == "participation" or token.head.lower_ == "with"):
            backers = _listed([g for c in token.children if c.dep_ == "prep" and c.lower_ == "from"
                               for g in c.children if g.dep_ == "pobj"], ctx)
        elif lemma in ("include", "comprise", "feature") and token.pos_ == "VERB":
            subjects = subjects_of(token)
            if any(s.lemma_.lower() in MEMBER_NOUNS for s in subjects):
                objects = [t for s in subjects for t in s.subtree]
                # Every company named in the list, however the parser hung the list together.
                backers = _listed([c for c in token.children if c.dep_ == "dobj"], ctx)
                # "lenders include", "debt participants include"
                if any(s.lemma_.lower() in LENDER_NOUNS or {c.lemma_.lower() for c in s.children} & LOAN_WORDS
                       for s in subjects):
                    kind = "loan"
        elif lemma == "alongside" and token.head.pos_ == "VERB" and (
                token.head.lemma_.lower() in ("join", "participate", "take", "invest", "lead", "back")):
            backers = _listed([g for g in token.children if g.dep_ == "pobj"], ctx)
        if not backers or negated(token) or hypothetical(token) or addressed_to_reader(token):
            continue
        index = sent_of[token.i]
        # "investors in Quorra's funding round", "took part in Crusoe's round": the owner named there.
        owner = next((ctx.company_at(t) for o in objects for t in o.subtree
                      if t.dep_ in ("poss", "pobj") and t.i in ctx.by_token), None)
        anchor = anchor_before(anchors, index, token.i, set(), sents) or _sole_round_before(anchors, index)
        recipient = owner or (anchor[2] if anchor else None)
        if recipient is None:
            continue
        for backer in backers:
            investor = ctx.company_at(backer)
            if investor is None or investor == recipient:
                continue
            # ("The round closed in October: ..., with X and Y participating": the clause's tense)
            told_by = token.sent.root if token.tag_ == "VBG" and token.sent.root.pos_ == "VERB" else token
            status = anchor[3] if anchor and token.pos_ != "VERB" or lemma in ("include", "make") and anchor else \
                deal_status(told_by, kind, True)
            found.append(Candidate(kind=kind, investor=investor, recipient=recipient, sent_index=index,
                                   trigger=token.i, evidence=sents[index].text.strip(), status=status))
    return found


def shares_from(ctx: DocContext, sents: list[Span], anchors: list[Anchor]) -> list[Candidate]:
    """"The $15 billion bridge loan ... includes $1.35 billion from Mizuho, $1.25 billion from SMBC":
    each lender's (or backer's) own share of a loan or round, with its amount."""
    verbs = [t for t in ctx.tokens_with({"include"}) if t.pos_ == "VERB"]
    if not verbs:
        return []
    sent_of = {i: index for index, sent in enumerate(sents) for i in range(sent.start, sent.end)}
    money_at = {span.root.i: span for span in ctx.doc.spans[MONEY] if span._.money.is_deal_amount}
    found: list[Candidate] = []
    for verb in verbs:
        if negated(verb) or hypothetical(verb):
            continue
        pool = [s for s in subjects_of(verb) if s.lemma_.lower() in ROUND_NOUNS | DEBT_PARTS | LOAN_WORDS]
        if not pool:
            continue
        kind = "loan" if any(t.lemma_.lower() in LOAN_WORDS | DEBT_PARTS for s in pool for t in s.subtree) else "investment"
        index = sent_of[verb.i]
        # "SoftBank's bridge loan", "the bridge loan for Tamsin": whose loan or round it is.
        owner = next((ctx.company_at(t) for s in pool for t in s.subtree if t.i in ctx.by_token and (
            t.dep_ == "poss" or t.dep_ == "pobj" and t.head.lower_ in ("for", "to") and t.head.head.i == s.i)), None)
        anchor = anchor_before(anchors, index, verb.i, set(), sents)
        recipient = owner or (anchor[2] if anchor else None)
        if recipient is None:
            continue
        # Every amount in the object, however the parser hung the list ("$1.25 billion" an apposition).
        shares = [t for d in verb.children if d.dep_ == "dobj" for t in d.subtree if t.i in money_at]
        for share in shares:
            money = money_at.get(share.i)
            # (the parser may hang the first "from" on the verb, right after its amount)
            froms = [c for c in share.children if c.dep_ == "prep" and c.lower_ == "from"] or [
                c for c in verb.children if c.dep_ == "prep" and c.lower_ == "from" and c.i == share.right_edge.i + 1]
            backers = _listed([p for prep in froms for p in prep.children if p.dep_ == "pobj"], ctx)
            for backer in backers:
                investor = ctx.company_at(backer)
                if money is None or investor is None or investor == recipient:
                    continue
                found.append(Candidate(kind=kind, investor=investor, recipient=recipient, sent_index=index,
                                       trigger=verb.i, evidence=sents[index].text.strip(), money=money._.money,
                                       amount_text=money._.money.text, status=deal_status(verb, kind, True)))
    return found


_ITEM_RE = re.compile(r"^\s*(?:[-•*–]|\d+[.)])\s")
# A header that introduces the backers of a round: "Thank you to everyone who backed us this round:".
_BACKER_CUES = {"back", "investor", "backer", "participant", "lender"}


def listed_backers(ctx: DocContext, sents: list[Span], anchors: list[tuple[int, int, str, str]]) -> list[Candidate]:
    """The first company of each list item under a header naming a round's backers invests in the
    round stated nearby (or, in the first person, in the writer's company)."""
    found: list[Candidate] = []
    doc_text = text_of(ctx.doc)
    for index, sent in enumerate(sents):
        if not doc_text[sent.start_char: sent.end_char].rstrip().endswith(":") \
                or not {t.lemma_.lower() for t in sent} & _BACKER_CUES:
            continue
        anchor = anchor_before(anchors, index, sent.end, set(), sents) or _sole_round_before(anchors, index)
        first_person = any(t.lower_ in ("us", "our", "we") for t in sent)
        recipient = anchor[2] if anchor else (ctx.host if first_person else None)
        if recipient is None:
            continue
        kind = "loan" if any(t.lemma_.lower() == "lender" for t in sent) else "investment"
        status = anchor[3] if anchor else "announced"
        for item_index in range(index + 1, len(sents)):
            item = sents[item_index]
            if not _ITEM_RE.match(doc_text[item.start_char: item.end_char]):
                # "- Ninefold Capital. Priya, Marcus ...": a sentence inside an item goes on with it;
                # one that opens a line ends the list.
                if item.start_char == 0 or "\n" in doc_text[max(0, item.start_char - 2): item.start_char + 1]:
                    break
                continue
            company = next((c for c in ctx.companies if item.start <= c.start < item.end), None)
            if company is not None and company_text(company) != recipient:
                found.append(Candidate(kind=kind, investor=company_text(company), recipient=recipient,
                                       sent_index=item_index, trigger=company.start, evidence=item.text.strip(),
                                       status=status))
    return found


def implicit_recipients(candidates: list[Candidate], anchors: list[tuple[int, int, str, str]], sents: list[Span]) -> None:
    """"Tamsin is raising money. Helix will put in $600 million": the round's raiser receives it."""
    for c in candidates:
        if c.implicit and c.recipient is None:
            anchor = anchor_before(anchors, c.sent_index, c.trigger, {c.investor}, sents)
            if anchor is None and _the_round(sents[0].doc[c.trigger]):
                anchor = _sole_round_before([a for a in anchors if a[2] != c.investor], c.sent_index)
            if anchor is not None:
                c.recipient = anchor[2]
                trigger = sents[0].doc[c.trigger]
                will = any(a.dep_ == "aux" and a.lower_ in ("will", "would", "shall") for a in trigger.children)
                if c.status == "announced" and not will:  # "closed a $2.5bn loan. JPMorgan is providing $1 billion"
                    c.status = anchor[3]
                # "X secured a $38 billion loan. JPMorgan and MUFG led the financing": they lend.
                stated = sents[0].doc[anchor[1]]
                if {t.lemma_.lower() for t in stated.subtree} & (LOAN_WORDS - {"financing"}) or any(
                        o.kind == "loan" and o.recipient == c.recipient and o.sent_index <= c.sent_index
                        for o in candidates if o is not c):
                    c.kind = "loan"


def bullets(ctx: DocContext, sents: list[Span], candidates: list[Candidate]) -> list[Candidate]:
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


def _the_round(trigger: Token) -> bool:
    """"The funding round, led by X, ...": a round the text has already stated ("The previous round
    closed in October: $250 million led by X": the amount led is the subject round's)."""
    head = trigger.head
    if trigger.dep_ == "acl" and head.ent_type_ == "MONEY":
        head = next((s for s in head.head.children if s.dep_ in ("nsubj", "nsubjpass")), head)
    return trigger.dep_ == "acl" and head.lemma_.lower() in ROUND_NOUNS and any(
        d.dep_ == "det" and d.lower_ in ("the", "this", "that") for d in head.children)


def _content_gap(sents: list[Span], start: int, end: int) -> int:
    """How many sentences after ``start`` up to ``end`` have three words or more."""
    return sum(1 for sent in sents[start + 1: end + 1] if sum(t.is_alpha for t in sent) >= 3)


def _names_before(ctx: DocContext, end: int) -> list[Token]:
    """"... underwriters Wells Fargo, BNP Paribas and Societe Generale were included": the list of names
    that ends right before ``end`` (a subject the parser hung elsewhere), separated by commas and "and"."""
    doc = ctx.doc
    found: list[Token] = []
    i = end - 1
    while i >= 0 and i in ctx.by_token:
        span = ctx.by_token[i]
        found.append(span.root)
        i = span.start - 1
        if i >= 1 and doc[i].text in ("and", "&") and doc[i - 1].text == ",":
            i -= 2
        elif i >= 0 and doc[i].text in (",", "and", "&"):
            i -= 1
        else:
            break
    return found[::-1]


def _listed(heads: list[Token], ctx: DocContext) -> list[Token]:
    """Every company named under ``heads``, however the parser hung the list together
    ("from Corvane Semiconductor and Helix Partners" can come out with one name as a modifier of the other)."""
    listed = [t for head in heads for t in head.subtree if t.i in ctx.by_token]
    return [t for t in listed if ctx.by_token[t.i].root.i == t.i]
