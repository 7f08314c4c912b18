"""Alerts: each loop is reported once per destination, and again only when it changes.

A loop changes when an edge gains a kind of flow (e.g. a purchase now backs an investment),
an edge's amount grows beyond what was last reported, or an edge's statuses (or tentative flag)
change. A new document restating the same facts, or a smaller amount, is not news.

State lives in Neo4j (``(:Alert)``, ``cypher/alerts.cypher``): an alert is marked pending before
delivery and sent after it, so a failed delivery is kept and retried by the next export, and a
delivered one is not sent again. Each delivery carries an id (``delivery_id``: loop, destination,
content) that a receiver can use to drop the duplicate a crash between delivery and bookkeeping
could cause.

Destinations: a folder (default ``$OUROBOROS_HOME/alerts/``; one new file per export), a file
(``.jsonl``/``.csv`` appended, ``.md`` replaced), or an ``http(s)://`` webhook (one Slack-compatible
POST per alert, retried with exponential backoff).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import httpx
from filelock import FileLock
from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable

from graph.loops import Loop, find_loops, loop_csv_row
from graph.queries import run_query
from ouroboros.core.errors import ConfigError, DeliveryError, GraphError
from ouroboros.core.files import write_atomic
from ouroboros.core.formatting import format_usd, now_iso
from ouroboros.core.ids import stable_hash

log = logging.getLogger(__name__)

AlertFormat = Literal["jsonl", "csv", "md"]
FORMATS: tuple[str, ...] = get_args(AlertFormat)
ALERT_CSV_COLUMNS = ("delivery_id", "loop_id", "reason", "created_at", "length", "orgs", "score", "money_usd",
                     "tentative", "first_seen", "edges")


@dataclass(frozen=True)
class ExportSummary:
    """What one export did."""

    destination: str
    format: str
    loops: int
    due: int
    delivered: int
    failed: int
    files: tuple[Path, ...] = ()
    errors: tuple[str, ...] = ()
    pictures: bool = True
    chains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    """One loop to report, why, and the state it reports."""

    id: str
    loop: Loop
    reason: str
    state: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        return stable_hash(json.dumps(self.state, sort_keys=True, ensure_ascii=False))

    @property
    def delivery_id(self) -> str:
        """Same loop, destination and content: same id (receivers may drop repeats)."""
        return stable_hash("delivery", self.id, self.fingerprint)


def alert_state(loop: Loop) -> dict[str, Any]:
    """What an alert reports about a loop, per edge: its kinds, amount, statuses and tentative flag."""
    return {
        "edges": {
            f"{e.source}\x1f{e.target}": {
                "kinds": sorted(e.kind.split("+")), "amount_usd": e.amount_usd,
                "statuses": sorted(e.statuses), "tentative": e.tentative,
            }
            for e in loop.edges
        }
    }


def change_reason(sent: dict[str, Any] | None, current: dict[str, Any]) -> str | None:
    """Why ``current`` is news compared with what was last ``sent``; None when it is not."""
    if sent is None:
        return "new loop"
    reasons: list[str] = []
    for key, now in current["edges"].items():
        before = sent["edges"].get(key)
        if before is None or not set(now["kinds"]) <= set(before["kinds"]):
            reasons.append("new edge")
        if now["amount_usd"] is not None and (before is None or before["amount_usd"] is None
                                              or now["amount_usd"] > before["amount_usd"]):
            reasons.append("larger amount")
        if before is not None and (now["statuses"] != before["statuses"] or now["tentative"] != before["tentative"]):
            reasons.append("status change")
    return ", ".join(dict.fromkeys(reasons)) or None


def channel_of(destination: str) -> str:
    """The name alert state is kept under: the destination, whatever the format written there.

    A webhook is kept under a hash of its URL (it often holds a secret).
    """
    if is_url(destination):
        return "webhook:" + stable_hash(destination)
    return f"file:{Path(destination).expanduser().resolve()}"


def is_url(destination: str) -> bool:
    """Whether the destination is a webhook URL."""
    return destination.startswith(("http://", "https://"))


def resolve_format(destination: str, fmt: str | None) -> str:
    """The format to write: as given, else from a file's suffix, else the Markdown report (a folder)."""
    suffix = Path(destination).suffix.lstrip(".").lower()
    chosen = fmt or (suffix if suffix in FORMATS else "md")
    if chosen not in FORMATS:
        raise ConfigError(f"unknown alert format {chosen!r}; use one of {', '.join(FORMATS)}")
    if not is_url(destination) and suffix in FORMATS and suffix != chosen:
        raise ConfigError(f"--to {destination} is a .{suffix} file but --format is {chosen}; make them agree")
    return chosen


