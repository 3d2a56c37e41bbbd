"""Design of an experiment: the baseline of its segment, the sample size per arm, the MDE the expected
volume can reach, and the warnings (rule of thumb too small, underpowered, no baseline)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.experiments import stats
from cadence.experiments.assignment import epoch_seconds, in_population
from cadence.experiments.config import Experiment
from cadence.experiments.periods import bounds, month_of, planned_looks, shift, status


def success(experiment: Experiment, leads: pd.DataFrame) -> np.ndarray:
    """The success KPI of each lead: converted in its window, or at least one meeting held."""
    if experiment.success_kpi == "meeting_rate":
        return leads["meetings_held"].to_numpy() > 0
    return leads["is_converted"].to_numpy(dtype=bool)


def population(experiment: Experiment, leads: pd.DataFrame) -> np.ndarray:
    flags = {f: leads[f].to_numpy(dtype=bool) for f in experiment.exclude_flags}
    return in_population(
        experiment,
        leads["channel"].to_numpy(),
        leads["company_size"].to_numpy(),
        leads["funnel_phase"].to_numpy(),
        flags,
    )


@dataclass(frozen=True)
class Baseline:
    source: str  # previous_months | start_month_before_start | config | none
    months: tuple[str, ...]
    leads: int
    cr: float | None
    leads_per_day: float | None


def baseline(experiment: Experiment, leads: pd.DataFrame) -> Baseline:
    """The segment's CR and daily volume before the experiment: the ``baseline_lookback_months`` months
    before the start month (those in the warehouse); else the start month's days before the start date;
    else the configured ``baseline_cr`` (no volume)."""
    start_month = month_of(experiment.start_date)
    first = shift(start_month, -experiment.baseline_lookback_months)
    pop = leads[population(experiment, leads)]
    prev = pop[(pop["partition_month"] >= first) & (pop["partition_month"] < start_month)]
    if len(prev):
        months = tuple(sorted(prev["partition_month"].unique()))
        days = sum((bounds(m)[1] - bounds(m)[0]).days for m in months)
        return Baseline("previous_months", months, len(prev), float(success(experiment, prev).mean()), len(prev) / days)
    start_s = epoch_seconds(experiment.start_date)
    early = pop[(pop["partition_month"] == start_month) & (pop["created_epoch"] < start_s)]
    days = (experiment.start_date - bounds(start_month)[0]).days
    if len(early) and days > 0:
        return Baseline(
            "start_month_before_start",
            (start_month,),
            len(early),
            float(success(experiment, early).mean()),
            len(early) / days,
        )
    if experiment.baseline_cr is not None:
        return Baseline("config", (), 0, experiment.baseline_cr, None)
    return Baseline("none", (), 0, None, None)


def _points(x: float) -> str:
    return f"{100 * x:.1f}"


def design_row(experiment: Experiment, base: Baseline, month: str) -> dict:
    """One row of experiments.designs for ``month``."""
    e, ctrl = experiment, experiment.control
    alpha = e.alpha / len(e.treatments)  # Bonferroni over the treatment arms
    delta = e.mde_points / 100
    row = {
        "partition_month": month,
        "experiment": e.name,
        "status": status(e, month),
        "hypothesis": e.hypothesis,
        "segment": e.segment_label,
        "control_arm": ctrl.name,
        "arms": json.dumps([{"name": a.name, "weight": a.weight, "cadence": a.cadence} for a in e.arms]),
        "success_kpi": e.success_kpi,
        "guardrails": json.dumps(
            {g.kpi: {"max": g.max_rate, "max_ratio_to_control": g.max_ratio_to_control} for g in e.guardrails}
        ),
        "start_date": e.start_date,
        "end_date": e.end_date,
        "duration_days": e.duration_days,
        "planned_looks": len(planned_looks(e)),
        "early_stopping": e.early_stopping,
        "alpha": e.alpha,
        "alpha_per_comparison": alpha,
        "power": e.power,
        "mde_points": e.mde_points,
        "baseline_source": base.source,
        "baseline_months": ",".join(base.months),
        "baseline_leads": base.leads,
        "baseline_cr": base.cr,
        "leads_per_day": base.leads_per_day,
        "rule_of_thumb_leads_per_arm": e.rule_of_thumb_leads_per_arm,
    }
    warnings = []
    need = expected = reach = None
    if base.cr is None:
        warnings.append(
            f"No baseline CR for {e.segment_label}: materialise the months before "
            f"{e.start_date} or set baseline_cr; the sample size cannot be computed."
        )
    elif base.cr + delta >= 1:
        warnings.append(f"An MDE of {e.mde_points:g} points on a {_points(base.cr)} % baseline exceeds 100 %.")
    else:
        need = [stats.sample_size(base.cr, delta, alpha, e.power, ctrl.weight, t.weight) for t in e.treatments]
        n_arm = max(max(pair) for pair in need)
        row["required_control_leads"] = max(p[0] for p in need)
        row["required_treatment_leads"] = max(p[1] for p in need)
        row["required_total_leads"] = max(
            math.ceil(max(nc / ctrl.weight, nt / t.weight)) for (nc, nt), t in zip(need, e.treatments, strict=True)
        )
        if n_arm > e.rule_of_thumb_leads_per_arm:
            warnings.append(
                f"The rule of thumb of {e.rule_of_thumb_leads_per_arm} leads per arm is too small for a "
                f"{e.mde_points:g}-point lift on a {_points(base.cr)} % baseline: {n_arm:,} leads per arm are "
                f"needed (two-sided alpha {alpha:g}, power {e.power:.0%})."
            )
    if base.leads_per_day:
        expected = base.leads_per_day * e.duration_days
        row["expected_leads_total"] = expected
        row["expected_control_leads"] = expected * ctrl.weight
        row["expected_treatment_leads"] = min(expected * t.weight for t in e.treatments)
        if need:
            row["required_days"] = math.ceil(row["required_total_leads"] / base.leads_per_day)
            mdes = [
                stats.reachable_mde(base.cr, expected * ctrl.weight, expected * t.weight, alpha, e.power)
                for t in e.treatments
            ]
            reach = None if any(m is None for m in mdes) else max(mdes)
            row["reachable_mde_points"] = None if reach is None else 100 * reach
            if reach is None or reach > delta:
                shown = "out of reach" if reach is None else f"{_points(reach)} points"
                warnings.append(
                    f"With the expected {expected * ctrl.weight:,.0f} control leads in {e.duration_days} days the "
                    f"reachable MDE is {shown}, above the {e.mde_points:g} sought: widen the segment"
                    + (", run the full 4 weeks" if e.duration_days < 28 else "")
                    + " or aim at a larger effect."
                )
    row["is_rule_of_thumb_enough"] = None if not need else max(max(p) for p in need) <= e.rule_of_thumb_leads_per_arm
    row["is_powered"] = None if not (need and expected) else reach is not None and reach <= delta
    row["warnings"] = "\n".join(warnings)
    row["summary"] = summary_line(e, base, row)
    return row


def summary_line(e: Experiment, base: Baseline, row: dict) -> str:
    """The line printed in the run log: baseline, sample size, reachable MDE."""
    if base.cr is None:
        return f"{e.name}: no baseline CR yet for {e.segment_label}."
    parts = [f"{e.name}: baseline CR {_points(base.cr)} % ({base.source}, {base.leads:,} leads)"]
    if row.get("required_control_leads"):
        parts.append(
            f"{max(row['required_control_leads'], row['required_treatment_leads']):,} leads per arm "
            f"for {e.mde_points:g} points"
        )
    if row.get("expected_leads_total"):
        parts.append(f"expected {row['expected_control_leads']:,.0f} control leads in {e.duration_days} days")
    if row.get("reachable_mde_points") is not None:
        parts.append(f"reachable MDE {row['reachable_mde_points']:.2f} points")
    return "; ".join(parts)
