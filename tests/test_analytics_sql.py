"""The SQL path on a hand-made `marts.fct_lead_cadence` (no pipeline): DuckDB's sufficient statistics
against pandas and scipy on the same leads (exact sums, fits to 1e-9), every step end to end, and the
month replaced atomically."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cadence.analytics import steps
from cadence.analytics.config import analysis_config
from cadence.analytics.store import read_month, write_month
from cadence.scoping import parse_scoping_note

NOTE = parse_scoping_note({})
CFG = analysis_config(NOTE)
MONTHS = ("2026-09", "2026-10")


def hand_made_leads(month: str, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    channel = rng.choice(["inbound", "outbound", "partner"], n, p=[0.5, 0.35, 0.15])
    size = rng.choice(["SMB", "Mid", "Enterprise"], n, p=[0.5, 0.3, 0.2])
    vip = (size == "Enterprise") & (rng.random(n) < 0.15)
    before = np.where(vip, rng.integers(1, 4, n), rng.poisson(rng.gamma(2.5, 2.6, n)))
    ttf = np.where(rng.random(n) < 0.05, np.nan, rng.lognormal(1.5, 1.5, n))
    p = np.where(vip, 0.55, 0.02 + 0.03 * np.minimum(before, 6) * np.where(ttf <= 2, 1.8, 1.0))
    converted = rng.random(n) < p
    after = np.where(converted & (rng.random(n) < 0.35), rng.integers(1, 3, n), 0)
    delivered = rng.integers(0, 8, n)
    return pd.DataFrame(
        {
            "lead_id": [f"L{month}-{i:05d}" for i in range(n)],
            "partition_month": month,
            "channel": channel,
            "company_size": size,
            "funnel_phase": rng.choice(["MQL", "SQL", "opportunity"], n),
            "team": "T",
            "rep_id": rng.choice([f"R{i:02d}" for i in range(1, 9)], n),
            "account_id": [f"A{i}" for i in rng.integers(0, n // 4, n)],
            "is_in_scope": rng.random(n) < 0.97,
            "is_window_complete": rng.random(n) < 0.98,
            "is_converted": converted,
            "touches_before_conversion": before,
            "touches_in_window": before + after,
            "ttf_hours": ttf,
            "ttf_target_hours": np.where(size == "Enterprise", 24, 2),
            "is_within_ttf_target": ttf <= np.where(size == "Enterprise", 24, 2),
            "emails_delivered": delivered,
            "emails_complained": (rng.random(n) < 0.003).astype(int),
            "emails_unsubscribed": (rng.random(n) < 0.01).astype(int),
            "emails_replied": rng.integers(0, 2, n),
            "meetings_held": rng.integers(0, 2, n),
            "max_touches_in_one_day": rng.integers(1, 5, n),
            "is_vip": vip,
            "is_dispute": (~vip) & (rng.random(n) < 0.01),
            "is_hot_lead": rng.random(n) < 0.2,
            "is_opted_out": rng.random(n) < 0.03,
            "scoping_note_version": "test",
        }
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    path = tmp_path_factory.mktemp("analytics_sql") / "hand.duckdb"
    leads = pd.concat([hand_made_leads(m, 4000, i) for i, m in enumerate(MONTHS)], ignore_index=True)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.register("leads_frame", leads)
    con.execute("create table marts.fct_lead_cadence as select * from leads_frame")
    for month in MONTHS:
        steps.run_month(con, month, CFG, NOTE)
    yield con, leads
    con.close()


def _kept(leads: pd.DataFrame, month: str, population: str) -> pd.DataFrame:
    out = leads[(leads.partition_month == month) & leads.is_in_scope & leads.is_window_complete]
    return out[~(out.is_vip | out.is_dispute)] if population == "standard" else out


SEGMENTS = [
    ("all", {}),
    ("channel", {"channel": "inbound"}),
    ("channel+company_size", {"channel": "outbound", "company_size": "Enterprise"}),
    ("channel+company_size+funnel_phase", {"channel": "inbound", "company_size": "SMB", "funnel_phase": "SQL"}),
    ("rep_id", {"rep_id": "R03"}),
]


@pytest.mark.parametrize(("level", "where"), SEGMENTS)
@pytest.mark.parametrize("population", ["all", "standard"])
def test_sql_sums_and_fits_equal_pandas_and_scipy(warehouse, level, where, population):
    con, leads = warehouse
    sub = _kept(leads, "2026-10", population)
    for col, val in where.items():
        sub = sub[sub[col] == val]
    key = " | ".join(f"{c}={v}" for c, v in where.items()) or "all"
    mom = read_month(con, "segment_moments", "2026-10").set_index(["population", "segment_key"]).loc[(population, key)]
    assert mom["segment_level"] == level
    x, y = sub.touches_in_window.to_numpy(), sub.is_converted.astype(int).to_numpy()
    assert (mom["leads"], mom["conversions"], mom["sx_w"], mom["sxx_w"], mom["sxy_w"]) == (
        len(sub),
        y.sum(),
        x.sum(),
        (x * x).sum(),
        (x * y).sum(),
    )
    fits = read_month(con, "linear_fits", "2026-10").set_index(["population", "segment_key", "x_measure", "trim"])
    for measure in ("touches_in_window", "touches_before_conversion"):
        xm = sub[measure].to_numpy()
        fit, lr = fits.loc[(population, key, measure, "none")], stats.linregress(xm, y)
        assert fit["r"] == pytest.approx(lr.rvalue, abs=1e-9)
        assert fit["slope"] == pytest.approx(lr.slope, abs=1e-9)
        assert fit["intercept"] == pytest.approx(lr.intercept, abs=1e-9)
        assert fit["r_p_value"] == pytest.approx(lr.pvalue, abs=1e-9)
        assert fit["spearman_rho"] == pytest.approx(stats.spearmanr(xm, y).statistic, abs=1e-9)
        top = fits.loc[(population, key, measure, "top")]
        kept = xm <= top["trim_cutoff_touches"]
        assert top["leads_removed"] == (~kept).sum() <= 0.01 * len(xm)
        assert top["r"] == pytest.approx(stats.pearsonr(xm[kept], y[kept]).statistic, abs=1e-9)


def test_cells_add_up_to_the_moments(warehouse):
    con, _ = warehouse
    cells = read_month(con, "lead_cells", "2026-10")
    mom = read_month(con, "segment_moments", "2026-10").set_index(["population", "segment_key"])
    cells = cells.assign(
        wx=cells.leads * cells.touches,
        wxx=cells.leads * cells.touches**2,
        wxy=cells.leads * cells.touches * cells.converted,
    )
    sums = (
        cells[cells.x_measure == "touches_in_window"]
        .groupby(["population", "segment_key"])[["leads", "wx", "wxx", "wxy"]]
        .sum()
    )
    joined = sums.join(mom, rsuffix="_m")
    assert (joined["leads"] == joined["leads_m"]).all() and (joined["wx"] == joined["sx_w"]).all()
    assert (joined["wxx"] == joined["sxx_w"]).all() and (joined["wxy"] == joined["sxy_w"]).all()
    assert len(sums) == 2 * (1 + 3 + 3 + 3 + 9 + 9 + 9 + 27 + 8)  # 8 grouping sets + reps, both populations


def test_every_table_is_written_per_month_with_the_note_version(warehouse):
    con, _ = warehouse
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'analytics'"
        ).fetchall()
    ]
    assert len(tables) == 20
    for table in tables:
        rows = con.execute(
            f"select partition_month, count(*), min(scoping_note_version), "
            f"max(scoping_note_version) from analytics.{table} group by 1 order by 1"
        ).fetchall()
        # the recurring lists need list_min_months months in a quadrant: none in the first month
        expected = list(MONTHS[CFG.list_min_months - 1:]) if table == "quadrant_lists" else list(MONTHS)
        assert [r[0] for r in rows] == expected, table
        assert all(r[2] == r[3] == CFG.version for r in rows), table
    diag = read_month(con, "diagnostic", "2026-10")
    assert list(diag.question_no) == list(range(1, 11))
    assert set(diag.status) <= {"answered", "partial", "needs_human_input"}
    assert (diag.status == "needs_human_input").any() and (diag.status == "answered").sum() >= 4


def test_a_rerun_replaces_the_month_and_a_failure_changes_nothing(warehouse):
    con, _ = warehouse
    before = con.execute("select partition_month, count(*) from analytics.linear_fits group by 1 order by 1").fetchall()
    write_month(con, "2026-10", CFG.version, steps.linear(con, "2026-10", CFG, NOTE))
    assert (
        con.execute("select partition_month, count(*) from analytics.linear_fits group by 1 order by 1").fetchall()
        == before
    )
    broken = {"linear_fits": pd.DataFrame({"r": [0.5]}), "fit_checks": pd.DataFrame({"leads": ["not a number"]})}
    with pytest.raises(duckdb.Error):
        write_month(con, "2026-10", CFG.version, broken)
    assert (
        con.execute("select partition_month, count(*) from analytics.linear_fits group by 1 order by 1").fetchall()
        == before
    )


def test_a_month_without_leads_fails_clearly(warehouse):
    con, _ = warehouse
    with pytest.raises(ValueError, match="2026-11: no lead to analyse"):
        steps.statistics(con, "2026-11", CFG, NOTE)
    run = read_month(con, "scoping_notes", "2026-10").iloc[0]
    assert run.leads_analysed == run.leads_in_scope - run.leads_window_incomplete > 0


def test_the_second_month_reads_the_first_for_its_gains(warehouse):
    con, leads = warehouse
    light = read_month(con, "traffic_light", "2026-10").set_index("segment_key").loc["all"]
    now, before = (_kept(leads, m, "standard") for m in MONTHS[::-1])
    assert light.delta_cr_points == pytest.approx(
        100 * (now.is_converted.mean() - before.is_converted.mean()), abs=1e-9
    )
    assert light.light in ("green", "amber", "red") and light.reason
    first = read_month(con, "traffic_light", "2026-09").set_index("segment_key").loc["all"]
    assert np.isnan(first.delta_cr_points) and "no previous month" in first.reason


def test_a_first_month_that_finds_nothing_still_writes_every_table(tmp_path):
    """Issue 13, item 8: a fresh warehouse whose first month has no cluster candidate (no lead flagged) and,
    with 90 leads (every segment under min_n = 100), no sub-segment for a Simpson split and no logistic fit.
    Every table is still created, with its declared types; the next month's rows land in them unchanged
    (a share stays DOUBLE and equals the count ratio)."""
    first = hand_made_leads("2026-09", 90, 7)
    first[["is_vip", "is_dispute", "is_hot_lead"]] = False
    con = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    con.execute("create schema marts")
    con.register("first_frame", first)
    con.execute("create table marts.fct_lead_cadence as select * from first_frame")
    written = steps.run_month(con, "2026-09", CFG, NOTE)
    assert written["clusters"] == written["composition"] == written["logistic_terms"] == 0
    assert written["traffic_light"] > 0 and written["diagnostic"] == 10
    from cadence.analytics.catalog import TABLES
    from cadence.analytics.columns import COLUMNS

    assert set(COLUMNS) == set(TABLES)
    types = con.execute(
        "select table_name, column_name, data_type from information_schema.columns where table_schema = 'analytics'"
    ).fetchall()
    have = {(t, c): d for t, c, d in types}
    for table, columns in COLUMNS.items():
        for column, kind in columns.items():
            assert have[(table, column)] == kind.upper(), (table, column)

    second = hand_made_leads("2026-10", 4000, 8)
    con.register("second_frame", second)
    con.execute("insert into marts.fct_lead_cadence by name select * from second_frame")
    steps.run_month(con, "2026-10", CFG, NOTE)
    vip = read_month(con, "clusters", "2026-10").set_index(["attribute", "segment_key"]).loc[("is_vip", "all")]
    kept = second[second.is_in_scope & second.is_window_complete]
    assert vip["share"] == kept.is_vip.sum() / len(kept)
    assert have[("clusters", "share")] == "DOUBLE" and read_month(con, "clusters", "2026-09").empty
    con.close()
