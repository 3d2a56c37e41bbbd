"""Breaches: what an alert is about, one record per rule breach, with a deterministic id.

- a touch rule breaches once per month when it has violations (the alert sums them up: violations,
  leads, top reps, segments, campaigns);
- a rate rule breaches once per ISO week and segment;
- a KPI rule breaches once per segment.

``breach_id`` hashes (rule, month, week, segment) only, so a rerun of the month finds the same ids and
the sensors, which remember ids, send nothing new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from cadence.guardrails.rules import RULE_SPECS, GuardrailConfig
from cadence.segments import DIMS

TOP = 3

#: Per touch rule: violations, leads and reps of the month.
TOUCH_TOTALS_SQL = """
select rule_id, count(*) as violations, count(distinct lead_id) as leads, count(distinct rep_id) as reps,
    min(iso_week) as first_week, max(iso_week) as last_week
from guardrails.touch_violations
where partition_month = $month
group by rule_id
order by rule_id
"""

#: Per touch rule: the top contributors along one dimension (rep, segment, campaign).
TOUCH_TOP_SQL = """
with contributions as (

    select
        violations.rule_id,
        {column} as contributor,
        count(*) as events
    from guardrails.touch_violations as violations
    left join intermediate.int_email_messages_pivoted as messages
        on violations.touch_id = messages.touch_id
        and violations.partition_month = messages.partition_month
    where violations.partition_month = $month
        and {column} is not null
    group by 1, 2

)

select rule_id, contributor, events
from contributions
qualify row_number() over (partition by rule_id order by events desc, contributor) <= $top
order by rule_id, events desc, contributor
"""
TOUCH_TOP_COLUMNS = {"rep": "violations.rep_id",
                     "segment": " || ' / ' || ".join(f"violations.{d}" for d in DIMS),
                     "campaign": "messages.campaign_id"}


def touch_top_sql(dimension: str) -> str:
    return TOUCH_TOP_SQL.format(column=TOUCH_TOP_COLUMNS[dimension])


def breach_id(rule_id: str, month: str, iso_week: str | None = None, segment_key: str | None = None) -> str:
    """Deterministic: the same rule, month, week and segment always give the same id."""
    key = "|".join([rule_id, month, iso_week or "-", segment_key or "-"])
    return "gb-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def _top(rows: Iterable[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"name": str(name), "count": round(float(count), 2)} for name, count in rows]


def _pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f} %"


def _base(rule_id: str, config: GuardrailConfig, month: str, **fields: Any) -> dict[str, Any]:
    spec = RULE_SPECS[rule_id]
    return {
        "breach_id": breach_id(rule_id, month, fields.get("iso_week"), fields.get("segment_key")),
        "stream": spec.stream, "rule_id": rule_id, "family": spec.family, "title": spec.title,
        "severity": config.severity(rule_id), "action": config.action(rule_id), "partition_month": month,
        "iso_week": None, "segment_level": None, "segment_key": None, "observed": None, "threshold": None,
        "events": None, "base": None, "p_value": None, "leads": None, "comparison": "",
        "top_reps": [], "top_campaigns": [], "top_segments": [], "note_version": config.note_version,
        **fields,
    }


def touch_breaches(month: str, totals: list[Mapping[str, Any]], tops: Mapping[str, Mapping[str, list]],
                   config: GuardrailConfig) -> list[dict[str, Any]]:
    """One breach per touch rule with violations. ``tops[dimension][rule_id]`` = [(name, count)...]."""
    out = []
    for row in totals:
        rule_id = row["rule_id"]
        if not config.alerts_on(rule_id) or not row["violations"]:
            continue
        weeks = row["first_week"] if row["first_week"] == row["last_week"] else \
            f"{row['first_week']} to {row['last_week']}"
        out.append(_base(
            rule_id, config, month, segment_level="all", segment_key="all", observed=float(row["violations"]),
            threshold=0.0, events=int(row["violations"]), leads=int(row["leads"]),
            comparison=f"{row['violations']:,} violating touches on {row['leads']:,} leads by {row['reps']} reps "
                       f"(weeks {weeks}); allowed: none",
            top_reps=_top(tops["rep"].get(rule_id, [])), top_segments=_top(tops["segment"].get(rule_id, [])),
            top_campaigns=_top(tops["campaign"].get(rule_id, [])),
        ))
    return out


def rate_breach(row: Mapping[str, Any], reps: list, campaigns: list, config: GuardrailConfig) -> dict[str, Any]:
    """The breach of one weekly rate row (``evaluate_weekly_rates`` output with is_breach)."""
    rule_id = row["rule_id"]
    base_name = "delivered" if row["base_measure"] == "emails_delivered" else "sent"
    return _base(
        rule_id, config, row["partition_month"], iso_week=row["iso_week"], segment_level=row["segment_level"],
        segment_key=row["segment_key"], observed=row["rate"], threshold=row["threshold"], events=row["events"],
        base=row["base"], p_value=row["p_value"], severity=row.get("severity", config.severity(rule_id)),
        comparison=f"{_pct(row['rate'])} ({row['events']:,} of {row['base']:,} {base_name} e-mails) vs threshold "
                   f"{_pct(row['threshold'])} (one-sided p = {row['p_value']:.2g})",
        top_reps=_top(reps), top_campaigns=_top(campaigns),
    )


def kpi_breach(row: Mapping[str, Any], reps: list, config: GuardrailConfig) -> dict[str, Any]:
    """The breach of one KPI row (``evaluate_kpis`` output with is_breach)."""
    rule_id = row["rule_id"]
    is_rate = row["kpi"] == "conversion_rate"
    show = _pct if is_rate else (lambda v: "n/a" if v is None else f"{v:,.0f}")
    return _base(
        rule_id, config, row["partition_month"], segment_level=row["segment_level"],
        segment_key=row["segment_key"], observed=row["relative_change"], threshold=-row["max_drop"],
        leads=row["leads"],
        comparison=f"{row['kpi'].replace('_', ' ')} {show(row['value'])} vs {show(row['previous_value'])} in "
                   f"{row['previous_month']} ({_pct(row['relative_change'], 1)}; allowed drop "
                   f"{_pct(row['max_drop'], 0)})",
        top_reps=_top(reps),
    )
