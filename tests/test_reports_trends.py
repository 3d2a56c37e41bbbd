"""Trends and month-over-month arrows on a tiny planted warehouse: lead rows of five months (one of them
after the report month, one gap) in marts.fct_lead_cadence, and the marts.kpi_segments_monthly rows
computed from them here with pandas. The trend figures must equal the planted rows, the intervals must
equal an independent computation (Wilson and Newcombe from cadence.analytics.intervals, order statistics
read off the sorted values, a textbook answer for n = 100), and the dashboard, tiles, note and workbook
must show those changes."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import duckdb
import numpy as np
import pandas as pd
import pytest

from cadence.analytics.config import analysis_config
from cadence.analytics.intervals import diff_of_proportions, wilson
from cadence.reports import dash_trends, note, svg, trends, trends_tables
from cadence.reports.gather import ReportData
from cadence.reports.tiles import compute_tiles
from cadence.scoping import parse_scoping_note
from cadence.segments import ACTIVE, CELL_LEVEL

NS = "{http://www.w3.org/2000/svg}"
MONTH = "2026-09"
SMB = ACTIVE.key({"channel": "inbound", "company_size": "SMB"})
MID = ACTIVE.key({"channel": "outbound", "company_size": "Mid"})
#: month -> cell -> (leads, conversion probability); 2026-06 is missing, 2026-10 is after the report month,
#: outbound Mid has no leads in 2026-08 (its September has no previous month)
PLAN = {
    "2026-05": {SMB: (120, 0.10), MID: (90, 0.10)},
    "2026-07": {SMB: (150, 0.10), MID: (80, 0.15)},
    "2026-08": {SMB: (160, 0.12)},
    "2026-09": {SMB: (170, 0.35), MID: (100, 0.12)},
    "2026-10": {SMB: (100, 0.50), MID: (100, 0.50)},
}
Z = analysis_config(parse_scoping_note({})).z


def _leads() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frames = []
    for month, cells in PLAN.items():
        for key, (n, p) in cells.items():
            dims = ACTIVE.parse(key)
            ttf = np.round(rng.lognormal(2.5 - (month >= MONTH) * 1.0, 1.0, n), 3)
            ttf[rng.random(n) < 0.1] = np.nan  # never contacted
            frames.append(pd.DataFrame({
                "partition_month": month, **dims, "is_in_scope": True, "ttf_hours": ttf,
                "touches_in_window": rng.poisson(5 + (month >= MONTH) * 2, n),
                "is_converted": rng.random(n) < p,
            }))
        # out of scope: must weigh on nothing
        frames.append(pd.DataFrame({"partition_month": [month], "channel": ["inbound"], "company_size": ["SMB"],
                                    "is_in_scope": [False], "ttf_hours": [9999.0], "touches_in_window": [99],
                                    "is_converted": [True]}))
    return pd.concat(frames, ignore_index=True)


def _kpis(leads: pd.DataFrame) -> pd.DataFrame:
    """The mart's rows, computed here: 'all' and the cells, plus a channel-level row that must be ignored."""
    scoped = leads[leads["is_in_scope"]]
    rows = []
    for (month, key), g in [((m, "all"), g) for m, g in scoped.groupby("partition_month")] + [
        ((m, ACTIVE.key({"channel": c, "company_size": s})), g)
        for (m, c, s), g in scoped.groupby(["partition_month", "channel", "company_size"])
    ] + [((m, "channel=inbound"), g) for m, g in scoped[scoped["channel"] == "inbound"].groupby("partition_month")]:
        level = "all" if key == "all" else (CELL_LEVEL if "|" in key else "channel")
        rows.append({
            "partition_month": month, "segment_level": level, "segment_key": key, "leads": len(g),
            "conversions": int(g["is_converted"].sum()), "conversion_rate": g["is_converted"].mean(),
            "ttf_median_hours": g["ttf_hours"].median(), "touches_per_lead_median": g["touches_in_window"].median(),
            "touches_per_lead_mean": g["touches_in_window"].mean(),
        })
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def planted():
    leads = _leads()
    kpis = _kpis(leads)
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.fct_lead_cadence as select * from leads")
    con.execute("create table marts.kpi_segments_monthly as select * from kpis")
    yield con, leads, kpis
    con.close()


