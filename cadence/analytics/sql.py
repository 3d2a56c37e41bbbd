"""SQL builders: they reduce `marts.fct_lead_cadence` to sufficient statistics inside DuckDB.

Values travel as named parameters ($month, ...); only identifiers chosen from fixed lists (lead flags,
X measures) are spliced into the text. Segments follow the marts: the note's dimensions x funnel_phase,
each alone and crossed, plus "all" (same segment_level / segment_key spelling as kpi_segments_monthly),
plus one level per rep (segment_level 'rep_id').
"""

from __future__ import annotations

from itertools import combinations

from cadence.analytics.config import AnalysisConfig
from cadence.scoping import LEAD_FLAGS, X_MEASURES
from cadence.segments import CUBE
from cadence.segments import DIMS as CELL_DIMS

FACT = "marts.fct_lead_cadence"
DIMS = CUBE  # the segment dimensions, then funnel_phase (cadence.segments)
SEGMENT_SETS = [c for k in range(len(DIMS) + 1) for c in combinations(DIMS, k)]
REP_SET = ("rep_id",)
KEY_COLUMNS = ["segment_level", "segment_key", *DIMS, "rep_id"]


def _ident(name: str, allowed: tuple[str, ...]) -> str:
    if name not in allowed:
        raise ValueError(f"{name!r} is not one of {allowed}")
    return name


def segment_columns(cols: tuple[str, ...] = (*DIMS, "rep_id")) -> str:
    """segment_level, segment_key and one column per dimension ('all' where not grouped)."""
    level = ", ".join(f"case when grouping({c}) = 0 then '{c}' end" for c in cols)
    key = ", ".join(f"case when grouping({c}) = 0 then '{c}=' || {c} end" for c in cols)
    values = ",\n    ".join(f"case when grouping({c}) = 0 then {c} else 'all' end as {c}" for c in cols)
    return (
        f"coalesce(nullif(concat_ws('+', {level}), ''), 'all') as segment_level,\n"
        f"    coalesce(nullif(concat_ws(' | ', {key}), ''), 'all') as segment_key,\n    {values}"
    )


def grouping_sets(always: tuple[str, ...], reps: bool = True) -> str:
    sets = SEGMENT_SETS + ([REP_SET] if reps else [])
    return "grouping sets (" + ", ".join("(" + ", ".join(always + s) + ")" for s in sets) + ")"


def _base(cfg: AnalysisConfig) -> str:
    """In-scope leads of $month, with the TTF band index and both populations ('all', 'standard')."""
    exception = " or ".join(f"coalesce({_ident(f, LEAD_FLAGS)}, false)" for f in cfg.exception_flags) or "false"
    bands = " ".join(f"when ttf_hours <= $edge{i} then {i + 1}" for i in range(len(cfg.ttf_band_edges_hours)))
    return f"""with base as (
    select *, cast(is_converted as integer) as y,
        case when ttf_hours is null then 0 {bands} else {len(cfg.ttf_band_edges_hours) + 1} end as ttf_band,
        {exception} as is_exception
    from {FACT}
    where partition_month = $month and is_in_scope and (coalesce(is_window_complete, false) or not $complete_only)
),
populations as (
    select 'all' as population, * from base
    union all
    select 'standard' as population, * from base where not is_exception
)"""


def params(cfg: AnalysisConfig, month: str) -> dict:
    edges = {f"edge{i}": float(e) for i, e in enumerate(cfg.ttf_band_edges_hours)}
    return {"month": month, "complete_only": cfg.complete_windows_only, **edges}


def _sum(expr: str, name: str) -> str:
    return f"cast(sum({expr}) as bigint) as {name}"


