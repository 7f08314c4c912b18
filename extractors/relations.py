"""Deal relations: placeholder component, filled in by the relation matcher."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

if not Doc.has_extension("deal_candidates"):
    Doc.set_extension("deal_candidates", default=None)


@Language.factory("ouroboros_relations", default_config={})
def make_relations(nlp: Language, name: str) -> RelationMatcher:
    """Deal candidates (who pays whom, kind, amount) from the sentences' grammar."""
    return RelationMatcher()


class RelationMatcher:
    """Finds deal candidates in each sentence."""

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.match(doc))
        return doc

    def match(self, doc: Doc) -> list:
        """Deal candidates of the doc."""
        return []

    def set_annotations(self, doc: Doc, candidates: list) -> None:
        """Write ``doc._.deal_candidates``."""
        doc._.deal_candidates = candidates
