"""Does contact frequency pay in a segment? Statistics suited to a 0/1 outcome, at the segment's size.

Pearson's r of a 0/1 outcome is small by construction when CR is low (a segment whose CR goes from 6 % to
25 % with touches shows r ≈ 0.1), so the light does not rest on r. It reads, on `threshold_x_measure`
(touches before conversion by default: touches after a conversion would make touches look productive),
the same curve the recommended minimum comes from, and two statistics of one question with their
intervals:

- the average marginal effect of one more touch (logistic regression, `logistic_fits`), in CR points;
- the CR difference between touch bands: leads with at least the segment's median touch count vs the
  others (the split is chosen from X alone, never from the outcome), Newcombe's interval.

Two looks at one question: each interval is read at 1 − (1 − confidence)/2 (Bonferroni, z = 2.24 at
95 %), so "pays" keeps the note's error rate. `effect_min_points` is the smallest gain per touch worth
pushing volume for; for the bands it becomes that gain times the bands' difference in mean touches.

    pays             the chosen curve rises to a plateau (plateau, S), or an interval lies above 0 and
                     reaches effect_min_points
    pays_to_optimum  the chosen curve is an inverted U: more touches pay up to its top, cost beyond
    small            an interval lies above 0, but both stay below effect_min_points
    hurts            an interval lies below 0 (and none above): more touches, lower CR
    none             neither interval excludes 0 and both stay below effect_min_points: ≈ 0 at this size
    unclear          neither excludes 0 but a worthwhile gain is still inside: not established at this
                     size (or one interval is above 0 and the other below: not monotone)
    not_measurable   no touch, or no statistic (too few leads, no conversion)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.intervals import diff_of_proportions
from cadence.analytics.shapes import reading

NAN = math.nan
PAYING = ("pays", "pays_to_optimum")


def touch_bands(x, s, n) -> dict | None:
    """Leads with at least `split` touches vs the others, the split being the touch value that puts the
    share of leads at or above it closest to one half (ties: the lower value). None with one touch value."""
    x, s, n = (np.asarray(a, float) for a in (x, s, n))
    if len(x) < 2 or n.sum() == 0:
        return None
    above = n[::-1].cumsum()[::-1] / n.sum()  # share of leads with at least x[i] touches
    i = 1 + int(np.argmin(np.abs(above[1:] - 0.5)))
    hi, lo = slice(i, None), slice(0, i)
    return {
        "split": int(x[i]),
        "leads_high": int(n[hi].sum()),
        "conversions_high": int(s[hi].sum()),
        "x_mean_high": float((x[hi] * n[hi]).sum() / n[hi].sum()),
        "leads_low": int(n[lo].sum()),
        "conversions_low": int(s[lo].sum()),
        "x_mean_low": float((x[lo] * n[lo]).sum() / n[lo].sum()),
    }


def _pts(v) -> str:
    return f"{v:+.2f}" if abs(v) < 1 else f"{v:+.1f}"


def _interval(est, low, high, unit: str = "points") -> str:
    return f"{_pts(est)} {unit} [{_pts(low)}, {_pts(high)}]"


def effect_of_touches(
    logit: dict | None, cells: pd.DataFrame, shape: dict | None, cfg: AnalysisConfig, minimum: dict | None = None
) -> dict:
    """The effect columns of one segment. `logit`: its logistic_fits row on the effect X (or None);
    `cells`: its (touches, converted, leads) cells on that X; `shape`: its curve_shapes row (or None);
    `minimum`: its min_touches row of the thresholds table, which says whether the curve's bend is located
    (recommended) or not (too_thin): the light quotes a bend's touch count only when it is (not when the
    row is missing either)."""
    z, delta = cfg.z_effect, cfg.effect_min_points
    out = {
        "effect_x_measure": cfg.threshold_x_measure,
        "effect_confidence": 1 - (1 - cfg.confidence) / 2,
        "effect_min_points": delta,
        "curve_shape": shape.get("shape") if shape else None,
        "curve_description": shape.get("description") if shape else None,
    }
    ok_logit = bool(logit) and logit.get("status") == "converged" and not pd.isna(logit.get("ame_touch_std_error"))
    if ok_logit:
        ame, se = 100 * logit["ame_touch"], 100 * logit["ame_touch_std_error"]
        out.update(effect_ame_points=ame, effect_ame_ci_low_points=ame - z * se, effect_ame_ci_high_points=ame + z * se)
    per = (
        cells.assign(conv=cells["leads"] * cells["converted"]).groupby("touches", sort=True)[["conv", "leads"]].sum()
        if len(cells)
        else None
    )
    bands = touch_bands(per.index, per["conv"], per["leads"]) if per is not None else None
    if bands:
        d = diff_of_proportions(
            bands["conversions_high"], bands["leads_high"], bands["conversions_low"], bands["leads_low"], z
        )
        out.update(
            band_split_touches=bands["split"],
            band_leads_high=bands["leads_high"],
            band_leads_low=bands["leads_low"],
            band_cr_high=bands["conversions_high"] / bands["leads_high"],
            band_cr_low=bands["conversions_low"] / bands["leads_low"],
            band_gap_points=100 * d["diff"],
            band_gap_ci_low_points=100 * d["ci_low"],
            band_gap_ci_high_points=100 * d["ci_high"],
            band_gap_min_points=delta * (bands["x_mean_high"] - bands["x_mean_low"]),
        )
    if per is not None and shape and shape.get("shape") not in (None, "insufficient_data"):
        kind, value, _ = reading(shape, per.index.to_numpy(float), per["leads"].to_numpy(float))
        located = bool(minimum) and minimum.get("status") == "recommended"  # unknown: not quoted
        out.update(curve_reading=kind, curve_reading_touches=value if located else None)
    out["effect"], out["effect_summary"] = classify(out, cfg)
    return out


def classify(e: dict, cfg: AnalysisConfig) -> tuple[str, str]:
    """(effect, the sentence a manager reads) from the effect columns."""
    stats = []  # (estimate, low, high, worthwhile gain, text)
    if not pd.isna(e.get("effect_ame_points", NAN)):
        stats.append(
            (
                e["effect_ame_points"],
                e["effect_ame_ci_low_points"],
                e["effect_ame_ci_high_points"],
                cfg.effect_min_points,
                "one more touch "
                + _interval(e["effect_ame_points"], e["effect_ame_ci_low_points"], e["effect_ame_ci_high_points"]),
            )
        )
    if not pd.isna(e.get("band_gap_points", NAN)):
        stats.append(
            (
                e["band_gap_points"],
                e["band_gap_ci_low_points"],
                e["band_gap_ci_high_points"],
                e["band_gap_min_points"],
                f"leads with >= {e['band_split_touches']} touches "
                + _interval(e["band_gap_points"], e["band_gap_ci_low_points"], e["band_gap_ci_high_points"])
                + " vs fewer",
            )
        )
    if not stats:
        return "not_measurable", "effect of touches not measurable (no fit and no touch bands)"
    level = f"{e['effect_confidence']:.1%} intervals"
    evidence = "; ".join(t for *_, t in stats) + f" ({level})"
    kind, at = e.get("curve_reading"), e.get("curve_reading_touches")
    where = "not located at this size" if pd.isna(at) else f"at about {int(at)} touches"
    if kind == "plateau_start":
        return "pays", f"touches pay, then level off (plateau start {where}); {evidence}"
    if kind == "optimum":
        return "pays_to_optimum", f"touches pay up to an optimum ({where}), CR falls beyond; {evidence}"
    up = any(low > 0 for _, low, *_ in stats)
    down = any(high < 0 for _, _, high, *_ in stats)
    worthwhile = any(high >= gain for _, _, high, gain, _ in stats)
    if up and down:
        return "unclear", f"effect of touches not monotone: {evidence}"
    if up and worthwhile:
        return "pays", f"touches pay: {evidence}"
    if up:
        return "small", (
            f"touches add little: {evidence}, below the {_pts(cfg.effect_min_points)} points per touch worth "
            "pushing volume for"
        )
    if down:
        return "hurts", f"more touches, lower CR: {evidence}"
    if not worthwhile:
        return "none", (
            f"no worthwhile effect of touches: {evidence}, all below the {_pts(cfg.effect_min_points)} points "
            "per touch worth pushing volume for"
        )
    return "unclear", f"effect of touches not established at this size: {evidence}"
