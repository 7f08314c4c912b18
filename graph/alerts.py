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
(``.jsonl``/``.csv`` appended, ``.md`` replaced), an ``http(s)://`` webhook (one Slack-compatible
POST per alert, retried with exponential backoff), or any other URL Apprise knows
(``json://``, ``mailto://``, ``msteams://``, ``discord://``, ``tgram://``, ``apprise://`` ...),
sent through Apprise. ``digest=True`` sends one message per export listing every new or changed
loop instead of one per loop (webhooks and Apprise).

A loop an analyst dismissed (``ouroboros review dismiss``) stays quiet until it changes from the
state it was dismissed in. The corrections in force are applied first (``graph.review``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import httpx
from filelock import FileLock
from neo4j import Driver
from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

from graph.exposure import Exposure, compute_exposure, format_share, read_flows
from graph.loops import Loop, find_loops
from graph.model import MAX_LOOP_LENGTH
from graph.queries import run_query, server_gone
from graph.review import in_force, new_review, record
from ouroboros.core.errors import ConfigError, DeliveryError, GraphError, InputError
from ouroboros.core.files import write_atomic
from ouroboros.core.formatting import format_usd, now_iso
from ouroboros.core.ids import stable_hash

log = logging.getLogger(__name__)

AlertFormat = Literal["jsonl", "csv", "md"]
FORMATS: tuple[str, ...] = get_args(AlertFormat)
# One row per leg, so a spreadsheet sorts and filters legs by date, company or outlet.
ALERT_CSV_COLUMNS = ("delivery_id", "loop_id", "reason", "created_at", "loop", "leg", "from", "to", "kind",
                     "amount_usd", "announced", "sentence", "title", "url", "outlet", "score", "money_usd",
                     "tentative", "first_announced")


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
    dismissed: int = 0
    messages: int = 0


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
    if is_apprise(destination):
        return "apprise:" + stable_hash(destination)
    return f"file:{Path(destination).expanduser().resolve()}"


def is_url(destination: str) -> bool:
    """Whether the destination is a (Slack-style) webhook URL."""
    return destination.startswith(("http://", "https://"))


def is_apprise(destination: str) -> bool:
    """Whether the destination is a URL for Apprise: any ``scheme://`` but http(s) and file."""
    scheme, sep, _ = destination.partition("://")
    return bool(sep) and scheme.isascii() and scheme.replace("+", "").replace("-", "").isalnum() \
        and scheme.lower() not in ("http", "https", "file")


def is_channel(destination: str) -> bool:
    """Whether alerts go out as messages (webhook or Apprise), not into a file."""
    return is_url(destination) or is_apprise(destination)


def resolve_format(destination: str, fmt: str | None) -> str:
    """The format to write: as given, else from a file's suffix, else the Markdown report (a folder)."""
    suffix = Path(destination).suffix.lstrip(".").lower()
    chosen = fmt or (suffix if suffix in FORMATS else "md")
    if chosen not in FORMATS:
        raise ConfigError(f"unknown alert format {chosen!r}; use one of {', '.join(FORMATS)}")
    if not is_channel(destination) and suffix in FORMATS and suffix != chosen:
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
        loop = alert.loop
        for number, edge in enumerate(loop.edges, start=1):
            # The leg's first publication is what a citation points at; later restatements follow in the JSON.
            cited = min(edge.evidence, key=lambda e: str(e.get("published") or "9999"), default={})
            writer.writerow({
                "delivery_id": alert.delivery_id, "loop_id": loop.id, "reason": alert.reason,
                "created_at": created_at, "loop": loop.chain, "leg": number, "from": edge.source, "to": edge.target,
                "kind": edge.kind, "amount_usd": edge.amount_usd, "announced": edge.announced,
                "sentence": cited.get("text"), "title": cited.get("title"), "url": cited.get("url"),
                "outlet": cited.get("outlet"), "score": loop.score, "money_usd": loop.score_parts.get("money_usd"),
                "tentative": loop.tentative, "first_announced": loop.first_announced,
            })
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


@dataclass(frozen=True)
class ReportContext:
    """What a report or a digest says around the loops: round-trip shares and the documents' dates and links."""

    shares: dict[str, Exposure] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def docs(self, loop: Loop) -> list[str]:
        return sorted({d for e in loop.edges for d in e.docs})

    def first_announced(self, loop: Loop) -> str | None:
        """The earliest publication date of a document stating one of the loop's flows."""
        dates = [str(self.documents[d]["published"])[:10] for d in self.docs(loop)
                 if d in self.documents and self.documents[d].get("published")]
        return min(dates, default=None)

    def links(self, loop: Loop) -> list[tuple[str, str]]:
        """(title, URL) of the loop's documents that have a web address."""
        found = []
        for doc in self.docs(loop):
            info = self.documents.get(doc, {})
            source = str(info.get("source") or "")
            if source.startswith(("http://", "https://")):
                found.append((str(info.get("title") or doc), source))
        return found

    def share_text(self, loop: Loop) -> str:
        """Each company's round-trip share, in loop order: ``NVIDIA 12% · OpenAI ≥3% · Oracle ?``."""
        parts = []
        for org in loop.orgs:
            item = self.shares.get(org)
            parts.append(f"{org} {format_share(item.share, item.lower_bound) if item else '?'}")
        return " · ".join(parts)


def report_context(driver: Driver, loops: Sequence[Loop]) -> ReportContext:
    """Round-trip shares of the companies on ``loops`` and the documents behind them."""
    shares = {item.company: item for item in compute_exposure(read_flows(driver), loops)}
    docs = sorted({d for loop in loops for e in loop.edges for d in e.docs})
    with driver.session() as session:
        documents = {row["id"]: row for row in run_query(session, "alert_documents", docs=docs).data()}
    return ReportContext(shares, documents)


def _md_citation(item: dict[str, Any]) -> str:
    """One leg's sentence and where it was published: "sentence" ([title](url), outlet, date)."""
    title = _md_cell(item.get("title") or item["doc"]).replace("[", "\\[").replace("]", "\\]")
    url = str(item.get("url") or "")
    source = f"[{title}]({url.replace(' ', '%20').replace(')', '%29')})" if url.startswith(("http://", "https://")) else title
    where = ", ".join([source, *(_md_cell(item[k]) for k in ("outlet", "published") if item.get(k))])
    return f"“{_md_cell(item.get('text') or '') or '(no sentence)'}” ({where})"


def _md_conversions(evidence: Sequence[dict[str, Any]]) -> str:
    """How a leg's USD figure came from another currency: " (€5 billion at 1.1724 USD/EUR, ECB 2025-10-01)"."""
    notes = sorted({f"{e['amount_text']} at {e['fx_rate']} USD/{e['fx_currency']}, ECB {e['fx_rate_date']}"
                    for e in evidence if e.get("fx_rate")})
    return f" ({'; '.join(_md_cell(n) for n in notes)})" if notes else ""


def render_markdown(
    alerts: Sequence[Alert], created_at: str, pictures: dict[str, str], context: ReportContext | None = None
) -> str:
    """A Markdown report: a summary table, then per loop why it is news, its picture and each edge's evidence.

    ``pictures`` maps a loop id to the picture's path relative to the report.
    """
    context = context or ReportContext()
    lines = [f"# Ouroboros loop alerts, {created_at}", "",
             f"{len(alerts)} loop(s) new or changed. Money around a loop is its weakest link; the round-trip "
             "share is the part of a company's inbound money that went around a loop back to it "
             "(see docs/graph.md).", "",
             "| # | loop | money around | round-trip share | first announced | first seen | sources | why |",
             "|---:|---|---:|---|---|---|---:|---|"]
    for number, alert in enumerate(alerts, start=1):
        loop = alert.loop
        lines.append(
            f"| {number} | [{_md_cell(loop.chain)}](#loop-{number}) | {format_usd(loop.score_parts.get('money_usd'))}"
            f"{' (in talks)' if loop.tentative else ''} | {_md_cell(context.share_text(loop))} | "
            f"{loop.first_announced or '?'} | {(loop.first_seen or '?')[:10]} | {len(context.docs(loop))} | "
            f"{alert.reason} |")
    lines.append("")
    for number, alert in enumerate(alerts, start=1):
        loop = alert.loop
        money = format_usd(loop.score_parts.get("money_usd"))
        if loop.unpriced_legs:
            money += f" (no figure for {', '.join(loop.unpriced_legs)})"
        lines += [f'<a id="loop-{number}"></a>', "", f"## {number}. {_md_cell(loop.chain)}", "",
                  f"- why: {alert.reason}", f"- score: {loop.score}", f"- money around the loop: {money}",
                  f"- round-trip share: {_md_cell(context.share_text(loop))}",
                  f"- tentative: {'yes' if loop.tentative else 'no'}", f"- first seen: {loop.first_seen}",
                  f"- loop id: `{loop.id}`, delivery id: `{alert.delivery_id}`", ""]
        if loop.id in pictures:
            lines += [f"![{_md_cell(loop.chain)}]({pictures[loop.id]})", ""]
        lines += ["| from | to | kind | amount | status | announced | evidence |", "|---|---|---|---|---|---|---|"]
        for edge in loop.edges:
            evidence = "<br>".join(_md_citation(e) for e in edge.evidence)
            lines.append(f"| {_md_cell(edge.source)} | {_md_cell(edge.target)} | {edge.kind} | "
                         f"{format_usd(edge.amount_usd)}{_md_conversions(edge.evidence)} | {', '.join(edge.statuses)} | "
                         f"{edge.announced or '?'} | {evidence} |")
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


# Slack accepts at most 50 blocks per message: a header, one section per loop, and a closing line.
DIGEST_MAX_LOOPS = 45


def digest_id(alerts: Sequence[Alert]) -> str:
    """The delivery id of a digest: the same alerts in the same states give the same id."""
    return stable_hash("digest", *sorted(a.delivery_id for a in alerts))


def digest_lines(alert: Alert, context: ReportContext, slack: bool) -> str:
    """One loop of a digest: chain, why, money around, shares, sources with links."""
    loop = alert.loop
    esc = _slack_escape if slack else (lambda t: t)
    if slack:
        links = ", ".join(f"<{url}|{esc(title)}>" for title, url in context.links(loop)[:5])
    else:
        links = ", ".join(f"[{title}]({url})" for title, url in context.links(loop)[:5])
    sources = len(context.docs(loop))
    return (f"*{esc(loop.chain)}* ({alert.reason})\n"
            f"money around {format_usd(loop.score_parts.get('money_usd'))}"
            f"{' · in talks' if loop.tentative else ''} · round-trip share {esc(context.share_text(loop))} · "
            f"first announced {context.first_announced(loop) or '?'} · {sources} source(s)"
            f"{': ' + links if links else ''}")


def digest_payload(alerts: Sequence[Alert], created_at: str, context: ReportContext) -> dict[str, Any]:
    """One Slack-compatible message listing every new or changed loop of an export."""
    shown = alerts[:DIGEST_MAX_LOOPS]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Ouroboros: {len(alerts)} new or changed loop(s)"}}
    ]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": digest_lines(a, context, True)[:3000]}}
               for a in shown]
    more = f" · {len(alerts) - len(shown)} more in the metadata" if len(alerts) > len(shown) else ""
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"digest `{digest_id(alerts)}` · {created_at}{more}"}]})
    return {
        "text": f"Ouroboros: {len(alerts)} new or changed loop(s): " + "; ".join(a.loop.chain for a in shown[:3])
                + (" ..." if len(alerts) > 3 else ""),
        "blocks": blocks,
        "metadata": {"event_type": "ouroboros_loop_digest", "event_payload": {
            "delivery_id": digest_id(alerts), "created_at": created_at,
            "alerts": [alert_record(a, created_at) for a in alerts]}},
    }