def alert_record(alert: Alert, created_at: str) -> dict[str, Any]:
    """The JSON Lines shape of an alert: why, when, and the loop as ``ouroboros loops`` prints it."""
    return {
        "delivery_id": alert.delivery_id, "loop_id": alert.loop.id, "reason": alert.reason,
        "created_at": created_at, "loop": alert.loop.to_dict(),
    }


def render_jsonl(alerts: Sequence[Alert], created_at: str) -> str:
    return "".join(json.dumps(alert_record(a, created_at), ensure_ascii=False) + "\n" for a in alerts)


def render_csv(alerts: Sequence[Alert], created_at: str, *, header: bool = True) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ALERT_CSV_COLUMNS, lineterminator="\n")
    if header:
        writer.writeheader()
    for alert in alerts:
        row = loop_csv_row(alert.loop)
        del row["id"]
        writer.writerow({"delivery_id": alert.delivery_id, "loop_id": alert.loop.id, "reason": alert.reason,
                         "created_at": created_at, **row})
    return buffer.getvalue()


def loop_dot_source(loop: Loop) -> Any:
    """The loop as a graphviz digraph, edges labelled with kind and amount."""
    import graphviz

    graph = graphviz.Digraph(graph_attr={"rankdir": "LR", "bgcolor": "white"},
                             node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "#e8f0fe",
                                        "fontname": "Helvetica"},
                             edge_attr={"fontname": "Helvetica", "fontsize": "10"})
    for index, org in enumerate(loop.orgs):
        graph.node(f"n{index}", label=graphviz.escape(picture_label(org)))  # a backslash in a name is text
    position = {org: i for i, org in enumerate(loop.orgs)}
    for edge in loop.edges:
        style = "dashed" if edge.tentative else "solid"
        graph.edge(f"n{position[edge.source]}", f"n{position[edge.target]}",
                   label=graphviz.escape(f"{edge.kind}\n{format_usd(edge.amount_usd)}"), style=style)
    return graph


def picture_label(text: str, limit: int = 60) -> str:
    """A name as a picture shows it: control characters dropped, long names cut with an ellipsis."""
    clean = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch == "\n")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def draw_loop_svg(loop: Loop) -> str | None:
    """The loop drawn as SVG with graphviz ``dot``; None when ``dot`` is not installed.

    Raises:
        graphviz.CalledProcessError: ``dot`` refused this loop (the report goes on without its picture).
    """
    import graphviz

    try:
        return loop_dot_source(loop).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        return None


def _md_cell(text: object) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(alerts: Sequence[Alert], created_at: str, pictures: dict[str, str]) -> str:
    """A Markdown report: per loop, why it is news, its picture, and each edge with its evidence.

    ``pictures`` maps a loop id to the picture's path relative to the report.
    """
    lines = [f"# Ouroboros loop alerts, {created_at}", "",
             f"{len(alerts)} loop(s) new or changed. Score: money around the loop, sources per edge, recency "
             "(see docs/graph.md).", ""]
    for number, alert in enumerate(alerts, start=1):
        loop = alert.loop
        money = format_usd(loop.score_parts.get("money_usd"))
        lines += [f"## {number}. {_md_cell(loop.chain)}", "",
                  f"- why: {alert.reason}", f"- score: {loop.score}", f"- money around the loop: {money}",
                  f"- tentative: {'yes' if loop.tentative else 'no'}", f"- first seen: {loop.first_seen}",
                  f"- loop id: `{loop.id}`, delivery id: `{alert.delivery_id}`", ""]
        if loop.id in pictures:
            lines += [f"![{_md_cell(loop.chain)}]({pictures[loop.id]})", ""]
        lines += ["| from | to | kind | amount | status | evidence |", "|---|---|---|---|---|---|"]
        for edge in loop.edges:
            evidence = "<br>".join(f"{_md_cell(e['doc'])}: {_md_cell(e['text']) or '(no sentence)'}"
                                   for e in edge.evidence)
            lines.append(f"| {_md_cell(edge.source)} | {_md_cell(edge.target)} | {edge.kind} | "
                         f"{format_usd(edge.amount_usd)} | {', '.join(edge.statuses)} | {evidence} |")
        lines.append("")
    return "\n".join(lines)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(alert: Alert, created_at: str) -> dict[str, Any]:
    """A Slack-compatible message (``text`` + ``blocks``) with the full alert in ``metadata``."""
    loop = alert.loop
    chain = _slack_escape(loop.chain)
    headline = f"Loop ({alert.reason}): {loop.chain}"
    edges = "\n".join(
        f"• {_slack_escape(e.source)} → {_slack_escape(e.target)}: {e.kind} {format_usd(e.amount_usd)}"
        f" ({', '.join(e.statuses)}; {len(e.docs)} source(s))"
        for e in loop.edges
    )
    return {
        "text": headline,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"Ouroboros: {alert.reason}"[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                f"*{chain}*\nscore {loop.score} · money around {format_usd(loop.score_parts.get('money_usd'))}"
                f"{' · tentative' if loop.tentative else ''}")[:3000]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": edges[:3000]}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": f"loop `{loop.id}` · delivery `{alert.delivery_id}` · {created_at}"}]},
        ],
        "metadata": {"event_type": "ouroboros_loop_alert", "event_payload": alert_record(alert, created_at)},
    }


