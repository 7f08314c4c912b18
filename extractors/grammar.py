"""Helpers over the dependency tree shared by the relation rules (subjects, antecedents, conjuncts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from spacy.tokens import Token

from extractors.vocabulary import FUNDS_REFERENCES, MONEY_WORDS

if TYPE_CHECKING:
    from extractors.mentions import DocContext

RELATIVE = {"which", "who", "that", "whose", "whom"}


def first(slots: dict[str, list[str]], keys: Iterable[str], exclude: str | None = None) -> str | None:
    for key in keys:
        for name in slots.get(key, []):
            if name != exclude:
                return name
    return None


def unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        if name not in out:
            out.append(name)
    return out


def conjuncts(token: Token) -> list[Token]:
    """The tokens coordinated with ``token`` ("Orrin, Pell and Vask": Pell and Vask for Orrin)."""
    # "Corvane Semiconductor and Pellow Systems" can come out with the first name as a modifier of
    # the second ("Semiconductor" an nmod of "Systems", carrying the "and"): it is coordinated too.
    found: list[Token] = [c for c in token.children if c.dep_ in ("nmod", "compound") and c.pos_ == "PROPN"
                          and any(g.dep_ == "cc" for g in c.children) and any(g.dep_ == "conj" for g in c.children)]
    stack = [c for c in token.children if c.dep_ == "conj"]
    while stack:
        conj = stack.pop(0)
        found.append(conj)
        stack.extend(c for c in conj.children if c.dep_ == "conj")
    return found


def subject_of(token: Token) -> Token | None:
    """The first subject of ``_subjects``."""
    found = subjects_of(token)
    return found[0] if found else None


def subjects_of(token: Token) -> list[Token]:
    """The subject_of(s) of a verb, inherited through "agreed to X", "plans to X", "X and Y" and gerunds.

    A dateline ("SEATTLE, Feb 9 (Wire) - Tessaly Cloud will invest") can give a verb two subjects,
    or hang the company on the place as an apposition ("SEOUL (Wire) - Tessaly Cloud and ...").
    """
    found = _subject_walk(token)
    if found is None:
        return []
    named = [c for c in found.children if c.dep_ == "appos" and c.pos_ == "PROPN"]
    # "New Delhi, Jan 7 Elon Musk's AI startup, xAI, has ...": the name of the described apposition.
    named += [g for c in found.children if c.dep_ == "appos" and c.pos_ == "NOUN"
              for g in c.children if g.dep_ == "appos" and g.pos_ == "PROPN"]
    return [found] + [c for c in found.head.children if c.dep_ == found.dep_ and c.i != found.i] + named


def _gerund_subject(verb: Token) -> Token | None:
    """The name right before a subjectless gerund: "on the heels of X and Y landing a loan" -> X.

    The parser hangs the gerund on the main verb, though the names it follows (with no comma between)
    are the ones doing it; of a coordinated list, its first member stands for all.
    """
    if verb.tag_ != "VBG" or verb.dep_ not in ("advcl", "acl", "pcomp") or verb.i == verb.sent.start:
        return None
    if not any(c.dep_ == "dobj" for c in verb.children) or any(c.dep_.startswith("nsubj") for c in verb.children):
        return None
    before = verb.doc[verb.i - 1]
    if before.pos_ != "PROPN" or before.dep_ not in ("pobj", "conj"):
        return None
    while before.dep_ == "conj" and before.head.i != before.i:
        before = before.head
    return before if before.dep_ == "pobj" else None


def _subject_walk(token: Token) -> Token | None:
    gerund = _gerund_subject(token)
    if gerund is not None:
        return gerund
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
            # "is in talks to invest": an infinitive hung on a noun is that noun's purpose, not a clause about it.
            if any(c.dep_ == "aux" and c.lower_ == "to" for c in current.children) and current.head.pos_ == "NOUN" \
                    and current.head.dep_ in ("pobj", "dobj", "attr"):
                current = current.head
                continue
            return current.head
        break
    if current.pos_ in ("NOUN", "PROPN") and current.i != token.i:
        poss = next((c for c in current.children if c.dep_ == "poss"), None)
        if poss is not None:
            return poss
    return None


def _plural(verb: Token) -> bool:
    """Whether a verb agrees with a plural subject ("who have invested", "which are")."""
    return verb.tag_ == "VBP" or any(c.dep_ in ("aux", "auxpass") and c.lower_ in ("have", "are", "were")
                                     for c in verb.children)


def antecedent(token: Token, ctx: DocContext | None = None) -> Token:
    """What a relative pronoun stands for: "OpenAI, which ..." -> OpenAI; "a partner who" -> the subject."""
    if token.lower_ not in RELATIVE and token.dep_ != "relcl":
        return token
    if ctx is not None and token.lower_ in RELATIVE:
        # "OpenAI, which ...": a company right before the pronoun, whatever the parser attached it to.
        before = token.i - 1
        if token.head.i == before and token.head.dep_ == "prep":
            before -= 1  # "OpenAI, in which Microsoft invested": the preposition goes with the pronoun
        while before >= token.sent.start and token.doc[before].is_punct:
            before -= 1
        if before >= token.sent.start and before in ctx.by_token and before < token.i - 1:
            first = ctx.by_token[before].root
            # "rivals LG, Mirae and Hanwha, who have each invested": a plural verb speaks of the whole list.
            if first.dep_ == "conj" and _plural(token.head):
                while first.dep_ == "conj" and first.head.i in ctx.by_token:
                    first = first.head
                return first
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


def relcl_head(token: Token) -> Token:
    """The noun a relative clause containing ``token`` is attached to ("OpenAI, whose ..." -> OpenAI)."""
    for ancestor in token.ancestors:
        if ancestor.dep_ == "relcl":
            return ancestor.head
    return token


def governed_by(token: Token, lemmas: set[str]) -> bool:
    return any(a.lemma_.lower() in lemmas for a in token.ancestors)


def verbal_chain(token: Token) -> list[Token]:
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


def tree_distance(a: Token, b: Token) -> int:
    ancestors_a = {t.i: d for d, t in enumerate([a, *a.ancestors])}
    for d, t in enumerate([b, *b.ancestors]):
        if t.i in ancestors_a:
            return d + ancestors_a[t.i]
    return 99


def looks_like_maker(name: str) -> bool:
    """A one-word capitalised name without digits ("Nerion"), not a model number ("K2", "MI450")."""
    return " " not in name and name[:1].isupper() and not any(c.isdigit() for c in name) and not name.isupper()


def mentions_funds(token: Token) -> bool:
    return any(t.lower_ in MONEY_WORDS for t in token.subtree)


def object_text(trigger: Token) -> str | None:
    """What is bought: the object phrase of a purchase, without any company name."""
    for child in trigger.children:
        if child.dep_ in ("dobj",) and child.lower_ not in FUNDS_REFERENCES:
            return " ".join(t.text for t in child.subtree)[:80]
    for child in trigger.children:
        if child.dep_ == "prep" and child.lower_ in ("on", "for"):
            return " ".join(t.text for t in child.subtree if t.i != child.i)[:80]
    return None
