"""The stop / continue / ship recommendation, and the retrospective of a finished experiment.

Order of the rules (the first that applies decides):
1. sample-ratio mismatch (p < srm_alpha) -> **stop**: the assignment or the extract is broken, no result
   can be trusted; fix it and restart.
2. a guardrail breach attributable to a treatment arm (any week) -> **stop** (a safety rule, allowed at
   any time: it is not a peek at the success KPI).
3. with O'Brien-Fleming early stopping, the first interim look whose |z| crosses its boundary -> **ship**
   the arm (z > 0) or **stop** (z < 0).
4. at the planned end, once every month and every attribution window is in: the final test -> **ship**
   the best significant arm, else **stop** (no difference the test could detect; keep the control).
5. otherwise **continue**. The fixed-horizon p-value of an interim look is shown but never decides
   (no peeking without a sequential method).
"""

from __future__ import annotations

import json

import pandas as pd

from cadence.experiments import stats
from cadence.experiments.config import CADENCE_KEYS, Experiment
from cadence.experiments.periods import planned_looks


def _fmt(row) -> str:
    return (
        f"{row['arm']} vs {row.get('control_arm', 'control')}: {row['abs_lift_points']:+.2f} points "
        f"[{row['abs_lift_low']:+.2f}, {row['abs_lift_high']:+.2f}], z = {row['z']:.2f}"
    )


def decide(
    experiment: Experiment,
    status: str,
    srm_p: float,
    looks: pd.DataFrame,
    guard: pd.DataFrame,
    missing_months: list[str],
    pending_windows: int,
    enrolled: int,
) -> dict:
    """recommendation (continue | ship | stop), recommended_arm, reason, is_final."""
    e = experiment
    planned = planned_looks(e)
    if not enrolled:
        return _out("continue", None, "No lead enrolled yet.", False)
    if srm_p < e.srm_alpha:
        return _out(
            "stop",
            None,
            f"Sample-ratio mismatch (chi-squared p = {srm_p:.2g} < {e.srm_alpha:g}): the "
            "arms do not hold the planned shares, so assignment or extraction is broken and no result "
            "can be trusted. Find the cause (leads lost or re-routed), fix it and restart.",
            True,
        )
    harm = guard[guard["is_attributable"]] if len(guard) else guard
    if len(harm):
        first = harm.iloc[0]
        return _out(
            "stop",
            first["arm"],
            f"Guardrail: arm '{first['arm']}' breaches {first['kpi']} in "
            f"{first['period']} ({first['rate']:.3%} vs control {first['control_rate'] or 0:.3%}); "
            "stop the arm and revise its content and caps.",
            True,
        )
    final_ready = (
        status == "ended"
        and not missing_months
        and not pending_windows
        and len(looks)
        and bool(looks["is_final_look"].any())
    )
    for k in sorted(looks["look"].unique()) if len(looks) else []:
        at = looks[looks["look"] == k]
        crossed = at[at["is_boundary_crossed"]]
        is_final = bool(at["is_final_look"].iloc[0])
        if is_final and not final_ready:
            break
        if len(crossed):
            best = crossed.sort_values("z", ascending=False).iloc[0]
            when = "at the planned end" if is_final else f"early, at look {k} of {len(planned)}"
            if best["z"] > 0:
                return _out(
                    "ship",
                    best["arm"],
                    f"Ship '{best['arm']}' ({when}): {_fmt(best)} crosses the "
                    f"boundary {best['boundary_z']:.2f}; guardrails hold.",
                    True,
                )
            return _out("stop", best["arm"], f"Stop ({when}): '{best['arm']}' is worse, {_fmt(best)}.", True)
        if is_final:
            best = at.sort_values("z", ascending=False).iloc[0]
            return _out(
                "stop",
                None,
                f"No significant difference at the planned end ({_fmt(best)}, boundary "
                f"{best['boundary_z']:.2f}): keep the control cadence.",
                True,
            )
    if status == "ended" and (missing_months or pending_windows):
        what = (
            f"months {', '.join(missing_months)}"
            if missing_months
            else f"{pending_windows:,} leads whose attribution window is still open"
        )
        return _out("continue", None, f"Enrolment is over; the final test waits for {what}.", False)
    done = int(looks["look"].max()) if len(looks) else 0
    nxt = planned[done].end.isoformat() if done < len(planned) else "the planned end"
    rule = (
        "no interim look crossed its O'Brien-Fleming boundary"
        if e.early_stopping == "obrien_fleming"
        else "no early stopping (fixed horizon): interim p-values are not read"
    )
    return _out("continue", None, f"Look {done} of {len(planned)} done; {rule}. Next look after {nxt}.", False)


