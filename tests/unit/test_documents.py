"""Reading documents: good formats, and one clear problem per bad file while the others are read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors import documents
from extractors.documents import read_documents

ARTICLE = ("NVIDIA said on Monday it will invest up to $100 billion in OpenAI, and the ChatGPT maker will use "
           "the money to build data centers with the chipmaker's systems over the next several years.")


def test_text_markdown_json_and_html(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.md").write_text("# Deal\n\n" + ARTICLE, encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({"body": ARTICLE, "title": "T", "url": "http://x/1",
                                                 "published": "2025-09-22"}), encoding="utf-8")
    (tmp_path / "d.html").write_text(
        f"<html><head><title>Deal news</title></head><body><article><h1>Deal news</h1><p>{ARTICLE}</p>"
        f"<p>{ARTICLE}</p></article></body></html>", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("ignored,in,folders", encoding="utf-8")
    docs, problems = read_documents([tmp_path])
    assert problems == []
    by_id = {d.doc: d for d in docs}
    assert set(by_id) == {"a.txt", "b.md", "c.json", "d.html"}
    assert by_id["c.json"].source == "http://x/1" and by_id["c.json"].published == "2025-09-22"
    assert "invest up to $100 billion in OpenAI" in by_id["d.html"].text
    assert by_id["d.html"].title == "Deal news"


def test_bad_files_each_get_a_problem_and_the_rest_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"%PDF-1.7\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Société Générale said it will invest in the café chain".encode("latin-1"))
    (tmp_path / "french.txt").write_text(
        "Le groupe a annoncé lundi un investissement de cinq milliards de dollars dans une jeune pousse "
        "française, qui utilisera ces fonds pour acheter des puces et louer des capacités de calcul "
        "auprès de plusieurs fournisseurs européens au cours des prochaines années.", encoding="utf-8")
    (tmp_path / "big.txt").write_text(ARTICLE * 20, encoding="utf-8")
    (tmp_path / "bad.json").write_text('{"title": "no text"}', encoding="utf-8")
    monkeypatch.setattr(documents, "MAX_BYTES", 2000)
    docs, problems = read_documents([tmp_path, tmp_path / "missing.txt"])
    assert [d.doc for d in docs] == ["good.txt"]
    kinds = {Path(p.path).name: p.kind for p in problems}
    assert kinds == {"empty.txt": "empty", "binary.txt": "binary", "latin1.txt": "encoding",
                     "french.txt": "not_english", "big.txt": "too_large", "bad.json": "bad_json",
                     "missing.txt": "missing"}
    for problem in problems:
        assert problem.message  # says what is wrong and what to do
    assert "iconv" in next(p.message for p in problems if p.kind == "encoding")


def test_unsupported_extension_named_directly(tmp_path: Path) -> None:
    path = tmp_path / "deck.pdf"
    path.write_bytes(b"%PDF")
    docs, problems = read_documents([path])
    assert docs == [] and problems[0].kind == "unsupported"


def test_front_matter_states_where_and_when_a_file_was_published(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text("---\nurl: https://news.example/acme-birch\ntitle: Acme backs Birch\noutlet: Example News\n"
                    "date: 22 September 2025\n---\nAcme Chips will invest $2 billion in Birch AI.\n", encoding="utf-8")
    (document,), problems = read_documents([path])
    assert problems == []
    assert document.text.startswith("Acme Chips will invest")  # the block is not part of the text
    assert document.provenance() == {"url": "https://news.example/acme-birch", "title": "Acme backs Birch",
                                     "outlet": "Example News", "published": "2025-09-22", "date_basis": "stated",
                                     "form": None, "filer": None}


def test_bad_or_missing_metadata_falls_back_never_fails(tmp_path: Path) -> None:
    import os

    plain = tmp_path / "plain.txt"
    plain.write_text("Acme Chips will invest $2 billion in Birch AI, the company said on Monday.\n", encoding="utf-8")
    os.utime(plain, (1_700_000_000, 1_700_000_000))  # 2023-11-14
    odd = tmp_path / "odd.txt"
    odd.write_text("---\nurl: /relative/path\ndate: sometime soon\n---\nAcme Chips will invest $2 billion in Birch AI, "
                   "the company said.\n", encoding="utf-8")
    os.utime(odd, (1_700_000_000, 1_700_000_000))
    documents, problems = read_documents([plain, odd])
    assert problems == []
    by_name = {d.doc: d for d in documents}
    assert (by_name["plain.txt"].published, by_name["plain.txt"].date_basis) == ("2023-11-14", "file_modified")
    # An unparsable date and a relative URL are dropped: the file's date stands in, marked as such.
    assert by_name["odd.txt"].url is None
    assert (by_name["odd.txt"].published, by_name["odd.txt"].date_basis) == ("2023-11-14", "file_modified")


def test_a_front_matter_block_with_unknown_keys_is_a_named_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("---\nauthor: someone\n---\nAcme Chips will invest $2 billion in Birch AI today.\n", encoding="utf-8")
    documents, problems = read_documents([path])
    assert documents == [] and problems[0].kind == "bad_front_matter" and "author" in problems[0].message
