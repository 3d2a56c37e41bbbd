"""One partition month of the experiments, stage by stage (each called by one thin asset).

design -> assignments (+ CSV for the sales tools) -> analysis (arm metrics, looks, balance, guardrails,
breaches, decision) -> retrospectives (+ Markdown fragments for the audit note). Each stage replaces the
month's rows of its tables in one transaction and returns what the asset reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from cadence.experiments import analysis, design, guardrails, report, store
from cadence.experiments.config import Experiment
from cadence.experiments.decision import decide, retrospective
from cadence.experiments.periods import available_looks, enrolment_months, month_of, shift, status
from cadence.experiments.tables import COLUMNS, COMMENTS


def _write(con, month: str, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    with store.transaction(con):
        return {t: store.replace_month(con, t, month, f, COLUMNS[t], COMMENTS[t]) for t, f in frames.items()}


def _frame(rows, table: str) -> pd.DataFrame:
    return pd.DataFrame(rows if rows is not None else [], columns=list(COLUMNS[table]))


def run_designs(con: duckdb.DuckDBPyConnection, month: str, experiments: tuple[Experiment, ...]) -> list[dict]:
    """experiments.designs: every experiment not over before ``month``."""
    rows = []
    for e in experiments:
        if status(e, month) == "past":
            continue
        start_month = month_of(e.start_date)
        leads = store.fetch_leads(con, shift(start_month, -e.baseline_lookback_months), min(start_month, month))
        rows.append(design.design_row(e, design.baseline(e, leads), month))
    _write(con, month, {"designs": _frame(rows, "designs")})
    return rows


def run_assignments(
    con: duckdb.DuckDBPyConnection, month: str, experiments: tuple[Experiment, ...], reports_dir: Path
) -> dict[str, dict[str, int]]:
    """experiments.assignments for the month's cohort, then one CSV per experiment enrolling in it."""
    leads = store.fetch_leads(con, month, month)
    frames, counts = [], {}
    for e in (e for e in experiments if month in enrolment_months(e)):
        rows = analysis.assignment_rows(e, analysis.enrol(e, leads), month)
        frames.append(rows)
        counts[e.name] = {a.name: int((rows["arm"] == a.name).sum()) for a in e.arms}
    table = pd.concat(frames, ignore_index=True) if frames else _frame(None, "assignments")
    _write(con, month, {"assignments": table})
    for name in counts:
        report.write_assignments_csv(reports_dir, name, month, table[table["experiment"] == name])
    return counts