def _out(recommendation: str, arm: str | None, reason: str, final: bool) -> dict:
    return {"recommendation": recommendation, "recommended_arm": arm, "reason": reason, "is_final": final}


def threshold_changes(experiment: Experiment, recommendation: str, arm: str | None) -> tuple[list[dict], str]:
    """What changes in the next cycle's thresholds (scoping note ``segment_thresholds`` keys), as rows
    and as a sentence."""
    control = experiment.control
    if recommendation != "ship" or arm is None:
        kept = ", ".join(f"{k} {v:g}" for k, v in control.cadence.items() if k in CADENCE_KEYS) or "as is"
        return [], f"No change: keep the control cadence for {experiment.segment_label} ({kept})."
    winner = next(a for a in experiment.arms if a.name == arm)
    changes = [
        {"key": k, "from": control.cadence.get(k), "to": winner.cadence[k]}
        for k in CADENCE_KEYS
        if k in winner.cadence and winner.cadence[k] != control.cadence.get(k)
    ]
    said = (
        "; ".join(
            f"{c['key']}: {'unset' if c['from'] is None else format(c['from'], 'g')} -> {c['to']:g}" for c in changes
        )
        or "none (same parameters; the difference is in the content)"
    )
    return changes, (
        f"Adopt arm '{arm}' for {experiment.segment_label} in the scoping note's segment_thresholds: {said}."
    )


def retrospective(
    experiment: Experiment,
    month: str,
    decision: dict,
    final_look: pd.Series | None,
    guard: pd.DataFrame,
    srm_p: float,
    design: dict,
) -> dict:
    """One experiments.retrospectives row: result, decision, threshold changes, next cycle."""
    e = experiment
    changes, sentence = threshold_changes(e, decision["recommendation"], decision["recommended_arm"])
    row = {
        "partition_month": month,
        "experiment": e.name,
        "hypothesis": e.hypothesis,
        "segment": e.segment_label,
        "start_date": e.start_date,
        "end_date": e.end_date,
        "duration_days": e.duration_days,
        "success_kpi": e.success_kpi,
        "decision": decision["recommendation"],
        "decided_arm": decision["recommended_arm"],
        "reason": decision["reason"],
        "srm_p_value": srm_p,
        "guardrail_breaches": int(len(guard[guard["is_absolute_breach"] | guard["is_relative_breach"]]))
        if len(guard)
        else 0,
        "threshold_changes": json.dumps(changes),
        "threshold_change_text": sentence,
    }
    if final_look is not None and pd.notna(final_look.get("z")):
        f = final_look
        row.update(
            {
                k: f[k]
                for k in (
                    "arm",
                    "look",
                    "control_leads",
                    "treatment_leads",
                    "control_rate",
                    "treatment_rate",
                    "abs_lift_points",
                    "abs_lift_low",
                    "abs_lift_high",
                    "rel_lift",
                    "rel_lift_low",
                    "rel_lift_high",
                    "p_value",
                    "prob_to_beat",
                )
            }
        )
        row["result"] = (
            f"{f['arm']}: {100 * f['treatment_rate']:.1f} % vs {100 * f['control_rate']:.1f} % "
            f"({f['abs_lift_points']:+.2f} points, {100 * f['rel_lift']:+.0f} %; CI "
            f"[{f['abs_lift_low']:+.2f}, {f['abs_lift_high']:+.2f}], p = {f['p_value']:.2g}, "
            f"P(beats control) = {f['prob_to_beat']:.1%})"
        )
        shipped = decision["recommendation"] == "ship"
        base = f["treatment_rate"] if shipped else f["control_rate"]
        row["next_baseline_cr"] = base
        n1 = design.get("expected_control_leads")
        n2 = design.get("expected_treatment_leads")
        mde = stats.reachable_mde(base, n1, n2, e.alpha, e.power) if n1 and n2 else None
        row["next_reachable_mde_points"] = None if mde is None else 100 * mde
        row["next_cycle"] = f"Next cycle: baseline CR {100 * base:.1f} % for {e.segment_label}" + (
            f"; with the same volume a new test detects {100 * mde:.1f} points." if mde else "."
        )
    return row
