"""The other charts of the page: the binned conversion curve with its intervals, reps against their
segment mix (quadrants), an experiment's lift across looks, and the funnel by stage."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from cadence.reports import fmt
from cadence.reports.scatter import Line
from cadence.reports.svg import Canvas, Frame, Scale, axes, nice_ticks


def curve_chart(
    bins: Sequence[dict],
    shape: Sequence[tuple[float, float]],
    line: Line | None,
    x_max: float,
    y_max: float,
    chart: str,
    label: str,
    width: int = 330,
    height: int = 250,
) -> str:
    """CR per touch count (dot area ∝ leads, bar = Wilson interval), the chosen curve shape and the
    least-squares line. bins: dicts with x, cr, lo, hi, leads."""
    c, f = Canvas(width, height, chart, label), Frame(40, 20, width - 12, height - 36)
    ticks = [t for t in nice_ticks(0, x_max, 5) if t <= x_max]
    yt = [t for t in nice_ticks(0, y_max, 4) if t <= y_max + 1e-9]
    xs, ys = Scale(0, x_max, f.left, f.right), Scale(0, y_max, f.bottom, f.top)
    axes(
        c,
        f,
        xs,
        ys,
        [(t, f"{t:g}") for t in ticks],
        [(t, f"{100 * t:.0f}%") for t in yt],
        "touches per lead",
        "conversion rate",
    )
    if not bins:
        c.text((f.left + f.right) / 2, (f.top + f.bottom) / 2, "not available", 11, "middle", "tick")
    biggest = max([b["leads"] for b in bins] + [1])
    for b in bins:
        if b["x"] > x_max:
            continue
        x = xs(b["x"])
        if not (fmt.missing(b["lo"]) or fmt.missing(b["hi"])):
            c.line(x, ys(b["lo"]), x, ys(b["hi"]), "ci")
            for v in (b["lo"], b["hi"]):
                c.line(x - 2.5, ys(v), x + 2.5, ys(v), "ci")
        radius = 1.8 + 4.2 * math.sqrt(b["leads"] / biggest)
        c.add(
            f'<circle cx="{x:.1f}" cy="{ys(b["cr"]):.1f}" r="{radius:.1f}" class="bin">'
            f"<title>{b['x']:g} touches: {fmt.pct(b['cr'])} of {b['leads']:,} leads</title></circle>"
        )
    if line and not fmt.missing(line.slope):
        c.line(xs(0), ys(line.at(0)), xs(x_max), ys(line.at(x_max)), "trend", stroke_dasharray="6 4")
    pts = [(x, y) for x, y in shape if 0 <= x <= x_max and not fmt.missing(y)]
    if len(pts) > 1:
        path = " ".join(f"{xs(x):.1f},{ys(y):.1f}" for x, y in pts)
        c.add(f'<polyline points="{path}" class="shape"/>')
    return c.render()


def unit_chart(units: Sequence[dict], chart: str, label: str, width: int = 520, height: int = 340) -> str:
    """Each rep against what its segment mix predicts: X = touches per lead above/below expected,
    Y = CR points above/below expected (dot area ∝ leads). Q1 top-right, Q3 bottom-left."""
    c, f = Canvas(width, height, chart, label), Frame(48, 22, width - 14, height - 38)
    dx = max([abs(u["dx"]) for u in units] + [0.5]) * 1.15
    dy = max([abs(u["dy"]) * 100 for u in units] + [1.0]) * 1.15
    xs, ys = Scale(-dx, dx, f.left, f.right), Scale(-dy, dy, f.bottom, f.top)
    xt = [t for t in nice_ticks(-dx, dx, 6) if -dx <= t <= dx]
    yt = [t for t in nice_ticks(-dy, dy, 6) if -dy <= t <= dy]
    axes(
        c,
        f,
        xs,
        ys,
        [(t, f"{t:+g}" if t else "0") for t in xt],
        [(t, f"{t:+g}" if t else "0") for t in yt],
        "touches per lead vs expected",
        "CR points vs expected",
    )
    c.line(xs(0), f.top, xs(0), f.bottom, "mean")
    c.line(f.left, ys(0), f.right, ys(0), "mean")
    for text, x, y, anchor in (
        ("Q1 models", f.right - 4, f.top + 12, "end"),
        ("Q2", f.left + 4, f.top + 12, "start"),
        ("Q3 coaching", f.left + 4, f.bottom - 6, "start"),
        ("Q4", f.right - 4, f.bottom - 6, "end"),
    ):
        c.text(x, y, text, 10.5, anchor, "q")
    biggest = max([u["leads"] for u in units] + [1])
    ordered = sorted(units, key=lambda u: -u["leads"])
    for u in ordered:
        x, y, r = xs(u["dx"]), ys(100 * u["dy"]), 3 + 5 * math.sqrt(u["leads"] / biggest)
        cls = {"Q1": "unit q1", "Q3": "unit q3"}.get(u.get("quadrant"), "unit")
        c.add(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" class="{cls}"><title>{escape(str(u["id"]))}: '
            f"{u['dx']:+.2f} touches, {100 * u['dy']:+.1f} CR pts, {u['leads']:,} leads</title></circle>"
        )
        c.boxes.append((x - r, y - r, x + r, y + r))
    for u in ordered:
        x, y, r = xs(u["dx"]), ys(100 * u["dy"]), 3 + 5 * math.sqrt(u["leads"] / biggest)
        c.place(
            [
                (x + r + 2, y + 4, "start"),
                (x - r - 2, y + 4, "end"),
                (x, y - r - 3, "middle"),
                (x, y + r + 11, "middle"),
            ],
            str(u["id"]),
            10,
            "lab",
            f.box,
        )
    return c.render()


def forest_chart(rows: Sequence[dict], chart: str, label: str, unit: str = "pts", width: int = 420) -> str:
    """One row per look: the estimate with its interval (and the stopping boundary if given), zero line."""
    height = 46 + 30 * max(len(rows), 1)
    c, f = Canvas(width, height, chart, label), Frame(110, 12, width - 16, height - 30)
    ext = max([abs(v) for r in rows for v in (r["lo"], r["hi"]) if not fmt.missing(v)] + [1.0]) * 1.1
    xs = Scale(-ext, ext, f.left, f.right)
    ticks = [t for t in nice_ticks(-ext, ext, 6) if -ext <= t <= ext]
    for t in ticks:
        c.line(xs(t), f.top, xs(t), f.bottom, "grid")
        c.text(xs(t), f.bottom + 14, f"{t:+g}" if t else "0", 10, "middle", "tick")
    c.text(f.right, f.bottom + 27, f"lift ({unit})", 10.5, "end", "axis-title")
    c.line(xs(0), f.top, xs(0), f.bottom, "zero")
    for i, r in enumerate(rows):
        y = f.top + 15 + 30 * i
        c.text(f.left - 8, y + 4, r["label"], 10.5, "end")
        if not (fmt.missing(r["lo"]) or fmt.missing(r["hi"])):
            c.line(xs(r["lo"]), y, xs(r["hi"]), y, "ci", stroke_width="2.5")
        if not fmt.missing(r["est"]):
            c.add(f'<circle cx="{xs(r["est"]):.1f}" cy="{y:.1f}" r="4" class="est"/>')
    return c.render()


def funnel_chart(stages: Sequence[dict], chart: str, label: str, width: int = 420) -> str:
    """Horizontal bars of leads reaching each stage, with the conversion from the previous stage.
    stages: dicts with stage, leads, conv (from previous; None for the first)."""
    height = 18 + 30 * max(len(stages), 1)
    c = Canvas(width, height, chart, label)
    left, right = 92, width - 118
    top = max([s["leads"] for s in stages] + [1])
    for i, s in enumerate(stages):
        y = 10 + 30 * i
        w = (right - left) * s["leads"] / top
        c.add(f'<rect x="{left}" y="{y}" width="{right - left}" height="18" rx="3" class="bar-bg"/>')
        c.add(f'<rect x="{left}" y="{y}" width="{max(w, 1):.1f}" height="18" rx="3" class="bar"/>')
        c.text(left - 8, y + 13, s["stage"], 11, "end")
        conv = "" if fmt.missing(s.get("conv")) else f" · {fmt.pct(s['conv'], 0)}"
        c.text(right + 8, y + 13, f"{s['leads']:,}{conv}", 11, "start", "tick")
    return c.render()