def apprise_message(alerts: Sequence[Alert], created_at: str, context: ReportContext) -> tuple[str, str]:
    """(title, Markdown body) of one Apprise notification about ``alerts`` (one loop, or a digest)."""
    if len(alerts) == 1:
        alert = alerts[0]
        title = f"Ouroboros: {alert.reason}: {alert.loop.chain}"
        edges = "\n".join(f"- {e.source} → {e.target}: {e.kind} {format_usd(e.amount_usd)} "
                          f"({', '.join(e.statuses)}; {len(e.docs)} source(s))" for e in alert.loop.edges)
        body = f"{digest_lines(alert, context, False)}\n\n{edges}\n\nloop `{alert.loop.id}` · delivery " \
               f"`{alert.delivery_id}` · {created_at}"
    else:
        title = f"Ouroboros: {len(alerts)} new or changed loop(s)"
        body = "\n\n".join(f"{n}. {digest_lines(a, context, False)}" for n, a in enumerate(alerts, start=1))
        body += f"\n\ndigest `{digest_id(alerts)}` · {created_at}"
    return title[:250], body


def due_alerts(
    loops: Sequence[Loop], channel: str, stored: dict[str, dict[str, Any]],
    dismissed: dict[str, dict[str, Any]] | None = None,
) -> list[Alert]:
    """The alerts to deliver now: new or changed loops, and pending ones (retried as they are now).

    A loop in ``dismissed`` (loop id -> the state it was dismissed in) is quiet until it changes
    from that state.
    """
    alerts: list[Alert] = []
    for loop in loops:
        alert_id = stable_hash("alert", channel, loop.id)
        row = stored.get(alert_id, {})
        sent = json.loads(row["sent_state"]) if row.get("sent_state") else None
        state = alert_state(loop)
        if dismissed and loop.id in dismissed and change_reason(dismissed[loop.id], state) is None:
            continue
        reason = change_reason(sent, state)
        if reason is None and row.get("pending"):
            reason = "retry"
        if reason is not None:
            alerts.append(Alert(id=alert_id, loop=loop, reason=reason, state=state))
    return alerts


