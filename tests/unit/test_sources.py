"""The sources file: parsed into typed models; every mistake names the file, the key and the fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flows.sources import load_sources
from ouroboros.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_example_parses() -> None:
    config = load_sources(REPO / "sources.example.yaml")
    assert config.folders and config.feeds and config.edgar is not None
    assert config.schedule is not None and config.schedule.cron == "0 */6 * * *"
    assert all(cik.isdigit() and len(cik) == 10 for cik in config.edgar.ciks)


def test_full_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
folders: [{path: corpus/}]
feeds: [{url: "https://news.example/feed.xml"}]
edgar: {user_agent: "Acme Research ops@acme.example", ciks: ["1045810", "0000789019"], forms: ["8-K"]}
schedule: {interval: 3600}
""",
    )
    config = load_sources(path)
    assert config.folders[0].path == tmp_path / "corpus"
    assert [f.url for f in config.feeds] == ["https://news.example/feed.xml"]
    assert config.edgar is not None and config.edgar.ciks == ["0001045810", "0000789019"]
    assert config.edgar.forms == ["8-K"] and config.edgar.data_url == "https://data.sec.gov"
    assert config.schedule is not None and config.schedule.interval == timedelta(hours=1)


def test_every_key_is_optional(tmp_path: Path) -> None:
    config = load_sources(write(tmp_path, ""))
    assert (config.folders, config.feeds, config.edgar, config.schedule) == ([], [], None, None)


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("edgar: {ciks: ['1045810']}", "edgar.user_agent", "Field required"),
        ("edgar: {user_agent: python-httpx, ciks: ['1045810']}", "edgar.user_agent", "contact"),
        ("edgar: {user_agent: 'Acme ops@acme.example', ciks: ['NVDA']}", "edgar.ciks", "10 digits"),
        ("edgar: {user_agent: 'Acme ops@acme.example', ciks: ['1'], forms: ['S-1']}", "edgar.forms", "8-K"),
        ("feeds: [{url: 'ftp://x/feed'}]", "feeds[0].url", "http"),
        ("feeds: [{link: 'https://x/feed'}]", "feeds[0].link", "Extra inputs"),
        ("schedule: {cron: '0 6 * *'}", "schedule", "5 fields"),
        ("schedule: {cron: '0 6 * * *', interval: 60}", "schedule", "exactly one"),
        ("feed: []", "feed", "Extra inputs"),
    ],
)
def test_mistakes_name_file_key_and_fix(tmp_path: Path, text: str, key: str, hint: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    message = str(caught.value)
    assert str(path) in message and f"key '{key}'" in message and hint in message


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(write(tmp_path, "feeds: [{url: x\n"))
    with pytest.raises(ConfigError, match="not found; copy sources.example.yaml"):
        load_sources(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_sources(write(tmp_path, "- a\n- b\n"))


def test_a_utf16_or_empty_sources_file_is_a_clear_error(tmp_path: Path) -> None:
    from flows.ingest import sources_for

    utf16 = tmp_path / "utf16.yaml"
    utf16.write_text("folders: [{path: .}]\n", encoding="utf-16")
    with pytest.raises(ConfigError, match="not UTF-8 .it looks like UTF-16.*iconv"):
        load_sources(utf16)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="lists no folders, feeds or edgar"):
        sources_for(str(empty), None)
