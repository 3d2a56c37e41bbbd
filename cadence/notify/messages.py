"""What an alert says: a title and a plain-text body per breach or failed run (no Dagster, no I/O).

The body carries what the reader needs to act without opening anything: the rule and its severity, the
month, week and segment, the value against the threshold, the top contributing reps and campaigns (or
segments), the corrective action from the scoping note, a link to the run in the Dagster UI, and the
breach id (receivers may de-duplicate on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cadence.segments import Segments

RUN_FAILURE_STREAM = "run_failure"


@dataclass(frozen=True)
class Notification:
    notification_id: str
    stream: str
    partition_month: str | None
    severity: str
    title: str
    body: str
    run_id: str | None


def _segment(breach: Mapping[str, Any]) -> str:
    key = breach.get("segment_key") or "all"
    return "all leads" if key == "all" else " / ".join(Segments.parse(key).values())


def _top(items: list[Mapping[str, Any]]) -> str:
    return ", ".join(f"{i['name']} ({i['count']:g})" for i in items) if items else "none"


def breach_notification(breach: Mapping[str, Any], run_id: str, run_url: str) -> Notification:
    """The alert of one breach record (``cadence.guardrails.breaches``)."""
    where = _segment(breach)
    when = breach["iso_week"] or breach["partition_month"]
    title = f"[{breach['severity'].upper()}] {breach['title']}: {where}, {when}"
    lines = [
        f"Rule: {breach['rule_id']} ({breach['title']}), severity {breach['severity']}",
        f"Cohort month: {breach['partition_month']}",
        f"Week: {breach['iso_week'] or 'whole month'}",
        f"Segment: {breach.get('segment_key') or 'all'}",
        f"Value vs threshold: {breach['comparison']}",
        f"Top reps: {_top(breach.get('top_reps') or [])}",
    ]
    if breach.get("family") != "kpi":
        lines.append(f"Top campaigns: {_top(breach.get('top_campaigns') or [])}")
    if breach.get("top_segments"):
        lines.append(f"Top segments: {_top(breach['top_segments'])}")
    lines += [
        f"Corrective action: {breach['action']}",
        f"Run: {run_url}",
        f"Breach id: {breach['breach_id']}",
    ]
    return Notification(notification_id=breach["breach_id"], stream=breach["stream"],
                        partition_month=breach["partition_month"], severity=breach["severity"], title=title,
                        body="\n".join(lines), run_id=run_id)


def run_failure_notification(job_name: str, run_id: str, partition: str | None, error: str,
                             run_url: str) -> Notification:
    """The alert of a failed run (one per run)."""
    what = f"{job_name}" + (f" ({partition})" if partition else "")
    error = (error or "no error message").strip()
    if len(error) > 1500:
        error = error[:1500] + " [...]"
    body = "\n".join([f"Job: {job_name}", f"Partition: {partition or '-'}", f"Error: {error}", f"Run: {run_url}",
                      f"Run id: {run_id}"])
    return Notification(notification_id=f"run-failure:{run_id}", stream=RUN_FAILURE_STREAM,
                        partition_month=partition[:7] if partition else None, severity="high",
                        title=f"[HIGH] Cadence run failed: {what}", body=body, run_id=run_id)
