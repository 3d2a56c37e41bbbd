"""The month's reports built by the pipeline on two generated months (after a third one of which only the
marts are built, for the trends): the dashboard in a real headless Chromium (screenshot at 1440x900, no
console message, every chart drawn, no overlapping chart label, no overflowing tile), its trends (three
months, the last month's changes equal to the warehouse's), the workbook read back (trendline with
equation and R², KPIs equal to the mart's, the sheet's own least squares equal to the pipeline's fit), the
note's numbers equal to the warehouse's."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import duckdb
import pytest

from cadence.reports import fmt

pytestmark = pytest.mark.integration

MONTHS = ("2026-09", "2026-10")
MONTH = MONTHS[-1]
HISTORY = "2026-08"  # ingested and modelled only: the trends' first month
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (CI installs Debian's `chromium`); the browser checks need a real browser",
)
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None or shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None,
    reason="no LibreOffice or poppler-utils here (CI installs Debian's `libreoffice-calc-nogui` and `poppler-utils`)",
)


@pytest.fixture(scope="module")
def built(module_data_dir):
    """Two generated months through every asset of the graph (the GE quality gates are left out: they
    check data, not reports, and cost a third of the time); returns the run's report metadata."""
    import dagster as dg

    from assets.dbt import cadence_dbt_models
    from assets.ingestion import ingestion_assets
    from cadence import settings
    from cadence.generator import generate
    from orchestration.definitions import defs

    s = settings.apply()
    generate(s.landing_dir, [HISTORY, *MONTHS], leads_per_month=4000, seed=11)
    meta = {}
    with dg.DagsterInstance.ephemeral() as instance:
        history = [*ingestion_assets, cadence_dbt_models]
        done = dg.materialize(history, partition_key=f"{HISTORY}-01", resources=defs.resources, instance=instance)
        assert done.success
        for month in MONTHS:
            result = dg.materialize(
                list(defs.assets), partition_key=f"{month}-01", resources=defs.resources, instance=instance
            )
            assert result.success
        for event in result.get_asset_materialization_events():
            m = event.step_materialization_data.materialization
            if m.asset_key.path[0] == "serving" and m.asset_key.path[-1] != "published_bi":
                meta[m.asset_key.path[-1]] = {k: v.value for k, v in m.metadata.items()}
    return {"root": module_data_dir, "db": s.duckdb_path, "reports": s.reports_dir / MONTH, "meta": meta}


def test_the_run_lists_every_report_with_its_path(built):
    meta = built["meta"]
    assert set(meta) == {"dashboard", "audit_note", "audit_workbook"}
    folder = built["reports"]
    assert meta["dashboard"]["path"] == str(folder / "dashboard.html")
    assert meta["audit_note"]["path"] == str(folder / "audit_note.md")
    assert meta["audit_note"]["path_html"] == str(folder / "audit_note.html")
    assert meta["audit_workbook"]["path"] == str(folder / "audit_workbook.xlsx")
    for m in meta.values():
        assert Path(m["path"]).stat().st_size > 1000 and m["not_available"] == {}
    html = (folder / "dashboard.html").read_text()
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the page must not reference external resources"


