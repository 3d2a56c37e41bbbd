"""One segment's picture (the overall one is the segment 'all'): its rows from every table, and its three
charts on axes shared by all segments, so panels compare at a glance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.analytics.shapes import predict
from cadence.reports import charts, scatter
from cadence.reports.gather import SEGMENT_LEVEL, ReportData
from cadence.reports.scatter import Line, Point
from cadence.segments import ACTIVE

#: raw table -> (what it is, the touch channel it feeds)
SOURCE_LABELS = {"crm__opportunities": ("opportunities", None), "voip__calls": ("calls", "call"),
                 "emailing__email_events": ("e-mail events", "email"), "calendar__meetings": ("meetings", "meeting")}


def sources_statement(data: ReportData) -> str | None:
    """The month's missing sources as a fact, with what it does to the touch definition; None when every
    source was provided (or the accounting is not available)."""
    acc = data.of("cleaning")
    if acc.empty or "is_provided" not in acc.columns:
        return None
    missing = [t for t in acc.loc[~acc["is_provided"].astype(bool), "table_name"] if t in SOURCE_LABELS]
    if not missing:
        return None
    labels = [SOURCE_LABELS[t][0] for t in sorted(missing, key=list(SOURCE_LABELS).index)]
    gone = {SOURCE_LABELS[t][1] for t in missing}
    kept = [c for c in data.note["touches"]["channels"] if c not in gone]
    touches = (f"touches counted from {', '.join(kept)} only" if kept
               else "no touch channel provided: touch-based figures are not measurable")
    return f"Not provided for {data.month}: {', '.join(labels)}; {touches}."


def segment_keys(data: ReportData) -> list[str]:
    """The month's cells (segments at SEGMENT_LEVEL) that have leads, in the dimensions' declared value
    order (channel then size by default); with a dimension of free values, every cell present."""
    kpis = data.of("kpis")
    present = set(kpis.loc[kpis["segment_level"] == SEGMENT_LEVEL, "segment_key"]) if len(kpis) else set()
    declared = ACTIVE.declared_cells()
    return [k for k in declared if k in present] if declared else sorted(present, key=ACTIVE.sort_key)


def _one(df: pd.DataFrame, **match) -> dict:
    for col, val in match.items():
        if df.empty or col not in df.columns:
            return {}
        df = df[df[col] == val]
    return df.iloc[0].to_dict() if len(df) else {}


@dataclass
class Segment:
    key: str
    kpi: dict
    fit: dict
    fit_trimmed: dict
    quadrant: dict
    ttf: dict
    light: dict
    shape: dict
    thresholds: pd.DataFrame
    bins: pd.DataFrame
    points: pd.DataFrame

    @property
    def line(self) -> Line | None:
        return Line(self.fit["slope"], self.fit["intercept"]) if self.fit else None


def segment(data: ReportData, key: str) -> Segment:
    x = data.cfg.x_measure
    fits = data.of("fits")
    pts = data.points
    pts = pts[pts["in_overall"]] if key == "all" else pts[(pts["segment_key"] == key) & pts["in_segment"]]
    th = data.of("thresholds")
    return Segment(
        key=key,
        kpi=_one(data.of("kpis"), segment_key=key),
        fit=_one(fits, segment_key=key, x_measure=x, trim="none"),
        fit_trimmed=_one(fits, segment_key=key, x_measure=x, trim="top"),
        quadrant=_one(data.of("quadrants"), segment_key=key),
        ttf=_one(data.ttf_fits, segment_key=key),
        light=_one(data.of("lights"), segment_key=key),
        shape=_one(data.of("shapes"), segment_key=key),
        thresholds=th[th["segment_key"] == key] if len(th) else th,
        bins=data.of("bins")[data.of("bins")["segment_key"] == key] if len(data.bins) else data.bins,
        points=pts,
    )


def no_touches(data: ReportData, seg: Segment) -> bool:
    """The segment's leads had no touch (or the whole month had none): its fit, curve and quadrants are
    "not measurable: no touches"."""
    return data.no_touches or (bool(seg.fit) and seg.fit.get("sum_x") == 0)


def chart_name(key: str) -> str:
    """'channel=inbound | company_size=SMB' -> 'inbound-SMB' (ids and anchors)."""
    return ACTIVE.slug(key)


@dataclass(frozen=True)
class Axes:
    """Shared across panels: touches shown (the 99th percentile of the month) and the curve's CR ceiling."""

    x_max: float
    y_max: float
    window_hours: float


