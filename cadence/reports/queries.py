"""SQL that reduces the warehouse to what the reports draw. Leads never travel to Python in bulk: the
dots of the scatter plots are a bounded, seeded sample, and every statistic is computed in DuckDB.

Values go as named parameters; the only identifiers spliced in are chosen from fixed lists (lead flags,
X measures). The population is the analytics' one: in-scope leads of the month, complete attribution
windows only when the note says so, exception flags (VIP, disputes) out when the population is 'standard'.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.scoping import LEAD_FLAGS, X_MEASURES
from cadence.segments import ACTIVE, DIMS

FACT = "marts.fct_lead_cadence"
#: TTF below this (hours) is drawn and fitted at it: a log axis needs a floor (6 minutes).
TTF_FLOOR_HOURS = 0.1
SEGMENT_KEY = ACTIVE.key_sql()  # a cell's segment key, as in the marts
CELL = ", ".join(DIMS)  # the segment dimensions (channel, company_size by default)


def _ident(name: str, allowed: tuple[str, ...]) -> str:
    if name not in allowed:
        raise ValueError(f"{name!r} is not one of {allowed}")
    return name


def population_sql(cfg: AnalysisConfig) -> str:
    """The analytics population of $month, one row per lead: X (the note's reading), TTF, Y and two stable
    pseudo-random numbers (u: vertical spread of a dot; s: sampling order), both from the lead id."""
    x = _ident(cfg.x_measure, X_MEASURES)
    flags = [_ident(f, LEAD_FLAGS) for f in cfg.exception_flags] if cfg.population == "standard" else []
    exception = " or ".join(f"coalesce({f}, false)" for f in flags) or "false"
    return f"""select lead_id, {CELL}, funnel_phase, rep_id, account_id,
        {x} as touches, ttf_hours, cast(is_converted as integer) as converted,
        (hash(lead_id || '#u') % 1000003) / 1000003.0 as u,
        (hash(lead_id || '#s') % 1000003) / 1000003.0 as s
    from {FACT}
    where partition_month = $month and is_in_scope
        and (coalesce(is_window_complete, false) or not $complete_only) and not ({exception})"""


def _params(cfg: AnalysisConfig, month: str, **extra) -> dict:
    return {"month": month, "complete_only": cfg.complete_windows_only, **extra}


def lead_points(
    con: duckdb.DuckDBPyConnection, cfg: AnalysisConfig, month: str, per_segment: int, overall: int
) -> pd.DataFrame:
    """The dots: up to `per_segment` leads per channel x company size (in_segment) and a uniform sample of
    about `overall` leads of the month (in_overall). Same leads on every run (hash of the lead id)."""
    sql = f"""with pop as ({population_sql(cfg)}),
    ranked as (
        select *, row_number() over (partition by {CELL} order by s, lead_id) as seg_rank,
            count(*) over () as n
        from pop
    )
    select lead_id, {CELL}, {SEGMENT_KEY} as segment_key, touches, ttf_hours, converted, u,
        seg_rank <= $per_segment as in_segment, s < $overall / n as in_overall
    from ranked where seg_rank <= $per_segment or s < $overall / n"""
    return con.execute(sql, _params(cfg, month, per_segment=per_segment, overall=float(overall))).df()


def workbook_points(con: duckdb.DuckDBPyConnection, cfg: AnalysisConfig, month: str, cap: int) -> pd.DataFrame:
    """Lead-level rows for the workbook: every lead when the month has at most `cap`, else a sample
    stratified by channel x company size (proportional allocation, seeded by the lead id)."""
    sql = f"""with pop as ({population_sql(cfg)}),
    ranked as (
        select *, row_number() over (partition by {CELL} order by s, lead_id) as seg_rank,
            count(*) over (partition by {CELL}) as seg_n, count(*) over () as n
        from pop
    )
    select lead_id, {CELL}, funnel_phase, rep_id, account_id, touches, ttf_hours, converted
    from ranked where n <= $cap or seg_rank <= ceil($cap * seg_n / n)
    order by {CELL}, lead_id"""
    return con.execute(sql, _params(cfg, month, cap=cap)).df()


def population_size(con: duckdb.DuckDBPyConnection, cfg: AnalysisConfig, month: str) -> tuple[int, int]:
    """(leads, their touches on the note's X reading): no touch at all makes every touch figure unmeasurable."""
    sql = f"select count(*), coalesce(sum(touches), 0) from ({population_sql(cfg)})"
    leads, touches = con.execute(sql, _params(cfg, month)).fetchone()
    return int(leads), int(touches)


def ttf_fits(con: duckdb.DuckDBPyConnection, cfg: AnalysisConfig, month: str) -> pd.DataFrame:
    """Per segment ('all' and channel x company size), contacted leads only: the least-squares line of
    conversion on log10(TTF hours), its r and R², the mean of log10 TTF and the share of leads in each
    corner against (mean log TTF, CR): tl = fast & converted, tr = slow & converted, bl, br = not converted."""
    sql = f"""with pop as (
        select *, log10(greatest(ttf_hours, $floor)) as lx from ({population_sql(cfg)}) where ttf_hours is not null
    ),
    levels as (
        select 'all' as segment_key, * from pop
        union all
        select {SEGMENT_KEY} as segment_key, * from pop
    ),
    marked as (select *, avg(lx) over (partition by segment_key) as mx from levels)
    select segment_key, count(*) as leads, avg(lx) as log_x_mean, avg(converted) as y_mean,
        regr_slope(converted, lx) as slope, regr_intercept(converted, lx) as intercept,
        corr(converted, lx) as r, regr_r2(converted, lx) as r2,
        avg(case when lx < mx and converted = 1 then 1 else 0 end) as tl,
        avg(case when lx >= mx and converted = 1 then 1 else 0 end) as tr,
        avg(case when lx < mx and converted = 0 then 1 else 0 end) as bl,
        avg(case when lx >= mx and converted = 0 then 1 else 0 end) as br
    from marked group by segment_key order by segment_key"""
    return con.execute(sql, _params(cfg, month, floor=TTF_FLOOR_HOURS)).df()


def month_meta(con: duckdb.DuckDBPyConnection, month: str) -> dict:
    """When the month's extract was taken (the newest data_as_of_at), its kept and in-scope leads."""
    row = con.execute(
        f"""select max(data_as_of_at), count(*), count(*) filter (where is_in_scope),
        count(*) filter (where is_in_scope and not coalesce(is_window_complete, false))
        from {FACT} where partition_month = ?""",
        [month],
    ).fetchone()
    return {"data_as_of": row[0], "leads_kept": row[1], "leads_in_scope": row[2], "windows_incomplete": row[3]}
