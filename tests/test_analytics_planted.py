"""The planted effects of the generator, recovered end to end: one generated month (20,000 leads, seed 42)
through ingestion, dbt and the analytics assets (Dagster, real DuckDB file), then read back.

Tolerances are stated against the generator's manifest (cadence/generator/_model.py):
- inbound/SMB: plateau from 6 touches (before conversion) -> a plateau, breakpoint 6 ± 1, its interval
  touching 6; TTF <= 2 h multiplies CR by 1.8 -> a gap of 9-20 points at the 2 h edge, target 2 h.
- outbound/Enterprise: logistic with midpoint 8 -> an S-shape, midpoint 8 ± 1.5.
- VIP accounts (CR 55 % at 1-3 calls) -> a separate cluster in every Enterprise segment, no other flag.
- partner/SMB (slope 0.6 points per touch, r ≈ 0.075 before conversion): the method's r reading says red
  ("r ≈ 0"), the light amber: the effect's interval holds the planted 0.6 points but is too wide to call.
- outbound/Mid (one week at 1 % complaints): red, complaints over the guardrail.
- 35 % of converted leads touched after conversion -> r on all touches > r before conversion everywhere.
"""

from __future__ import annotations

import json
import os

import duckdb
import numpy as np
import pytest
from scipy import stats

pytestmark = pytest.mark.integration

MONTH, LEADS, SEED = "2026-10", 20_000, 42
SEGMENT = "channel={} | company_size={}"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("analytics_planted")
    names = ("CADENCE_DATA_DIR", "CADENCE_LANDING_DIR", "CADENCE_DUCKDB_PATH", "DAGSTER_HOME", "CADENCE_REPORTS_DIR")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["CADENCE_DATA_DIR"] = str(root)
    for k in names[1:]:
        os.environ.pop(k, None)
    try:
        import dagster as dg

        from assets.analytics import analytics_assets
        from assets.dbt import cadence_dbt_models
        from assets.ingestion import ingestion_assets
        from cadence import settings
        from cadence.generator import generate
        from orchestration.definitions import defs

        s = settings.apply()
        manifest = generate(s.landing_dir, [MONTH], leads_per_month=LEADS, seed=SEED)[MONTH]
        keys = [k for a in (*ingestion_assets, cadence_dbt_models, *analytics_assets) for k in a.keys]
        result = dg.materialize(
            list(defs.assets),
            selection=dg.AssetSelection.assets(*keys),
            partition_key=f"{MONTH}-01",
            resources=defs.resources,
            instance=dg.DagsterInstance.ephemeral(),
        )
        assert result.success
        events = {
            e.materialization.asset_key.path[-1]: e.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.materialization.asset_key.path[0] == "analytics"
        }
        con = duckdb.connect(str(s.duckdb_path), read_only=True)
        yield con, manifest, events
        con.close()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def q(con, sql: str, *params):
    return con.execute(sql, [MONTH, *params]).df()


def test_inbound_smb_plateau_near_6_touches(planted):
    con, manifest, _ = planted
    assert manifest["effects"]["segments"]["inbound/SMB"]["plateau_at"] == 6
    shape = q(
        con,
        "select * from analytics.curve_shapes where partition_month = ? and population = 'standard' "
        "and x_measure = 'touches_before_conversion' and segment_key = ?",
        SEGMENT.format("inbound", "SMB"),
    )
    row = shape.iloc[0]
    assert row["shape"] == "plateau" and abs(row["plateau_breakpoint"] - 6) <= 1
    assert row["plateau_breakpoint_ci_low"] - 1 <= 6 <= row["plateau_breakpoint_ci_high"] + 1
    rec = q(
        con,
        "select * from analytics.thresholds where partition_month = ? and segment_key = ? "
        "and threshold = 'min_touches'",
        SEGMENT.format("inbound", "SMB"),
    ).iloc[0]
    assert rec["status"] == "recommended" and 5 <= rec["recommended_value"] <= 7


def test_inbound_smb_ttf_within_2_hours_gap(planted):
    con, _, _ = planted
    gap = q(
        con,
        "select * from analytics.ttf_gaps where partition_month = ? and population = 'standard' "
        "and segment_key = ? and ttf_edge_hours = 2",
        SEGMENT.format("inbound", "SMB"),
    ).iloc[0]
    assert 9 <= gap["cr_gap_points"] <= 20 and gap["cr_gap_ci_low_points"] > 0
    rec = q(
        con,
        "select * from analytics.thresholds where partition_month = ? and segment_key = ? "
        "and threshold = 'ttf_target_hours'",
        SEGMENT.format("inbound", "SMB"),
    ).iloc[0]
    assert rec["status"] == "recommended" and rec["recommended_value"] == 2
    terms = q(
        con,
        "select term, estimate, ci_low from analytics.logistic_terms where partition_month = ? and "
        "population = 'standard' and x_measure = 'touches_before_conversion' and segment_key = ?",
        SEGMENT.format("inbound", "SMB"),
    ).set_index("term")
    assert terms.loc["ttf_<=1h", "ci_low"] > 0 and terms.loc["ttf_1h-2h", "ci_low"] > 0  # vs > 24 h


