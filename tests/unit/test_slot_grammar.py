"""Slot reading on parses the small model gives fragments: every climb up the tree ends."""

import threading

from spacy.tokens import Doc

from extractors.components import COMPANIES, PRODUCTS
from extractors.mentions import DocContext
from extractors.pipeline import get_nlp
from extractors.resolve import load_registry
from extractors.slots import SlotCollector, SlotReader


def test_a_noun_under_a_preposition_at_the_root_gives_its_context() -> None:
    """"In deals to grow ...": a fragment whose root is a preposition. Climbing from the deal noun
    must stop at the root (it once looped for ever there and blocked a whole run)."""
    nlp = get_nlp()
    doc = Doc(nlp.vocab, words=["In", "deals", "to", "grow"], heads=[0, 0, 3, 1],
              deps=["ROOT", "pobj", "aux", "acl"], pos=["ADP", "NOUN", "PART", "VERB"])
    doc.spans[COMPANIES] = []
    doc.spans[PRODUCTS] = []
    ctx = DocContext(doc, load_registry())
    reader = SlotReader()
    collector = SlotCollector(ctx, reader, set())
    # A thread with a deadline, so a regression fails this test instead of hanging the suite.
    worker = threading.Thread(target=reader.noun_context, args=(ctx, doc[1], collector), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "noun_context did not return: a climb up the parse never ends"
    assert collector.slots == {}