def run_analysis(con: duckdb.DuckDBPyConnection, month: str, experiments: tuple[Experiment, ...]) -> dict:
    """arm_metrics, readouts, balance, guardrail_weekly, guardrail_breaches and decisions of the month."""
    present = store.months_present(con)
    out = {t: [] for t in ("arm_metrics", "readouts", "balance", "guardrail_weekly", "decisions")}
    found_breaches = []
    for e in experiments:
        state = status(e, month)
        if state not in ("running", "ended"):
            continue
        months = [m for m in enrolment_months(e) if m <= month]
        enrolled = analysis.enrol(e, store.fetch_leads(con, months[0], months[-1]))
        looks = analysis.readouts(e, enrolled, available_looks(e, month), month)
        guard = guardrails.weekly(e, enrolled, month)
        counts, chi2, srm_p = analysis.srm(e, enrolled)
        bal = analysis.balance(e, enrolled, month) if len(enrolled) else pd.DataFrame()
        missing = [m for m in months if m not in present]
        pending = int((~enrolled["is_window_complete"]).sum()) if e.complete_windows_only else 0
        verdict = decide(e, state, srm_p, looks, guard, missing, pending, len(enrolled))
        found_breaches += guardrails.breaches(e, guard, enrolled, month)
        p_of = {k: (bal[bal["stratum_kind"] == k]["p_value"].iloc[0] if len(bal) else None) for k in ("rep", "segment")}
        out["decisions"].append(
            {
                "partition_month": month,
                "experiment": e.name,
                "status": state,
                "enrolled_leads": len(enrolled),
                "analysed_leads": len(analysis.analysed(e, enrolled)),
                "pending_windows": pending,
                "missing_months": ",".join(missing),
                "arm_counts": json.dumps(dict(zip([a.name for a in e.arms], counts, strict=True))),
                "srm_chi2": chi2,
                "srm_p_value": srm_p,
                "is_srm": srm_p < e.srm_alpha,
                "rep_balance_p_value": p_of["rep"],
                "segment_balance_p_value": p_of["segment"],
                "looks_done": int(looks["look"].max()) if len(looks) else 0,
                "guardrail_breaches": int((guard["is_absolute_breach"] | guard["is_relative_breach"]).sum())
                if len(guard)
                else 0,
                "attributable_breaches": int(guard["is_attributable"].sum()) if len(guard) else 0,
                "guardrail_alerts": len([b for b in found_breaches if b["experiment"] == e.name]),
                **verdict,
            }
        )
        for table, frame in (
            ("arm_metrics", analysis.arm_metrics(e, enrolled, month)),
            ("readouts", looks),
            ("balance", bal),
            ("guardrail_weekly", guard),
        ):
            out[table].append(frame)
    frames = {
        t: (pd.concat([f for f in fs if len(f)], ignore_index=True) if any(len(f) for f in fs) else _frame(None, t))
        if t != "decisions"
        else _frame(fs, t)
        for t, fs in out.items()
    }
    frames["guardrail_breaches"] = _frame(
        [{**b, **{k: json.dumps(b[k]) for k in ("top_reps", "top_campaigns", "top_segments")}} for b in found_breaches],
        "guardrail_breaches",
    )
    _write(con, month, frames)
    return {"decisions": out["decisions"], "breaches": found_breaches}


def run_retrospectives(
    con: duckdb.DuckDBPyConnection, month: str, experiments: tuple[Experiment, ...], reports_dir: Path
) -> list[dict]:
    """experiments.retrospectives for the experiments decided this month, and the Markdown fragments
    (planned experiments get their design, running and ended ones their readout)."""
    tables = {
        t: store.read_month(con, t, month)
        for t in ("designs", "decisions", "readouts", "arm_metrics", "guardrail_weekly")
    }
    rows, sections = [], []
    for e in experiments:
        mine = {t: (f[f["experiment"] == e.name] if len(f) else f) for t, f in tables.items()}
        if not len(mine["designs"]):
            continue
        plan = _clean(mine["designs"].iloc[0].to_dict())
        if not len(mine["decisions"]):
            sections.append(report.planned_section(e, plan))
            continue
        d = _clean(mine["decisions"].iloc[0].to_dict())
        final = _final_look(e, mine["readouts"], d)
        retro = None
        if d["is_final"]:
            retro = retrospective(e, month, d, final, mine["guardrail_weekly"], d["srm_p_value"], plan)
            rows.append(retro)
        sections.append(report.experiment_section(e, d, mine, final, retro))
    _write(con, month, {"retrospectives": _frame(rows, "retrospectives")})
    report.write_fragments(reports_dir, month, sections)
    return rows


def _clean(row: dict) -> dict:
    """A row read back from DuckDB through pandas: missing values as None."""
    return {k: (None if not isinstance(v, list | dict) and pd.isna(v) else v) for k, v in row.items()}


def _final_look(e: Experiment, looks: pd.DataFrame, decision: dict) -> pd.Series | None:
    """The latest look of the decided arm (else of the best treatment arm)."""
    if not len(looks):
        return None
    latest = looks[looks["look"] == looks["look"].max()]
    arm = decision.get("recommended_arm")
    pick = latest[latest["arm"] == arm] if arm in set(latest["arm"]) else latest.sort_values("z", ascending=False)
    return pick.iloc[0]
