"""The trends query (cadence.reports.trends explains the method): per month and segment, the mart's KPIs,
the Wilson interval of CR, the order-statistic interval of the two medians, and each change against the
previous calendar month with its MOVER interval. Named parameters: $month, $months, $cell_level, $z. The
only text spliced in is fixed column names and the segment key expression of the note's dimensions."""

from __future__ import annotations

from cadence.segments import ACTIVE


def _wilson(bound: str) -> str:
    sign = "-" if bound == "low" else "+"
    p, n = "(conversions / nullif(leads, 0))", "nullif(leads, 0)"
    return (f"(({p} + $z * $z / (2.0 * {n}) {sign} $z * sqrt({p} * (1 - {p}) / {n} + $z * $z / (4.0 * {n} * {n})))"
            f" / (1 + $z * $z / {n}))")


def _median_interval(measure: str) -> str:
    """CTEs ranking a measure's non-null values per month and segment, then its order-statistic interval."""
    return f"""
{measure}_ranked as (
    select partition_month, segment_key, {measure} as value,
        row_number() over (partition by partition_month, segment_key order by {measure}) as value_rank,
        count(*) over (partition by partition_month, segment_key) as n
    from tagged
    where {measure} is not null
),
{measure}_interval as (
    select partition_month, segment_key,
        max(value) filter (where value_rank = floor((n - $z * sqrt(n)) / 2)) as {measure}_ci_low,
        max(value) filter (where value_rank = ceil(1 + (n + $z * sqrt(n)) / 2)) as {measure}_ci_high
    from {measure}_ranked
    group by partition_month, segment_key
),"""


def _mover(name: str, value: str, low: str, high: str) -> str:
    d = f"(cur.{value} - prev.{value})"
    return (f"{d} as {name}_change,\n"
            f"        {d} - sqrt(pow(cur.{value} - cur.{low}, 2) + pow(prev.{high} - prev.{value}, 2))"
            f" as {name}_change_low,\n"
            f"        {d} + sqrt(pow(cur.{high} - cur.{value}, 2) + pow(prev.{value} - prev.{low}, 2))"
            f" as {name}_change_high")


TRENDS_SQL = f"""
with months as (
    select distinct partition_month from marts.kpi_segments_monthly
    where partition_month <= $month
    order by partition_month desc
    limit $months
),
kpis as (
    select kpis.partition_month, kpis.segment_key, kpis.leads, kpis.conversions, kpis.conversion_rate,
        kpis.ttf_median_hours, kpis.touches_per_lead_median, kpis.touches_per_lead_mean
    from marts.kpi_segments_monthly as kpis
    inner join months on kpis.partition_month = months.partition_month
    where kpis.segment_level in ('all', $cell_level)
),
leads as (
    select lead_cadence.partition_month, {ACTIVE.key_sql('lead_cadence')} as cell_key,
        lead_cadence.ttf_hours, lead_cadence.touches_in_window
    from marts.fct_lead_cadence as lead_cadence
    inner join months on lead_cadence.partition_month = months.partition_month
    where lead_cadence.is_in_scope
),
tagged as (
    select partition_month, cell_key as segment_key, ttf_hours, touches_in_window from leads
    union all
    select partition_month, 'all' as segment_key, ttf_hours, touches_in_window from leads
),{_median_interval("ttf_hours")}{_median_interval("touches_in_window")}
per_month as (
    select kpis.*,
        {_wilson("low")} as cr_ci_low,
        {_wilson("high")} as cr_ci_high,
        ttf.ttf_hours_ci_low as ttf_ci_low, ttf.ttf_hours_ci_high as ttf_ci_high,
        touches.touches_in_window_ci_low as touches_ci_low, touches.touches_in_window_ci_high as touches_ci_high,
        strftime(strptime(kpis.partition_month || '-01', '%Y-%m-%d') - interval 1 month, '%Y-%m')
            as previous_month
    from kpis
    left join ttf_hours_interval as ttf
        on kpis.partition_month = ttf.partition_month and kpis.segment_key = ttf.segment_key
    left join touches_in_window_interval as touches
        on kpis.partition_month = touches.partition_month and kpis.segment_key = touches.segment_key
),
final as (
    select cur.*,
        prev.partition_month is not null as has_previous,
        {_mover("cr", "conversion_rate", "cr_ci_low", "cr_ci_high")},
        {_mover("ttf", "ttf_median_hours", "ttf_ci_low", "ttf_ci_high")},
        {_mover("touches", "touches_per_lead_median", "touches_ci_low", "touches_ci_high")}
    from per_month as cur
    left join per_month as prev
        on cur.segment_key = prev.segment_key and cur.previous_month = prev.partition_month
)
select * from final order by segment_key, partition_month
"""
