"""Settings come from the project's own variables only."""

from __future__ import annotations

from pathlib import Path

import pytest

from ouroboros.core.settings import Settings


def test_home_ignores_the_shell_home_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # pydantic-settings matches field names case-insensitively; $HOME must not become OUROBOROS_HOME.
    monkeypatch.delenv("OUROBOROS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert Settings().home_dir == (tmp_path / ".ouroboros").resolve()


def test_home_from_its_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OUROBOROS_HOME", str(tmp_path / "data"))
    assert Settings().home_dir == tmp_path / "data"


def test_unrelated_variables_named_like_fields_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUROBOROS_LLM", raising=False)
    monkeypatch.delenv("OUROBOROS_CACHE", raising=False)
    monkeypatch.setenv("LLM", "openai:should-not-be-read")
    monkeypatch.setenv("CACHE", "/should/not/be/read")
    settings = Settings()
    assert settings.llm is None
    assert settings.cache_dir == Path("~/.cache/ouroboros").expanduser().resolve()
