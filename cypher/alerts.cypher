// Alert bookkeeping (graph/alerts.py). One (:Alert) per loop and destination ("channel"):
// what was last delivered there (sent_state) and whether a delivery is pending.

// name: channel_alerts
// params: channel
MATCH (a:Alert {channel: $channel})
RETURN a.id AS id, a.loop_id AS loop_id, a.sent_state AS sent_state, a.sent_fingerprint AS sent_fingerprint,
       a.pending AS pending, a.attempts AS attempts

// name: mark_alerts_pending
// Recorded before delivery, so a failed or interrupted delivery is retried next time.
// params: rows, now
UNWIND $rows AS row
MERGE (a:Alert {id: row.id})
ON CREATE SET a.attempts = 0
SET a.loop_id = row.loop_id, a.channel = row.channel, a.orgs = row.orgs, a.pending = true,
    a.pending_since = coalesce(a.pending_since, $now)

// name: mark_alerts_sent
// params: rows, now
UNWIND $rows AS row
MATCH (a:Alert {id: row.id})
SET a.sent_state = row.state, a.sent_fingerprint = row.fingerprint, a.sent_at = $now, a.pending = false,
    a.pending_since = null, a.last_error = null, a.attempts = coalesce(a.attempts, 0) + 1

// name: mark_alerts_failed
// params: rows
UNWIND $rows AS row
MATCH (a:Alert {id: row.id})
SET a.attempts = coalesce(a.attempts, 0) + 1, a.last_error = row.error

// name: alert_documents
// What the alert report and digests show of the documents behind the loops: dates, titles, links.
// params: docs
UNWIND $docs AS id
MATCH (d:Document {id: id})
RETURN d.id AS id, d.published AS published, d.title AS title, d.source AS source
