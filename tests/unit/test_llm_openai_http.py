"""The real provider path: ``init_chat_model`` + langchain-openai against an OpenAI-compatible server.

The server is a scripted fixture on 127.0.0.1 (no network): it checks what the client sends and
answers with canned completions or HTTP errors, so the SDK's own error types (429, 500, 401) meet
our retry and configuration handling.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tenacity import wait_none

pytest.importorskip("langchain_openai", reason="langchain-openai (the 'openai' extra) is not installed")

from extractors.llm import LLMExtractor, RetryPolicy
from extractors.pipeline import Passage
from extractors.resolve import CompanyResolver
from ouroboros.core.errors import ConfigError
from ouroboros.core.records import DealRecord
from ouroboros.core.settings import get_settings

TEXT = "Oracle reportedly committed roughly $40 billion to buy NVIDIA chips."
DEAL = {"kind": "purchase", "investor": "Oracle", "recipient": "NVIDIA", "amount_text": "roughly $40 billion",
        "amount_usd": 4e10, "status": "reported", "evidence": TEXT}


def completion(content: str) -> dict:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "local-model",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1500, "completion_tokens": 60, "total_tokens": 1560},
    }


class Scripted(ThreadingHTTPServer):
    """Answers each POST with the next (status, body) of ``script``; records the request bodies."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script: list[tuple[int, dict]] = []
        self.requests: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        status, answer = self.server.script.pop(0)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Scripted]:
    httpd = Scripted()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OUROBOROS_LLM", "openai:local-model")
    monkeypatch.setenv("OUROBOROS_LLM_BASE_URL", f"http://127.0.0.1:{httpd.server_port}/v1")
    monkeypatch.setenv("OUROBOROS_HOME", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    get_settings.cache_clear()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    get_settings.cache_clear()


class Fallback:
    name = "spacy"

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        return [DealRecord(doc=doc, kind="purchase", investor="Oracle", recipient="NVIDIA", evidence=TEXT)]


def extractor() -> LLMExtractor:
    return LLMExtractor(
        passages=lambda text: [Passage(text=TEXT, start_char=0, end_char=len(TEXT), context="")],
        fallback=Fallback(), resolver=CompanyResolver(use_embeddings=False),
        retry=RetryPolicy(attempts=3, wait=wait_none()),
    )


def test_local_server_answers_through_json_mode(server: Scripted) -> None:
    server.script = [(200, completion(json.dumps({"deals": [DEAL]})))]
    llm = extractor()
    records = llm.extract(TEXT, "d.txt")
    assert [(r.investor, r.recipient, r.amount_usd, r.status) for r in records] == [
        ("Oracle", "NVIDIA", 4e10, "reported")]
    [request] = server.requests
    assert request["model"] == "local-model" and request["temperature"] == 0
    assert request["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in request["messages"]] == ["system", "user"]
    assert TEXT in request["messages"][1]["content"] and TEXT not in request["messages"][0]["content"]
    report = llm.report.as_dict()
    assert (report["input_tokens"], report["output_tokens"], report["cost_usd"]) == (1500, 60, 0.0)


def test_rate_limit_is_retried(server: Scripted) -> None:
    error = {"error": {"message": "slow down", "type": "rate_limit_error"}}
    server.script = [(429, error), (429, error), (200, completion(json.dumps({"deals": [DEAL]})))]
    llm = extractor()
    assert len(llm.extract(TEXT, "d.txt")) == 1
    assert len(server.requests) == 3 and llm.report.calls == 3


def test_server_errors_fall_back_to_spacy(server: Scripted) -> None:
    server.script = [(500, {"error": {"message": "boom"}})] * 3
    llm = extractor()
    records = llm.extract(TEXT, "d.txt")
    assert [r.extractor for r in records] == ["spacy"] and llm.report.needs_llm_retry == ["d.txt"]


def test_rejected_key_is_a_config_error(server: Scripted) -> None:
    server.script = [(401, {"error": {"message": "invalid api key"}})]
    with pytest.raises(ConfigError, match="OUROBOROS_LLM"):
        extractor().extract(TEXT, "d.txt")
    assert len(server.requests) == 1  # not retried
