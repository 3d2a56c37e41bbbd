"""Everything one month's reports show, read from the warehouse into small frames (ReportData).

Tables of the analytics, guardrails and experiments schemas are read when present; a missing table (or
one whose columns changed) gives an empty frame and a line in `unavailable`, and the page says "not
available" instead of failing the run. The month's own scoping note (stored with its numbers) drives
the population and thresholds, not whatever file is current.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from cadence.analytics.config import AnalysisConfig, analysis_config
from cadence.reports import queries, trends
from cadence.scoping import ScopingNote, parse_scoping_note
from cadence.segments import CELL_LEVEL, DIMS

#: The segment grain of the per-segment pictures (the analytics' plot level).
SEGMENT_LEVEL = CELL_LEVEL  # the cells of the dashboard: the crossing of the note's dimensions
#: Dots drawn per segment panel and on the overall panel (statistics always use every lead).
DOTS_PER_SEGMENT, DOTS_OVERALL = 350, 900

#: name -> (table, extra filter). Every read is for the report month (and the previous one where noted).
TABLES = {
    "kpis": ("marts.kpi_segments_monthly", ""),
    "reps": ("marts.kpi_reps_monthly", ""),
    "funnel": ("marts.kpi_funnel_stages_monthly", f"segment_level in ('all', '{DIMS[0]}')"),
    "fits": ("analytics.linear_fits", "population = $population and segment_level <> 'rep_id'"),
    "quadrants": ("analytics.lead_quadrants", "population = $population and x_measure = $x"),
    "bins": ("analytics.touch_curve_bins", "population = $population and x_measure = $x"),
    "shapes": ("analytics.curve_shapes", "population = $population and x_measure = $x"),
    "lights": ("analytics.traffic_light", ""),
    "verdicts": ("analytics.verdicts", ""),
    "thresholds": ("analytics.thresholds", ""),
    "clusters": ("analytics.clusters", "is_cluster"),
    "units": ("analytics.unit_quadrants", ""),
    "lists": ("analytics.quadrant_lists", ""),
    "diagnostic": ("analytics.diagnostic", ""),
    "weekly": ("guardrails.weekly_rates", ""),
    "breaches": ("guardrails.breaches", ""),
    "kpi_changes": ("guardrails.kpi_changes", ""),
    "rules": ("guardrails.rule_catalogue", ""),
    "exp_designs": ("experiments.designs", ""),
    "exp_decisions": ("experiments.decisions", ""),
    "exp_readouts": ("experiments.readouts", ""),
    "exp_arms": ("experiments.arm_metrics", ""),
    "exp_retros": ("experiments.retrospectives", ""),
    "outliers": ("cleaning.outliers_top5", ""),
    "cleaning": ("cleaning.cleaning_accounting", ""),
}
WITH_PREVIOUS = {"kpis", "reps", "fits", "quadrants", "lights"}


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"


@dataclass
class ReportData:
    month: str
    previous: str
    note: ScopingNote
    cfg: AnalysisConfig
    meta: dict
    frames: dict[str, pd.DataFrame]
    unavailable: dict[str, str] = field(default_factory=dict)
    experiments_fragment: str | None = None

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    @property
    def no_touches(self) -> bool:
        """The month's population had no touch at all (CRM-only extracts): r, slope, R², curves, quadrants
        and TTF are "not measurable: no touches", not zeros."""
        return self.meta.get("population_leads", 0) > 0 and self.meta.get("population_touches") == 0

    def of(self, name: str, month: str | None = None) -> pd.DataFrame:
        """The frame's rows of `month` (the report month by default)."""
        df = self.frames[name]
        return df[df["partition_month"] == (month or self.month)] if "partition_month" in df.columns else df


def _note(con: duckdb.DuckDBPyConnection, month: str) -> ScopingNote:
    """The note the month's numbers were computed with (analytics, else marts), else the defaults."""
    for sql in (
        "select note_json from analytics.scoping_notes where partition_month = ?",
        "select scoping_note_json from marts.fct_scoping_note_runs where partition_month = ?",
    ):
        try:
            row = con.execute(sql, [month]).fetchone()
        except duckdb.Error:
            continue
        if row and row[0]:
            return parse_scoping_note(json.loads(row[0]), source=f"warehouse ({month})")
    return parse_scoping_note({}, source="defaults")


def _read(con, table: str, where: str, months: list[str], cfg: AnalysisConfig) -> pd.DataFrame:
    params = {"population": cfg.population, "x": cfg.x_measure}
    used = {k: v for k, v in params.items() if f"${k}" in where}
    marks = ", ".join(f"$m{i}" for i in range(len(months)))
    # `order by all`: every frame in one order, so the same month renders the same bytes at every run
    sql = f"select * from {table} where partition_month in ({marks})" + (f" and {where}" if where else "") \
        + " order by all"
    return con.execute(sql, {**used, **{f"m{i}": m for i, m in enumerate(months)}}).df()


def gather(con: duckdb.DuckDBPyConnection, month: str, reports_dir: Path | None = None) -> ReportData:
    """Reads everything the dashboard, the note and the workbook of `month` need."""
    prev = previous_month(month)
    note = _note(con, month)
    cfg = analysis_config(note)
    frames, unavailable = {}, {}
    for name, (table, where) in TABLES.items():
        months = [month, prev] if name in WITH_PREVIOUS else [month]
        try:
            frames[name] = _read(con, table, where, months, cfg)
        except (duckdb.CatalogException, duckdb.BinderException) as exc:
            frames[name] = pd.DataFrame(columns=["partition_month"])
            unavailable[table] = str(exc).splitlines()[0]
    frames["trends"], why = trends.gather_trends(con, month, cfg.z)
    if why:
        unavailable["trends"] = why
    meta = {**queries.month_meta(con, month), "runs": _read_runs(con, month)}
    frames["ttf_fits"] = queries.ttf_fits(con, cfg, month)
    frames["points"] = queries.lead_points(con, cfg, month, DOTS_PER_SEGMENT, DOTS_OVERALL)
    meta["population_leads"], meta["population_touches"] = queries.population_size(con, cfg, month)
    fragment = Path(reports_dir) / "experiments" / f"{month}.md" if reports_dir else None
    text = fragment.read_text(encoding="utf-8") if fragment and fragment.is_file() else None
    return ReportData(month, prev, note, cfg, meta, frames, unavailable, text)


def _read_runs(con, month: str) -> dict:
    try:
        row = con.execute(
            "select run_started_at, scoping_note_version, attribution_window_days, conversion_stage "
            "from marts.fct_scoping_note_runs where partition_month = ?",
            [month],
        ).fetchone()
    except duckdb.Error:
        row = None
    keys = ("built_at", "version", "attribution_window_days", "conversion_stage")
    return dict(zip(keys, row, strict=True)) if row else {}