def shared_axes(data: ReportData) -> Axes:
    window = 24.0 * float(data.note["attribution_window_days"])
    bins = data.of("bins")
    if bins.empty:
        return Axes(20.0, 0.5, window)
    overall = bins[bins["segment_key"] == "all"].sort_values("touches_mean")
    cum = overall["leads"].cumsum() / max(overall["leads"].sum(), 1)
    p99 = float(overall.loc[cum >= 0.99, "touches_high"].min()) if len(overall) else 20.0
    x_max = float(np.ceil(max(p99, 5.0) / 5.0) * 5.0)
    solid = bins[(bins["leads"] >= data.cfg.min_bin_leads) & (bins["touches_mean"] <= x_max)]
    top = float(solid["cr_ci_high"].max()) if len(solid) else 0.5
    return Axes(x_max, float(min(1.0, np.ceil(top * 10) / 10)), window)


def charts_of(data: ReportData, seg: Segment, ax: Axes, size: tuple[int, int] = (330, 250)) -> dict[str, str]:
    """The segment's three SVG charts: contacts vs CR, TTF vs CR, binned conversion curve."""
    name, (w, h) = chart_name(seg.key), size
    pts = seg.points
    contact_pts = [
        Point(float(a), int(b), float(c)) for a, b, c in zip(pts["touches"], pts["converted"], pts["u"], strict=True)
    ]
    contacted = pts[pts["ttf_hours"].notna()]
    ttf_pts = [
        Point(float(a), int(b), float(c))
        for a, b, c in zip(contacted["ttf_hours"], contacted["converted"], contacted["u"], strict=True)
    ]
    q = seg.quadrant
    shares = {f"Q{i}": q.get(f"share_q{i}") for i in range(1, 5)}
    fit = seg.fit
    t = seg.ttf
    target = _ttf_target(data, seg)
    out = {
        "contacts": scatter.contacts_scatter(
            contact_pts,
            seg.line,
            fit.get("x_mean", np.nan),
            fit.get("y_mean", np.nan),
            shares,
            ax.x_max,
            f"contacts-{name}",
            f"Contacts vs conversion, {name}",
            w,
            h,
        ),
        "ttf": scatter.ttf_scatter(
            ttf_pts,
            Line(t["slope"], t["intercept"]) if t else None,
            t.get("log_x_mean", np.nan),
            t.get("y_mean", np.nan),
            {k: t.get(k) for k in ("tl", "tr", "bl", "br")},
            target,
            ax.window_hours,
            f"ttf-{name}",
            f"Time to first contact vs conversion, {name}",
            w,
            h,
        ),
    }
    bins = [
        {"x": r.touches_mean, "cr": r.cr, "lo": r.cr_ci_low, "hi": min(r.cr_ci_high, ax.y_max), "leads": r.leads}
        for r in seg.bins.itertuples()
    ]
    shape = seg.shape
    curve = []
    if shape and shape.get("shape") not in (None, "insufficient_data", "linear"):
        xs = np.linspace(0, ax.x_max, 60)
        curve = [(float(a), float(b)) for a, b in zip(xs, predict(shape, xs), strict=True)]
    out["curve"] = charts.curve_chart(
        bins, curve, seg.line, ax.x_max, ax.y_max, f"curve-{name}", f"Conversion by touch count, {name}", w, h
    )
    return out


def _ttf_target(data: ReportData, seg: Segment) -> float | None:
    rows = seg.thresholds
    if len(rows):
        hit = rows[rows["threshold"] == "ttf_target_hours"]
        if len(hit) and pd.notna(hit.iloc[0]["current_value"]):
            return float(hit.iloc[0]["current_value"])
    return float(data.cfg.ttf_target_hours)


def segment_order(key: str) -> tuple:
    """Sort key of a segment key: each dimension's declared value order ('all' first)."""
    return ACTIVE.sort_key(key)