def due_alerts(loops: Sequence[Loop], channel: str, stored: dict[str, dict[str, Any]]) -> list[Alert]:
    """The alerts to deliver now: new or changed loops, and pending ones (retried as they are now)."""
    alerts: list[Alert] = []
    for loop in loops:
        alert_id = stable_hash("alert", channel, loop.id)
        row = stored.get(alert_id, {})
        sent = json.loads(row["sent_state"]) if row.get("sent_state") else None
        state = alert_state(loop)
        reason = change_reason(sent, state)
        if reason is None and row.get("pending"):
            reason = "retry"
        if reason is not None:
            alerts.append(Alert(id=alert_id, loop=loop, reason=reason, state=state))
    return alerts


def export_alerts(
    driver: Driver,
    destination: str | Path | None = None,
    fmt: str | None = None,
    *,
    loops: Sequence[Loop] | None = None,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 10.0,
    deadline_s: float = 120.0,
) -> ExportSummary:
    """Deliver the alerts that are due to ``destination`` and record them in Neo4j.

    Args:
        driver: An open Neo4j driver.
        destination: A folder, a ``.jsonl``/``.csv``/``.md`` file or an ``http(s)://`` webhook;
            default ``$OUROBOROS_HOME/alerts/``.
        fmt: ``jsonl``, ``csv`` or ``md`` (ignored for webhooks); default from the file suffix, else jsonl.
        loops: The loops to consider (default: ``find_loops(driver)``).
        retries: Webhook attempts per alert before it is left pending.
        backoff_s: First wait between webhook attempts; doubles each time.
        timeout_s: Webhook request timeout.
        deadline_s: The whole webhook delivery ends by then; alerts not sent stay pending.

    Returns:
        The summary; ``failed`` > 0 means some alerts stay pending for the next export.
    """
    if destination is None:
        from ouroboros.core.settings import get_settings

        destination = get_settings().home_dir / "alerts"
    target = str(destination)
    chosen = resolve_format(target, fmt)
    channel = channel_of(target)
    found = list(loops) if loops is not None else find_loops(driver)
    try:
        with driver.session() as session:
            stored = {row["id"]: row for row in run_query(session, "channel_alerts", channel=channel).data()}
        alerts = due_alerts(found, channel, stored)
        if not alerts:
            return ExportSummary(target, chosen, len(found), 0, 0, 0)
        _record(driver, "mark_alerts_pending", rows=[
            {"id": a.id, "loop_id": a.loop.id, "channel": channel, "orgs": list(a.loop.orgs)} for a in alerts
        ], now=now_iso())
        if is_url(target):
            summary = _deliver_webhook(driver, target, alerts, retries, backoff_s, timeout_s, deadline_s)
        else:
            summary = _deliver_file(driver, Path(target).expanduser(), chosen, alerts)
    except OSError as e:
        raise DeliveryError(
            f"cannot write alerts to {target}: {e}; fix the path or its permissions, the {len(alerts)} alert(s) "
            "are kept and written by the next export"
        ) from e
    except (Neo4jError, ServiceUnavailable) as e:
        raise GraphError(f"recording alert state failed: {e}; nothing was marked sent, rerun the export") from e
    shown = mask_url(target) if is_url(target) else target
    return ExportSummary(shown, "webhook" if is_url(target) else chosen, len(found), len(alerts), **summary)


def _record(driver: Driver, name: str, /, **params: Any) -> None:
    with driver.session() as session:
        session.execute_write(lambda tx: run_query(tx, name, **params).consume())


def _mark_sent(driver: Driver, alerts: Sequence[Alert]) -> None:
    _record(driver, "mark_alerts_sent", rows=[
        {"id": a.id, "state": json.dumps(a.state, sort_keys=True, ensure_ascii=False), "fingerprint": a.fingerprint}
        for a in alerts
    ], now=now_iso())


