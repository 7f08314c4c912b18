"""Deal frames are data: the file loads, the trigger list comes from it, mistakes fail at load time."""

from __future__ import annotations

import pytest

from extractors.components import TRIGGER_LEMMAS
from extractors.frames import load_frames, parse_frames
from ouroboros.core.errors import ConfigError


def test_every_trigger_word_has_a_frame_or_is_a_cue() -> None:
    frames = load_frames()
    cues = {w for words in frames.cues.values() for w in words}
    for words in TRIGGER_LEMMAS.values():
        for word in words:
            assert word in frames.verbs or word in frames.nouns or word in cues, word


def test_stake_sale_verbs_have_frames() -> None:
    # "divest" was once a trigger with no frame and yielded nothing.
    frames = load_frames()
    for verb in ("sell", "divest", "unload", "offload", "dump"):
        assert verb in frames.verbs


@pytest.mark.parametrize(("raw", "message"), [
    ({"verbs": {"invest": {"kind": "investment", "investor": ["subj"], "recipient": ["inn"]}}}, "unknown slot inn"),
    ({"verbs": {"invest": {"kind": "investment", "investor": ["subj"], "recipient": ["in"],
                           "require": ["is_sunny"]}}}, "unknown condition is_sunny"),
    ({"verbs": {"invest": {"kind": "gift", "investor": ["subj"], "recipient": ["in"]}}}, "kind 'gift'"),
    ({"verbs": {"invest": {"kind": "investment", "investor": ["subj"]}}}, "needs investor and recipient"),
    ({"verbs": {"spend": {"kind": "purchase", "investor": ["subj"], "recipient": [True]}}}, "list of names"),
    ({"verbs": {"invest": {"kind": "investment", "investor": ["subj"], "recipient": ["in"],
                           "variants": [{"if": ["funded"]}]}}}, "a variant takes"),
    ({"adjectives": {}}, "top level"),
])
def test_mistakes_fail_at_load_time(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_frames(raw)
