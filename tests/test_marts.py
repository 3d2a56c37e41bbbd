"""The marts on generated data, checked against an INDEPENDENT computation (pandas on the landing CSV
files, never on the warehouse) and against the generator's planted truths (its manifest).

One month is generated (clean, no defects: staging keeps every row) and run through the whole graph once.
A copy of the warehouse then gets a second month and a rebuild of the first one with another scoping note
(14-day window, conversion = won deal, contact = connected call): the numbers follow the note with no code
change, and the other month is left as it was.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cadence import cli
from cadence.scoping import dbt_vars, load_scoping_note, parse_scoping_note

pytestmark = pytest.mark.integration

MONTH, OTHER_MONTH = "2026-10", "2026-09"
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTE = load_scoping_note(ROOT / "config" / "scoping_note.yml")
OTHER_NOTE = parse_scoping_note({"attribution_window_days": 14, "conversion": "won", "contact": {"call": "connected"}})
SEGMENT = ["channel", "company_size", "funnel_phase"]


# ---------------------------------------------------------------- the independent computation (pandas)

def _ts(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="ISO8601").dt.tz_localize(None)


def read_landing(landing: Path, month: str) -> dict[str, pd.DataFrame]:
    files = {"leads": "crm/{m}/leads.csv", "opportunities": "crm/{m}/opportunities.csv",
             "calls": "voip/{m}/calls.csv", "email_events": "emailing/{m}/email_events.csv"}
    frames = {k: pd.read_csv(landing / v.format(m=month), dtype=str, keep_default_na=False, na_values=[""])
              for k, v in files.items()}
    for name, cols in {"leads": ["created_at", "sql_at", "opted_out_at"], "calls": ["started_at"],
                       "opportunities": ["created_at", "closed_at"], "email_events": ["event_at"]}.items():
        for col in cols:
            frames[name][col] = _ts(frames[name][col])
    frames["leads"]["is_vip"] = frames["leads"]["is_vip"] == "true"
    return frames


def segment_threshold(note, lead: pd.Series, name: str) -> float:
    for entry in note["segment_thresholds"]:
        if name in entry and all(lead[col] == val for col, val in entry["match"].items()):
            return entry[name]
    return note["thresholds"][name]


def expected_per_lead(src: dict[str, pd.DataFrame], note) -> pd.DataFrame:
    """One row per lead: touches in the window, before conversion, conversion, TTF, as the note defines them."""
    leads = src["leads"].set_index("lead_id")
    window = pd.Timedelta(days=note["attribution_window_days"])
    events = src["email_events"]
    sent = events[events.event_type == "sent"].groupby("message_id").agg(lead_id=("lead_id", "first"),
                                                                       t=("event_at", "min"))
    delivered = events[events.event_type == "delivered"][["lead_id", "event_at"]].rename(columns={"event_at": "t"})
    calls = src["calls"].rename(columns={"started_at": "t"})
    touches = pd.concat([calls[["lead_id", "t"]], sent[["lead_id", "t"]]])

    opps = src["opportunities"]
    first_opp = opps.groupby("lead_id").created_at.min()
    won = opps[opps.stage == "won"].groupby("lead_id").closed_at.min()
    reached = pd.DataFrame({"opportunity": first_opp, "won": won}).reindex(leads.index)
    reached["opportunity"] = reached[["opportunity", "won"]].min(axis=1)
    reached["sql"] = pd.concat([leads.sql_at, reached.opportunity], axis=1).min(axis=1)
    out = leads[SEGMENT + ["is_vip", "created_at"]].copy()
    out["converted_at"] = reached[note["conversion"]]
    out["is_converted"] = (out.converted_at < out.created_at + window).fillna(False).astype(bool)

    t = touches.join(out[["created_at", "converted_at", "is_converted"]], on="lead_id")
    in_window = (t.t >= t.created_at) & (t.t < t.created_at + window)
    before = in_window & (~t.is_converted | (t.t < t.converted_at))
    out["touches_in_window"] = in_window.groupby(t.lead_id).sum().reindex(out.index, fill_value=0)
    out["touches_before_conversion"] = before.groupby(t.lead_id).sum().reindex(out.index, fill_value=0)

    contact_calls = calls if note["contact"]["call"] == "attempted" else calls[calls.outcome == "connected"]
    contacts = pd.concat([contact_calls[["lead_id", "t"]], delivered]).join(out.created_at, on="lead_id")
    first = contacts[contacts.t >= contacts.created_at].groupby("lead_id").t.min()
    out["ttf_hours"] = (first.reindex(out.index) - out.created_at).dt.total_seconds() / 3600
    target = out.apply(lambda lead: segment_threshold(note, lead, "ttf_target_hours"), axis=1)
    out["is_within_ttf_target"] = (out.ttf_hours <= target).fillna(False).astype(bool)
    return out


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = successes / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def expected_segments(per_lead: pd.DataFrame) -> pd.DataFrame:
    """KPIs per channel x company_size x funnel_phase cell and for 'all'."""
    rows = []
    groups = [("all", per_lead)] + [(" | ".join(f"{c}={v}" for c, v in zip(SEGMENT, key, strict=True)), g)
                                    for key, g in per_lead.groupby(SEGMENT)]
    for segment_key, g in groups:
        touches, ttf = g.touches_in_window.to_numpy(float), g.ttf_hours.dropna().to_numpy()
        low, high = wilson(int(g.is_converted.sum()), len(g))
        rows.append({
            "segment_key": segment_key, "leads": len(g), "conversions": int(g.is_converted.sum()),
            "conversion_rate": g.is_converted.mean(), "conversion_rate_ci_low": low, "conversion_rate_ci_high": high,
            "touches_per_lead_median": np.median(touches),
            "touches_per_lead_iqr": np.percentile(touches, 75) - np.percentile(touches, 25),
            "ttf_median_hours": np.median(ttf) if len(ttf) else np.nan,
            "ttf_p90_hours": np.percentile(ttf, 90) if len(ttf) else np.nan,
            "share_within_ttf_target": g.is_within_ttf_target.mean(),
        })
    return pd.DataFrame(rows).set_index("segment_key").sort_index()


# ---------------------------------------------------------------- fixtures

def query(db: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)  # closed at once: dbt may need the file next
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def pipeline(module_data_dir):
    root = module_data_dir
    assert cli.main(["generate", "--month", MONTH, "--leads", "2000", "--seed", "11"]) == 0
    assert cli.run_months([MONTH])
    manifest = json.loads((root / "landing" / "_manifest" / f"{MONTH}.json").read_text())
    return root, root / "warehouse" / "cadence.duckdb", manifest


@pytest.fixture(scope="module")
def landing(pipeline):
    return read_landing(pipeline[0] / "landing", MONTH)


@pytest.fixture(scope="module")
def fct(pipeline):
    return query(pipeline[1], "select * from marts.fct_lead_cadence where partition_month = ?", [MONTH]
                 ).set_index("lead_id").sort_index()


def run_dbt(project: Path, db: Path, work: Path, vars_: dict) -> None:
    exe = Path(sys.executable).with_name("dbt")
    cmd = [str(exe), "run", "--project-dir", str(project),
           "--profiles-dir", str(project), "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
           "--vars", json.dumps(vars_)]
    env = {**os.environ, "CADENCE_DUCKDB_PATH": str(db)}
    done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.fixture(scope="module")
def rebuilt(pipeline, tmp_path_factory):
    """A copy of the warehouse with another month, then this month rebuilt under OTHER_NOTE."""
    from cadence.contract import SOURCES
    from cadence.generator import generate
    from cadence.ingest import load_source_month
    from cadence.mapping import load_mapping
    from orchestration.partitions import dbt_vars as partition_vars

    _root, db, _manifest = pipeline
    work = tmp_path_factory.mktemp("rebuilt")
    copy = work / "cadence.duckdb"
    shutil.copy(db, copy)
    generate(work / "landing", [OTHER_MONTH], leads_per_month=150, seed=3)
    con = duckdb.connect(str(copy))
    try:
        for source in SOURCES:
            load_source_month(con, source, OTHER_MONTH, work / "landing", load_mapping(ROOT / "config" / "sources.yml"),
                              run_id="test")
    finally:
        con.close()
    project = ROOT / "dbt_project"
    run_dbt(project, copy, work, {**partition_vars(OTHER_MONTH), **dbt_vars(DEFAULT_NOTE)})
    before = query(copy, "select * from marts.kpi_segments_monthly where partition_month = ? order by all",
                   [OTHER_MONTH])
    run_dbt(project, copy, work, {**partition_vars(MONTH), **dbt_vars(OTHER_NOTE)})
    return copy, before


# ---------------------------------------------------------------- tests: per lead, against pandas

def test_one_row_per_kept_lead(fct, landing):
    assert sorted(fct.index) == sorted(landing["leads"].lead_id)


def test_lead_values_match_an_independent_computation(fct, landing):
    exp = expected_per_lead(landing, DEFAULT_NOTE)
    got = fct.loc[exp.index]
    for col in ("touches_in_window", "touches_before_conversion", "is_converted", "is_within_ttf_target"):
        assert (got[col].to_numpy() == exp[col].to_numpy()).all(), col
    np.testing.assert_allclose(got.ttf_hours.to_numpy(float), exp.ttf_hours.to_numpy(float), atol=1e-9)


# ---------------------------------------------------------------- tests: segment KPIs, against pandas

def test_segment_kpis_match_an_independent_computation(pipeline, landing):
    exp = expected_segments(expected_per_lead(landing, DEFAULT_NOTE))
    got = query(pipeline[1], "select * from marts.kpi_segments_monthly where partition_month = ? and segment_level in "
                "('all', 'channel+company_size+funnel_phase')", [MONTH]).set_index("segment_key").sort_index()
    assert list(got.index) == list(exp.index)
    assert (got.leads == exp.leads).all() and (got.conversions == exp.conversions).all()
    for col in exp.columns.drop(["leads", "conversions"]):
        np.testing.assert_allclose(got[col].to_numpy(float), exp[col].to_numpy(float), atol=1e-9, err_msg=col)


def test_funnel_matches_an_independent_computation(pipeline, landing):
    leads = landing["leads"].set_index("lead_id")
    end = leads.created_at + pd.Timedelta(days=30)
    opps = landing["opportunities"]
    opp = opps.groupby("lead_id").created_at.min().reindex(leads.index)
    won = opps[opps.stage == "won"].groupby("lead_id").closed_at.min().reindex(leads.index)
    sql = pd.concat([leads.sql_at, opp, won], axis=1).min(axis=1)
    expected = {"MQL": len(leads), "SQL": int((sql < end).sum()), "opportunity": int((opp < end).sum()),
                "won": int((won < end).sum())}
    got = query(pipeline[1], "select funnel_stage, leads_reached from marts.kpi_funnel_stages_monthly "
                "where partition_month = ? and segment_level = 'all'", [MONTH])
    assert dict(zip(got.funnel_stage, got.leads_reached, strict=True)) == expected


def test_call_hours_are_lead_local_and_dst_aware(pipeline, landing):
    calls = landing["calls"].merge(landing["leads"][["lead_id", "lead_timezone"]], on="lead_id")
    local = pd.Series(pd.NaT, index=calls.index, dtype="datetime64[ns]")
    for zone, idx in calls.groupby("lead_timezone").groups.items():
        local[idx] = calls.loc[idx, "started_at"].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
    calls["local_weekday"], calls["local_hour"] = local.dt.dayofweek + 1, local.dt.hour
    exp = calls.groupby(["local_weekday", "local_hour"]).agg(
        calls=("call_id", "size"), calls_dialled=("direction", lambda d: int((d == "outbound").sum())))
    got = query(pipeline[1], "select local_weekday, local_hour, calls, calls_dialled from marts.kpi_call_hours_monthly "
                "where partition_month = ?", [MONTH]).set_index(["local_weekday", "local_hour"]).sort_index()
    pd.testing.assert_frame_equal(got.astype("int64"), exp.astype("int64"), check_names=False)


def test_weekly_guardrails_match_an_independent_computation(pipeline, landing):
    ev = landing["email_events"]
    msg = ev.pivot_table(index="message_id", columns="event_type", values="event_at", aggfunc="min")
    week = msg["delivered"].fillna(msg["sent"]).dt.to_period("W-SUN").dt.start_time
    exp = pd.DataFrame({"week": week, "delivered": msg["delivered"].notna(), "complained": msg["complained"].notna()}
                       ).groupby("week").sum()
    got = query(pipeline[1], "select week_start_date, emails_delivered, complaints from marts.kpi_guardrails_weekly "
                "where partition_month = ? and segment_level = 'all' order by 1", [MONTH])
    assert got.emails_delivered.tolist() == exp.delivered.tolist()
    assert got.complaints.tolist() == exp.complained.tolist()


# ---------------------------------------------------------------- tests: the generator's planted truths

def test_planted_segment_truths_are_recovered(fct, pipeline):
    realised = pipeline[2]["effects"]["realised"]
    not_vip = fct[~fct.is_vip]
    for key, truth in realised.items():
        if key == "vip":
            group = fct[fct.is_vip]
        else:
            channel, size = key.split("/")
            group = not_vip[(not_vip.channel == channel) & (not_vip.company_size == size)]
        assert len(group) == truth["leads"], key
        assert int(group.is_converted.sum()) == truth["converted"], key
        if truth["mean_touches"] is not None:
            assert group.touches_before_conversion.mean() == pytest.approx(truth["mean_touches"], abs=5e-4), key
        if "share_ttf_le_2h" in truth:
            assert (group.ttf_hours <= 2).mean() == pytest.approx(truth["share_ttf_le_2h"], abs=5e-5), key


def test_planted_totals_are_recovered(fct, pipeline):
    manifest, db = pipeline[2], pipeline[1]
    assert int(fct.is_converted.sum()) == manifest["leads_converted"]
    assert int(fct.touches_after_conversion.sum()) == manifest["post_conversion_touches"]
    assert int(fct.touches_after_opt_out.sum()) == manifest["touches_after_opt_out"]
    outside = query(db, "select sum(calls) as n from marts.kpi_call_hours_monthly where partition_month = ? "
                    "and (local_hour < 9 or local_hour >= 17)", [MONTH]).n[0]
    assert outside == manifest["calls_outside_hours"]


def test_planted_complaint_spike_breaches_its_guardrail(pipeline):
    spike = pipeline[2]["complaint_spike"]
    key = f"channel={spike['segment']['channel']} | company_size={spike['segment']['company_size']}"
    weeks = query(pipeline[1], "select iso_week, complaint_rate, is_complaint_guardrail_breached from "
                  "marts.kpi_guardrails_weekly where partition_month = ? and segment_key = ? "
                  "and emails_delivered >= 50",
                  [MONTH, key]).set_index("iso_week")
    assert weeks.complaint_rate.idxmax() == spike["iso_week"]
    assert weeks.loc[spike["iso_week"], "is_complaint_guardrail_breached"]


def test_planted_best_time_to_call_is_recovered(pipeline):
    planted = {int(h): p for h, p in pipeline[2]["best_time_to_call"]["p_connected_by_local_hour"].items()}
    hours = query(pipeline[1], "select local_hour, sum(calls_dialled) as n, sum(calls_connected) as k from "
                  "marts.kpi_call_hours_monthly where partition_month = ? group by 1 having sum(calls_dialled) >= 150",
                  [MONTH])
    assert len(hours) >= 8
    for hour, n, k in hours.itertuples(index=False):
        p = planted.get(hour, 0.10)  # size factors average about 1 over the mix of company sizes
        assert abs(k / n - p) < 4 * math.sqrt(p * (1 - p) / n) + 0.02, hour


def test_scoping_note_is_stored_with_the_month(pipeline):
    runs = query(pipeline[1], "select * from marts.fct_scoping_note_runs")
    assert runs.partition_month.tolist() == [MONTH]
    # the run passes the cycle's note (config/scoping_note.yml) to dbt: its version and JSON are stored
    assert runs.scoping_note_version[0] == DEFAULT_NOTE.version
    assert json.loads(runs.scoping_note_json[0]) == json.loads(DEFAULT_NOTE.json)


# ---------------------------------------------------------------- tests: stored types

def test_rates_are_doubles_everywhere_down_to_the_bi_file_and_the_workbook(pipeline, landing):
    """Issue 13, item 10: a 32-bit FLOAT stores 73/500 as 0.1459999978542328, and every BI client and the
    workbook shows that. No column of the audit's schemas, the published BI file or its Parquet is FLOAT;
    a rate equals the double division of the independently counted conversions and leads (to 1e-15), in the
    mart and in the workbook's KPI sheet."""
    import openpyxl

    root, db, _ = pipeline
    published = root / "published"
    floats = ("select table_schema || '.' || table_name || '.' || column_name as col from information_schema.columns "
              "where table_schema in ('marts', 'analytics', 'guardrails', 'experiments', 'cleaning', 'bi') "
              "and data_type in ('FLOAT', 'REAL')")
    for path in (db, published / "cadence_bi.duckdb"):
        assert query(path, floats).col.tolist() == [], path
    parquet = duckdb.sql(f"select distinct file_name from parquet_schema('{published}/parquet/**/*.parquet') "
                         "where type = 'FLOAT'").fetchall()
    assert parquet == []
    exp = expected_segments(expected_per_lead(landing, DEFAULT_NOTE))
    got = query(db, "select segment_key, conversion_rate from marts.kpi_segments_monthly where partition_month = ?",
                [MONTH]).set_index("segment_key").conversion_rate
    wb = openpyxl.load_workbook(root / "reports" / MONTH / "audit_workbook.xlsx", read_only=True)
    head, *rows = list(wb["KPIs"].values)
    sheet = {r[head.index("Segment")]: r[head.index("CR")] for r in rows}
    for key, row in exp.iterrows():
        truth = row.conversions / row.leads
        assert abs(got[key] - truth) <= 1e-15 and abs(sheet[key] - truth) <= 1e-15, key


