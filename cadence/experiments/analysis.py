"""The readout of an experiment: who is enrolled in which arm, metrics per arm and week, the cumulative
comparison at each planned look, sample-ratio mismatch and balance by rep and segment."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import stats as sps

from cadence.experiments import stats
from cadence.experiments.assignment import HASH_RULE, arm_index, buckets, eligible, enrolment_week
from cadence.experiments.config import Experiment
from cadence.experiments.design import success
from cadence.experiments.periods import Look, iso_week, planned_looks, week_start
from cadence.experiments.sequential import obrien_fleming_bounds


def enrol(experiment: Experiment, leads: pd.DataFrame) -> pd.DataFrame:
    """The enrolled leads with their arm, draw, enrolment week and success flag."""
    flags = {f: leads[f].to_numpy(dtype=bool) for f in experiment.exclude_flags}
    mask = eligible(
        experiment,
        leads["channel"].to_numpy(),
        leads["company_size"].to_numpy(),
        leads["funnel_phase"].to_numpy(),
        leads["created_epoch"].to_numpy(),
        flags,
    )
    out = leads[mask].reset_index(drop=True)
    u = buckets(experiment.salt, out["lead_id"])
    names = np.array([a.name for a in experiment.arms], dtype=object)
    out["arm"] = names[arm_index([a.weight for a in experiment.arms], u)] if len(out) else pd.Series(dtype=object)
    out["bucket"] = u
    out["enrolment_week"] = enrolment_week(experiment, out["created_epoch"].to_numpy())
    out["success"] = success(experiment, out)
    return out


def assignment_rows(experiment: Experiment, enrolled: pd.DataFrame, month: str) -> pd.DataFrame:
    """experiments.assignments rows: one per enrolled lead of the cohort month."""
    cadence = {a.name: json.dumps(a.cadence, sort_keys=True) for a in experiment.arms}
    out = enrolled[
        [
            "lead_id",
            "arm",
            "bucket",
            "enrolment_week",
            "created_at",
            "rep_id",
            "team",
            "channel",
            "company_size",
            "funnel_phase",
        ]
    ].copy()
    out.insert(0, "experiment", experiment.name)
    out.insert(0, "partition_month", month)
    out["iso_week"] = [iso_week(week_start(experiment, int(k))) for k in out["enrolment_week"]]
    out["arm_cadence"] = out["arm"].map(cadence)
    out["assignment_rule"] = HASH_RULE
    return out


def analysed(experiment: Experiment, enrolled: pd.DataFrame) -> pd.DataFrame:
    """The leads whose outcome is final (attribution window complete) when the experiment asks for it."""
    return enrolled[enrolled["is_window_complete"]] if experiment.complete_windows_only else enrolled


def _metrics(experiment: Experiment, group: pd.DataFrame, arm: str, confidence: float) -> dict:
    done = analysed(experiment, group)
    n, x = len(done), int(done["success"].sum())
    low, high = stats.wilson(x, n, confidence)
    target = next(a for a in experiment.arms if a.name == arm).cadence.get("ttf_target_hours")
    ttf = done["ttf_hours"].dropna()
    delivered = int(group["emails_delivered"].sum())
    return {
        "arm": arm,
        "leads": len(group),
        "leads_analysed": n,
        "successes": x,
        "rate": x / n if n else None,
        "rate_low": float(low) if n else None,
        "rate_high": float(high) if n else None,
        "median_ttf_hours": float(ttf.median()) if len(ttf) else None,
        "ttf_within_target_rate": float((done["ttf_hours"] <= target).mean()) if n and target is not None else None,
        "mean_touches": float(done["touches_in_window"].mean()) if n else None,
        "meetings_per_lead": float(done["meetings_held"].mean()) if n else None,
        "meeting_rate": float((done["meetings_held"] > 0).mean()) if n else None,
        "emails_delivered": delivered,
        "complaints": int(group["emails_complained"].sum()),
        "unsubscribes": int(group["emails_unsubscribed"].sum()),
        "complaint_rate": group["emails_complained"].sum() / delivered if delivered else None,
        "unsubscribe_rate": group["emails_unsubscribed"].sum() / delivered if delivered else None,
    }


def arm_metrics(experiment: Experiment, enrolled: pd.DataFrame, month: str) -> pd.DataFrame:
    """experiments.arm_metrics: per enrolment week (W1..WK) and to date, per arm."""
    confidence = 1 - experiment.alpha / len(experiment.treatments)
    rows = []
    periods = [(f"W{k}", enrolled[enrolled["enrolment_week"] == k]) for k in range(1, experiment.weeks + 1)]
    for period, part in [*periods, ("to_date", enrolled)]:
        if not len(part):
            continue
        for arm in experiment.arms:
            rows.append(
                {
                    "partition_month": month,
                    "experiment": experiment.name,
                    "period": period,
                    **_metrics(experiment, part[part["arm"] == arm.name], arm.name, confidence),
                }
            )
    return pd.DataFrame(rows)


def boundaries(experiment: Experiment) -> list[float]:
    """|z| to cross at each planned look: O'Brien-Fleming spending, or only the final fixed-horizon test."""
    alpha = experiment.alpha / len(experiment.treatments)
    looks = planned_looks(experiment)
    if experiment.early_stopping == "obrien_fleming":
        return obrien_fleming_bounds([look.fraction for look in looks], alpha)
    return [float("inf")] * (len(looks) - 1) + [float(sps.norm.isf(alpha / 2))]