def _chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    base = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1440,900",
        "--hide-scrollbars",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=60)


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@needs_chromium
def test_dashboard_renders_in_chromium(built, tmp_path):
    page = built["reports"] / "dashboard.html"
    shot = built["root"] / "dashboard_1440x900.png"
    done = _chromium([f"--screenshot={shot}", page.as_uri()], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _png_size(shot) == (1440, 900) and shot.stat().st_size > 50_000
    dom = _chromium(["--dump-dom", page.as_uri()], tmp_path)
    assert dom.returncode == 0
    console = [line for line in (done.stderr + dom.stderr).splitlines() if "CONSOLE" in line]
    assert console == [], console
    body = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', re.search(r"<body[^>]*>", dom.stdout).group(0)))
    assert body["rendered"] == "ok", body
    assert int(body["charts"]) == int(body["charts-drawn"]) >= 3 + 3 * 9 + 2, body  # overall, segments, reps, tests
    assert body["label-overlaps"] == "0", body["overlap-detail"]
    assert body["tile-overflow"] == "0", body["overflow-detail"]
    for anchor in ("level1", "level2", "level3", "guardrails", "experiments", "diagnostic", "meta"):
        assert f'id="{anchor}"' in dom.stdout and f'href="#{anchor}"' in dom.stdout


def test_dashboard_shows_three_months_of_trends_and_the_last_months_changes(built):
    from cadence.analytics.intervals import diff_of_proportions
    from cadence.reports import trends

    page = (built["reports"] / "dashboard.html").read_text()
    section = re.search(r'<section id="trends">.*?</section>', page, re.S).group(0)
    chart = re.search(r'<svg [^>]*data-chart="trend-cr-all".*?</svg>', section, re.S).group(0)
    assert len(re.findall(r"<circle ", chart)) == 3 and "<polyline" in chart  # Aug, Sep, Oct joined
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        (cur, n_cur), (prev, n_prev) = con.execute(
            "select conversions, leads from marts.kpi_segments_monthly where segment_key = 'all' "
            "and partition_month in (?, ?) order by partition_month desc", [MONTH, MONTHS[-2]]).fetchall()
    finally:
        con.close()
    d = diff_of_proportions(cur, n_cur, prev, n_prev)
    ch = trends.Change(trends.BY_KEY["cr"], MONTHS[-2], 100 * d["diff"], 100 * d["ci_low"], 100 * d["ci_high"])
    first = re.search(r'<div class="chg" data-change="cr">(.*?)</div>', section).group(1)  # all leads: first row
    assert f"{ch.text()}</span>" in first and f"{ch.interval()} {ch.verdict()}" in first
    tile = re.search(r'<div class="tile" data-kpi="cr">.*?</div></div>', page).group(0)
    assert ch.text() in tile and ch.verdict() in tile


def test_workbook_has_the_trendline_and_the_marts_kpis(built):
    import openpyxl

    path = built["reports"] / "audit_workbook.xlsx"
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    trend = re.search(r"<(\w+:)?trendline>(.*?)</(\w+:)?trendline>", chart, re.S).group(2)
    assert re.search(r'trendlineType val="linear"', trend)
    assert re.search(r'dispEq val="(1|true)"', trend) and re.search(r'dispRSqr val="(1|true)"', trend)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert {"Scatter", "Leads", "KPIs", "Fits", "Trends", "Guardrails", "Lists", "README"} <= set(wb.sheetnames)
    trend_rows = list(wb["Trends"].values)
    assert sorted({r[0] for r in trend_rows[1:]}) == [HISTORY, *MONTHS]
    kpis = list(wb["KPIs"].values)
    head, rows = kpis[0], kpis[1:]
    sheet = {r[head.index("Segment")]: r for r in rows}
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        mart = con.execute(
            "select segment_key, leads, conversion_rate, ttf_median_hours, touches_per_lead_median "
            "from marts.kpi_segments_monthly where partition_month = ?",
            [MONTH],
        ).fetchall()
        fit = con.execute(
            "select slope, intercept, r2, leads from analytics.linear_fits where partition_month = ? "
            "and segment_key = 'all' and trim = 'none' and population = 'standard' "
            "and x_measure = 'touches_in_window'",
            [MONTH],
        ).fetchone()
    finally:
        con.close()
    assert len(sheet) == len(mart)
    for key, leads, cr, ttf, touches in mart:
        row = sheet[key]
        assert row[head.index("Leads")] == leads
        assert row[head.index("CR")] == pytest.approx(cr)
        assert row[head.index("TTF median (h)")] == pytest.approx(ttf)
        assert row[head.index("Touches median")] == pytest.approx(touches)
    leads = list(wb["Leads"].values)
    assert "every lead" in leads[0][0]
    cols = leads[1]
    xs = [r[cols.index("touches (X)")] for r in leads[2:]]
    ys = [r[cols.index("converted (Y)")] for r in leads[2:]]
    n, mx, my = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    assert n == fit[3] and slope == pytest.approx(fit[0]) and my - slope * mx == pytest.approx(fit[1])


def _ppm(path: Path):
    import numpy as np

    magic, width, height, _maxval, data = path.read_bytes().split(maxsplit=4)
    assert magic == b"P6"
    return np.frombuffer(data[: int(width) * int(height) * 3], np.uint8).reshape(int(height), int(width), 3)


@needs_libreoffice
def test_workbook_prints_on_a_few_pages_with_its_points_drawn(built, tmp_path):
    """LibreOffice prints the workbook: a few pages (the Leads sheet prints its first rows, every sheet fits one
    page wide), and on the Scatter page the lead markers are drawn (LibreOffice drew none when the marker had
    no fill) and Excel's own fit is computed (it was text: '=COUNT(...)')."""
    import numpy as np
    import openpyxl

    from cadence.reports.workbook_scatter import POINT_COLOUR

    xlsx = built["reports"] / "audit_workbook.xlsx"
    done = subprocess.run(
        [SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
        capture_output=True, text=True, timeout=240,
    )
    pdf = tmp_path / "audit_workbook.pdf"
    assert done.returncode == 0 and pdf.exists(), done.stdout + done.stderr
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert 8 <= pages <= 20, pages  # one or more per sheet; 215 before the print set-up
    texts = [subprocess.run(["pdftotext", "-f", str(p), "-l", str(p), str(pdf), "-"], capture_output=True,
                            text=True, check=True).stdout for p in range(1, pages + 1)]
    page = next(i for i, t in enumerate(texts, start=1) if "Contacts vs conversion" in t)
    leads = openpyxl.load_workbook(xlsx, read_only=True)["Leads"]
    head = [c.value for c in next(leads.iter_rows(min_row=2, max_row=2))]
    xs, ys = head.index("touches (X)"), head.index("converted (Y)")
    rows = list(leads.iter_rows(min_row=3, values_only=True))
    assert "=COUNT(" not in texts[page - 1] and texts[page - 1].count(f"{len(rows):,}") >= 2
    subprocess.run(["pdftoppm", "-r", "100", "-f", str(page), "-l", str(page), str(pdf), str(tmp_path / "scatter")],
                   check=True)
    image = _ppm(next(tmp_path.glob("scatter*.ppm"))).astype(int)
    colour = np.array([int(POINT_COLOUR[i:i + 2], 16) for i in (0, 2, 4)])
    drawn = int((np.abs(image - colour).max(axis=-1) <= 40).sum())
    positions = len({(r[xs], r[ys]) for r in rows})  # markers on one spot overlap: count the spots
    assert drawn >= 10 * positions, (drawn, positions)
    subprocess.run(["pdftoppm", "-r", "80", "-f", str(page), "-l", str(page), "-png", "-singlefile", str(pdf),
                    str(built["root"] / "workbook_scatter_page")], check=True)  # for a person to look at


def test_note_numbers_match_the_warehouse(built):
    md = (built["reports"] / "audit_note.md").read_text()
    html = (built["reports"] / "audit_note.html").read_text()
    for title in (
        "What changed since",
        "Three lessons",
        "Decisions proposed per segment",
        "Experiments to run",
        "Express diagnostic",
        "Guardrails",
        "Meta",
    ):
        assert f"## {title}" in md and title in html
    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        cr, ttf, cr_prev = con.execute(
            "select cur.conversion_rate, cur.ttf_median_hours, prev.conversion_rate "
            "from marts.kpi_segments_monthly cur join marts.kpi_segments_monthly prev "
            "on prev.segment_key = cur.segment_key and prev.partition_month = ? "
            "where cur.partition_month = ? and cur.segment_key = 'all'",
            [MONTHS[0], MONTH],
        ).fetchone()
        r = con.execute(
            "select r from analytics.linear_fits where partition_month = ? and segment_key = 'all' and "
            "trim = 'none' and population = 'standard' and x_measure = 'touches_in_window'",
            [MONTH],
        ).fetchone()[0]
        version = con.execute(
            "select scoping_note_version from marts.fct_scoping_note_runs where partition_month = ?", [MONTH]
        ).fetchone()[0]
        questions = con.execute(
            "select count(*) from analytics.diagnostic where partition_month = ?", [MONTH]
        ).fetchone()[0]
    finally:
        con.close()
    row = next(line for line in md.splitlines() if line.startswith("| Conversion rate |"))
    assert f"| {fmt.pct(cr_prev)} | {fmt.pct(cr)} |" in row
    lines = {line.split(" | ")[0][2:]: line for line in md.splitlines() if line.startswith("| ")}
    assert fmt.hours(ttf) in lines["Median TTF"] and fmt.num(r, 2) in lines["Correlation r"]
    assert version in md
    lessons = md.split("## Three lessons from the data")[1].split("##")[0]
    assert len(re.findall(r"^\d\. ", lessons, re.M)) == 3
    diag = md.split("## Express diagnostic")[1].split("## ")[0]
    assert len(re.findall(r"^\| \d+ \|", diag, re.M)) == questions == 10


def test_rebuilding_one_report_leaves_no_temporary_file(built):
    from cadence.reports.build import write_reports

    con = duckdb.connect(str(built["db"]), read_only=True)
    try:
        out = write_reports(con, MONTH, built["reports"].parent, {"audit_note"})
    finally:
        con.close()
    assert set(out.paths) == {"audit_note", "audit_note_html"}
    assert not list(built["reports"].glob("*.tmp*"))
    assert os.path.getsize(out.paths["audit_note"]) > 2000


def test_every_output_tells_each_segments_verdict(built):
    """One story per segment: the dashboard (matrix cell and segment card), the note (summary, decision row,
    experiments) and the workbook's Verdicts sheet say what analytics.verdicts stores, and the verdicts do not
    contradict themselves (no raise of contact volume under a red light or an effect that hurts; the
    experiment tests the change in its direction, only where the segment reaches the sample in time)."""
    import openpyxl

    from cadence.analytics.config import analysis_config

    cfg = analysis_config()
    with duckdb.connect(str(built["db"]), read_only=True) as con:
        v = con.execute("select * from analytics.verdicts where partition_month = ?", [MONTH]).df()
    assert len(v) >= 8 and (v["segment_key"] == "all").sum() == 1
    html = (built["reports"] / "dashboard.html").read_text()
    md = (built["reports"] / "audit_note.md").read_text()
    decisions = md.split("## Decisions proposed per segment")[1].split("\n## ")[0]
    experiments = md.split("## Experiments to run")[1].split("\n## ")[0]
    summary = md.split("## Summary")[1].split("\n## ")[0]
    rows = {r[0]: r for r in (line.strip("| ").split(" | ") for line in decisions.splitlines()
                              if line.startswith("| ") and not line.startswith("| Segment"))}
    ws = openpyxl.load_workbook(built["reports"] / "audit_workbook.xlsx")["Verdicts"]
    sheet = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    for r in v.to_dict("records"):
        key, light, label = r["segment_key"], r["light"], fmt.segment_label(r["segment_key"])
        # the verdict itself: consistent
        if r["change_direction"] == "raise" and r["change_threshold"] in ("min_touches", "max_touches_per_day"):
            assert light != "red" and r["effect"] != "hurts", r
        if r["change_threshold"]:
            assert (r["change_to"] > r["change_from"]) == (r["change_direction"] == "raise")
        if r["experiment_status"] == "proposed":
            assert r["experiment_weeks"] <= cfg.experiment_max_weeks and r["experiment_leads_per_arm"] >= 200
            assert f"{r['change_from']:g} → {r['change_to']:g}" in r["experiment"]
        # the dashboard: the segment's card and its matrix cell carry the verdict's light
        if key != "all":
            card = re.search(rf'<div class="facts" data-segment="{re.escape(key)}" data-light="(\w+)">', html)
            cell = re.search(rf'data-segment="{re.escape(key)}" data-light="(\w+)">\s*<b>', html)
            assert card and card.group(1) == light and cell and cell.group(1) == light, key
            block = html[card.start(): html.index('<div class="mini">', card.start())]
            for name in ("min_touches", "ttf_target_hours", "max_touches_per_day"):
                cur, rec = r[f"{name}_current"], r[f"{name}_recommended"]
                changed = not pd_missing(rec)
                assert (f"{fmt.num(cur, 0)} → {fmt.num(rec, 0)}" in block) == changed, (key, name)
        # the note: its decision row, its experiment line, the summary sentence if any
        assert rows[label][1] == light and rows[label][2] == r["decision"], label
        line = next((e for e in experiments.splitlines() if e.startswith(f"- {label}:")), None)
        assert (line is not None) == (not pd_missing(r["experiment"]) and key != "all"), label
        if line:
            assert r["experiment"] in line
        said = [s for s in summary.splitlines() if s.startswith(f"- {label}:")]
        assert all(s == f"- {r['headline']}" for s in said)
        # the workbook
        assert sheet[label][3] == light and sheet[label][6] == r["decision"], label
    overall = v[v["segment_key"] == "all"].iloc[0]
    pays = "Contact frequency pays" in md
    assert pays == (overall["effect"] in ("pays", "pays_to_optimum"))


def pd_missing(value) -> bool:
    return value is None or value != value
