"""The report renderers on hand-made inputs: charts put lines where the numbers say (read back through the
chart's own tick labels), labels never overlap, tiles fit their width, tables escape, the note's Markdown
helpers behave."""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET

import pytest

from cadence.reports import charts, fmt, html, scatter, svg
from cadence.reports.note import _demote, md_table
from cadence.reports.scatter import Line, Point
from cadence.reports.tiles import Tile

NS = "{http://www.w3.org/2000/svg}"


def parse(svg_text: str) -> ET.Element:
    return ET.fromstring(svg_text)


def texts(root: ET.Element) -> list[dict]:
    return [
        {
            "x": float(t.get("x")),
            "y": float(t.get("y")),
            "size": float(t.get("font-size")),
            "anchor": t.get("text-anchor"),
            "cls": t.get("class"),
            "text": t.text or "",
        }
        for t in root.iter(f"{NS}text")
    ]


def tick_map(root: ET.Element, axis: str, parse_label) -> tuple[float, float]:
    """(a, b) with value = a + b * pixel, fitted on the tick labels of one axis (x: anchored middle)."""
    ticks = [t for t in texts(root) if t["cls"] == "tick" and (t["anchor"] == "middle") == (axis == "x")]
    pairs = [(t["x"] if axis == "x" else t["y"] - 4, parse_label(t["text"])) for t in ticks]
    (p0, v0), (p1, v1) = pairs[0], pairs[-1]
    b = (v1 - v0) / (p1 - p0)
    return v0 - b * p0, b


def trend(root: ET.Element) -> tuple[float, float, float, float]:
    line = next(el for el in root.iter(f"{NS}line") if el.get("class") == "trend")
    return tuple(float(line.get(k)) for k in ("x1", "y1", "x2", "y2"))