def test_outbound_enterprise_s_shape(planted):
    con, manifest, _ = planted
    x0 = manifest["effects"]["segments"]["outbound/Enterprise"]["x0"]
    row = q(
        con,
        "select * from analytics.curve_shapes where partition_month = ? and population = 'standard' "
        "and x_measure = 'touches_before_conversion' and segment_key = ?",
        SEGMENT.format("outbound", "Enterprise"),
    ).iloc[0]
    assert row["shape"] == "s" and abs(row["s_x0"] - x0) <= 1.5
    fit = q(
        con,
        "select * from analytics.logistic_fits where partition_month = ? and population = 'standard' "
        "and x_measure = 'touches_before_conversion' and segment_key = ?",
        SEGMENT.format("outbound", "Enterprise"),
    ).iloc[0]
    assert fit["status"] == "converged" and fit["touch_ci_low"] > 0 and fit["ame_touch_ci_low"] > 0


def test_vip_cluster_found_in_every_enterprise_segment_and_nothing_else(planted):
    con, _, _ = planted
    found = q(
        con,
        "select attribute, segment_key from analytics.clusters where partition_month = ? and is_cluster "
        "and segment_level in ('company_size', 'channel+company_size')",
    )
    enterprise = {"company_size=Enterprise"} | {
        SEGMENT.format(c, "Enterprise") for c in ("inbound", "outbound", "partner")
    }
    assert enterprise <= set(found.loc[found.attribute == "is_vip", "segment_key"])
    assert set(found.attribute) == {"is_vip"}


def test_a_weak_slope_is_not_red_by_r_alone_and_the_complaint_spike_is(planted):
    con, manifest, _ = planted
    lights = q(con, "select * from analytics.traffic_light where partition_month = ?").set_index("segment_key")
    weak = lights.loc[SEGMENT.format("partner", "SMB")]
    assert weak["r_used"] < 0.10 and weak["method_light"] == "red"  # the method's reading: r ≈ 0
    # planted: +0.6 points per touch, a real effect; red needs intervals that exclude any worthwhile gain
    assert weak["effect_ame_ci_low_points"] <= 0.6 <= weak["effect_ame_ci_high_points"]
    assert weak["light"] == "amber" and weak["light_rule"] == "effect_unclear"
    assert "the method's r reading alone would say red (r ≈ 0" in weak["reason"]
    spike = manifest["complaint_spike"]["segment"]
    loud = lights.loc[SEGMENT.format(spike["channel"], spike["company_size"])]
    assert loud["light"] == "red" and loud["light_rule"] == "complaints_rising"
    assert manifest["complaint_spike"]["iso_week"] in loud["reason"]
    assert set(lights["light"]) <= {"green", "amber", "red", "grey"}
    plateau = lights.loc[SEGMENT.format("inbound", "SMB")]  # no previous month: no ΔCR, so amber
    assert (
        plateau["light"] == "amber" and plateau["effect"] == "pays" and abs(plateau["curve_reading_touches"] - 6) <= 1
    )


def test_post_conversion_touches_inflate_r_everywhere(planted):
    con, _, _ = planted
    checks = q(
        con,
        "select * from analytics.fit_checks where partition_month = ? and population = 'standard' "
        "and segment_level = 'channel+company_size'",
    )
    assert len(checks) == 9 and (checks["r_w"] > checks["r_b"]).all()


def test_sql_path_equals_scipy_on_the_generated_leads(planted):
    con, _, _ = planted
    leads = q(
        con,
        "select touches_in_window, is_converted::int as y from marts.fct_lead_cadence "
        "where partition_month = ? and is_in_scope and is_window_complete and channel = 'outbound' "
        "and company_size = 'Enterprise' and not is_vip and not is_dispute",
    )
    fit = q(
        con,
        "select * from analytics.linear_fits where partition_month = ? and population = 'standard' and "
        "x_measure = 'touches_in_window' and trim = 'none' and segment_key = ?",
        SEGMENT.format("outbound", "Enterprise"),
    ).iloc[0]
    lr = stats.linregress(leads.touches_in_window, leads.y)
    assert fit["leads"] == len(leads)
    assert (fit["r"], fit["slope"], fit["intercept"]) == pytest.approx((lr.rvalue, lr.slope, lr.intercept), abs=1e-9)


def test_every_table_carries_the_month_and_the_note_version(planted):
    con, _, events = planted
    from cadence.analytics.catalog import TABLES
    from cadence.scoping import load_scoping_note
    from cadence.settings import CONFIG_DIR

    note = load_scoping_note(CONFIG_DIR / "scoping_note.yml")
    for table in TABLES:
        if table == "quadrant_lists":  # one month of history: nothing is recurring yet (list_min_months)
            continue
        versions = q(con, f"select distinct scoping_note_version from analytics.{table} where partition_month = ?")
        assert list(versions.scoping_note_version) == [note.version], table
    stored = q(con, "select note_json from analytics.scoping_notes where partition_month = ?").note_json[0]
    assert json.loads(stored) == note.values
    assert "data:image/svg+xml;base64," in events["touch_curve_bins"]["scatter_plots"].md_str
    assert "| segment_key |" in events["linear_fits"]["metrics"].md_str
    assert np.isclose(events["traffic_light"]["dagster/row_count"].value, 64)
