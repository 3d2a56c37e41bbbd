"""The method's scatter plot with a binary outcome: one dot per lead at its X and at Y = 0 or 100 %
(converted), spread a little vertically so dots stay visible, with the least-squares line Y = b + m·X of the
lead-level regression, the lines of the means X̄ and Ȳ (they cross on the line) and the share of leads in
each quadrant. Two readings: contacts (linear X) and time to first contact (log X, line fitted on log10 TTF).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from cadence.reports import fmt
from cadence.reports.svg import Canvas, Frame, Scale, axes, nice_ticks

#: Vertical spread of the dots around 0 and 1 (share of the 0-100 % axis), horizontal spread of integer X.
JITTER, X_JITTER = 0.09, 0.5
#: The y domain leaves a row above the converted dots and one below the others for the quadrant labels.
Y_LO, Y_HI = -0.24, 1.22
ROW_TOP, ROW_BOTTOM = 1.15, -0.165
TTF_TICKS = ((0.1, "6m"), (1, "1h"), (2, "2h"), (8, "8h"), (24, "1d"), (72, "3d"), (168, "7d"), (720, "30d"))


@dataclass(frozen=True)
class Line:
    """Y = intercept + slope·t, where t is X (contacts) or log10(X) (TTF)."""

    slope: float
    intercept: float

    def at(self, t: float) -> float:
        return self.intercept + self.slope * t

    def clipped(self, t0: float, t1: float) -> tuple[float, float] | None:
        """The sub-range of [t0, t1] where the line stays within [0, 1] (None if nowhere)."""
        if fmt.missing(self.slope) or fmt.missing(self.intercept):
            return None
        lo, hi = t0, t1
        if self.slope != 0:
            a, b = (0 - self.intercept) / self.slope, (1 - self.intercept) / self.slope
            lo, hi = max(t0, min(a, b)), min(t1, max(a, b))
        elif not 0 <= self.intercept <= 1:
            return None
        return (lo, hi) if hi > lo else None


@dataclass(frozen=True)
class Point:
    x: float
    y: int  # 0 / 1
    u: float  # a stable uniform number in [0, 1): the dot's vertical spread


def _y(p: Point) -> float:
    return p.y + (p.u - 0.5) * JITTER


def _x_spread(p: Point) -> float:
    """A second stable number from u (its digits further down) to spread integer touch counts sideways."""
    return p.x + ((p.u * 9973.0) % 1.0 - 0.5) * X_JITTER


def _frame(width: int, height: int) -> Frame:
    return Frame(left=40, top=20, right=width - 12, bottom=height - 36)


def _y_axis() -> list[tuple[float, str]]:
    return [(v, f"{100 * v:.0f}%") for v in (0, 0.25, 0.5, 0.75, 1.0)]


def _common(
    c: Canvas,
    f: Frame,
    xs: Scale,
    ys: Scale,
    points: Sequence[Point],
    line: Line | None,
    t_range: tuple[float, float],
    x_mean: float,
    y_mean: float,
    x_mean_label: str,
    spread: bool = False,
) -> None:
    for p in points:
        x = xs(_x_spread(p) if spread else p.x)
        c.add(f'<circle cx="{x:.1f}" cy="{ys(_y(p)):.1f}" r="2.1" class="{"pt-conv" if p.y else "pt-not"}"/>')
    if not fmt.missing(y_mean):
        c.line(f.left, ys(y_mean), f.right, ys(y_mean), "mean")
    if not fmt.missing(x_mean):
        c.line(xs(x_mean), ys(ROW_TOP + 0.05), xs(x_mean), ys(ROW_BOTTOM - 0.05), "mean")
    span = line.clipped(*t_range) if line else None
    if span:
        (t0, t1), inv = span, (lambda t: 10**t) if xs.log else (lambda t: t)
        c.line(xs(inv(t0)), ys(line.at(t0)), xs(inv(t1)), ys(line.at(t1)), "trend")
    inside = f.box
    if not fmt.missing(x_mean):
        x = xs(x_mean)
        c.place(
            [
                (x + 4, ys(0.62), "start"),
                (x - 4, ys(0.62), "end"),
                (x + 4, ys(0.45), "start"),
                (x - 4, ys(0.45), "end"),
            ],
            x_mean_label,
            10.5,
            "lab",
            inside,
        )
    if not fmt.missing(y_mean):
        y = ys(y_mean)
        label = f"Ȳ {fmt.pct(y_mean)}"
        c.place(
            [(f.right - 2, y - 4, "end"), (f.right - 2, y + 12, "end"), (f.left + 60, y - 4, "start")],
            label,
            10.5,
            "lab",
            inside,
        )


def _quadrant_labels(c: Canvas, f: Frame, ys: Scale, x_split: float, labels: dict[str, str]) -> None:
    """labels: corner (tl, tr, bl, br) -> text, on the rows above and below the dots, beside the X̄ line."""
    for corner, text in labels.items():
        y = ys(ROW_TOP if corner[0] == "t" else ROW_BOTTOM) + 4
        if corner[1] == "l":
            spots = [(x_split - 6, y, "end"), (f.left + 4, y, "start")]
        else:
            spots = [(x_split + 6, y, "start"), (f.right - 4, y, "end")]
        c.place(spots, text, 10.5, "q", f.box)


def contacts_scatter(
    points: Sequence[Point],
    line: Line | None,
    x_mean: float,
    y_mean: float,
    shares: dict[str, float],
    x_max: float,
    chart: str,
    label: str,
    width: int = 330,
    height: int = 250,
) -> str:
    """X = touches per lead (linear), quadrants Q1-Q4 against (X̄, Ȳ) with their share of leads."""
    c, f = Canvas(width, height, chart, label), _frame(width, height)
    ticks = [t for t in nice_ticks(0, x_max, 5) if t <= x_max]
    xs, ys = Scale(0, x_max, f.left, f.right), Scale(Y_LO, Y_HI, f.bottom, f.top)
    axes(c, f, xs, ys, [(t, f"{t:g}") for t in ticks], _y_axis(), "touches per lead", "converted")
    _common(
        c,
        f,
        xs,
        ys,
        [p for p in points if p.x <= x_max],
        line,
        (0, x_max),
        x_mean,
        y_mean,
        f"X̄ {fmt.num(x_mean, 1)}",
        spread=True,
    )
    names = {"tr": "Q1", "tl": "Q2", "bl": "Q3", "br": "Q4"}
    split = xs(x_mean) if not fmt.missing(x_mean) else (f.left + f.right) / 2
    _quadrant_labels(
        c,
        f,
        ys,
        split,
        {k: f"{q} {fmt.pct(shares.get(q), 0)}" for k, q in names.items() if not fmt.missing(shares.get(q))},
    )
    return c.render()


def ttf_scatter(
    points: Sequence[Point],
    line: Line | None,
    log_x_mean: float,
    y_mean: float,
    shares: dict[str, float],
    target_hours: float | None,
    window_hours: float,
    chart: str,
    label: str,
    width: int = 330,
    height: int = 250,
) -> str:
    """X = hours to the first effective contact (log axis; contacted leads), the line fitted on log10(TTF),
    X̄ = the geometric mean (mean of log10 TTF) and the segment's TTF target. Quadrants by speed."""
    lo, hi = TTF_TICKS[0][0], max(window_hours, 24.0)
    c, f = Canvas(width, height, chart, label), _frame(width, height)
    xs, ys = Scale(lo, hi, f.left, f.right, log=True), Scale(Y_LO, Y_HI, f.bottom, f.top)
    axes(
        c, f, xs, ys, [(v, t) for v, t in TTF_TICKS if v <= hi], _y_axis(), "hours to first contact (log)", "converted"
    )
    if target_hours and lo < target_hours < hi:
        c.line(xs(target_hours), f.top, xs(target_hours), f.bottom, "target")
    geo = 10**log_x_mean if not fmt.missing(log_x_mean) else math.nan
    clipped = [Point(min(max(p.x, lo), hi), p.y, p.u) for p in points]
    _common(c, f, xs, ys, clipped, line, (math.log10(lo), math.log10(hi)), geo, y_mean, f"X̄ {fmt.hours(geo)}")
    if target_hours and lo < target_hours < hi:
        c.place(
            [(xs(target_hours) + 3, ys(0.5), "start"), (xs(target_hours) - 3, ys(0.5), "end")],
            f"target {fmt.hours(target_hours)}",
            10,
            "lab target",
            f.box,
        )
    names = {"tl": "fast", "tr": "slow", "bl": "fast", "br": "slow"}
    split = xs(geo) if not fmt.missing(geo) else (f.left + f.right) / 2
    _quadrant_labels(
        c,
        f,
        ys,
        split,
        {k: f"{n} {fmt.pct(shares.get(k), 0)}" for k, n in names.items() if not fmt.missing(shares.get(k))},
    )
    return c.render()
