"""A real funnel nobody here wrote, to the marts (skipped where ../shared is absent): one 2018 month of the
Olist marketing-qualified leads and their closed deals, loaded through a field mapping only (dates without
time in Brazil's zone, an empty origin recoded, one deal column mapped to two canonical columns), built by
dbt. The conversion counts per channel equal an independent pandas computation on the raw CSVs."""

from __future__ import annotations

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


def test_olist_conversions_per_channel_equal_an_independent_computation(tmp_path):
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
              dbt_vars={"conversion_stage": "won", "attribution_window_days": WINDOW_DAYS})

    # the independent computation: created = local midnight in Sao Paulo, won within [created, created + 30 d)
    def utc(local: pd.Series) -> pd.Series:  # a wall clock in Sao Paulo, fold=0 in an overlap, as naive UTC
        return local.dt.tz_localize(ZoneInfo(ZONE), ambiguous=True).dt.tz_convert("UTC").dt.tz_localize(None)

    created = utc(pd.to_datetime(leads.first_contact_date)).to_numpy()
    won_at = utc(pd.to_datetime(won.won_date)).groupby(won.mql_id.to_numpy()).min()
    first_win = leads.mql_id.map(won_at).to_numpy()
    converted = (first_win >= created) & (first_win < created + pd.Timedelta(days=WINDOW_DAYS).to_timedelta64())
    expected = pd.DataFrame({"channel": leads.origin.map(CHANNEL), "converted": converted}) \
        .groupby("channel").agg(leads=("converted", "size"), conversions=("converted", "sum"))

    with duckdb.connect(str(db), read_only=True) as con:
        acc = con.execute("select table_name, excluded_rows, is_balanced from cleaning.cleaning_accounting").fetchall()
        got = con.execute("select channel, leads, conversions from marts.kpi_segments_monthly "
                          "where segment_level = 'channel' and partition_month = ? order by 1", [MONTH]).df()
    assert all(balanced for _t, _x, balanced in acc) and sum(x for _t, x, _b in acc) == 0  # nothing lost
    assert got.set_index("channel")[["leads", "conversions"]].to_dict() == expected.astype(int).to_dict()
    assert expected.conversions.sum() > 20 and leads.origin.eq("").sum() > 0
