"""Prompts for the LLM extractor: versioned files in ``extractors/prompts/``, loaded by name.

A prompt file has two parts, each opened by a marker line: ``<!-- role: system -->`` (the
instructions and few-shot examples) and ``<!-- role: user -->`` (the template that carries the
document text). The user template uses exactly the placeholders ``{{lead}}``, ``{{context}}`` and
``{{passage}}``; anything else fails when the prompt is loaded, not when the model is called.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from ouroboros.core.errors import ConfigError
from ouroboros.core.textblocks import BlockError, split_blocks

PROMPTS_DIR = Path(__file__).parent / "prompts"
DEFAULT_PROMPT = "deals_v1"

_ROLE = re.compile(r"^<!-- role: (?P<name>system|user) -->[ \t]*$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_PLACEHOLDERS = frozenset({"lead", "context", "passage"})
# The markers that fence document text in the user template; document text must not close the fence.
_FENCE = re.compile(r"<<<DATA|DATA>>>")


@dataclass(frozen=True)
class DealPrompt:
    """A loaded prompt: its name (the version), its two parts and a hash of the file."""

    name: str
    system: str
    user: str
    sha256: str

    def messages(self, passage: str, context: str = "", lead: str = "") -> list[BaseMessage]:
        """The chat messages for one passage; the document text only ever goes into the user message."""
        values = {"lead": lead, "context": context, "passage": passage}
        user = _PLACEHOLDER.sub(lambda m: _FENCE.sub("", values[m.group(1)]), self.user)
        return [SystemMessage(self.system), HumanMessage(user)]


def available_prompts() -> list[str]:
    """The names of the prompt files shipped in ``extractors/prompts/``."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.md"))


@lru_cache(maxsize=8)
def load_prompt(name: str = DEFAULT_PROMPT) -> DealPrompt:
    """Load the prompt ``name`` (e.g. ``deals_v1``) and check its shape.

    Raises:
        ConfigError: the name is unknown or the file is malformed.
    """
    path = PROMPTS_DIR / f"{name}.md"
    if not path.is_file():
        raise ConfigError(
            f"unknown LLM prompt {name!r}: no file {path}; available: {', '.join(available_prompts())}"
        )
    raw = path.read_text(encoding="utf-8")
    shape = (f"prompt file {path} must consist of a '<!-- role: system -->' part followed by a "
             "'<!-- role: user -->' part")
    try:  # the project's one reader of named text blocks (Cypher files use it too)
        blocks = split_blocks(raw, path, _ROLE)
    except BlockError as e:
        raise ConfigError(f"{e}; {shape}") from e
    if [b.name for b in blocks] != ["system", "user"]:
        raise ConfigError(shape)
    system, user = ("\n".join(b.lines).strip() for b in blocks)
    found = set(_PLACEHOLDER.findall(user))
    if found != _PLACEHOLDERS:
        raise ConfigError(
            f"prompt file {path}: the user part must use exactly the placeholders "
            f"{sorted(_PLACEHOLDERS)}; found {sorted(found)}"
        )
    if _PLACEHOLDER.search(system):
        raise ConfigError(f"prompt file {path}: placeholders belong in the user part only")
    return DealPrompt(name=name, system=system, user=user, sha256=hashlib.sha256(raw.encode()).hexdigest())
