"""Recommended thresholds per segment, each with its evidence, or a note saying why none is given.

- min_touches: where CR stops rising, on the threshold X (touches before conversion by default): a
  plateau's breakpoint (its likelihood interval), an S-curve's 90 %-of-ceiling point, an inverted U's
  optimum. A straight rising line or a flat one gives no new number: keep the current one, and say why.
- ttf_target_hours: the band edge whose CR gap (within vs beyond) is the most significant, when that gap
  is at least ttf_min_gap_points and its interval excludes 0.
- max_touches_per_day: j − 1 for the first daily intensity j (most touches in one day) whose leads show
  significantly more opt-outs and complaints per delivered e-mail than the leads of the lower levels,
  without a significantly higher CR; otherwise keep the current cap.
"""

from __future__ import annotations

import math

import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.decision import NO_TOUCHES
from cadence.analytics.intervals import diff_of_proportions

KEEP = "keep_current"


def _result(name: str, current, leads: int, status: str, value, note: str, **evidence) -> dict:
    return {
        "threshold": name,
        "current_value": current,
        "leads": leads,
        "status": status,
        "recommended_value": value,
        "note": note,
        **evidence,
    }


def not_measurable(name: str, current, leads: int) -> dict:
    """A threshold of a segment whose leads had no touch: nothing to recommend from, whatever the size."""
    return _result(name, current, leads, "not_measurable", None, NO_TOUCHES)


def _gap(d: dict, scale: float = 100.0) -> dict:
    """Evidence columns from a diff_of_proportions result, in points."""
    return {
        "evidence_gap_points": scale * d["diff"],
        "evidence_gap_ci_low_points": scale * d["ci_low"],
        "evidence_gap_ci_high_points": scale * d["ci_high"],
    }


def _rates(hi: pd.DataFrame, lo: pd.DataFrame, num: str, den: str, z: float) -> dict:
    return diff_of_proportions(hi[num].sum(), hi[den].sum(), lo[num].sum(), lo[den].sum(), z)


def min_touches(shape: dict, cells: pd.DataFrame, current, cfg: AnalysisConfig) -> dict:
    """From a curve_shapes row (threshold X) and that segment's (touches, converted, leads) cells."""
    kind, n = shape["shape"], int(shape["leads"])
    out = {"basis": shape["description"]}
    if kind == "insufficient_data" or n < cfg.min_n:
        return _result("min_touches", current, n, "too_thin", None, f"too thin to recommend: {n} leads", **out)
    value = None
    if kind == "plateau" and shape["plateau_m"] > 0:
        value = shape["plateau_breakpoint"]
        out.update(interval_low=shape["plateau_breakpoint_ci_low"], interval_high=shape["plateau_breakpoint_ci_high"])
    elif kind == "s":
        value = math.ceil(shape["s_x90"])
    elif kind == "quadratic" and shape["quadratic_c"] < 0 and "optimum" in shape["description"]:
        value = round(shape["quadratic_vertex"])
    if value is None:
        why = (
            "CR still rises across the data: no saturation seen"
            if kind in ("linear", "quadratic")
            else "CR does not rise with touches"
        )
        return _result(
            "min_touches",
            current,
            n,
            KEEP,
            current,
            f"{why}; keep the current minimum and test a change before moving it",
            **out,
        )
    cells = cells.assign(conv=cells["leads"] * cells["converted"])
    d = _rates(cells[cells["touches"] >= value], cells[cells["touches"] < value], "conv", "leads", cfg.z)
    note = (
        f"leads with >= {int(value)} touches convert {100 * d['diff']:+.1f} points "
        f"[{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}] vs the others"
    )
    return _result("min_touches", current, n, "recommended", int(value), note, **out, **_gap(d))


def ttf_target(gaps: pd.DataFrame, current, cfg: AnalysisConfig) -> dict:
    """From the segment's ttf_gaps rows (one per band edge)."""
    n = int(gaps["leads_within"].iloc[0] + gaps["leads_beyond"].iloc[0]) if len(gaps) else 0
    if n < cfg.min_n:
        return _result("ttf_target_hours", current, n, "too_thin", None, f"too thin: {n} leads")
    ok = gaps[(gaps["cr_gap_points"] >= cfg.ttf_min_gap_points) & (gaps["cr_gap_ci_low_points"] > 0)]
    if ok.empty:
        return _result(
            "ttf_target_hours",
            current,
            n,
            KEEP,
            current,
            f"no TTF edge gains >= {cfg.ttf_min_gap_points} points significantly; keep the target",
        )
    b = ok.loc[ok["z"].idxmax()]
    note = (
        f"gap {b['cr_gap_points']:+.1f} points [{b['cr_gap_ci_low_points']:+.1f}, "
        f"{b['cr_gap_ci_high_points']:+.1f}], z = {b['z']:.1f}"
    )
    return _result(
        "ttf_target_hours",
        current,
        n,
        "recommended",
        float(b["ttf_edge_hours"]),
        note,
        basis=f"CR within {b['ttf_edge_hours']:g} h {b['cr_within']:.1%} vs {b['cr_beyond']:.1%} beyond",
        interval_low=b["cr_gap_ci_low_points"],
        interval_high=b["cr_gap_ci_high_points"],
        **_gap(
            {"diff": b["cr_gap_points"], "ci_low": b["cr_gap_ci_low_points"], "ci_high": b["cr_gap_ci_high_points"]},
            scale=1.0,
        ),
    )


def daily_cap(intensity: pd.DataFrame, current, cfg: AnalysisConfig) -> dict:
    """From the segment's rows per most-touches-in-one-day level (intensity_sql)."""
    n = int(intensity["leads"].sum())
    if n < cfg.min_n:
        return _result("max_touches_per_day", current, n, "too_thin", None, f"too thin: {n} leads")
    per_day = intensity["touches_per_day"]
    for j in sorted(int(v) for v in per_day.unique() if v >= 2):  # each level against the levels below it
        hi, lo = intensity[per_day == j], intensity[per_day.between(1, j - 1)]
        harm = _rates(hi, lo, "emails_opted_out_or_complained", "emails_delivered", cfg.z)
        gain = _rates(hi, lo, "conversions", "leads", cfg.z)
        if harm["z"] >= cfg.z and not gain["ci_low"] > 0 and hi["leads"].sum() >= cfg.cluster_min_leads:
            note = (
                f"leads with a {j}-touch day: {100 * harm['diff']:+.2f} points of opt-outs/complaints per "
                f"e-mail vs the lower levels, CR {100 * gain['diff']:+.1f} points"
            )
            return _result(
                "max_touches_per_day",
                current,
                n,
                "recommended",
                j - 1,
                note,
                basis="opt-outs + complaints per delivered e-mail on days above the cap",
                interval_low=100 * harm["ci_low"],
                interval_high=100 * harm["ci_high"],
                **_gap(harm),
            )
    return _result(
        "max_touches_per_day",
        current,
        n,
        KEEP,
        current,
        "no daily intensity shows significantly more opt-outs or complaints: the cap stays an "
        "operational and compliance choice (needs human input)",
        basis="no harm seen in the data",
    )