def _order_interval(values: np.ndarray) -> tuple[float, float]:
    v = np.sort(values[~np.isnan(values)])
    n = len(v)
    lo, hi = math.floor((n - Z * math.sqrt(n)) / 2), math.ceil(1 + (n + Z * math.sqrt(n)) / 2)
    return (v[lo - 1], v[hi - 1]) if lo >= 1 and hi <= n else (math.nan, math.nan)


def _mover(a1, l1, u1, a2, l2, u2) -> tuple[float, float, float]:
    d = a1 - a2
    return d, d - math.hypot(a1 - l1, u2 - a2), d + math.hypot(u1 - a1, a2 - l2)


def test_order_statistic_interval_of_a_median_is_the_textbook_one():
    con = duckdb.connect()
    con.execute("create schema marts")
    lead = pd.DataFrame({"partition_month": MONTH, "channel": "inbound", "company_size": "SMB", "is_in_scope": True,
                         "ttf_hours": np.arange(1.0, 101.0), "touches_in_window": 3, "is_converted": False})
    con.register("lead_frame", lead)
    con.execute("create table marts.fct_lead_cadence as select * from lead_frame")
    kpis = pd.DataFrame([{"partition_month": MONTH, "segment_level": "all", "segment_key": "all", "leads": 100,
                          "conversions": 0, "conversion_rate": 0.0, "ttf_median_hours": 50.5,
                          "touches_per_lead_median": 3.0, "touches_per_lead_mean": 3.0}])
    con.register("kpi_frame", kpis)
    con.execute("create table marts.kpi_segments_monthly as select * from kpi_frame")
    row = trends.read_trends(con, MONTH, 1.959963984540054).iloc[0]
    # n = 100 at 95 %: the 40th and 61st smallest values (Conover's table); 1..100 makes them 40 and 61
    assert (row["ttf_ci_low"], row["ttf_ci_high"]) == (40.0, 61.0)
    assert row["touches_ci_low"] == row["touches_ci_high"] == 3  # every lead at 3 touches: exactly 3


def test_trend_figures_equal_the_planted_rows(planted):
    con, leads, kpis = planted
    df = trends.read_trends(con, MONTH, Z)
    assert sorted(df["partition_month"].unique()) == ["2026-05", "2026-07", "2026-08", "2026-09"]
    assert set(df["segment_key"]) == {"all", SMB, MID}  # the channel-level row is not a cell
    assert sorted(trends.read_trends(con, MONTH, Z, months=3)["partition_month"].unique()) == [
        "2026-07", "2026-08", "2026-09"]
    merged = df.merge(kpis, on=["partition_month", "segment_key"], suffixes=("", "_planted"))
    assert len(merged) == len(df)
    for col in ("leads", "conversions", "conversion_rate", "ttf_median_hours", "touches_per_lead_median"):
        assert merged[col].to_numpy() == pytest.approx(merged[f"{col}_planted"].to_numpy())
    scoped = leads[leads["is_in_scope"]]
    for r in df.to_dict("records"):
        assert (r["cr_ci_low"], r["cr_ci_high"]) == pytest.approx(wilson(r["conversions"], r["leads"], Z))
        cell = scoped[scoped["partition_month"] == r["partition_month"]]
        if r["segment_key"] != "all":
            dims = ACTIVE.parse(r["segment_key"])
            cell = cell[(cell["channel"] == dims["channel"]) & (cell["company_size"] == dims["company_size"])]
        assert (r["ttf_ci_low"], r["ttf_ci_high"]) == pytest.approx(_order_interval(cell["ttf_hours"].to_numpy()))
        touches = cell["touches_in_window"].to_numpy(dtype=float)
        assert (r["touches_ci_low"], r["touches_ci_high"]) == pytest.approx(_order_interval(touches))


