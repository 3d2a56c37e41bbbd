"""Weekly e-mail rate rules: complaint, unsubscribe and bounce rates per ISO week and segment.

The counts come from ``marts.kpi_guardrails_weekly`` (the BI mart, so numbers agree) at the note's
``guardrails.rate_segment_level``. A week breaches a rule when its rate is above the threshold **and** a
one-sided exact binomial test against the threshold gives p < ``guardrails.significance``: with 300
delivered e-mails a single complaint is a 0.33 % rate, above the 0.2 % threshold, yet it says nothing;
15 complaints out of 1,000 do. ``significance: 1`` turns the test off (plain comparison).
"""

from __future__ import annotations

from typing import Any

from scipy.stats import binom

from cadence.guardrails.rules import GuardrailConfig
from cadence.segments import CUBE

#: a segment's filter on a touch or lead relation: every segment column, 'all' matching anything
SEGMENT_FILTER = "\n".join(f"    and (${c} = 'all' or {{prefix}}{c} = ${c})" for c in CUBE)

WEEKLY_COUNTS_SQL = f"""
select
    partition_month,
    iso_week,
    week_start_date,
    segment_level,
    segment_key,
    {', '.join(CUBE)},
    emails_sent,
    emails_delivered,
    complaints,
    unsubscribes,
    bounces
from marts.kpi_guardrails_weekly
where partition_month = $month
    and segment_level = $segment_level
order by iso_week, segment_key
"""

#: Rate rule -> the touch flag of int_touches_unioned that makes an event (fixed identifiers).
EVENT_FLAGS = {"complaint_rate": "is_email_complained", "unsubscribe_rate": "is_email_unsubscribed",
               "bounce_rate": "is_email_bounced"}
#: Contributors: who sent (rep) and which campaign, for the e-mails of a segment-week with the event.
CONTRIBUTOR_COLUMNS = {"rep": "touches.rep_id", "campaign": "messages.campaign_id"}

CONTRIBUTORS_SQL = f"""
select
    coalesce({{column}}, '(none)') as contributor,
    count(*) as events
from intermediate.int_touches_unioned as touches
inner join marts.fct_lead_cadence as leads
    on touches.lead_id = leads.lead_id
    and touches.partition_month = leads.partition_month
left join intermediate.int_email_messages_pivoted as messages
    on touches.touch_id = messages.touch_id
    and touches.partition_month = messages.partition_month
where touches.partition_month = $month
    and touches.touch_channel = 'email'
    and leads.is_in_scope
    and touches.{{flag}}
    and cast(date_trunc('week', coalesce(touches.email_delivered_at, touches.touch_at)) as date) = $week_start
{SEGMENT_FILTER.format(prefix="touches.")}
group by 1
order by events desc, contributor
limit $top
"""


def contributors_sql(rule_id: str, dimension: str) -> str:
    """CONTRIBUTORS_SQL for one rate rule and one dimension (``rep`` or ``campaign``)."""
    return CONTRIBUTORS_SQL.format(column=CONTRIBUTOR_COLUMNS[dimension], flag=EVENT_FLAGS[rule_id])


def p_value_above(events: int, base: int, threshold: float) -> float | None:
    """P(X >= events) for X ~ Binomial(base, threshold): how surprising the count is if the true rate were
    exactly the threshold. None when there is nothing to test (no base)."""
    if base <= 0:
        return None
    if events <= 0:
        return 1.0
    return float(binom.sf(events - 1, base, threshold))


#: One level down, for a breach whose evidence is not strong (severity_by_evidence).
LOWER = {"critical": "high", "high": "medium", "medium": "low", "low": "low", "off": "off"}


def evidence_severity(severity: str, p_value: float | None, alpha: float, by_evidence: bool) -> str:
    """The rule's severity when the evidence is strong (p < alpha / 10, or the test is off), one level lower
    otherwise: a barely significant week is worth a look, not a page."""
    if not by_evidence or alpha >= 1 or p_value is None or p_value < alpha / 10:
        return severity
    return LOWER[severity]


def evaluate_weekly_rates(rows: list[dict[str, Any]], config: GuardrailConfig) -> list[dict[str, Any]]:
    """One output row per input row (segment-week) and rate rule, with the rate, p-value and verdict. A
    breach needs the rate above its threshold, enough evidence (``rate_min_base`` e-mails, ``rate_min_events``
    events) and, unless the test is off, p < ``significance``; its severity follows the evidence."""
    g = config.guardrails
    alpha, min_base, min_events = g["significance"], g["rate_min_base"], g["rate_min_events"]
    out = []
    for row in rows:
        for spec in config.rules("rate"):
            events_col, base_col, _ = spec.measure
            events, base = int(row[events_col] or 0), int(row[base_col] or 0)
            threshold = config.threshold(spec.rule_id)
            rate = events / base if base else None
            p_value = p_value_above(events, base, threshold)
            enough = base >= min_base and events >= min_events
            breached = rate is not None and rate > threshold and enough and (alpha >= 1 or p_value < alpha)
            out.append({
                **{k: row[k] for k in ("partition_month", "iso_week", "week_start_date", "segment_level",
                                       "segment_key", *CUBE)},
                "rule_id": spec.rule_id,
                "events": events,
                "base": base,
                "base_measure": base_col,
                "rate": rate,
                "threshold": threshold,
                "p_value": p_value,
                "is_breach": bool(breached),
                "severity": evidence_severity(config.severity(spec.rule_id), p_value, alpha,
                                              g["severity_by_evidence"]),
            })
    return out
