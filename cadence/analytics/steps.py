"""One function per analytics asset, all with the signature (con, month, cfg, note) -> {table: frame}:
read what the step needs (marts, or earlier analytics tables of the month), compute, return the frames.
The assets write them (store.write_month); `run_month` runs every step in order without Dagster."""

from __future__ import annotations

import duckdb
import pandas as pd

from cadence.analytics import sql as S
from cadence.analytics.clusters import clusters, composition
from cadence.analytics.config import AnalysisConfig
from cadence.analytics.diagnostic import diagnostic
from cadence.analytics.fits import fit_checks, linear_fits
from cadence.analytics.lights import traffic_light
from cadence.analytics.logistic import logistic_tables
from cadence.analytics.quadrants import lead_quadrants, quadrant_lists, unit_quadrants
from cadence.analytics.recommend import threshold_table
from cadence.analytics.shapes import touch_curves
from cadence.analytics.store import read_month, read_optional, write_month
from cadence.analytics.ttf import ttf_bands, ttf_gaps
from cadence.analytics.verdict import verdicts
from cadence.scoping import ScopingNote

Con = duckdb.DuckDBPyConnection
Frames = dict[str, pd.DataFrame]
WEEK_COLUMNS = "segment_key, iso_week, complaints, emails_delivered"
TOP5_COLUMNS = "outlier_rank, outlier_class, entity_type, entity_id, metric, population, value, score, action"


def shift_month(month: str, k: int) -> str:
    y, m = divmod(int(month[:4]) * 12 + int(month[5:7]) - 1 + k, 12)
    return f"{y:04d}-{m + 1:02d}"


def _query(con: Con, sql: str, cfg: AnalysisConfig, month: str, **extra) -> pd.DataFrame:
    return con.execute(sql, {**S.params(cfg, month), **extra}).df()


def _read(con: Con, month: str, *tables: str) -> list[pd.DataFrame]:
    return [read_month(con, t, month) for t in tables]


