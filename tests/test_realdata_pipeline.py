"""A real funnel nobody here wrote, to the marts (skipped where ../shared is absent): one 2018 month of the
Olist marketing-qualified leads and their closed deals, loaded through a field mapping only (dates without
time in Brazil's zone, an empty origin recoded, one deal column mapped to two canonical columns), built by
dbt, with the lead origin as the declared segment dimension (a lead attribute of the mapping, not a contract
column). The conversion counts per origin (the segment mart) and per channel (the lead fact) equal an
independent pandas computation on the raw CSVs."""

from __future__ import annotations

import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
from quality_helpers import dbt_build

from cadence.contract import SOURCES
from cadence.ingest import load_source_month
from cadence.mapping import load_mapping
from tests.conftest import realdata

pytestmark = pytest.mark.integration

MONTH, ZONE, WINDOW_DAYS = "2018-02", "America/Sao_Paulo", 30
CHANNEL = {"paid_search": "inbound", "organic_search": "inbound", "direct_traffic": "inbound", "social": "inbound",
           "email": "outbound", "display": "outbound", "referral": "partner", "other": "inbound",
           "other_publicities": "outbound", "unknown": "inbound", "": "inbound"}
MAPPING = f"""
sources:
  crm:
    entities:
      leads:
        files: ["mql_{MONTH}.csv"]
        columns: {{lead_id: mql_id, created_at: first_contact_date, channel: origin}}
        ignore_columns: [landing_page_id]
        attributes: [origin]
        constants: {{lead_timezone: {ZONE}, company_size: SMB, funnel_phase: MQL, rep_id: unassigned}}
        values:
          channel: {{{", ".join(f'"{k}": {v}' for k, v in CHANNEL.items())}}}
        timestamps: {{format: "%Y-%m-%d", timezone_column: lead_timezone}}
      opportunities:
        files: ["closed_deals_{MONTH}.csv"]
        columns: {{opportunity_id: seller_id, lead_id: mql_id, rep_id: sr_id, created_at: won_date,
                   closed_at: won_date}}
        ignore_columns: [sdr_id, business_segment, lead_type, lead_behaviour_profile, has_company, has_gtin,
                         average_stock, business_type, declared_product_catalog_size, declared_monthly_revenue]
        constants: {{stage: won}}
        timestamps: {{format: "%Y-%m-%d %H:%M:%S", timezone: {{from: lead}}}}
"""


def test_olist_conversions_per_origin_and_channel_equal_an_independent_computation(tmp_path):
    folder = realdata("olist-marketing-funnel")
    mql = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv", dtype=str, keep_default_na=False)
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv", dtype=str, keep_default_na=False)
    leads = mql[mql.first_contact_date.str[:7] == MONTH]
    won = deals[deals.mql_id.isin(leads.mql_id)]
    landing = tmp_path / "landing" / "crm" / MONTH
    landing.mkdir(parents=True)
    leads.to_csv(landing / f"mql_{MONTH}.csv", index=False)
    won.to_csv(landing / f"closed_deals_{MONTH}.csv", index=False)
    cfg = tmp_path / "sources.yml"
    cfg.write_text(MAPPING, encoding="utf-8")
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        for source in SOURCES:  # CRM only: no calls, e-mails or meetings in this dataset
            load_source_month(con, source, MONTH, tmp_path / "landing", load_mapping(cfg))
    dbt_build(db, MONTH, select="staging intermediate marts cleaning", workdir=tmp_path,
              dbt_vars={"conversion_stage": "won", "attribution_window_days": WINDOW_DAYS,
                        "segment_dimensions": ["origin"]})

    # the independent computation: created = local midnight in Sao Paulo, won within [created, created + 30 d)
    def utc(local: pd.Series) -> pd.Series:  # a wall clock in Sao Paulo, fold=0 in an overlap, as naive UTC
        return local.dt.tz_localize(ZoneInfo(ZONE), ambiguous=True).dt.tz_convert("UTC").dt.tz_localize(None)

    created = utc(pd.to_datetime(leads.first_contact_date)).to_numpy()
    won_at = utc(pd.to_datetime(won.won_date)).groupby(won.mql_id.to_numpy()).min()
    first_win = leads.mql_id.map(won_at).to_numpy()
    converted = (first_win >= created) & (first_win < created + pd.Timedelta(days=WINDOW_DAYS).to_timedelta64())
    facts = pd.DataFrame({"channel": leads.origin.map(CHANNEL), "origin": leads.origin.replace("", "unknown"),
                          "converted": converted})
    expected = facts.groupby("channel").agg(leads=("converted", "size"), conversions=("converted", "sum"))
    by_origin = facts.groupby("origin").agg(leads=("converted", "size"), conversions=("converted", "sum"))

    with duckdb.connect(str(db), read_only=True) as con:
        acc = con.execute("select table_name, excluded_rows, is_balanced from cleaning.cleaning_accounting").fetchall()
        got = con.execute("select channel, count(*) as leads, count(*) filter (where is_converted) as conversions "
                          "from marts.fct_lead_cadence where partition_month = ? group by 1", [MONTH]).df()
        got_origin = con.execute("select origin, leads, conversions from marts.kpi_segments_monthly "
                                 "where segment_level = 'origin' and partition_month = ?", [MONTH]).df()
        levels = {r[0] for r in con.execute("select distinct segment_level from marts.kpi_segments_monthly").fetchall()}
        flagged = con.execute("select count(*) from cleaning.cleaning_flags "
                              "where flag = 'missing_segment' and column_name = 'origin'").fetchone()[0]
    assert all(balanced for _t, _x, balanced in acc) and sum(x for _t, x, _b in acc) == 0  # nothing lost
    assert got.set_index("channel")[["leads", "conversions"]].to_dict() == expected.astype(int).to_dict()
    assert got_origin.set_index("origin")[["leads", "conversions"]].to_dict() == by_origin.astype(int).to_dict()
    assert levels == {"all", "origin", "funnel_phase", "origin+funnel_phase"}  # the declared dimension, no channel
    assert flagged == leads.origin.eq("").sum() > 0  # an empty origin: kept in segment 'unknown', flagged
    assert expected.conversions.sum() > 20 and len(by_origin) >= 8