# ---------------------------------------------------------------- tests: another scoping note, same code

def test_another_scoping_note_changes_the_results_accordingly(rebuilt, landing, fct):
    copy, _ = rebuilt
    got = query(copy, "select * from marts.fct_lead_cadence where partition_month = ?", [MONTH]
                ).set_index("lead_id").sort_index()
    exp = expected_per_lead(landing, OTHER_NOTE).loc[got.index]
    for col in ("touches_in_window", "touches_before_conversion", "is_converted", "is_within_ttf_target"):
        assert (got[col].to_numpy() == exp[col].to_numpy()).all(), col
    np.testing.assert_allclose(got.ttf_hours.to_numpy(float), exp.ttf_hours.to_numpy(float), atol=1e-9)
    # and it is a real change: fewer conversions, fewer touches, later first contacts
    assert got.is_converted.sum() < fct.is_converted.sum()
    assert got.touches_in_window.sum() < fct.touches_in_window.sum()
    assert got.ttf_hours.median() > fct.ttf_hours.median()
    kpis = query(copy, "select * from marts.kpi_segments_monthly where partition_month = ? and segment_level in "
                 "('all', 'channel+company_size+funnel_phase')", [MONTH]).set_index("segment_key").sort_index()
    exp_kpis = expected_segments(expected_per_lead(landing, OTHER_NOTE))
    assert (kpis.conversions == exp_kpis.conversions).all()
    np.testing.assert_allclose(kpis.ttf_median_hours.to_numpy(float), exp_kpis.ttf_median_hours.to_numpy(float))
    runs = query(copy, "select * from marts.fct_scoping_note_runs where partition_month = ?", [MONTH])
    assert runs.scoping_note_version[0] == OTHER_NOTE.version
    assert json.loads(runs.scoping_note_json[0]) == OTHER_NOTE.values
    assert (runs.attribution_window_days[0], runs.conversion_stage[0]) == (14, "won")


def test_rebuilding_a_month_keeps_the_other_months(rebuilt):
    copy, before = rebuilt
    after = query(copy, "select * from marts.kpi_segments_monthly where partition_month = ? order by all",
                  [OTHER_MONTH])
    assert len(before) > 0
    pd.testing.assert_frame_equal(after, before)
    months = query(copy, "select partition_month, count(*) as n from marts.fct_lead_cadence group by 1 order by 1")
    assert months.partition_month.tolist() == [OTHER_MONTH, MONTH]
