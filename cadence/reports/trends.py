"""Trends: the last months of each cell segment (and 'all'), read from the marts in one SQL query, and their
month-over-month changes with an interval.

Per month and segment (the report month and the months before it that the warehouse holds, at most
``TREND_MONTHS``), three measures, each with a 95 % interval (the note's confidence):

- **CR** = conversions / leads (``marts.kpi_segments_monthly``), Wilson score interval.
- **Median TTF** (hours to the first contact) and **median contacts per lead** (touches in the window), the
  mart's medians, with the distribution-free interval of a median: the order statistics of ranks
  ``floor((n - z√n) / 2)`` and ``ceil(1 + (n + z√n) / 2)`` of the month's in-scope leads
  (``marts.fct_lead_cadence``; Conover, *Practical Nonparametric Statistics*, 3.2). Too few leads for those
  ranks: no interval.

The change against the **previous calendar month** (none when that month is not in the warehouse) has the
MOVER interval (Zou & Donner, 2008) built from the two months' intervals::

    d = a1 - a2,   low = d - sqrt((a1 - l1)² + (u2 - a2)²),   high = d + sqrt((u1 - a1)² + (a2 - l2)²)

For CR this is Newcombe's hybrid score interval, the same as the traffic light's ΔCR
(cadence.analytics.intervals.diff_of_proportions). A change whose interval excludes 0 is more than the
month's sampling noise. Python receives a few rows per month and segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import pandas as pd

from cadence.reports import fmt
from cadence.segments import ACTIVE, CELL_LEVEL

TREND_MONTHS = 6


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


def read_trends(con: duckdb.DuckDBPyConnection, month: str, z: float, months: int = TREND_MONTHS) -> pd.DataFrame:
    """One row per month (the last `months` up to `month`) and segment ('all' and every cell)."""
    return con.execute(TRENDS_SQL, {"month": month, "months": months, "cell_level": CELL_LEVEL, "z": z}).df()


@dataclass(frozen=True)
class Measure:
    key: str  # the column prefix of its change: cr | ttf | touches
    label: str
    column: str
    scale: float  # value -> display unit of the change (CR: points)
    digits: int
    unit: str  # of the change
    better: int  # +1 higher is good, -1 lower is good, 0 neutral (contacts: steering on them invites Goodhart)

    def value_text(self, v) -> str:
        return {"cr": fmt.pct, "ttf": fmt.hours}.get(self.key, lambda x: fmt.num(x, 1))(v)


MEASURES = (
    Measure("cr", "Conversion rate", "conversion_rate", 100, 1, " pts", 1),
    Measure("ttf", "Median TTF", "ttf_median_hours", 1, 1, " h", -1),
    Measure("touches", "Contacts / lead (median)", "touches_per_lead_median", 1, 1, "", 0),
)
BY_KEY = {m.key: m for m in MEASURES}


@dataclass(frozen=True)
class Change:
    """A measure's change against the previous month, in display units, with its interval."""

    measure: Measure
    previous_month: str
    change: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool | None:
        """True: the interval lies on one side of 0; None: no interval."""
        if fmt.missing(self.low) or fmt.missing(self.high):
            return None
        return self.low > 0 or self.high < 0

    @property
    def arrow(self) -> str:
        return "=" if round(self.change, self.measure.digits) == 0 else ("▲" if self.change > 0 else "▼")

    @property
    def tone(self) -> str:
        """good / bad only for a change beyond noise in a direction that is good by definition, else flat."""
        if not self.excludes_zero or self.measure.better == 0:
            return "flat"
        return "good" if self.change * self.measure.better > 0 else "bad"

    def text(self) -> str:
        """'▲ +1.2 pts vs Aug'."""
        label = fmt.month_label(self.previous_month, short=True).split()[0]
        if self.arrow == "=":
            return f"= same as {label}"
        return f"{self.arrow} {self.change:+.{self.measure.digits}f}{self.measure.unit} vs {label}"

    def interval(self) -> str:
        """'[+0.3, +2.8]' or '–'."""
        if self.excludes_zero is None:
            return fmt.DASH
        d = self.measure.digits
        return f"[{self.low:+.{d}f}, {self.high:+.{d}f}]"

    def verdict(self) -> str:
        return {True: "CI excludes 0", False: "CI includes 0", None: "no interval"}[self.excludes_zero]


def change(trends: pd.DataFrame, key: str, month: str, measure: Measure) -> Change | None:
    """The measure's change of `month` against the month before, or None (no previous month, no value)."""
    if trends is None or trends.empty:
        return None
    rows = trends[(trends["segment_key"] == key) & (trends["partition_month"] == month)]
    if rows.empty or not bool(rows.iloc[0]["has_previous"]):
        return None
    r = rows.iloc[0]
    if fmt.missing(r[f"{measure.key}_change"]):
        return None
    s = measure.scale
    low, high = r[f"{measure.key}_change_low"], r[f"{measure.key}_change_high"]
    return Change(measure, r["previous_month"], s * float(r[f"{measure.key}_change"]),
                  math.nan if fmt.missing(low) else s * float(low), math.nan if fmt.missing(high) else s * float(high))


def series(trends: pd.DataFrame, key: str, measure: Measure) -> list[tuple[str, float, float, float]]:
    """(month, value, low, high) of one segment, oldest first; months without the segment left out."""
    if trends is None or trends.empty:
        return []
    rows = trends[trends["segment_key"] == key].sort_values("partition_month")
    low, high = f"{measure.key}_ci_low", f"{measure.key}_ci_high"
    return [(r["partition_month"], r[measure.column], r[low], r[high]) for r in rows.to_dict("records")]


def gather_trends(con: duckdb.DuckDBPyConnection, month: str, z: float) -> tuple[pd.DataFrame, str | None]:
    """The report's trends frame, or an empty one and why (the marts are missing or changed)."""
    try:
        return read_trends(con, month, z), None
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        return pd.DataFrame(columns=["partition_month", "segment_key"]), str(exc).splitlines()[0]


def with_change_intervals(data, tiles: list) -> list:
    """The KPI tiles of CR, median TTF and median contacts with their change's interval (all leads), toned
    like the trends (good / bad only when the interval excludes 0)."""
    from dataclasses import replace

    out = []
    for t in tiles:
        ch = change(data.frames.get("trends"), "all", data.month, BY_KEY[t.key]) if t.key in BY_KEY else None
        if ch is not None and ch.excludes_zero is not None:
            # coloured only beyond noise, as in the trends: a red arrow on sampling noise would send people hunting
            t = replace(t, tone=ch.tone, ci=ch.verdict(), ci_interval=f"{ch.interval()}{ch.measure.unit}")
        out.append(t)
    return out