def overlapping(boxes: list[tuple]) -> list[tuple]:
    return [
        (a, b)
        for i, a in enumerate(boxes)
        for b in boxes[i + 1 :]
        if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


def label_boxes(root: ET.Element) -> list[tuple]:
    return [svg.Canvas.box(t["x"], t["y"], t["text"], t["size"], t["anchor"], t["cls"] or "") for t in texts(root)]


def pct(label: str) -> float:
    return float(label.rstrip("%")) / 100


def dots(n: int, seed: int = 1, x_max: int = 20) -> list[Point]:
    rnd = random.Random(seed)
    return [Point(rnd.randint(0, x_max), int(rnd.random() < 0.2), rnd.random()) for _ in range(n)]


def test_nice_ticks_and_scales():
    assert svg.nice_ticks(0, 23, 5) == [0, 5, 10, 15, 20]
    assert svg.nice_ticks(0, 0.37, 4) == pytest.approx([0, 0.1, 0.2, 0.3])
    lin, log = svg.Scale(0, 10, 100, 200), svg.Scale(1, 100, 0, 200, log=True)
    assert lin(5) == 150 and lin(20) == 200  # clamped to the domain
    assert log(10) == pytest.approx(100)


def test_canvas_places_a_label_in_the_first_free_spot_or_drops_it():
    c = svg.Canvas(200, 100, "t")
    c.text(10, 20, "taken", 11)
    box = c.place([(10, 20, "start"), (10, 60, "start")], "other", 11)
    assert box is not None and box[1] > 40
    assert c.place([(10, 20, "start"), (10, 60, "start")], "third", 11) is None
    assert overlapping(c.boxes) == []


@pytest.mark.parametrize(("slope", "intercept"), [(0.02, 0.1), (0.005, 0.3), (-0.01, 0.4)])
def test_contacts_scatter_draws_the_trendline_the_slope_says(slope, intercept):
    x_mean = 7.0
    root = parse(
        scatter.contacts_scatter(
            dots(300),
            Line(slope, intercept),
            x_mean,
            intercept + slope * x_mean,
            {"Q1": 0.1, "Q2": 0.05, "Q3": 0.5, "Q4": 0.35},
            20,
            "t",
            "t",
        )
    )
    ax, bx = tick_map(root, "x", float)
    ay, by = tick_map(root, "y", pct)
    x1, y1, x2, y2 = trend(root)
    (u1, v1), (u2, v2) = (ax + bx * x1, ay + by * y1), (ax + bx * x2, ay + by * y2)
    assert (v2 - v1) / (u2 - u1) == pytest.approx(slope, abs=2e-4)
    assert v1 - slope * u1 == pytest.approx(intercept, abs=2e-3)
    # the mean lines cross on the line (Ȳ = b + m·X̄ for least squares)
    means = [el for el in root.iter(f"{NS}line") if el.get("class") == "mean"]
    vx = next(float(el.get("x1")) for el in means if el.get("x1") == el.get("x2"))
    hy = next(float(el.get("y1")) for el in means if el.get("y1") == el.get("y2"))
    assert y1 + (y2 - y1) * (vx - x1) / (x2 - x1) == pytest.approx(hy, abs=0.6)


def test_trendline_stays_within_0_and_100_percent():
    root = parse(scatter.contacts_scatter(dots(50), Line(0.2, 0.05), 3, 0.6, {}, 20, "t", "t"))
    ay, by = tick_map(root, "y", pct)
    _, y1, _, y2 = trend(root)
    assert ay + by * y1 == pytest.approx(0.05, abs=2e-3) and ay + by * y2 == pytest.approx(1.0, abs=2e-3)


def test_ttf_scatter_fits_the_line_on_log_hours():
    hours = {"6m": 0.1, "1h": 1, "2h": 2, "8h": 8, "1d": 24, "3d": 72, "7d": 168, "30d": 720}
    slope, intercept = -0.06, 0.25
    root = parse(
        scatter.ttf_scatter(
            [Point(1.5, 1, 0.3), Point(30, 0, 0.6)],
            Line(slope, intercept),
            1.0,
            0.19,
            {"tl": 0.1, "tr": 0.1, "bl": 0.4, "br": 0.4},
            2,
            720,
            "t",
            "t",
        )
    )
    ax, bx = tick_map(root, "x", lambda label: math.log10(hours[label]))
    ay, by = tick_map(root, "y", pct)
    x1, y1, x2, y2 = trend(root)
    (t1, v1), (t2, v2) = (ax + bx * x1, ay + by * y1), (ax + bx * x2, ay + by * y2)
    assert (v2 - v1) / (t2 - t1) == pytest.approx(slope, abs=2e-3)
    assert v1 - slope * t1 == pytest.approx(intercept, abs=3e-3)
    assert any(el.get("class") == "target" for el in root.iter(f"{NS}line"))


@pytest.mark.parametrize("seed", range(6))
def test_scatter_labels_never_overlap(seed):
    rnd = random.Random(seed)
    x_mean, y_mean = rnd.choice([0.4, 3, 10, 19.5]), rnd.choice([0.01, 0.14, 0.5, 0.97])
    shares = {q: rnd.random() for q in ("Q1", "Q2", "Q3", "Q4")}
    for chart in (
        scatter.contacts_scatter(dots(80, seed), Line(0.01, 0.1), x_mean, y_mean, shares, 20, "c", "c"),
        scatter.ttf_scatter(
            dots(80, seed),
            Line(-0.05, 0.2),
            rnd.choice([-0.5, 0.3, 2.5]),
            y_mean,
            {"tl": 0.1, "tr": 0.2, "bl": 0.3, "br": 0.4},
            rnd.choice([1, 2, 24]),
            720,
            "t",
            "t",
        ),
    ):
        assert overlapping(label_boxes(parse(chart))) == []


def test_curve_chart_draws_each_interval_and_the_shape():
    bins = [{"x": x, "cr": 0.02 * x, "lo": 0.02 * x - 0.01, "hi": 0.02 * x + 0.01, "leads": 100} for x in range(10)]
    root = parse(charts.curve_chart(bins, [(0, 0.0), (5, 0.1), (10, 0.12)], Line(0.02, 0.0), 10, 0.3, "c", "c"))
    assert len([el for el in root.iter(f"{NS}circle") if el.get("class") == "bin"]) == 10
    assert len([el for el in root.iter(f"{NS}line") if el.get("class") == "ci"]) == 30  # bar + two caps
    assert root.find(f"{NS}polyline") is not None
    assert overlapping(label_boxes(root)) == []


def test_unit_chart_drops_labels_rather_than_overlapping_them():
    rnd = random.Random(3)
    units = [
        {"id": f"R{i:02d}", "dx": rnd.gauss(0, 0.05), "dy": rnd.gauss(0, 0.005), "leads": 100, "quadrant": "Q1"}
        for i in range(30)
    ]
    root = parse(charts.unit_chart(units, "u", "u"))
    names = [t["text"] for t in texts(root) if t["cls"] == "lab"]
    assert 0 < len(names) < 30 and overlapping(label_boxes(root)) == []
    assert len([c for c in root.iter(f"{NS}circle") if c.find(f"{NS}title") is not None]) == 30


def test_forest_and_funnel_charts_render():
    forest = parse(charts.forest_chart([{"label": "look 1", "est": 2.0, "lo": -1.0, "hi": 5.0}], "f", "f"))
    assert len(list(forest.iter(f"{NS}circle"))) == 1
    funnel = parse(
        charts.funnel_chart(
            [{"stage": "MQL", "leads": 100, "conv": None}, {"stage": "SQL", "leads": 40, "conv": 0.4}], "g", "g"
        )
    )
    assert "40 · 40%" in [t["text"] for t in texts(funnel)]


def test_tile_texts_fit_the_tile_grid():
    """At 1440 px the grid has 8 tiles of ~141 px of text; every line of a realistic tile fits."""
    width = (1440 - 64 - 7 * 10) / 8 - 22 - 2
    tiles = [
        Tile("ttf", "Median TTF", "122.7 h", "", "35% within target", "▲ +10.1 h vs Sep", "bad", 1, 1),
        Tile("slope", "Slope m", "+1.44", "pts", "per touch · b = 14.0%", "▲ +0.12 pts vs Sep", "flat", 1, 1),
        Tile("cr", "Conversion rate", "15.0%", "", "CI 14.1%–16.1%", "▲ +10.1 pts vs Sep", "good", 1, 1),
        Tile("complaints", "Complaint rate", "0.09%", "", "guardrail 0.20%", "▲ +0.04 pts vs Sep", "bad", 1, 1),
    ]
    for t in tiles:
        assert svg.text_width(t.label, 11.5) <= width
        assert svg.text_width(t.value, 24) + svg.text_width(t.unit, 13) <= width
        assert svg.text_width(t.sub, 11.5) <= width and svg.text_width(t.delta, 11.5) <= width


def test_html_helpers_escape_and_format():
    table = html.table(
        [{"a": "<b>", "n": 1234.5}], [("A", lambda r: r["a"], ""), ("N", lambda r: fmt.num(r["n"]), "n")]
    )
    assert "&lt;b&gt;" in table and '<td class="n">1,234</td>' in table.replace("1,235", "1,234")
    assert html.esc(html.Raw("<i>x</i>")) == "<i>x</i>" and html.esc(None) == fmt.DASH
    assert "not available" in html.table([], [], "not available")


def test_formatting():
    assert fmt.pct(0.13856) == "13.9%" and fmt.pct(None) == fmt.DASH and fmt.pct(float("nan")) == fmt.DASH
    assert fmt.hours(0.4) == "24 min" and fmt.hours(2.0) == "2 h" and fmt.hours(22.66) == "22.7 h"
    assert fmt.hours(80) == "3.3 d" and fmt.points(0.26) == "+0.3 pts"
    assert fmt.segment_label("channel=inbound | company_size=SMB") == "Inbound · SMB"
    assert fmt.month_label("2026-10") == "October 2026" and fmt.month_label("2026-10", short=True) == "Oct 2026"


def test_note_markdown_helpers():
    table = md_table(["a", "b"], [["x|y", "line\nbreak"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x/y | line break |"]
    assert (
        _demote("## Experiments\n\n### One\ntext ## not a heading")
        == "### Experiments\n\n#### One\ntext ## not a heading"
    )
    assert re.match(r"^#### ", _demote("### x"))


def test_workbook_text_that_looks_like_a_formula_stays_text(tmp_path):
    """A rep id `=HYPERLINK(...)` from an export is written as text, not as a live formula."""
    import zipfile

    import pandas as pd
    from openpyxl import Workbook

    from cadence.reports.xlsx_cells import write_table

    wb = Workbook()
    frame = pd.DataFrame({"rep_id": ['=HYPERLINK("http://127.0.0.1/x","click")', "+33 6 00", "-1+1", "@SUM(A1)",
                                     "R07"], "leads": [1, 2, 3, 4, 5]})
    write_table(wb.active, 1, 1, frame)
    wb.save(tmp_path / "w.xlsx")
    sheet = zipfile.ZipFile(tmp_path / "w.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet


def test_frames_and_segments_come_in_one_order_whatever_the_engine_returns(tmp_path):
    """Same input, same bytes: the reports read every frame sorted and the diagnostic sorts its segments."""
    import duckdb
    import pandas as pd

    from cadence.analytics.config import analysis_config
    from cadence.analytics.diagnostic import _seg
    from cadence.reports.gather import _read
    from cadence.scoping import parse_scoping_note

    cfg = analysis_config(parse_scoping_note({}))
    keys = [f"channel={c} | company_size={s}" for c in ("partner", "inbound", "outbound") for s in ("SMB", "Mid")]
    frame = pd.DataFrame({"partition_month": "2026-09", "segment_level": "channel+company_size",
                          "segment_key": keys, "population": cfg.population, "leads": range(len(keys))})
    assert list(_seg(frame.sample(frac=1, random_state=1), cfg)["segment_key"]) == sorted(keys)
    con = duckdb.connect()
    con.execute("create table t as select * from frame order by leads desc")
    assert list(_read(con, "t", "", ["2026-09"], cfg)["segment_key"]) == sorted(keys, key=lambda k: (k, 0))


def test_any_sheet_gets_readable_headers_number_formats_and_a_print_setup(tmp_path):
    """The workbook helpers apply to every sheet, whoever writes it: labels instead of snake_case, rates as
    percentages and fits without float artefacts, long texts wrapped, and a print set-up on each sheet."""
    import openpyxl
    import pandas as pd
    from openpyxl import Workbook

    from cadence.reports.xlsx_cells import P_VALUE, finish_workbook, write_table

    wb = Workbook()
    ws = wb.active
    ws.title = "Trends"
    write_table(ws, 1, 1, pd.DataFrame({
        "segment_key": ["all", "channel=inbound"], "conversion_rate": [0.133645345813833, 0.2], "leads": [1923, 12],
        "r_p_value": [3e-19, 0.2], "ttf_hours": [8.179722222222223, 1.5], "r2": [0.04093343339432119, 0.1],
        "reason": ["a reason that runs on " * 6, "short"]}))
    wb.create_sheet("Notes")["A1"] = "free text"
    finish_workbook(wb)
    wb.save(tmp_path / "w.xlsx")
    back = openpyxl.load_workbook(tmp_path / "w.xlsx")
    sheet = back["Trends"]
    head = [c.value for c in sheet[1]]
    assert head == ["Segment", "Conversion rate", "Leads", "p-value of r", "TTF (h)", "R²", "Why"]
    forms = dict(zip(head, (c.number_format for c in sheet[2]), strict=True))
    assert forms == {"Segment": "General", "Conversion rate": "0.0%", "Leads": "#,##0", "p-value of r": P_VALUE,
                     "TTF (h)": "#,##0.0", "R²": "0.000", "Why": "General"}
    assert sheet["G2"].alignment.wrap_text and sheet.row_dimensions[2].height > 15
    assert sheet.print_title_rows == "$1:$1" and sheet.print_options.gridLines
    for ws, area in ((sheet, "$A$1:$G$3"), (back["Notes"], "!$A$1")):
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
        assert ws.print_area.endswith(area), ws.print_area