def find_loop(driver: Driver, loop_id: str) -> Loop:
    """The loop with this id (or a unique prefix of 8+ characters), of any length.

    Raises:
        InputError: no loop, or several, match.
    """
    loops = find_loops(driver, max_length=MAX_LOOP_LENGTH)
    matches = [lp for lp in loops if lp.id == loop_id or (len(loop_id) >= 8 and lp.id.startswith(loop_id))]
    if not matches:
        raise InputError(f"no loop {loop_id!r} in the graph now; loop ids are in `ouroboros loops`")
    if len(matches) > 1:
        raise InputError(f"loop id prefix {loop_id!r} matches {len(matches)} loops; give more characters")
    return matches[0]


def dismiss_loop(driver: Driver, loop_id: str, *, who: str, why: str = "", undo: bool = False) -> Loop:
    """Quiet a loop's alerts (every destination) until it changes; ``undo`` lets it alert again."""
    loop = find_loop(driver, loop_id)
    if undo:
        record(driver, new_review("undismiss", loop.id, who, why))
    else:
        record(driver, new_review("dismiss", loop.id, who, why, state=alert_state(loop)))
    return loop


def _longest(loops: Sequence[Loop]) -> int:
    return max([6, *(len(loop.orgs) for loop in loops)])


def export_alerts(
    driver: Driver,
    destination: str | Path | None = None,
    fmt: str | None = None,
    *,
    loops: Sequence[Loop] | None = None,
    digest: bool = False,
    retries: int = 3,
    backoff_s: float = 1.0,
    timeout_s: float = 10.0,
    deadline_s: float = 120.0,
) -> ExportSummary:
    """Deliver the alerts that are due to ``destination`` and record them in Neo4j.

    Args:
        driver: An open Neo4j driver.
        destination: A folder, a ``.jsonl``/``.csv``/``.md`` file, an ``http(s)://`` webhook or an
            Apprise URL (``json://``, ``mailto://``, ...); default ``$OUROBOROS_HOME/alerts/``.
        fmt: ``jsonl``, ``csv`` or ``md`` (ignored for messages); default from the file suffix, else md.
        loops: The loops to consider (default: ``find_loops(driver)``); found again when applying
            the analysts' corrections changed the graph.
        digest: Messages only: one message listing every due loop instead of one per loop.
        retries: Attempts per message before its alerts are left pending.
        backoff_s: First wait between attempts; doubles each time.
        timeout_s: Request timeout.
        deadline_s: The whole delivery of messages ends by then; alerts not sent stay pending.

    Returns:
        The summary; ``failed`` > 0 means some alerts stay pending for the next export.
    """
    if destination is None:
        from ouroboros.core.settings import get_settings

        destination = get_settings().home_dir / "alerts"
    target = str(destination)
    chosen = resolve_format(target, fmt)
    channel = channel_of(target)
    found = list(loops) if loops is not None else find_loops(driver, max_length=_longest(loops or []))
    try:
        with driver.session() as session:
            stored = {row["id"]: row for row in run_query(session, "channel_alerts", channel=channel).data()}
        dismissed = in_force(driver).dismissed
        alerts = due_alerts(found, channel, stored, dismissed)
        quiet = len(due_alerts(found, channel, stored)) - len(alerts)
        if not alerts:
            return ExportSummary(target if not is_channel(target) else mask_url(target), chosen, len(found), 0, 0, 0,
                                 dismissed=quiet)
        _record(driver, "mark_alerts_pending", rows=[
            {"id": a.id, "loop_id": a.loop.id, "channel": channel, "orgs": list(a.loop.orgs)} for a in alerts
        ], now=now_iso())
        context = report_context(driver, found) if (chosen == "md" or is_channel(target)) else ReportContext()
        if is_channel(target):
            summary = _deliver_messages(driver, target, alerts, context, digest, retries, backoff_s, timeout_s,
                                        deadline_s)
        else:
            summary = _deliver_file(driver, Path(target).expanduser(), chosen, alerts, context)
    except OSError as e:
        raise DeliveryError(
            f"cannot write alerts to {target}: {e}; fix the path or its permissions, the {len(alerts)} alert(s) "
            "are kept and written by the next export"
        ) from e
    except (ServiceUnavailable, SessionExpired) as e:
        raise server_gone(e) from e
    except Neo4jError as e:
        raise GraphError(f"recording alert state failed: {e}; nothing was marked sent, rerun the export") from e
    kind = "webhook" if is_url(target) else "apprise" if is_apprise(target) else chosen
    shown = mask_url(target) if is_channel(target) else target
    return ExportSummary(shown, kind + (" digest" if digest and is_channel(target) else ""), len(found),
                         len(alerts), dismissed=quiet, **summary)


