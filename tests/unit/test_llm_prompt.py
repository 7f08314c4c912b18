"""Prompt files: loaded by name, checked at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors import llm_prompt
from extractors.llm_prompt import available_prompts, load_prompt
from ouroboros.core.errors import ConfigError


@pytest.fixture
def prompts_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(llm_prompt, "PROMPTS_DIR", tmp_path)
    load_prompt.cache_clear()
    yield tmp_path
    load_prompt.cache_clear()


def test_shipped_prompt_loads_with_its_version_and_hash() -> None:
    assert "deals_v1" in available_prompts()
    prompt = load_prompt("deals_v1")
    assert prompt.name == "deals_v1" and len(prompt.sha256) == 64
    system, user = prompt.messages("PASSAGE TEXT", "CONTEXT TEXT", "LEAD TEXT")
    assert "PASSAGE TEXT" not in system.content
    assert "PASSAGE: PASSAGE TEXT" in user.content and "CONTEXT: CONTEXT TEXT" in user.content
    assert "DOCUMENT START: LEAD TEXT" in user.content


def test_unknown_prompt_fails_at_load_time() -> None:
    with pytest.raises(ConfigError, match="unknown LLM prompt 'deals_v0'.*deals_v1"):
        load_prompt("deals_v0")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("no roles at all {{passage}}", "must consist of"),
        ("<!-- role: user -->\n{{lead}} {{context}} {{passage}}\n<!-- role: system -->\nx", "must consist of"),
        ("<!-- role: system -->\nx\n<!-- role: user -->\n{{context}} {{passage}}", "exactly the placeholders"),
        ("<!-- role: system -->\nx\n<!-- role: user -->\n{{lead}} {{context}} {{passage}} {{doc}}",
         "exactly the placeholders"),
        ("<!-- role: system -->\n{{passage}}\n<!-- role: user -->\n{{lead}} {{context}} {{passage}}",
         "user part only"),
    ],
)
def test_malformed_prompt_fails_at_load_time(prompts_dir: Path, body: str, message: str) -> None:
    (prompts_dir / "bad.md").write_text(body)
    with pytest.raises(ConfigError, match=message):
        load_prompt("bad")


ROOT = Path(__file__).resolve().parents[2]


def corpus_gold() -> Path:
    """The project's corpus gold (gold.jsonl + docs/), else the shared development set it is made from."""
    for gold in sorted(ROOT.joinpath("corpus").rglob("gold.jsonl")):
        return gold.parent
    shared = ROOT.parent / "shared" / "gold"
    if (shared / "gold.jsonl").is_file():
        return shared
    pytest.fail(f"no corpus gold.jsonl under {ROOT / 'corpus'} or {shared}")


def test_few_shot_examples_come_from_the_corpus_gold() -> None:
    """Every example passage is corpus text, and every example answer is a gold record of that document."""
    import json
    import re

    from extractors.evaluate import gold_document_path
    from extractors.llm_grounding import normalize

    folder = corpus_gold()
    gold = [json.loads(line) for line in (folder / "gold.jsonl").read_text().splitlines() if line.strip()]
    texts = {g["doc"]: normalize(gold_document_path(folder, g["doc"]).read_text(encoding="utf-8")) for g in gold}
    examples = re.findall(r"^CONTEXT: (.*)\nPASSAGE: (.*)\nANSWER: (.*)$", load_prompt("deals_v1").system, re.M)
    assert len(examples) >= 3
    for context, passage, answer in examples:
        docs = [doc for doc, text in texts.items() if normalize(passage) in text and normalize(context) in text]
        assert docs, f"example passage not in the corpus: {passage[:60]}"
        records = {(d["kind"], d["investor"], d["recipient"], d["amount_text"])
                   for g in gold if g["doc"] in docs for d in g["deals"] + g.get("optional", [])}
        for said in json.loads(answer)["deals"]:
            assert (said["kind"], said["investor"], said["recipient"], said["amount_text"]) in records, said
            assert normalize(said["evidence"]) in texts[docs[0]]
