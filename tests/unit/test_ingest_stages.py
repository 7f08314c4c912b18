"""Ingestion stages that need no services: skip lists, gathering, extraction errors, runners, schedules."""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from extractors.registry import register_extractor
from flows import stages
from flows.dedupe import KnownDocument
from flows.deploy import build_deployment, build_task_runner
from flows.ingest import extract_task, ingest_flow
from flows.progress import IngestProgress, listening
from flows.sources import Schedule
from ouroboros.core.errors import ConfigError, ExtractionError
from ouroboros.core.records import DealRecord, SourceDocument


@register_extractor("test-ingest-toy")
class ToyExtractor:
    """One investment per line 'A invests in B'; a line 'boom' is an extractor bug."""

    name = "test-ingest-toy"

    def extract(self, text: str, doc: str) -> list[DealRecord]:
        records = []
        for line in text.splitlines():
            if line == "boom":
                raise ZeroDivisionError("toy bug")
            if " invests in " in line:
                investor, recipient = line.split(" invests in ")
                records.append(DealRecord(doc=doc, kind="investment", investor=investor, recipient=recipient,
                                          evidence=line))
        return records


def test_skip_urls_are_loaded_documents_their_sources_and_given_up_ones() -> None:
    known = [
        KnownDocument("a", "h1", "loaded", "https://x.example/a", ("https://x.example/a", "https://y.example/a")),
        KnownDocument("b", "h2", "failed", "https://x.example/b", attempts=1),
        KnownDocument("c", "h3", "failed", "https://x.example/c", attempts=3),
        KnownDocument("d", "h4", "fetched", "https://x.example/d"),
    ]
    assert stages.skip_urls(known, max_attempts=3) == {
        "https://x.example/a", "https://y.example/a", "https://x.example/c"
    }


def test_gather_normalises_and_prefers_a_fresh_copy() -> None:
    fresh = SourceDocument(doc="https://x.example/a?utm_source=f", text="new  text", source="https://x.example/a")
    stored = SourceDocument(doc="https://x.example/a", text="old text", source="https://x.example/a")
    other = SourceDocument(doc="notes.txt", text=" kept \n", source="/data/notes.txt")
    gathered = stages.gather([fresh], [stored, other])
    assert [(d.doc, d.text) for d in gathered] == [("https://x.example/a", "new text"), ("notes.txt", "kept")]


def test_extract_task_logic_and_failure_naming_the_document() -> None:
    ok = SourceDocument(doc="d1", text="Lumora Systems invests in Brightwater AI", source="d1")
    (record,) = extract_task.fn("test-ingest-toy", ok).records
    assert (record.doc, record.investor, record.recipient) == ("d1", "Lumora Systems", "Brightwater AI")
    with pytest.raises(ExtractionError, match=r"extractor 'test-ingest-toy' failed on d2: ZeroDivisionError"):
        extract_task.fn("test-ingest-toy", SourceDocument(doc="d2", text="boom", source="d2"))


def test_task_runners() -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(build_task_runner("thread"), ThreadPoolTaskRunner)
    remote = build_task_runner("dask", "tcp://10.0.0.5:8786")
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    local = build_task_runner("dask", workers=1, threads=2)
    assert local.address is None and local.cluster_kwargs == {"n_workers": 1, "threads_per_worker": 2, "processes": True}
    with pytest.raises(ConfigError, match="needs --task-runner dask"):
        build_task_runner("thread", "tcp://10.0.0.5:8786")
    with pytest.raises(ConfigError, match="tcp://scheduler-host:8786"):
        build_task_runner("dask", "10.0.0.5")
    with pytest.raises(ConfigError, match="unknown task runner"):
        build_task_runner("ray")  # type: ignore[arg-type]


def test_deployment_takes_the_schedule_of_the_sources_file(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    cron = build_deployment(Schedule(cron="15 */6 * * *"), sources, {"extractor": "spacy"})
    (schedule,) = cron.schedules
    assert schedule.schedule.cron == "15 */6 * * *"
    assert cron.parameters == {"sources": str(sources.resolve()), "extractor": "spacy"}
    assert cron.concurrency_limit == 1  # one loader at a time
    every = build_deployment(Schedule(interval=timedelta(hours=2)), sources)
    assert every.schedules[0].schedule.interval == timedelta(hours=2)


def test_progress_counts_logs_and_tells_the_listener(caplog: pytest.LogCaptureFixture) -> None:
    heard: list[tuple[str, str, int]] = []

    class Listener:
        def expect(self, stage: str, total: int) -> None:
            heard.append(("expect", stage, total))

        def advance(self, stage: str, count: int) -> None:
            heard.append(("advance", stage, count))

    logger = logging.getLogger("test.ingest.progress")
    with caplog.at_level(logging.INFO, logger.name), listening(Listener()):
        progress = IngestProgress(logger)
        progress.expect("fetched", 3)
        progress.advance("fetched", 3)
        progress.advance("extracted")
        progress.log("fetched", "1 problem")
    assert progress.counts == {"fetched": 3, "extracted": 1, "loaded": 0}
    assert heard == [("expect", "fetched", 3), ("advance", "fetched", 3), ("advance", "extracted", 1)]
    assert "documents fetched: 3 (1 problem)" in caplog.text
    IngestProgress(logger).advance("loaded")  # outside the block nobody listens: nothing breaks
    assert len(heard) == 3


def test_flow_stops_on_extractor_configuration_before_touching_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest_flow
    from ouroboros.core.settings import get_settings

    monkeypatch.delenv("OUROBOROS_LLM", raising=False)
    monkeypatch.setenv("OUROBOROS_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    stages.cached_extractor.cache_clear()
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"folders: [{{path: {tmp_path}}}]\n", encoding="utf-8")
    try:
        with pytest.raises(ConfigError, match="OUROBOROS_LLM"):
            ingest_flow.fn(sources=str(sources), extractor="llm")
    finally:
        get_settings.cache_clear()
    # Nothing was started or written: the data folder was never created.
    assert not (tmp_path / "home").exists()


def test_every_prefect_yaml_deployment_loads_its_flow_and_one_schedule_is_active() -> None:
    from prefect.flows import load_flow_from_entrypoint

    root = Path(__file__).resolve().parents[2]
    deployments = yaml.safe_load((root / "prefect.yaml").read_text())["deployments"]
    assert {d["name"] for d in deployments} == {"scheduled", "scheduled-dask"}
    for deployment in deployments:
        path, _, name = deployment["entrypoint"].partition(":")
        flow = load_flow_from_entrypoint(f"{root / path}:{name}")
        assert flow.name == ingest_flow.name, deployment["name"]
        assert deployment["concurrency_limit"] == 1
    active = [d["name"] for d in deployments for s in d["schedules"] if s["active"]]
    assert active == ["scheduled"]  # two active schedules would make two writers race


def test_dask_entrypoint_reads_the_cluster_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_dask import DaskTaskRunner

    import flows.dask_entry

    monkeypatch.setenv(flows.dask_entry.DASK_ADDRESS_VARIABLE, "tcp://10.0.0.7:8786")
    runner = importlib.reload(flows.dask_entry).ingest_flow_on_dask.task_runner
    assert isinstance(runner, DaskTaskRunner) and runner.address == "tcp://10.0.0.7:8786"
    monkeypatch.delenv(flows.dask_entry.DASK_ADDRESS_VARIABLE)
    runner = importlib.reload(flows.dask_entry).ingest_flow_on_dask.task_runner
    assert isinstance(runner, DaskTaskRunner) and runner.address is None  # a local cluster on the worker