UCI_NOTE = """
segments: {dimensions: [job]}          # the client's job: a lead attribute, not a contract column
touches: {channels: [call]}
conversion: opportunity
"""
UCI_MAPPING = """
sources:
  crm:
    entities:
      leads:
        files: ["clients.csv"]
        attributes: [job]
        constants: {lead_timezone: Europe/Lisbon, funnel_phase: MQL, rep_id: bank}
        timestamps: {format: "%d/%m/%Y %H:%M", timezone: Europe/Lisbon}
      opportunities:
        files: ["subscriptions.csv"]
        constants: {stage: won}
        timestamps: {format: "%d/%m/%Y %H:%M", timezone: Europe/Lisbon}
  voip:
    entities:
      calls:
        files: ["calls.csv"]
        constants: {outcome: connected, direction: outbound}
        timestamps: {format: "%d/%m/%Y %H:%M", timezone: {from: lead}}
"""


def test_uci_calls_vs_subscription_per_job_equal_scipy(tmp_path):
    """The UCI bank phone campaign of May 2008 (7,957 real clients): each client a lead, `campaign` calls six
    hours apart from 09:00 local on its day, a subscription an opportunity after the last call. With `job`
    as the declared segment dimension, the whole pipeline (a real `cadence run`) gives per job the r and the
    slope of conversion on touches that scipy gives on the raw CSV."""
    from scipy import stats

    bank = pd.read_csv(realdata("uci-bank-marketing") / "bank-full.csv", sep=";")
    may = bank[bank.month.ne(bank.month.shift()).cumsum() == 1].reset_index(drop=True)  # May 2008: the first block
    assert (may.month == "may").all() and len(may) > 7000
    created = pd.to_datetime("2008-05-" + may.day.astype(str).str.zfill(2) + " 09:00")
    may["lead_id"] = [f"U{i:05d}" for i in range(len(may))]
    fmt = "%d/%m/%Y %H:%M"
    month_dir = {s: tmp_path / "landing" / s / "2008-05" for s in ("crm", "voip")}
    for d in month_dir.values():
        d.mkdir(parents=True)
    pd.DataFrame({"lead_id": may.lead_id, "created_at": created.dt.strftime(fmt), "job": may.job}) \
        .to_csv(month_dir["crm"] / "clients.csv", index=False)
    calls = may.loc[may.index.repeat(may.campaign), ["lead_id"]]
    k = calls.groupby("lead_id").cumcount()
    calls["call_id"] = calls.lead_id + "-" + k.astype(str)
    calls["started_at"] = (created.loc[calls.index] + pd.to_timedelta(6 * k, unit="h")).dt.strftime(fmt)
    calls.to_csv(month_dir["voip"] / "calls.csv", index=False)
    won = may[may.y == "yes"]
    pd.DataFrame({"opportunity_id": "O" + won.lead_id, "lead_id": won.lead_id,
                  "created_at": (created[won.index] + pd.to_timedelta(6 * (won.campaign - 1) + 1, unit="h"))
                  .dt.strftime(fmt)}).to_csv(month_dir["crm"] / "subscriptions.csv", index=False)
    (tmp_path / "sources.yml").write_text(UCI_MAPPING, encoding="utf-8")
    (tmp_path / "note.yml").write_text(UCI_NOTE, encoding="utf-8")

    env = {**os.environ, "CADENCE_DATA_DIR": str(tmp_path), "CADENCE_SOURCES_CONFIG": str(tmp_path / "sources.yml"),
           "CADENCE_SCOPING_NOTE": str(tmp_path / "note.yml")}
    for var in ("CADENCE_LANDING_DIR", "CADENCE_DUCKDB_PATH", "CADENCE_REPORTS_DIR", "CADENCE_PUBLISH_DIR",
                "DAGSTER_HOME", "CADENCE_FIRST_MONTH"):
        env.pop(var, None)
    run = subprocess.run([sys.executable, "-m", "cadence.cli", "run", "--month", "2008-05"], env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    with duckdb.connect(str(tmp_path / "warehouse" / "cadence.duckdb"), read_only=True) as con:
        fits = con.execute("""select job, leads, r, slope from analytics.linear_fits
            where partition_month = '2008-05' and segment_level = 'job' and population = 'standard'
                and x_measure = 'touches_in_window' and trim = 'none'""").df().set_index("job")
        kept = con.execute("select count(*) from marts.fct_lead_cadence").fetchone()[0]
    assert kept == len(may)
    for job, g in may.groupby("job"):
        fit = stats.linregress(g.campaign, (g.y == "yes").astype(float))
        assert fits.loc[job, "leads"] == len(g)
        assert fits.loc[job, "slope"] == pytest.approx(fit.slope, abs=1e-9)
        assert fits.loc[job, "r"] == pytest.approx(fit.rvalue, abs=1e-9)
    report = (tmp_path / "reports" / "2008-05" / "dashboard.html").read_text(encoding="utf-8")
    assert "Blue-collar" in report and "Inbound" not in report  # the dashboard's cells are the jobs
