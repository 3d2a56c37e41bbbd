"""KPI rules relative to the previous period: the month's KPI per segment against the previous month's.

From ``marts.kpi_segments_monthly`` at the note's ``guardrails.kpi_segment_level``: the lead -> opportunity
conversion rate (the note's conversion) and the average order value (won amount / won deals). A rule
breaches when the KPI fell by more than its allowed share of the previous value (default 10 % for CR,
5 % for AOV: relative changes, as in the method's alert rules). No previous month, no verdict.
"""

from __future__ import annotations

from typing import Any

from cadence.guardrails.rates import SEGMENT_FILTER
from cadence.guardrails.rules import GuardrailConfig
from cadence.segments import CUBE

KPI_SQL = f"""
with segments as (

    select
        partition_month,
        segment_level,
        segment_key,
        {', '.join(CUBE)},
        leads,
        conversions,
        conversion_rate,
        opportunities_won,
        won_amount,
        won_amount / nullif(opportunities_won, 0) as average_order_value
    from marts.kpi_segments_monthly
    where segment_level = $segment_level
        and partition_month in ($month, $previous_month)

)

select
    current_month.*,
    previous_month.partition_month as previous_partition_month,
    previous_month.leads as previous_leads,
    previous_month.conversion_rate as previous_conversion_rate,
    previous_month.opportunities_won as previous_opportunities_won,
    previous_month.average_order_value as previous_average_order_value
from segments as current_month
left join segments as previous_month
    on current_month.segment_key = previous_month.segment_key
    and previous_month.partition_month = $previous_month
where current_month.partition_month = $month
order by current_month.segment_key
"""

#: Reps behind a drop: what each rep delivered this month against its own previous-month level
#: (missing conversions for CR, missing won amount for AOV), most negative first.
REP_CONTRIBUTORS_SQL = f"""
with per_rep as (

    select
        rep_id,
        partition_month,
        count(*) as leads,
        count(*) filter (where is_converted) as conversions,
        sum(opportunities_won) as deals,
        sum(won_amount) as won_amount
    from marts.fct_lead_cadence
    where is_in_scope
        and partition_month in ($month, $previous_month)
{SEGMENT_FILTER.format(prefix="")}
    group by rep_id, partition_month

),

compared as (

    select
        current_month.rep_id,
        case when $kpi = 'conversion_rate'
            then current_month.conversions
                - current_month.leads * previous_month.conversions / nullif(previous_month.leads, 0)
            else current_month.won_amount
                - current_month.deals * previous_month.won_amount / nullif(previous_month.deals, 0)
        end as contribution
    from per_rep as current_month
    inner join per_rep as previous_month
        on current_month.rep_id = previous_month.rep_id
        and previous_month.partition_month = $previous_month
    where current_month.partition_month = $month

)

select rep_id as contributor, round(contribution, 2) as events
from compared
where contribution < 0
order by contribution, rep_id
limit $top
"""


def previous_month(month: str) -> str:
    """'2026-01' -> '2025-12'."""
    year, mon = (int(x) for x in month.split("-"))
    year, mon = divmod(year * 12 + mon - 2, 12)
    return f"{year:04d}-{mon + 1:02d}"


def evaluate_kpis(rows: list[dict[str, Any]], config: GuardrailConfig) -> list[dict[str, Any]]:
    """One output row per segment and KPI rule: value, previous value, relative change and verdict."""
    out = []
    for row in rows:
        for spec in config.rules("kpi"):
            kpi = spec.measure[0]
            value, previous = row[kpi], row[f"previous_{kpi}"]
            change = (value - previous) / previous if value is not None and previous else None
            max_drop = config.threshold(spec.rule_id)
            out.append({
                **{k: row[k] for k in ("partition_month", "segment_level", "segment_key", *CUBE, "leads",
                                       "previous_leads")},
                "previous_month": previous_month(row["partition_month"]),
                "rule_id": spec.rule_id,
                "kpi": kpi,
                "value": None if value is None else float(value),
                "previous_value": None if previous is None else float(previous),
                "relative_change": change,
                "max_drop": max_drop,
                "is_breach": change is not None and change < -max_drop,
                "severity": config.severity(spec.rule_id),
            })
    return out
