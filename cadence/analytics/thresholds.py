"""Recommended thresholds per segment, each with its evidence, or a note saying why none is given.

- min_touches: the reading of the chosen curve shape on the threshold X (touches before conversion by
  default): the start of the plateau (a plateau's breakpoint, an S-curve's 90 %-of-ceiling point), or an
  inverted U's optimum (shapes.reading). A straight, flat, falling or U-shaped curve gives no new number:
  keep the current one, and say why. A reading is recommended only when it is stable: redone on
  `threshold_resamples` resamples of the leads (stability.py), at least `threshold_min_agreement` of them
  land within `threshold_tolerance_touches` of it; otherwise the segment is too thin to locate the bend
  and nothing is recommended. The interval is the resamples' central `confidence` range.
- ttf_target_hours: the band edge whose CR gap (within vs beyond) is the most significant, when that gap
  is at least ttf_min_gap_points and its interval excludes 0.
- max_touches_per_day: j − 1 for the first daily intensity j (most touches in one day) whose leads show
  significantly more opt-outs and complaints per delivered e-mail than the leads of the lower levels,
  without a significantly higher CR; otherwise keep the current cap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.decision import NO_TOUCHES
from cadence.analytics.intervals import diff_of_proportions
from cadence.analytics.shapes import reading
from cadence.analytics.stability import agreement, resampled_readings

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


LABEL = {"plateau_start": "start of the plateau", "optimum": "optimum"}


def _per_touch(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(touch values, conversions, leads) of (touches, converted, leads) cells, by increasing touches."""
    per = cells.assign(conv=cells["leads"] * cells["converted"]).groupby("touches", sort=True)[["conv", "leads"]].sum()
    return per.index.to_numpy(float), per["conv"].to_numpy(float), per["leads"].to_numpy(float)


def _s_start(shape: dict):
    values = [shape.get(f"s_{k}") for k in ("ceiling", "k", "x0")]
    return None if any(v is None or pd.isna(v) for v in values) else values


def min_touches(shape: dict, cells: pd.DataFrame, current, cfg: AnalysisConfig) -> dict:
    """From a curve_shapes row (threshold X) and that segment's (touches, converted, leads) cells."""
    kind, n = shape["shape"], int(shape["leads"])
    out = {"basis": shape["description"], "shape": kind}
    if kind == "insufficient_data" or n < cfg.min_n:
        return _result("min_touches", current, n, "too_thin", None, f"too thin to recommend: {n} leads", **out)
    x, s, leads = _per_touch(cells)
    what, value, why = reading(shape, x, leads)
    out["reading"] = what
    if value is None:
        advice = (
            "keep the current minimum, do not raise it"
            if "fall" in why
            else "keep the current minimum and test a change before moving it"
        )
        return _result("min_touches", current, n, KEEP, current, f"{why}; {advice}", **out)
    tol = cfg.threshold_tolerance_touches
    votes = resampled_readings(x, s, leads, cfg, _s_start(shape), value)
    stable, share = agreement(value, votes, cfg)
    found = np.array([v for v in votes if v is not None], float)
    q = (1 - cfg.confidence) / 2
    if len(found):  # the resamples' central range, in touch counts they actually read
        out.update(
            interval_low=float(np.quantile(found, q, method="inverted_cdf")),
            interval_high=float(np.quantile(found, 1 - q, method="inverted_cdf")),
        )
    out.update(stability=share, resamples=len(votes))
    touches = f"touch{'es' if tol != 1 else ''}"
    if not stable:
        spread = f"they read {out['interval_low']:g} to {out['interval_high']:g} touches" if len(found) else ""
        bendless = f"{1 - len(found) / len(votes):.0%} see no bend" if len(found) < len(votes) else ""
        return _result(
            "min_touches",
            current,
            n,
            "too_thin",
            None,
            f"too thin to locate the {LABEL[what]}: the curve puts it at {value} touches, but only {share:.0%} of "
            f"{len(votes)} resamples of these {n} leads land within ±{tol} {touches} "
            f"({'; '.join(t for t in (spread, bendless) if t)}; {cfg.threshold_min_agreement:.0%} needed); "
            "keep the current minimum",
            **out,
        )
    where = (
        f"{LABEL[what]} at {value} touches ({share:.0%} of {len(votes)} resamples of the leads within ±{tol} {touches})"
        if votes
        else f"{LABEL[what]} at {value} touches (no resampling)"
    )
    cells = cells.assign(conv=cells["leads"] * cells["converted"])
    if what == "optimum":
        near = cells["touches"].between(value - tol, value + tol)
        d = _rates(cells[near], cells[~near], "conv", "leads", cfg.z)
        versus = f"leads with {value - tol}-{value + tol} touches convert"
    else:
        d = _rates(cells[cells["touches"] >= value], cells[cells["touches"] < value], "conv", "leads", cfg.z)
        versus = f"leads with >= {value} touches convert"
    note = (
        f"{where}; {versus} {100 * d['diff']:+.1f} points [{100 * d['ci_low']:+.1f}, {100 * d['ci_high']:+.1f}] "
        "vs the others"
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
