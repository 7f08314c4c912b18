"""Deal frames as data (``extractors/data/frames.yaml``) and the named conditions they may use.

A frame says, for one deal word and part of speech, which kind of deal it opens and which
grammatical slots hold the payer (investor) and the payee (recipient); ``require`` and
``variants`` refine it by conditions on the clause ("sell" with shares as object is a stake
sale). The trigger Matcher's word list is derived from the same file, so a word can never be a
trigger without a frame (or be listed as a mere cue). Unknown slot or condition names, kinds or
keys fail when the file is loaded, like spaCy's SpanRuler rejects a malformed pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from spacy.tokens import Token

from extractors.vocabulary import BUSINESS_NOUNS, CONTRACT_NOUNS, GOODS_HEADS, LOAN_WORDS, MONEY_WORDS, ROUND_NOUNS, SHARES
from ouroboros.core.errors import ConfigError
from ouroboros.core.records import DEAL_KINDS

PREPOSITION_SLOTS = frozenset({"in", "into", "from", "to", "toward", "towards", "at", "for", "on", "with", "of", "by"})
SLOTS = frozenset({
    "subj", "agent", "passsubj", "dobj", "dative", "obj_mod", "poss", "poss_obj", "gov_subj", "gov_dative",
    "gov_dobj", "gov_to", "gov_with", "gov_from", "cop_subj", "led_by", "lender", "made_by", "shares_of",
    "under_agreement", "unsold_by", "purpose",
}) | PREPOSITION_SLOTS


@dataclass(frozen=True)
class Clause:
    """What the conditions may look at: the trigger, its object words, its slots, the current kind."""

    trigger: Token
    is_verb: bool
    object_lemmas: frozenset[str]
    slots: dict[str, list[str]]
    funded: bool
    kind: str
    # Who sells to whom: the vendor rank of a company (chip makers above clouds above everyone else).
    rank: Callable[[str], float] = lambda name: 1
    # Whether a company is a fund, an investor or a bank (its money is funding, not a customer's).
    is_funder: Callable[[str], bool] = lambda name: False


def _governed_by(token: Token, lemmas: set[str]) -> bool:
    return any(a.lemma_.lower() in lemmas for a in token.ancestors)


def _subtree_lemmas(token: Token) -> set[str]:
    return {t.lemma_.lower() for t in token.subtree}


def _payee_sells_nothing(clause: Clause) -> bool:
    payer = next(iter(clause.slots.get("subj", [])), None)
    payee = next(iter(clause.slots.get("to", [])), None)
    return payer is not None and payee is not None and clause.rank(payee) <= clause.rank(payer)


# "if the provider cannot sell it to other customers": a promise to buy what nobody else bought.
BACKSTOP_CLAUSE = re.compile(r"\bnot sold\b|\b(?:cannot|can't|can not|unable to|fails to|doesn't|does not) sell\b", re.I)


def _spells_out_warrant(trigger: Token) -> bool:
    """"warrants to acquire shares of X" (the verb hung on the warrant, or beside it as the
    complement of "receive warrants to acquire")."""
    warrant_words = ("warrant", "option")
    if trigger.dep_ in ("acl", "relcl"):
        return trigger.head.lemma_.lower() in warrant_words
    return trigger.dep_ == "xcomp" and any(c.dep_ == "dobj" and c.lemma_.lower() in warrant_words
                                          for c in trigger.head.children)


def gives_money(verb: Token) -> bool:
    """"JPMorgan is providing $1 billion", "provide up to $2 billion in equity to X": the verb's
    object is money, not "$6 billion of capacity" (goods other than shares)."""
    goods = GOODS_HEADS - SHARES
    # ("the remaining $500 million was provided by X": a passive's subject is its object)
    return any(child.dep_ in ("dobj", "nsubjpass") and (child.lemma_.lower() in MONEY_WORDS or any(
        t.ent_type_ == "MONEY" or t.text in ("$", "US$") or "dollar" in t.lower_ for t in child.subtree))
        and not _what_is_given(child) & goods for child in verb.children)


def _what_is_given(money: Token) -> set[str]:
    """The lemmas of an object phrase without the phrases saying where it goes ("a $400 million
    check into Morvane Cloud" gives a check, not cloud): "of" phrases ("$6 billion of capacity") stay."""
    lemmas: set[str] = set()
    stack = [money]
    while stack:
        token = stack.pop()
        lemmas.add(token.lemma_.lower())
        stack.extend(c for c in token.children if c.dep_ != "prep" or c.lower_ == "of")
    return lemmas


def _payer_is_customer(clause: Clause) -> bool:
    """"Vask Cloud will receive $3 billion from Tamsin Labs": a payer that ranks below the payee
    and is no funder buys from it (unless the money is a round)."""
    payer = next(iter(clause.slots.get("from", [])), None)
    payee = next(iter(clause.slots.get("subj", [])), None)
    return (payer is not None and payee is not None and clause.rank(payer) < clause.rank(payee)
            and not clause.is_funder(payer) and not clause.object_lemmas & ROUND_NOUNS)


CONDITIONS: dict[str, Callable[[Clause], bool]] = {
    # "sold its stake in X", "bought Intel stock"
    "object_is_shares": lambda c: bool(c.object_lemmas & SHARES),
    # "received a contract from X": a sale, not an investment
    "object_is_contract": lambda c: bool(c.object_lemmas & CONTRACT_NOUNS),
    # "led the round"
    "object_is_round": lambda c: bool(c.object_lemmas & ROUND_NOUNS),
    # "got new capital from X", "attracted funding from Y": a round or money itself
    "object_is_round_or_capital": lambda c: bool(c.object_lemmas & (ROUND_NOUNS | MONEY_WORDS)),
    # "led the round", "The funding round, led by GIC and Coatue, ...": the round is the head of "led by"
    # ("The facility was led by X": a loan facility has lead lenders as a round has lead investors)
    "leads_a_round": lambda c: bool(c.object_lemmas & (ROUND_NOUNS | LOAN_WORDS | {"facility"})) or (
        # ("closed: $250 million led by X": an amount led by someone is a round)
        c.trigger.dep_ == "acl" and (c.trigger.head.lemma_.lower() in ROUND_NOUNS or c.trigger.head.ent_type_ == "MONEY")),
    # "issued X a warrant"
    "warrant_below": lambda c: "warrant" in c.object_lemmas or "warrants" in {t.lower_ for t in c.trigger.subtree},
    # "provide financing to X": a loan
    "loan_words_below": lambda c: bool(_subtree_lemmas(c.trigger) & LOAN_WORDS),
    # "secured 5 gigawatts of compute capacity from X", "locked in a $12 billion package of capacity": goods bought
    "object_is_goods": lambda c: bool(c.object_lemmas & GOODS_HEADS),
    # "receive warrants to acquire shares"
    "object_is_warrant": lambda c: bool(c.object_lemmas & {"warrant", "warrants"}),
    # "a deal to sell its Aligned Data Centres business to a consortium": a company itself changes hands
    "object_is_company": lambda c: bool(c.slots.get("dobj")) and (bool(c.object_lemmas & BUSINESS_NOUNS)
                                                                  or not c.object_lemmas & GOODS_HEADS),
    # "is providing a $1.4 billion backstop for X": the backstop, not money given
    "object_is_backstop": lambda c: bool(c.object_lemmas & {"backstop", "guarantee"}),
    # "warrants to acquire shares of X": a verb that spells out what a warrant gives
    "under_warrant": lambda c: _spells_out_warrant(c.trigger),
    # "counts X among its customers"
    "customer_below": lambda c: bool(_subtree_lemmas(c.trigger) & {"customer", "client", "buyer"}),
    # "JPMorgan is providing $1 billion": money, not goods
    "object_is_money": lambda c: gives_money(c.trigger),
    # "sold shares of preferred stock to X": a buyer named, and no other company whose shares they are
    "own_shares_to_buyer": lambda c: bool(c.slots.get("to") or c.slots.get("dative")) and not any(
        set(c.slots.get(k, [])) - set(c.slots.get("to", []) + c.slots.get("dative", []))
        for k in ("in", "of", "obj_mod", "shares_of")),
    # "subscribed RMB 3.6 billion", "subscribed for 2 million shares of X": a subscription to equity
    "object_is_money_or_shares": lambda c: gives_money(c.trigger) or bool(_subtree_lemmas(c.trigger) & SHARES),
    # "provide X with capacity": something sold
    "goods_below": lambda c: bool(_subtree_lemmas(c.trigger) & GOODS_HEADS),
    # "leases capacity to X" (no "from")
    "to_without_from": lambda c: "to" in c.slots and "from" not in c.slots,
    "from_and_to": lambda c: "to" in c.slots and "from" in c.slots,
    # "committed $900 million" with no "to X": the payee is elsewhere (a round or loan stated nearby)
    "without_to": lambda c: "to" not in c.slots,
    # "disclosed an order from X": the company the order comes from
    "from_a_company": lambda c: "from" in c.slots,
    # "pledged $1 billion for X" (no "to")
    "for_without_to": lambda c: "for" in c.slots and "to" not in c.slots,
    # "committed to deploy", or deploying another deal's money
    "committed_or_funded": lambda c: c.funded or _governed_by(c.trigger, {"commit", "agree"}),
    "funded": lambda c: c.funded,
    # "expand its use of X"
    "use_below": lambda c: "use" in {t.lemma_ for t in c.trigger.subtree},
    # a stake someone buys, takes or holds (not "the stake was worth ...")
    "held_or_bought": lambda c: _governed_by(c.trigger, {"buy", "take", "acquire", "hold", "pick"}),
    # "Z has a deal to buy X's 50 percent stake in Y": the stake's holder sells it
    "bought_from_its_holder": lambda c: _governed_by(c.trigger, {"buy", "acquire", "purchase"}) and bool(
        c.slots.get("poss")) and c.slots["poss"][0] not in c.slots.get("gov_subj", []) + c.slots.get("subj", []),
    "is_purchase": lambda c: c.kind == "purchase",
    # "Microsoft committed $10 billion to OpenAI": the party the money goes to sells nothing to the payer.
    "payee_sells_nothing": _payee_sells_nothing,
    # "committed $200 million to our inference API": money committed to goods buys them.
    "to_goods": lambda c: any(p.dep_ in ("prep", "dative") and p.lower_ == "to" and any(
        o.dep_ == "pobj" and o.lemma_.lower() in GOODS_HEADS for o in p.children) for p in c.trigger.children),
    "payer_is_customer": _payer_is_customer,
    # "a $2 billion partnership", "a multibillion-dollar partnership"
    "priced": lambda c: any(t.like_num or t.text in ("$", "US$") or "dollar" in t.lower_ for t in c.trigger.subtree),
    # "the sale of Nvidia shares"
    "shares_below": lambda c: bool(_subtree_lemmas(c.trigger) & SHARES),
    # "buy any capacity that goes unsold"
    "backstop_words": lambda c: bool({t.lower_ for t in c.trigger.subtree} & {"unsold", "residual", "unused", "excess"})
    or BACKSTOP_CLAUSE.search(c.trigger.sent.text) is not None,
}


@dataclass(frozen=True)
class Variant:
    """A refinement: when all ``when`` hold and no ``unless`` does, drop the deal or change the frame."""

    when: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    drop: bool = False
    kind: str | None = None
    investor: tuple[str, ...] | None = None
    recipient: tuple[str, ...] | None = None

    def applies(self, clause: Clause) -> bool:
        """Whether this variant's conditions hold for ``clause``."""
        return all(CONDITIONS[n](clause) for n in self.when) and not any(CONDITIONS[n](clause) for n in self.unless)


@dataclass(frozen=True)
class Frame:
    """Which grammatical slots hold the payer (investor) and the payee (recipient) for a deal word."""

    kind: str
    investor: tuple[str, ...] = ()
    recipient: tuple[str, ...] = ()
    generic: bool = False
    require: tuple[str, ...] = ()
    variants: tuple[Variant, ...] = field(default=())
    # A common word ("take") is a deal word only where an amount follows it closely ("takes $250M").
    amount_after: bool = False

    def refine(self, clause: Clause, every: tuple[Variant, ...] = ()) -> Frame | None:
        """The frame as this clause reads it, or None when a requirement fails or a variant drops it."""
        if not all(CONDITIONS[n](clause) for n in self.require):
            return None
        frame = self
        for group in (self.variants, every):
            for variant in group:
                if variant.applies(replace(clause, kind=frame.kind)):
                    if variant.drop:
                        return None
                    # A variant that names both slots gives a generic frame its direction.
                    directed = variant.investor is not None and variant.recipient is not None
                    frame = replace(frame, kind=variant.kind or frame.kind,
                                    investor=variant.investor if variant.investor is not None else frame.investor,
                                    recipient=variant.recipient if variant.recipient is not None else frame.recipient,
                                    generic=frame.generic and not directed)
                    break
        return frame


@dataclass(frozen=True)
class FrameSet:
    """Every frame of the data file, by part of speech and lemma, with the cue words."""

    verbs: dict[str, Frame]
    nouns: dict[str, Frame]
    every_verb: tuple[Variant, ...]
    cues: dict[str, tuple[str, ...]]

    def trigger_lemmas(self) -> dict[str, list[str]]:
        """Deal words by the kind they hint at: every frame's word, then the cues."""
        lemmas = self._lemmas(amount_after=False)
        for kind, words in self.cues.items():
            lemmas[kind].extend(w for w in words if w not in lemmas[kind])
        return {kind: words for kind, words in lemmas.items() if words}

    def amount_led_lemmas(self) -> dict[str, list[str]]:
        """Deal words by kind that count only with an amount just after them (``amount_after``)."""
        return {kind: words for kind, words in self._lemmas(amount_after=True).items() if words}

    def _lemmas(self, *, amount_after: bool) -> dict[str, list[str]]:
        lemmas: dict[str, list[str]] = {kind: [] for kind in DEAL_KINDS}
        for frames in (self.verbs, self.nouns):
            for lemma, frame in frames.items():
                if frame.amount_after == amount_after and lemma not in lemmas[frame.kind]:
                    lemmas[frame.kind].append(lemma)
        return lemmas


def _names(where: str, value: Any, allowed: frozenset[str] | dict[str, Any], what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"frames.yaml: {where}: {what} must be a list of names, got {value!r}")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ConfigError(f"frames.yaml: {where}: unknown {what} {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(allowed))}")
    return tuple(value)


def _kind(where: str, value: Any) -> str:
    if value not in DEAL_KINDS:
        raise ConfigError(f"frames.yaml: {where}: kind {value!r} is not one of {', '.join(DEAL_KINDS)}")
    return str(value)


def _variant(where: str, raw: Any) -> Variant:
    if not isinstance(raw, dict) or set(raw) - {"when", "unless", "drop", "kind", "investor", "recipient"}:
        raise ConfigError(f"frames.yaml: {where}: a variant takes when, unless, drop, kind, investor, recipient; "
                          f"got {raw!r}")
    return Variant(
        when=_names(where, raw.get("when"), CONDITIONS, "condition"),
        unless=_names(where, raw.get("unless"), CONDITIONS, "condition"),
        drop=bool(raw.get("drop", False)),
        kind=_kind(where, raw["kind"]) if "kind" in raw else None,
        investor=_names(where, raw["investor"], SLOTS, "slot") if "investor" in raw else None,
        recipient=_names(where, raw["recipient"], SLOTS, "slot") if "recipient" in raw else None,
    )


def _frame(where: str, raw: Any) -> Frame:
    keys = {"kind", "investor", "recipient", "generic", "require", "variants", "amount_after"}
    if not isinstance(raw, dict) or "kind" not in raw or set(raw) - keys:
        raise ConfigError(f"frames.yaml: {where}: a frame takes {', '.join(sorted(keys))} (kind required); got {raw!r}")
    frame = Frame(
        kind=_kind(where, raw["kind"]),
        investor=_names(where, raw.get("investor"), SLOTS, "slot"),
        recipient=_names(where, raw.get("recipient"), SLOTS, "slot"),
        generic=bool(raw.get("generic", False)),
        require=_names(where, raw.get("require"), CONDITIONS, "condition"),
        variants=tuple(_variant(f"{where} variant {i}", v) for i, v in enumerate(raw.get("variants") or [])),
        amount_after=bool(raw.get("amount_after", False)),
    )
    if not frame.generic and not (frame.investor and frame.recipient):
        raise ConfigError(f"frames.yaml: {where}: a frame that is not generic needs investor and recipient slots")
    return frame


def parse_frames(raw: Any) -> FrameSet:
    """Check and build the frames of a parsed ``frames.yaml``; ConfigError naming what is wrong."""
    if not isinstance(raw, dict) or set(raw) - {"verbs", "nouns", "every_verb", "cues"}:
        raise ConfigError("frames.yaml: the top level takes verbs, nouns, every_verb and cues")
    cues: dict[str, tuple[str, ...]] = {}
    for kind, words in (raw.get("cues") or {}).items():
        cues[_kind(f"cues.{kind}", kind)] = _names(f"cues.{kind}", words, _Any(), "word")
    return FrameSet(
        verbs={lemma: _frame(f"verbs.{lemma}", f) for lemma, f in (raw.get("verbs") or {}).items()},
        nouns={lemma: _frame(f"nouns.{lemma}", f) for lemma, f in (raw.get("nouns") or {}).items()},
        every_verb=tuple(_variant(f"every_verb {i}", v) for i, v in enumerate(raw.get("every_verb") or [])),
        cues=cues,
    )


class _Any(frozenset[str]):
    """Accepts every name (cue words are free text)."""

    def __contains__(self, item: object) -> bool:
        return True


@lru_cache(maxsize=1)
def load_frames() -> FrameSet:
    """The frames shipped in ``extractors/data/frames.yaml`` (parsed and checked once)."""
    text = resources.files("extractors").joinpath("data/frames.yaml").read_text("utf-8")
    return parse_frames(yaml.safe_load(text))


# Agreement nouns with no direction of their own ("the agreement", "a deal"): restatements, list headers.
GENERIC_NOUNS = frozenset(lemma for lemma, frame in load_frames().nouns.items() if frame.generic)