def test_changes_are_against_the_previous_calendar_month_with_their_intervals(planted):
    con, _, _ = planted
    df = trends.read_trends(con, MONTH, Z)
    rec = {(r["partition_month"], r["segment_key"]): r for r in df.to_dict("records")}
    assert not rec[("2026-07", "all")]["has_previous"]  # 2026-05 is not the month before
    assert trends.change(df, MID, MONTH, trends.BY_KEY["cr"]) is None  # no outbound Mid lead in August
    cur, prev = rec[(MONTH, SMB)], rec[("2026-08", SMB)]
    d = diff_of_proportions(cur["conversions"], cur["leads"], prev["conversions"], prev["leads"], Z)
    ch = trends.change(df, SMB, MONTH, trends.BY_KEY["cr"])
    assert (ch.change, ch.low, ch.high) == pytest.approx((100 * d["diff"], 100 * d["ci_low"], 100 * d["ci_high"]))
    assert ch.excludes_zero and ch.arrow == "▲" and ch.tone == "good"  # 12 % -> 35 %: beyond noise
    ttf = trends.change(df, SMB, MONTH, trends.BY_KEY["ttf"])
    expect = _mover(cur["ttf_median_hours"], cur["ttf_ci_low"], cur["ttf_ci_high"],
                    prev["ttf_median_hours"], prev["ttf_ci_low"], prev["ttf_ci_high"])
    assert (ttf.change, ttf.low, ttf.high) == pytest.approx(expect)
    assert ttf.arrow == "▼" and ttf.tone == ("good" if ttf.excludes_zero else "flat")
    touches = trends.change(df, "all", MONTH, trends.BY_KEY["touches"])
    assert touches.tone == "flat"  # contacts are neutral by design


def _data(con, kpis: pd.DataFrame) -> ReportData:
    note_ = parse_scoping_note({})
    empty = pd.DataFrame(columns=["partition_month", "segment_level", "segment_key", "x_measure", "trim"])
    frames = {"kpis": kpis[kpis["partition_month"].isin([MONTH, "2026-08"])], "fits": empty, "quadrants": empty,
              "trends": trends.read_trends(con, MONTH, Z)}
    return ReportData(MONTH, "2026-08", note_, analysis_config(note_), {}, frames)


def test_dashboard_tiles_note_and_workbook_show_the_planted_changes(planted):
    con, _, kpis = planted
    data = _data(con, kpis)
    ch = trends.change(data.frames["trends"], SMB, MONTH, trends.BY_KEY["cr"])
    html = dash_trends.trends_section(data)
    svgs = [ET.fromstring(s) for s in re.findall(r"<svg .*?</svg>", html)]
    charts = {svg.get("data-chart"): svg for svg in svgs}
    assert len(charts) == 3 * 3  # all + two cells, three measures
    cr_all = charts["trend-cr-all"]
    assert len(list(cr_all.iter(f"{NS}circle"))) == 4  # May, Jul, Aug, Sep
    line = next(cr_all.iter(f"{NS}polyline")).get("points").split()
    assert len(line) == 3 and len(list(cr_all.iter(f"{NS}polyline"))) == 1  # no line across the missing June
    arrow = f"▲ {ch.change:+.1f} pts vs Aug"
    assert arrow in html and f"{ch.interval()} CI excludes 0" in html
    assert html.count("no previous month") == 3  # outbound Mid, each measure
    tiles = {t.key: t for t in compute_tiles(data)}
    all_cr = trends.change(data.frames["trends"], "all", MONTH, trends.BY_KEY["cr"])
    assert tiles["cr"].delta == all_cr.text() and tiles["cr"].ci == all_cr.verdict()
    assert tiles["cr"].tone == all_cr.tone  # coloured only beyond noise
    width = (1440 - 64 - 7 * 10) / 8 - 22 - 2  # a tile's text width at 1440 px (test_reports_render)
    assert max(svg.text_width(v, 11) for v in ("CI excludes 0", "CI includes 0")) <= width
    assert tiles["cr"].ci_interval == f"{all_cr.interval()} pts" and tiles["r"].ci == ""
    lines = trends_tables.note_lines(data, note.md_table)
    smb_row = next(line for line in lines[-1].splitlines() if line.startswith("| Inbound · SMB |"))
    assert f"▲ {ch.change:+.1f} pts {ch.interval()} (CI excludes 0)" in smb_row
    assert "→" in smb_row and "no previous month" in lines[-1]
    sheet = trends_tables.sheet_frame(data)
    row = sheet[(sheet["Segment"] == SMB) & (sheet["Month"] == MONTH)].iloc[0]
    assert row["CR change (pts)"] == pytest.approx(ch.change) and row["CR change excludes 0"] is True
    assert list(sheet["Segment"].drop_duplicates()) == ["all", SMB, MID]
