"""Real exports nobody here wrote load through the field mapping alone (skipped where ../shared is absent)."""

from __future__ import annotations

import csv
import shutil

import duckdb
import pytest

from cadence.ingest import load_source_month
from cadence.mapping import load_mapping
from tests.conftest import realdata

OLIST_AND_MAVEN = """
sources:
  crm:
    entities:
      leads:
        files: ["olist_marketing_qualified_leads_dataset.csv"]
        columns:
          lead_id: mql_id
          created_at: first_contact_date
          channel: origin
          team: null
          account_id: null
          company_name: null
          contact_name: null
          email: null
          phone: null
          lead_score: null
          is_vip: null
          is_dispute: null
          opted_out_at: null
          sql_at: null
        ignore_columns: [landing_page_id]
        constants: {lead_timezone: America/Sao_Paulo, company_size: SMB, funnel_phase: MQL, rep_id: unassigned}
        values:
          channel: {paid_search: inbound, organic_search: inbound, direct_traffic: inbound, social: inbound,
                    email: outbound, display: outbound, referral: partner}
        timestamps: {format: "%Y-%m-%d", timezone_column: lead_timezone}
      opportunities:
        files: ["sales_pipeline.csv"]
        columns:
          lead_id: opportunity_id
          account_id: account
          rep_id: sales_agent
          created_at: engage_date
          stage: deal_stage
          amount: close_value
          closed_at: close_date
          close_reason: null
        ignore_columns: [product]
        constants: {currency: USD}
        values: {stage: {Won: won, Lost: lost, Engaging: open, Prospecting: open}}
        timestamps: {format: "%Y-%m-%d", timezone: America/New_York}
"""


def test_olist_leads_and_maven_opportunities_load_unchanged(tmp_path):
    olist = realdata("olist-marketing-funnel") / "olist_marketing_qualified_leads_dataset.csv"
    maven = realdata("maven-crm-sales-opportunities") / "sales_pipeline.csv"
    month_dir = tmp_path / "landing" / "crm" / "2018-01"
    month_dir.mkdir(parents=True)
    shutil.copy(olist, month_dir)
    shutil.copy(maven, month_dir)  # CRLF line endings, as shipped
    cfg = tmp_path / "sources.yml"
    cfg.write_text(OLIST_AND_MAVEN)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    loads = load_source_month(con, "crm", "2018-01", tmp_path / "landing", load_mapping(cfg))
    with open(olist, newline="") as fh:
        src = list(csv.DictReader(fh))
    with open(maven, newline="") as fh:
        opps = list(csv.DictReader(fh))
    assert [(x.rows, x.rejected) for x in loads] == [(len(src), 0), (len(opps), 0)] == [(8000, 0), (8800, 0)]

    got = dict(con.execute("select lead_id, created_at from raw.crm__leads").fetchall())
    # raw keeps each date as its wall clock; staging reads it in the lead's zone (DST gaps flagged there)
    assert all(got[row["mql_id"]] == f"{row['first_contact_date']}T00:00:00" for row in src)
    assert con.execute("select distinct zone_rule from raw._loads where entity = 'leads'").fetchall() == [("lead",)]
    channels = dict(con.execute("select channel, count(*) from raw.crm__leads group by 1").fetchall())
    expected_inbound = sum(r["origin"] in ("paid_search", "organic_search", "direct_traffic", "social") for r in src)
    assert channels["inbound"] == expected_inbound

    stages = dict(con.execute("select stage, count(*) from raw.crm__opportunities group by 1").fetchall())
    assert stages == {"won": 4238, "lost": 2473, "open": 2089}
    won_value = con.execute("select sum(cast(amount as double)) from raw.crm__opportunities where stage = 'won'"
                            ).fetchone()[0]
    assert won_value == pytest.approx(sum(float(r["close_value"]) for r in opps if r["deal_stage"] == "Won"))
    assert con.execute("select count(*) from raw.crm__opportunities where created_at is null").fetchone()[0] == 500
