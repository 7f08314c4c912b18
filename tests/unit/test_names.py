"""Names as the graph keeps them: normalised, bounded, look-alikes flagged (issue 9, rows 1, 2 and 12)."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from flows.stages import flag_lookalikes
from ouroboros.core.names import MAX_NAME_CHARS, lookalike_of, normalize_name
from ouroboros.core.records import DealRecord, HardwareMandate, SpendBack


def test_names_are_nfkc_without_control_characters() -> None:
    assert normalize_name("Ａｃｍｅ\u0000  Chips\u200b ") == "Acme Chips"
    record = DealRecord(doc="d", kind="investment", investor="Acme\x00 Chips", recipient="Birch\tAI",
                        evidence="Acme\x00 Chips invests.\nMore.", spend_back=SpendBack(payee="Acme\x07 Chips"),
                        hardware_mandate=HardwareMandate(product="K\x002", vendor="Acme\x1b Chips"))
    assert (record.investor, record.recipient, record.evidence) == ("Acme Chips", "Birch AI", "Acme Chips invests.\nMore.")
    assert record.spend_back is not None and record.spend_back.payee == "Acme Chips"
    assert record.hardware_mandate == HardwareMandate(product="K2", vendor="Acme Chips")


def test_a_name_over_the_limit_is_refused_with_its_start() -> None:
    with pytest.raises(ValidationError, match=f"over {MAX_NAME_CHARS}.*'XXXX"):
        DealRecord(doc="d", kind="investment", investor="X" * 10_000, recipient="Birch AI")


def test_mixed_script_lookalikes_are_flagged_not_merged(caplog: pytest.LogCaptureFixture) -> None:
    fake = "Micr\u043esoft"  # a Cyrillic o
    assert lookalike_of(fake) == "Microsoft"
    assert lookalike_of("Microsoft") is None and lookalike_of("Яндекс") is None  # one script: fine
    record = DealRecord(doc="d.txt", kind="investment", investor=fake, recipient="OpenAI")
    assert record.investor == fake  # kept as written: never silently merged with the real company
    with caplog.at_level(logging.WARNING, "flows.stages"):
        flag_lookalikes([record])
    assert "d.txt" in caplog.text and "looks like 'Microsoft'" in caplog.text
