"""The deal candidate: what the relation rules find in one sentence, before names are canonical."""

from __future__ import annotations

from dataclasses import dataclass

from extractors.money import Money


@dataclass
class Candidate:
    """A deal found in one sentence, with document-level party names."""

    kind: str
    investor: str | None
    recipient: str | None
    sent_index: int
    trigger: int
    evidence: str
    money: Money | None = None
    amount_text: str | None = None
    status: str = "announced"
    generic: bool = False
    funded: bool = False  # paid with another deal's money (a spend-back)
    fresh_funds: bool = False  # "the fresh capital", "that new money": the newest deal's money
    pays_investor: bool = False  # "rent clusters from its investor": the funding deal's investor is paid
    what: str | None = None
    spend_back: tuple[str, str | None] | None = None  # (payee, what)
    mandate: tuple[str, str] | None = None  # (product, vendor)
    # The sentence that states each leg (issue 11: every leg cites its own sentence). Set with the leg,
    # carried with it through merging; the record leaves it empty when it is the deal's own evidence.
    spend_back_evidence: str = ""
    mandate_evidence: str = ""
    direct: bool = True  # both parties named rather than referred to
    merged: bool = False
    implicit: bool = False  # the recipient is the raiser of a round stated nearby ("Helix will put in $600 million")
    anchor: int | None = None  # the token of the party this deal has of its own (a conjunct): amounts go near it


    @property
    def amount_usd(self) -> float | None:
        """The amount in US dollars, when there is one."""
        return self.money.amount_usd if self.money is not None else None
