"""SVG primitives for the hand-written charts: scales with 'nice' ticks, a canvas that writes elements and
keeps the boxes of its labels so a new label can pick a free spot (no overlapping text), and axes.

Charts are plain SVG strings (no library, no script): crisp at any zoom, self-contained, offline. Styling
is by class (cadence.reports.theme.CSS), so every chart of a page shares one palette.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

Box = tuple[float, float, float, float]
#: Approximate advance widths (em) of the sans-serif fallback (DejaVu Sans is the widest of the stack).
_NARROW, _WIDE = set("il.,:;'|!()[] 1"), set("MWmw%@QOGD")


#: Classes drawn bold by the page's CSS: their glyphs are about 10 % wider.
BOLD = {"q", "axis-title", "trend"}


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated rendered width in px, deliberately generous so estimated boxes contain the real ones."""
    em = sum(0.36 if c in _NARROW else 0.86 if c in _WIDE else 0.64 for c in text)
    return em * size * (1.12 if bold else 1.0)


def nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values from lo (rounded down) up to hi at most (about `count` intervals)."""
    if hi <= lo:
        hi = lo + 1
    step = nice_step(hi - lo, count)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


@dataclass
class Scale:
    """Maps a domain [d0, d1] to pixels [r0, r1]; `log` for log10 axes (domain > 0)."""

    d0: float
    d1: float
    r0: float
    r1: float
    log: bool = False

    def _t(self, v: float) -> float:
        return math.log10(v) if self.log else v

    def __call__(self, v: float) -> float:
        v = min(max(v, min(self.d0, self.d1)), max(self.d0, self.d1))
        a, b = self._t(self.d0), self._t(self.d1)
        return self.r0 + (self.r1 - self.r0) * ((self._t(v) - a) / (b - a) if b != a else 0.5)


@dataclass
class Canvas:
    """An SVG under construction. `chart` names it for the page's render check (data-chart)."""

    width: int
    height: int
    chart: str
    label: str = ""
    parts: list[str] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)

    def add(self, element: str) -> None:
        self.parts.append(element)

    def line(self, x1, y1, x2, y2, cls: str = "", **attrs) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" class="{cls}"{extra}/>')

    @staticmethod
    def box(x: float, y: float, text: str, size: float, anchor: str, cls: str = "") -> Box:
        w = text_width(text, size, bool(BOLD & set(cls.split())))
        x0 = x - w if anchor == "end" else x - w / 2 if anchor == "middle" else x
        return (x0, y - size * 0.85, x0 + w, y + size * 0.25)

    def free(self, box: Box, pad: float = 1.0) -> bool:
        return all(
            box[2] + pad <= b[0] or b[2] + pad <= box[0] or box[3] + pad <= b[1] or b[3] + pad <= box[1]
            for b in self.boxes
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float = 11,
        anchor: str = "start",
        cls: str = "",
        reserve: bool = True,
    ) -> Box:
        """Writes a label (escaped). `reserve`: later `place` calls avoid its box."""
        box = self.box(x, y, text, size, anchor, cls)
        if reserve:
            self.boxes.append(box)
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" class="{cls}">'
            f"{escape(text)}</text>"
        )
        return box

    def place(
        self,
        candidates: list[tuple[float, float, str]],
        text: str,
        size: float = 11,
        cls: str = "",
        inside: Box | None = None,
    ) -> Box | None:
        """The first candidate (x, y, anchor) whose box is free (and inside `inside`); None: label dropped."""
        for x, y, anchor in candidates:
            b = self.box(x, y, text, size, anchor, cls)
            if inside and not (b[0] >= inside[0] and b[2] <= inside[2] and b[1] >= inside[1] and b[3] <= inside[3]):
                continue
            if self.free(b):
                return self.text(x, y, text, size, anchor, cls)
        return None

    def render(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(self.chart)}" '
            f'width="{self.width}" height="{self.height}" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{escape(self.label or self.chart)}">' + "".join(self.parts) + "</svg>"
        )


@dataclass(frozen=True)
class Frame:
    """The plot area of a chart inside its canvas."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def box(self) -> Box:
        return (self.left, self.top, self.right, self.bottom)


def axes(
    c: Canvas,
    f: Frame,
    xs: Scale,
    ys: Scale,
    xticks: list[tuple[float, str]],
    yticks: list[tuple[float, str]],
    xlabel: str,
    ylabel: str,
) -> None:
    """Grid lines, tick labels and axis titles (x title right-aligned under the axis, y title on top)."""
    for v, lab in yticks:
        y = ys(v)
        c.line(f.left, y, f.right, y, "grid")
        c.text(f.left - 6, y + 4, lab, 10, "end", "tick")
    for v, lab in xticks:
        x = xs(v)
        c.line(x, f.bottom, x, f.bottom + 4, "axis")
        c.text(x, f.bottom + 15, lab, 10, "middle", "tick")
    c.line(f.left, f.bottom, f.right, f.bottom, "axis")
    c.text(f.right, f.bottom + 29, xlabel, 10.5, "end", "axis-title")
    c.text(f.left - 6, f.top - 9, ylabel, 10.5, "start", "axis-title")