def statistics(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """The sufficient statistics of the month (SQL aggregates), the scoping note they used and the leads
    they cover. Fails when no lead is left to analyse (nothing would be decided on)."""
    version, in_scope, incomplete = con.execute(
        "select max(scoping_note_version), count(*) filter (where is_in_scope), count(*) filter (where is_in_scope "
        "and not coalesce(is_window_complete, false)) from marts.fct_lead_cadence where partition_month = ?",
        [month],
    ).fetchone()
    analysed = in_scope - (incomplete if cfg.complete_windows_only else 0)
    if analysed == 0:
        raise ValueError(
            f"{month}: no lead to analyse in marts.fct_lead_cadence ({in_scope} in scope, "
            f"{incomplete} with an attribution window the extract does not cover yet)"
        )
    run = {
        "note_json": note.json,
        "note_source": note.source,
        "marts_scoping_note_version": version,
        "leads_in_scope": in_scope,
        "leads_window_incomplete": incomplete,
        "leads_analysed": analysed,
    }
    return {
        "segment_moments": _query(con, S.moments_sql(cfg), cfg, month),
        "lead_cells": _query(con, S.cells_sql(cfg), cfg, month),
        "scoping_notes": pd.DataFrame([run]),
    }


def linear(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """The method's linear reading per segment and rep, both X readings, with and without extremes."""
    fits = linear_fits(*_read(con, month, "segment_moments", "lead_cells"), cfg)
    return {"linear_fits": fits, "fit_checks": fit_checks(fits)}


def logistic(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """Logistic regression of conversion on touches and TTF band; marginal effect of one more touch."""
    fits, terms = logistic_tables(read_month(con, "lead_cells", month), cfg)
    return {"logistic_fits": fits, "logistic_terms": terms}


def curves(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """CR by touch count and the curve shape per segment (flat, linear, plateau, S, U), with plots."""
    bins, shapes = touch_curves(read_month(con, "lead_cells", month), cfg)
    return {"touch_curve_bins": bins, "curve_shapes": shapes}


def ttf(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """CR by time-to-first-contact band and the CR gap at each band edge."""
    cells, moments = _read(con, month, "lead_cells", "segment_moments")
    return {"ttf_bands": ttf_bands(cells, moments, cfg), "ttf_gaps": ttf_gaps(cells, cfg)}


def quadrants(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """Quadrants against the means for leads, reps and accounts; the recurring Q3 / Q1 lists."""
    first = shift_month(month, 1 - cfg.quadrant_lookback_months)
    units = unit_quadrants(
        _query(
            con,
            S.units_sql(cfg),
            cfg,
            month,
            population=cfg.population,
            first_month=first,
            rep_min_leads=cfg.rep_min_leads,
            account_min_leads=cfg.account_min_leads,
        )
    )
    return {
        "lead_quadrants": lead_quadrants(read_month(con, "lead_cells", month), cfg),
        "unit_quadrants": units[units["partition_month"] == month].drop(columns="partition_month"),
        "quadrant_lists": quadrant_lists(units, min_leads=cfg.list_min_leads, min_months=cfg.list_min_months),
    }


def groups(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """Separate clusters (e.g. VIP) and composition warnings (Simpson's paradox)."""
    return {
        "clusters": clusters(_query(con, S.clusters_sql(cfg), cfg, month), cfg),
        "composition": composition(read_month(con, "linear_fits", month), cfg),
    }


def decisions(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """The traffic light per segment, with its rule, reason and inputs (the effect of touches read on the
    logistic fits, the touch cells, the curve shapes and whether the thresholds step located the curve's
    bend). Last month's moments come from the marts (the same SQL), not from this schema's history."""
    previous = _query(con, S.moments_sql(cfg), cfg, shift_month(month, -1))
    weeks = read_optional(con, "marts.kpi_guardrails_weekly", month, WEEK_COLUMNS)
    inputs = _read(con, month, "linear_fits", "fit_checks", "clusters", "composition", "segment_moments")
    effect = _read(con, month, "logistic_fits", "curve_shapes", "lead_cells", "thresholds")
    lights = traffic_light(*inputs, previous, weeks, *effect, cfg)
    return {"traffic_light": lights, "verdicts": verdicts(lights, effect[-1], cfg)}


def thresholds(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """Recommended minimum touches, TTF target and daily cap per segment, with their evidence."""
    intensity = _query(con, S.intensity_sql(cfg), cfg, month, population=cfg.population)
    shapes, cells, gaps = _read(con, month, "curve_shapes", "lead_cells", "ttf_gaps")
    return {"thresholds": threshold_table(shapes, cells, gaps, intensity, note.values, cfg)}


def express_diagnostic(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> Frames:
    """The express diagnostic: the method's 10 questions, answered or marked for human input."""
    names = ("curve_shapes", "clusters", "fit_checks", "traffic_light", "thresholds")
    t = dict(zip(names, _read(con, month, *names), strict=True))
    t.update(
        moments=read_month(con, "segment_moments", month),
        quadrants=read_month(con, "lead_quadrants", month),
        moments_prev=_query(con, S.moments_sql(cfg), cfg, shift_month(month, -1)),
        quadrants_prev=read_optional(con, "analytics.lead_quadrants", shift_month(month, -1)),
        outliers=read_optional(con, "cleaning.outliers_top5", month, TOP5_COLUMNS),
    )
    return {"diagnostic": diagnostic(t, cfg)}


STEPS = (statistics, linear, logistic, curves, ttf, quadrants, groups, thresholds, decisions, express_diagnostic)


def run_month(con: Con, month: str, cfg: AnalysisConfig, note: ScopingNote) -> dict[str, int]:
    """Every step in dependency order, each writing its tables: what the assets do, without Dagster
    (tests, notebooks, benchmarks). Returns rows written per table."""
    written: dict[str, int] = {}
    for step in STEPS:
        written.update(write_month(con, month, cfg.version, step(con, month, cfg, note)))
    return written