def _deliver_file(driver: Driver, target: Path, fmt: str, alerts: Sequence[Alert]) -> dict[str, Any]:
    created_at = now_iso()
    if target.suffix.lstrip(".").lower() in FORMATS:
        path, folder = target, target.parent
    else:
        folder = target
        # Milliseconds, so that file names sort in the order the exports ran.
        now = datetime.now(UTC)
        stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
        path = folder / f"alerts-{stamp}.{fmt}"
        counter = 2
        while path.exists():
            path = folder / f"alerts-{stamp}-{counter}.{fmt}"
            counter += 1
    folder.mkdir(parents=True, exist_ok=True)
    if path != target:  # a new file of its own: nobody else writes it
        return _write_file(driver, path, folder, fmt, alerts, created_at)
    # Another export (another home on the same graph) may append to the same file: take turns.
    with FileLock(path.with_name(f".{path.name}.lock"), timeout=60):
        return _write_file(driver, path, folder, fmt, alerts, created_at)


def _write_file(
    driver: Driver, path: Path, folder: Path, fmt: str, alerts: Sequence[Alert], created_at: str
) -> dict[str, Any]:
    files: list[Path] = [path]
    pictures_ok = True
    if fmt == "jsonl":
        content = _existing(path) + render_jsonl(alerts, created_at)
    elif fmt == "csv":
        old = _existing(path)
        content = old + render_csv(alerts, created_at, header=not old)
    else:
        pictures: dict[str, str] = {}
        picture_dir = folder / f"{path.stem}-pictures"
        for alert in alerts:
            try:
                svg = draw_loop_svg(alert.loop)
            except Exception as e:  # one loop dot cannot draw costs its picture, never the report
                log.warning("no picture for loop %s: graphviz failed (%s)", alert.loop.id, e)
                continue
            if svg is None:
                pictures_ok = False
                break
            picture_dir.mkdir(exist_ok=True)
            picture = picture_dir / f"{alert.loop.id}.svg"
            write_atomic(picture, svg)
            files.append(picture)
            pictures[alert.loop.id] = f"{picture_dir.name}/{picture.name}"
        content = render_markdown(alerts, created_at, pictures)
        if not pictures_ok:
            content += ("\n> Pictures are missing: graphviz `dot` is not installed "
                        "(Debian/Ubuntu: `apt-get install graphviz`).\n")
    write_atomic(path, content)
    _mark_sent(driver, alerts)
    return {"delivered": len(alerts), "failed": 0, "files": tuple(files), "pictures": pictures_ok,
            "chains": tuple(a.loop.chain for a in alerts)}


def _existing(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def mask_url(url: str) -> str:
    """A webhook URL fit to print: scheme and host only (paths and queries of webhooks carry tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/***" if parts.path.strip("/") or parts.query else f"{parts.scheme}://{host}{port}"


def _deliver_webhook(
    driver: Driver, url: str, alerts: Sequence[Alert], retries: int, backoff_s: float, timeout_s: float,
    deadline_s: float,
) -> dict[str, Any]:
    delivered = failed = 0
    errors: list[str] = []
    chains: list[str] = []
    created_at = now_iso()
    deadline = time.monotonic() + deadline_s
    with httpx.Client(timeout=timeout_s) as client:
        for alert in alerts:
            if time.monotonic() >= deadline:
                # Left pending (they were marked so before delivery): the next export sends them.
                failed += 1
                errors.append(f"{alert.loop.chain}: export deadline of {deadline_s:.0f} s reached")
                continue
            error = _post_with_retries(client, url, alert, created_at, retries, backoff_s, deadline)
            if error is not None:
                error = error.replace(url, mask_url(url))
            if error is None:
                _mark_sent(driver, [alert])
                delivered += 1
                chains.append(alert.loop.chain)
            else:
                _record(driver, "mark_alerts_failed", rows=[{"id": alert.id, "error": error}])
                failed += 1
                errors.append(f"{alert.loop.chain}: {error}")
    return {"delivered": delivered, "failed": failed, "errors": tuple(errors), "chains": tuple(chains)}


def _post_with_retries(
    client: httpx.Client, url: str, alert: Alert, created_at: str, retries: int, backoff_s: float, deadline: float
) -> str | None:
    """POST one alert; retry server errors and timeouts with exponential backoff. None on success."""
    error = "not attempted"
    for attempt in range(max(retries, 1)):
        if attempt:
            pause = backoff_s * 2 ** (attempt - 1)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        try:
            response = client.post(url, json=slack_payload(alert, created_at),
                                   headers={"Idempotency-Key": alert.delivery_id})
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
            continue
        if response.is_success:
            return None
        error = f"HTTP {response.status_code}"
        if response.status_code < 500 and response.status_code not in (408, 429):
            break  # the receiver rejects this request; repeating it now will not help
    return error
