"""The sparkline of one measure of one segment over the last months: a dot per month with its interval
(whiskers, as on the conversion curve), a line joining consecutive months, the latest value labelled.
Small multiples: the caller gives every segment the same months and the same y range, so they compare."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from cadence.reports import fmt
from cadence.reports.svg import Canvas, Frame, Scale, nice_ticks


def y_range(values: Sequence[float], floor_zero: bool = True) -> tuple[float, float]:
    """A common y range for a measure's small multiples: from 0 (or the lowest value) to the highest, padded."""
    vals = [float(v) for v in values if not fmt.missing(v)]
    if not vals:
        return 0.0, 1.0
    lo, hi = (0.0 if floor_zero else min(vals)), max(vals)
    if hi <= lo:
        hi = lo + (abs(lo) * 0.1 or 1.0)
    return lo, hi + (hi - lo) * 0.05


def spark_chart(
    months: Sequence[str],
    points: Sequence[tuple[str, float, float, float]],
    y_lo: float,
    y_hi: float,
    tick_text: Callable[[float], str],
    value_text: Callable[[float], str],
    chart: str,
    label: str,
    width: int = 360,
    height: int = 100,
) -> str:
    """months: the x positions (oldest first); points: (month, value, low, high), a subset of months."""
    c, f = Canvas(width, height, chart, label), Frame(44, 9, width - 52, height - 19)
    n = max(len(months), 1)
    xs = Scale(-0.5, n - 0.5, f.left, f.right)
    ys = Scale(y_lo, y_hi, f.bottom, f.top)
    for t in [t for t in nice_ticks(y_lo, y_hi, 2) if y_lo <= t <= y_hi]:
        c.line(f.left, ys(t), f.right, ys(t), "grid")
        c.text(f.left - 6, ys(t) + 3.5, tick_text(t), 9.5, "end", "tick")
    c.line(f.left, f.bottom, f.right, f.bottom, "axis")
    for i, m in enumerate(months):
        c.text(xs(i), f.bottom + 13, fmt.month_label(m, short=True).split()[0], 9.5, "middle", "tick")
    at = {m: i for i, m in enumerate(months)}
    drawn = [(at[m], v, lo, hi) for m, v, lo, hi in points if m in at and not fmt.missing(v)]
    if not drawn:
        c.text((f.left + f.right) / 2, (f.top + f.bottom) / 2, "not available", 10, "middle", "tick")
        return c.render()
    for i, _v, lo, hi in drawn:
        if not (fmt.missing(lo) or fmt.missing(hi)):
            c.line(xs(i), ys(lo), xs(i), ys(hi), "ci")
    run: list[str] = []
    for k, (i, v, _lo, _hi) in enumerate(drawn):  # a line only between calendar months that follow each other
        if k and _ordinal(months[drawn[k - 1][0]]) != _ordinal(months[i]) - 1:
            _polyline(c, run)
            run = []
        run.append(f"{xs(i):.1f},{ys(v):.1f}")
    _polyline(c, run)
    for k, (i, v, lo, hi) in enumerate(drawn):
        last = k == len(drawn) - 1
        interval = "" if fmt.missing(lo) else f" [{value_text(lo)}, {value_text(hi)}]"
        c.add(f'<circle cx="{xs(i):.1f}" cy="{ys(v):.1f}" r="{3.6 if last else 2.6}" '
              f'class="{"tp last" if last else "tp"}"><title>{escape(fmt.month_label(months[i]))}: '
              f"{escape(value_text(v))}{escape(interval)}</title></circle>")
    i, v = drawn[-1][0], drawn[-1][1]
    c.place([(xs(i) + 7, ys(v) + 3.5, "start"), (xs(i) + 7, ys(v) - 5, "start"), (xs(i) + 7, ys(v) + 12, "start")],
            value_text(v), 10.5, "lab", (f.left, 0, width, height))
    return c.render()


def _ordinal(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7])


def _polyline(c: Canvas, run: list[str]) -> None:
    if len(run) > 1:
        c.add(f'<polyline points="{" ".join(run)}" class="spark"/>')