def compare(experiment: Experiment, control: pd.DataFrame, treated: pd.DataFrame) -> dict:
    """Treatment vs control on the success KPI (with intervals, test, probability to beat), meetings and TTF."""
    confidence = 1 - experiment.alpha / len(experiment.treatments)
    n1, x1, n2, x2 = len(control), int(control["success"].sum()), len(treated), int(treated["success"].sum())
    if not (n1 and n2):
        return {"control_leads": n1, "treatment_leads": n2}
    low, high = stats.newcombe_diff(x1, n1, x2, n2, confidence)
    rel, rel_low, rel_high = stats.relative_lift(x1, n1, x2, n2, confidence)
    z, p = stats.two_proportion_z(x1, n1, x2, n2)
    meet = sps.ttest_ind(treated["meetings_held"], control["meetings_held"], equal_var=False)
    meet_ci = meet.confidence_interval(confidence)
    t1, t2 = control["ttf_hours"].dropna(), treated["ttf_hours"].dropna()
    return {
        "control_leads": n1,
        "control_successes": x1,
        "control_rate": x1 / n1,
        "treatment_leads": n2,
        "treatment_successes": x2,
        "treatment_rate": x2 / n2,
        "abs_lift_points": 100 * (x2 / n2 - x1 / n1),
        "abs_lift_low": 100 * float(low),
        "abs_lift_high": 100 * float(high),
        "rel_lift": float(rel),
        "rel_lift_low": float(rel_low),
        "rel_lift_high": float(rel_high),
        "z": float(z),
        "p_value": float(p),
        "prob_to_beat": stats.prob_to_beat(x1, n1, x2, n2),
        "meetings_diff": float(treated["meetings_held"].mean() - control["meetings_held"].mean()),
        "meetings_diff_low": float(meet_ci.low),
        "meetings_diff_high": float(meet_ci.high),
        "meetings_p_value": float(meet.pvalue) if np.isfinite(meet.pvalue) else None,
        "control_median_ttf_hours": float(t1.median()) if len(t1) else None,
        "treatment_median_ttf_hours": float(t2.median()) if len(t2) else None,
        "ttf_p_value": float(sps.mannwhitneyu(t2, t1).pvalue) if len(t1) and len(t2) else None,
    }


def readouts(experiment: Experiment, enrolled: pd.DataFrame, looks: list[Look], month: str) -> pd.DataFrame:
    """experiments.readouts: the cumulative comparison of each treatment arm at each available look."""
    bounds = boundaries(experiment)
    rows = []
    for look in looks:
        upto = analysed(experiment, enrolled[enrolled["enrolment_week"] <= look.k])
        control = upto[upto["arm"] == experiment.control.name]
        for arm in experiment.treatments:
            row = compare(experiment, control, upto[upto["arm"] == arm.name])
            z, bound = row.get("z"), bounds[look.k - 1]
            crossed = z is not None and abs(z) >= bound
            rows.append(
                {
                    "partition_month": month,
                    "experiment": experiment.name,
                    "look": look.k,
                    "look_end_date": look.end,
                    "information_fraction": look.fraction,
                    "is_final_look": look.k == experiment.weeks,
                    "arm": arm.name,
                    **row,
                    "boundary_z": bound if np.isfinite(bound) else None,
                    "is_boundary_crossed": crossed,
                    "verdict": ("better" if z > 0 else "worse") if crossed else "not_significant",
                }
            )
    return pd.DataFrame(rows)


def srm(experiment: Experiment, enrolled: pd.DataFrame) -> tuple[list[int], float, float]:
    """Arm counts (arms in config order), chi-squared and p of the sample-ratio-mismatch test."""
    counts = [int((enrolled["arm"] == a.name).sum()) for a in experiment.arms]
    chi2, p = stats.srm_test(counts, [a.weight for a in experiment.arms])
    return counts, chi2, p


def balance(experiment: Experiment, enrolled: pd.DataFrame, month: str) -> pd.DataFrame:
    """experiments.balance: arm shares per rep and per segment cell, with the chi-squared p of independence."""
    enrolled = enrolled.assign(
        segment_cell=enrolled["channel"] + "/" + enrolled["company_size"] + "/" + enrolled["funnel_phase"]
    )
    rows = []
    for kind, column in (("rep", "rep_id"), ("segment", "segment_cell")):
        table = pd.crosstab(enrolled[column], enrolled["arm"]).reindex(
            columns=[a.name for a in experiment.arms], fill_value=0
        )
        p = stats.balance_p_value(table.to_numpy())
        for stratum, counts in table.iterrows():
            total = int(counts.sum())
            for arm in experiment.arms:
                rows.append(
                    {
                        "partition_month": month,
                        "experiment": experiment.name,
                        "stratum_kind": kind,
                        "stratum": str(stratum),
                        "arm": arm.name,
                        "leads": int(counts[arm.name]),
                        "share": counts[arm.name] / total if total else None,
                        "planned_share": arm.weight,
                        "p_value": p,
                        "is_imbalanced": p < experiment.srm_alpha,
                    }
                )
    return pd.DataFrame(rows)