def moments_sql(cfg: AnalysisConfig) -> str:
    """Per population and segment: n and the sums of X, Y, X², XY (both X readings), plus the segment's
    TTF, complaint and quality totals. Y is 0/1, so the sum of Y² is the sum of Y."""
    sums = [_sum("y", "conversions")]
    for short, col in (("w", "touches_in_window"), ("b", "touches_before_conversion")):
        sums += [_sum(col, f"sx_{short}"), _sum(f"{col} * {col}", f"sxx_{short}"), _sum(f"{col} * y", f"sxy_{short}")]
    totals = [
        _sum(c, c)
        for c in ("emails_delivered", "emails_complained", "emails_unsubscribed", "emails_replied", "meetings_held")
    ]
    return f"""{_base(cfg)}
select population, {segment_columns()},
    count(*) as leads, {", ".join(sums)},
    count(*) filter (where is_within_ttf_target) as leads_within_ttf_target,
    count(*) filter (where ttf_hours is null) as leads_not_contacted,
    median(ttf_hours) as ttf_median_hours, min(ttf_target_hours) as ttf_target_hours,
    max(ttf_target_hours) as ttf_target_hours_max, {", ".join(totals)}
from populations
group by {grouping_sets(("population",))}"""


def cells_sql(cfg: AnalysisConfig) -> str:
    """Lead counts per population, X reading, segment, touch count, TTF band and outcome: the input of
    every distributional statistic (ranks, trimming, bins, shapes, logistic fits, quadrants)."""
    unpivot = " union all ".join(
        f"select population, '{m}' as x_measure, {m} as touches, * exclude (population) from populations"
        for m in X_MEASURES
    )
    return f"""{_base(cfg)}, measures as ({unpivot})
select population, x_measure, {segment_columns()}, touches, ttf_band, y as converted, count(*) as leads
from measures
group by {grouping_sets(("population", "x_measure", "touches", "ttf_band", "y"))}"""


def clusters_sql(cfg: AnalysisConfig) -> str:
    """Per segment and candidate flag: n, sums of X, X², XY and Y of the flagged leads and of the others
    (population 'all': exception leads are what the test looks for)."""
    x = _ident(cfg.x_measure, X_MEASURES)
    unpivot = " union all ".join(
        f"select '{a}' as attribute, coalesce({_ident(a, LEAD_FLAGS)}, false) as in_group, * from base"
        for a in cfg.cluster_attributes
    )
    return f"""{_base(cfg)}, flagged as ({unpivot})
select attribute, in_group, {segment_columns(DIMS)}, count(*) as leads, {_sum(x, "sx")},
    {_sum(f"{x} * {x}", "sxx")}, {_sum(f"{x} * y", "sxy")}, {_sum("y", "conversions")}
from flagged
group by {grouping_sets(("attribute", "in_group"), reps=False)}"""


def intensity_sql(cfg: AnalysisConfig, top: int = 6) -> str:
    """Per segment and most touches in one day (capped at `top`): leads, conversions, e-mail outcomes."""
    return f"""{_base(cfg)}
select {segment_columns(DIMS)}, least(max_touches_in_one_day, {int(top)}) as touches_per_day,
    count(*) as leads, {_sum("y", "conversions")}, {_sum("emails_delivered", "emails_delivered")},
    {_sum("emails_unsubscribed + emails_complained", "emails_opted_out_or_complained")}
from populations where population = $population
group by {grouping_sets(("touches_per_day",), reps=False)}"""


def units_sql(cfg: AnalysisConfig) -> str:
    """Per month of [$first_month, $month], rep and account: leads, mean X, CR, and the mean X and CR
    expected from the unit's mix of cell segments (the segment means of its leads)."""
    x = _ident(cfg.x_measure, X_MEASURES)
    base = _base(cfg).replace("partition_month = $month", "partition_month between $first_month and $month")
    seg = "partition by partition_month, " + ", ".join(CELL_DIMS)
    units = " union all ".join(
        f"""select partition_month, '{u}' as unit_type, {col} as unit_id, count(*) as leads, avg(x) as x_mean,
        avg(y) as cr, avg(x_seg) as x_expected, avg(y_seg) as cr_expected
    from scored where {col} is not null group by partition_month, {col} having count(*) >= ${u}_min_leads"""
        for u, col in (("rep", "rep_id"), ("account", "account_id"))
    )
    return f"""{base}, scored as (
    select *, {x} as x, avg({x}) over ({seg}) as x_seg, avg(y) over ({seg}) as y_seg
    from populations where population = $population
)
{units}"""
