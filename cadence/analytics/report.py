"""What the Dagster metadata panel shows per table: a markdown metrics table, scatter plots per segment.
Pure: frames in, markdown strings out (the assets wrap them in MetadataValue.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.render import md_table, svg_markdown, svg_scatter
from cadence.analytics.shapes import predict
from cadence.segments import CELL_LEVEL, DIMS

PLOT_LEVELS = ("all", CELL_LEVEL)


def _main(df: pd.DataFrame, cfg: AnalysisConfig, measure: str | None = None) -> pd.DataFrame:
    out = df[(df["population"] == cfg.population) & df["segment_level"].isin(PLOT_LEVELS)]
    return out[out["x_measure"] == (measure or cfg.x_measure)] if "x_measure" in out.columns else out


def fits_markdown(fits: pd.DataFrame, cfg: AnalysisConfig) -> str:
    f = _main(fits[fits["trim"] == "none"], cfg)
    return md_table(
        f.to_dict("records"),
        [
            "segment_key",
            "leads",
            "x_mean",
            "y_mean",
            "r",
            "r_ci_low",
            "r_ci_high",
            "r_p_value",
            "slope",
            "intercept",
            "r2",
            "spearman_rho",
            "r_tier",
        ],
    )


def plots_markdown(bins: pd.DataFrame, shapes: pd.DataFrame, fits: pd.DataFrame, cfg: AnalysisConfig) -> str:
    """One scatter per segment (all, each cell of the dimensions) on the decision X: CR per touch bin, the
    least-squares line, the chosen curve and the mean lines (quadrants)."""
    f = _main(fits[fits["trim"] == "none"], cfg).set_index("segment_key")
    s = _main(shapes, cfg).set_index("segment_key")
    parts = []
    for key, b in _main(bins, cfg).groupby("segment_key", sort=False):
        if key not in f.index:
            continue
        fit, shape = f.loc[key], s.loc[key] if key in s.index else None
        xs = np.linspace(0, b["touches_mean"].max(), 40)
        curve = (
            []
            if shape is None or shape["shape"] in ("insufficient_data", "linear")
            else list(zip(xs, predict(shape.to_dict(), xs), strict=True))
        )
        title = f"{key}: r = {fit['r']:.2f}, {shape['shape'] if shape is not None else ''}"
        svg = svg_scatter(
            b.to_dict("records"), fit["slope"], fit["intercept"], fit["x_mean"], fit["y_mean"], title, curve
        )
        parts.append(f"**{key}** — {shape['description'] if shape is not None else ''}\n\n{svg_markdown(svg, key)}")
    return "\n\n".join(parts)


def lights_markdown(lights: pd.DataFrame) -> str:
    keep = lights[lights["segment_level"].isin(PLOT_LEVELS + DIMS)]
    return md_table(keep.to_dict("records"), ["segment_key", "light", "leads", "r_used", "delta_cr_points", "reason"])


def thresholds_markdown(th: pd.DataFrame) -> str:
    keep = th[th["segment_level"].isin(PLOT_LEVELS)]
    return md_table(
        keep.to_dict("records"),
        ["segment_key", "threshold", "status", "current_value", "recommended_value", "leads", "note"],
        digits=2,
    )


def diagnostic_markdown(diag: pd.DataFrame) -> str:
    return md_table(diag.to_dict("records"), ["question_no", "question", "status", "answer"])


def metadata(table: str, frames: dict[str, pd.DataFrame], cfg: AnalysisConfig, extra: dict) -> dict[str, str]:
    """Markdown entries for `table` (extra: other frames a plot needs, e.g. linear_fits)."""
    df = frames[table]
    if df.empty:
        return {}
    if table == "scoping_notes":
        r = df.iloc[0]
        return {
            "leads": f"{r['leads_analysed']:,} leads analysed of {r['leads_in_scope']:,} in scope; "
            f"{r['leads_window_incomplete']:,} with an attribution window not covered yet"
        }
    if table == "linear_fits":
        return {"metrics": fits_markdown(df, cfg)}
    if table == "touch_curve_bins" and "linear_fits" in extra:
        return {"scatter_plots": plots_markdown(df, frames["curve_shapes"], extra["linear_fits"], cfg)}
    if table == "traffic_light":
        return {"lights": lights_markdown(df)}
    if table == "thresholds":
        return {"recommendations": thresholds_markdown(df)}
    if table == "diagnostic":
        return {"answers": diagnostic_markdown(df)}
    return {}