def _record(driver: Driver, name: str, /, **params: Any) -> None:
    with driver.session() as session:
        session.execute_write(lambda tx: run_query(tx, name, **params).consume())


def _mark_sent(driver: Driver, alerts: Sequence[Alert]) -> None:
    _record(driver, "mark_alerts_sent", rows=[
        {"id": a.id, "state": json.dumps(a.state, sort_keys=True, ensure_ascii=False), "fingerprint": a.fingerprint}
        for a in alerts
    ], now=now_iso())


def _deliver_file(
    driver: Driver, target: Path, fmt: str, alerts: Sequence[Alert], context: ReportContext
) -> dict[str, Any]:
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
        return _write_file(driver, path, folder, fmt, alerts, created_at, context)
    # Another export (another home on the same graph) may append to the same file: take turns.
    with FileLock(path.with_name(f".{path.name}.lock"), timeout=60):
        return _write_file(driver, path, folder, fmt, alerts, created_at, context)


def _write_file(
    driver: Driver, path: Path, folder: Path, fmt: str, alerts: Sequence[Alert], created_at: str,
    context: ReportContext,
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
        content = render_markdown(alerts, created_at, pictures, context)
        if not pictures_ok:
            content += ("\n> Pictures are missing: graphviz `dot` is not installed "
                        "(Debian/Ubuntu: `apt-get install graphviz`).\n")
    write_atomic(path, content)
    _mark_sent(driver, alerts)
    return {"delivered": len(alerts), "failed": 0, "files": tuple(files), "pictures": pictures_ok,
            "chains": tuple(a.loop.chain for a in alerts)}


def _existing(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


# Apprise schemes whose host part is a real host name (elsewhere it is often a token).
_HOST_SCHEMES = frozenset({"http", "https", "json", "jsons", "xml", "xmls", "form", "forms", "apprise", "apprises",
                           "mailto", "mailtos", "ntfy", "ntfys", "gotify", "gotifys"})


def mask_url(url: str) -> str:
    """A message URL fit to print: scheme and host only (paths, queries and user parts carry tokens)."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in _HOST_SCHEMES:
        return f"{parts.scheme}://***"
    host = parts.hostname or "?"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}/***" if parts.path.strip("/") or parts.query else f"{parts.scheme}://{host}{port}"


# Sends one message; gets the monotonic deadline, returns None on success or the error.
Sender = Callable[[float], "str | None"]


def _deliver_messages(
    driver: Driver, target: str, alerts: Sequence[Alert], context: ReportContext, digest: bool, retries: int,
    backoff_s: float, timeout_s: float, deadline_s: float,
) -> dict[str, Any]:
    """Send the alerts as messages (one per alert, or one digest), each with retries, all within the deadline."""
    created_at = now_iso()
    groups: list[list[Alert]] = [list(alerts)] if digest else [[a] for a in alerts]
    delivered = failed = messages = 0
    errors: list[str] = []
    chains: list[str] = []
    deadline = time.monotonic() + deadline_s
    client = httpx.Client(timeout=timeout_s) if is_url(target) else None
    try:
        for group in groups:
            label = group[0].loop.chain if len(group) == 1 else f"digest of {len(group)} loop(s)"
            if time.monotonic() >= deadline:
                # Left pending (they were marked so before delivery): the next export sends them.
                failed += len(group)
                errors.append(f"{label}: export deadline of {deadline_s:.0f} s reached")
                continue
            if client is not None:
                sender = _webhook_sender(client, target, group, created_at, context, digest)
            else:
                sender = _apprise_sender(target, group, created_at, context, timeout_s)
            error = _with_retries(sender, retries, backoff_s, deadline)
            if error is not None:
                error = error.replace(target, mask_url(target))
            if error is None:
                _mark_sent(driver, group)
                delivered += len(group)
                messages += 1
                chains.extend(a.loop.chain for a in group)
            else:
                _record(driver, "mark_alerts_failed", rows=[{"id": a.id, "error": error} for a in group])
                failed += len(group)
                errors.append(f"{label}: {error}")
    finally:
        if client is not None:
            client.close()
    return {"delivered": delivered, "failed": failed, "errors": tuple(errors), "chains": tuple(chains),
            "messages": messages}


def _with_retries(send: Sender, retries: int, backoff_s: float, deadline: float) -> str | None:
    """Call ``send`` up to ``retries`` times with exponential backoff, within the deadline. None on success."""
    error: str | None = "not attempted"
    for attempt in range(max(retries, 1)):
        if attempt:
            pause = backoff_s * 2 ** (attempt - 1)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        error = send(deadline)
        if error is None or error.startswith(_FINAL):
            return error
    return error


# An error that repeating the request now will not cure (the receiver rejects it).
_FINAL = "rejected: "


def _webhook_sender(
    client: httpx.Client, url: str, group: Sequence[Alert], created_at: str, context: ReportContext, digest: bool
) -> Sender:
    if digest:
        payload, key = digest_payload(group, created_at, context), digest_id(group)
    else:
        payload, key = slack_payload(group[0], created_at), group[0].delivery_id

    def send(deadline: float) -> str | None:
        try:
            response = client.post(url, json=payload, headers={"Idempotency-Key": key})
        except httpx.HTTPError as e:
            return f"{type(e).__name__}: {e}"
        if response.is_success:
            return None
        if response.status_code < 500 and response.status_code not in (408, 429):
            return f"{_FINAL}HTTP {response.status_code}"
        return f"HTTP {response.status_code}"

    return send


def _apprise_sender(url: str, group: Sequence[Alert], created_at: str, context: ReportContext, timeout_s: float) -> Sender:
    import apprise

    service = apprise.Apprise()
    if not service.add(url):
        raise ConfigError(f"--to {mask_url(url)} is not a URL Apprise knows; see https://github.com/caronc/apprise/wiki")
    title, body = apprise_message(group, created_at, context)

    def send(deadline: float) -> str | None:
        budget = max(min(timeout_s, deadline - time.monotonic()), 0.1)
        result = service.notify(body=body, title=title, body_format=apprise.NotifyFormat.MARKDOWN, timeout=budget)
        if result:
            return None
        notes = [entry.message for entry in result.logs() if str(entry.level) in ("WARNING", "ERROR", "CRITICAL")]
        return "apprise: " + ("; ".join(notes[-2:]) or f"delivery failed ({result.status})")

    return send
