"""Small renderers for Dagster metadata: a markdown table and an inline SVG scatter plot (no matplotlib).

The plot is the method's picture for one segment: CR per touch-count bin (dot area ∝ leads, Wilson
interval as a bar), the least-squares line b + m·x, the chosen curve shape, and the mean lines X̄ and Ȳ
that cut the plane into the quadrants Q1-Q4.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from html import escape


def md_table(rows: Sequence[dict], columns: Sequence[str], digits: int = 3) -> str:
    def cell(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        return f"{v:.{digits}f}" if isinstance(v, float) else str(v).replace("|", "/")

    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    return head + "\n".join("| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows)


def svg_scatter(
    points: Sequence[dict],
    slope: float,
    intercept: float,
    x_mean: float,
    y_mean: float,
    title: str,
    curve: Sequence[tuple[float, float]] = (),
    width: int = 420,
    height: int = 260,
) -> str:
    """points: dicts with touches_mean, cr, cr_ci_low, cr_ci_high, leads."""
    left, right, top, bottom = 44, 12, 26, 30
    xs = [p["touches_mean"] for p in points] or [0.0, 1.0]
    x_hi = max(max(xs), x_mean, 1.0) * 1.05
    y_hi = min(1.0, max([p["cr_ci_high"] for p in points] + [y_mean, 0.05]) * 1.1)

    def sx(x: float) -> float:
        return left + (width - left - right) * x / x_hi

    def sy(y: float) -> float:
        return height - bottom - (height - top - bottom) * min(max(y, 0.0), y_hi) / y_hi

    biggest = max([p["leads"] for p in points] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="10"><rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="14" font-size="12">{escape(title)}</text>',
        f'<line x1="{left}" y1="{sy(0)}" x2="{width - right}" y2="{sy(0)}" stroke="#333"/>',
        f'<line x1="{left}" y1="{sy(0)}" x2="{left}" y2="{top}" stroke="#333"/>',
        f'<text x="{width - right}" y="{height - 4}" text-anchor="end">touches per lead</text>',
        f'<text x="4" y="{top - 4}">CR</text>',
    ]
    step = 5 if x_hi <= 40 else 10
    for tick in range(0, int(x_hi) + 1, step):
        parts.append(f'<text x="{sx(tick)}" y="{sy(0) + 12}" text-anchor="middle">{tick}</text>')
    for label, qx, qy, anchor in (
        ("Q1", width - right - 2, top + 10, "end"),
        ("Q2", left + 4, top + 10, "start"),
        ("Q3", left + 4, sy(0) - 4, "start"),
        ("Q4", width - right - 2, sy(0) - 4, "end"),
    ):
        parts.append(f'<text x="{qx}" y="{qy}" text-anchor="{anchor}" fill="#777">{label}</text>')
    for frac in (0.0, 0.5, 1.0):
        parts.append(
            f'<text x="{left - 4}" y="{sy(frac * y_hi) + 3}" text-anchor="end">{100 * frac * y_hi:.0f}%</text>'
        )
    parts.append(
        f'<line x1="{sx(x_mean)}" y1="{top}" x2="{sx(x_mean)}" y2="{sy(0)}" stroke="#999" '
        f'stroke-dasharray="4 3"/><text x="{sx(x_mean) + 3}" y="{top + 8}">X̄ {x_mean:.1f}</text>'
    )
    parts.append(
        f'<line x1="{left}" y1="{sy(y_mean)}" x2="{width - right}" y2="{sy(y_mean)}" stroke="#999" '
        f'stroke-dasharray="4 3"/><text x="{width - right}" y="{sy(y_mean) - 3}" text-anchor="end">'
        f"Ȳ {100 * y_mean:.1f}%</text>"
    )
    for p in points:
        x, r = sx(p["touches_mean"]), 2 + 6 * math.sqrt(p["leads"] / biggest)
        parts.append(f'<line x1="{x}" y1="{sy(p["cr_ci_low"])}" x2="{x}" y2="{sy(p["cr_ci_high"])}" stroke="#9bb"/>')
        parts.append(f'<circle cx="{x}" cy="{sy(p["cr"])}" r="{r:.1f}" fill="#2a7" fill-opacity="0.7"/>')
    if not (math.isnan(slope) or math.isnan(intercept)):
        parts.append(
            f'<line x1="{sx(0)}" y1="{sy(intercept)}" x2="{sx(x_hi)}" y2="{sy(intercept + slope * x_hi)}" '
            f'stroke="#c33" stroke-width="1.5"/>'
        )
    if curve:
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in curve)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#36c" stroke-width="1.5"/>')
    parts.append("</svg>")
    return "".join(parts)


def svg_markdown(svg: str, alt: str) -> str:
    """An SVG as a markdown image (data URI): Dagster's UI shows it inline in the metadata panel."""
    return f"![{alt}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"
