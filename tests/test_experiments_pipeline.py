"""End to end: three planted experiments in generated extracts, the assets materialised for one month
(ingestion -> dbt -> experiments) into a real DuckDB file, results compared with the manifest's truth.

- outbound_lift: +3 points planted on the treatment arm -> detected, interval around the truth, ship;
- inbound_harm: no lift (an A/A on conversion) but 1 % complaints planted on the treatment -> the
  conversion test stays quiet, the guardrail alerts and stops the arm;
- partner_srm: 25 % of the treatment's leads dropped from the extract -> sample-ratio mismatch, stop.
Enrolment runs from 8 to 28 October; the week before is the designs' baseline (one month keeps the test
fast; the previous-months baseline is checked in test_experiments_analysis).
"""

from __future__ import annotations

import hashlib
import os

import dagster as dg
import duckdb
import pytest
import yaml
from scipy import stats as sps

from cadence.experiments import pipeline
from cadence.experiments.config import load_experiments

pytestmark = pytest.mark.integration

MONTHS = ("2026-10",)
ARMS = [
    {"name": "control", "weight": 0.5, "cadence": {"min_touches": 6, "ttf_target_hours": 24}},
    {"name": "treatment", "weight": 0.5, "cadence": {"min_touches": 8, "ttf_target_hours": 4}},
]
COMMON = {"arms": ARMS, "start_date": "2026-10-08", "duration_days": 21, "exclude_flags": ["is_vip"]}
PLANTS = {
    "outbound_lift": {"segment": {"channel": "outbound"}, "true_lift_points": 3.0},
    "inbound_harm": {"segment": {"channel": "inbound"}, "complaint_rate": {"treatment": 0.01}},
    "partner_srm": {"segment": {"channel": "partner"}, "imbalance": {"arm": "treatment", "drop_share": 0.25}},
}
PLANT_KEYS = ("true_lift_points", "complaint_rate", "imbalance")


@pytest.fixture(scope="module")
def run(module_data_dir):
    root = module_data_dir
    config = {
        "experiments": [
            {
                "name": name,
                "hypothesis": f"{name} moves conversion",
                "minimum_detectable_effect_points": 3.0,
                **COMMON,
                **{k: v for k, v in plant.items() if k not in PLANT_KEYS},
            }
            for name, plant in PLANTS.items()
        ]
    }
    (root / "experiments.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    saved = os.environ.get("CADENCE_EXPERIMENTS_CONFIG")
    os.environ["CADENCE_EXPERIMENTS_CONFIG"] = str(root / "experiments.yml")
    from cadence.generator import generate

    plants = [{"name": name, **COMMON, **plant} for name, plant in PLANTS.items()]
    manifests = generate(root / "landing", list(MONTHS), leads_per_month=20_000, seed=11, experiment=plants)
    truth = {e["name"]: e for e in manifests["2026-10"]["experiments"]}

    from assets.dbt import cadence_dbt_models
    from orchestration.definitions import defs
    from orchestration.partitions import monthly_partitions

    # the experiments and what they read (the whole dbt project: its tests span models); not the other groups
    job = dg.define_asset_job(
        "experiments_only",
        partitions_def=monthly_partitions,
        executor_def=dg.in_process_executor,
        selection=dg.AssetSelection.groups("experiments").upstream()
        | dg.AssetSelection.assets(*cadence_dbt_models.keys),
    )
    with dg.instance_for_test() as instance:
        resolved = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("experiments_only")
        for month in MONTHS:
            assert resolved.execute_in_process(partition_key=f"{month}-01", instance=instance).success
        yield root, root / "warehouse" / "cadence.duckdb", manifests, truth, instance
    if saved is None:
        os.environ.pop("CADENCE_EXPERIMENTS_CONFIG", None)
    else:
        os.environ["CADENCE_EXPERIMENTS_CONFIG"] = saved


def _query(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _row(db, table, experiment, extra="", month="2026-10"):
    con = duckdb.connect(str(db), read_only=True)
    try:
        df = con.execute(
            f"select * from experiments.{table} where partition_month = ? and experiment = ? {extra}",
            [month, experiment],
        ).df()
    finally:
        con.close()
    assert len(df) == 1, (table, experiment, len(df))
    return df.iloc[0]


def test_assignments_are_the_planted_arms_and_the_csv_for_the_sales_tools(run):
    root, db, _, truth, _ = run
    for name, planted in truth.items():
        rows = _query(db, "select lead_id, arm from experiments.assignments where experiment = ?", [name])
        digest = hashlib.sha256("".join(sorted(f"{lead},{arm}\n" for lead, arm in rows)).encode()).hexdigest()
        assert digest == planted["assignments_sha256"], name
        assert dict(
            _query(db, "select arm, count(*) from experiments.assignments where experiment = ? group by 1", [name])
        ) == {a: v["in_extract"] for a, v in planted["arms"].items()}
        csv = (root / "reports" / "experiments" / name / "2026-10" / "assignments.csv").read_text().splitlines()
        assert csv[0].startswith("experiment,lead_id,arm,min_touches") and len(csv) == len(rows) + 1


def test_the_design_reads_the_baseline_before_the_start(run):
    _, db, _, _, _ = run
    leads, converted = _query(
        db,
        "select count(*), count(*) filter (where is_converted) from marts.fct_lead_cadence "
        "where channel = 'outbound' and not is_vip and created_at < '2026-10-08'",
    )[0]
    design = _row(db, "designs", "outbound_lift")
    assert design["baseline_source"] == "start_month_before_start" and design["baseline_leads"] == leads > 500
    assert design["baseline_cr"] == pytest.approx(converted / leads, abs=1e-12)
    assert design["leads_per_day"] == pytest.approx(leads / 7)
    assert design["required_control_leads"] > 1000 and not design["is_rule_of_thumb_enough"]
    assert "rule of thumb of 200 leads per arm is too small" in design["warnings"]
    assert design["reachable_mde_points"] > 2 and design["status"] == "ended"


def test_a_planted_three_point_lift_is_detected_with_the_right_interval(run):
    _, db, _, truth, _ = run
    arms = truth["outbound_lift"]["arms"]
    final = _row(db, "readouts", "outbound_lift", "and is_final_look")
    assert final["control_successes"] == arms["control"]["conversions_in_extract"]
    assert final["treatment_successes"] == arms["treatment"]["conversions_in_extract"]
    assert final["abs_lift_low"] < arms["treatment"]["true_lift_points"] == 3.0 < final["abs_lift_high"]
    assert final["abs_lift_low"] > 0 and final["p_value"] < 0.001 and final["prob_to_beat"] > 0.999
    decided = _row(db, "decisions", "outbound_lift")
    assert (decided["recommendation"], decided["recommended_arm"], decided["is_srm"]) == ("ship", "treatment", False)
    retro = _row(db, "retrospectives", "outbound_lift")
    assert retro["decision"] == "ship" and "min_touches: 6 -> 8" in retro["threshold_change_text"]


def test_the_aa_conversion_test_stays_quiet_and_the_harmful_arm_is_alerted_and_stopped(run):
    _, db, _, _, instance = run
    final = _row(db, "readouts", "inbound_harm", "and is_final_look")
    assert final["p_value"] > 0.05 and final["abs_lift_low"] < 0 < final["abs_lift_high"]
    assert not _query(
        db, "select count(*) from experiments.readouts where experiment = 'inbound_harm' and is_boundary_crossed"
    )[0][0]
    rows = _query(db, "select breach_id, arm, is_attributable from experiments.guardrail_breaches")
    breaches = {b for b, _, _ in rows}
    attributable = {b for b, _, attributable in rows if attributable}
    assert "experiment:inbound_harm:treatment:to_date:complaint_rate:relative" in attributable
    assert all(b.startswith("experiment:inbound_harm:treatment:") for b in attributable)
    assert {arm for _, arm, _ in rows} == {"treatment"}  # alerts concern treatment arms only
    decided = _row(db, "decisions", "inbound_harm")
    assert decided["recommendation"] == "stop" and "complaint_rate" in decided["reason"]
    event = instance.get_latest_materialization_event(dg.AssetKey(["experiments", "guardrail_breaches"]))
    outbox = event.asset_materialization.metadata["alert_outbox"].value
    assert {b["breach_id"] for b in outbox} == breaches


def test_a_planted_imbalance_trips_the_srm_check(run):
    _, db, _, truth, _ = run
    arms = truth["partner_srm"]["arms"]
    decided = _row(db, "decisions", "partner_srm")
    expected_p = sps.chisquare([arms["control"]["in_extract"], arms["treatment"]["in_extract"]]).pvalue
    assert decided["is_srm"] and decided["srm_p_value"] == pytest.approx(expected_p) and expected_p < 0.001
    assert decided["recommendation"] == "stop" and "Sample-ratio mismatch" in decided["reason"]
    for name in ("outbound_lift", "inbound_harm"):
        assert not _row(db, "decisions", name)["is_srm"]


def test_retrospectives_fragments_and_an_idempotent_rerun(run):
    root, db, _, _, _ = run
    assert sorted(r[0] for r in _query(db, "select experiment from experiments.retrospectives")) == sorted(PLANTS)
    note = (root / "reports" / "experiments" / "2026-10.md").read_text()
    assert note.startswith("## Experiments (2026-10)") and note.count("#### Retrospective of") == 3
    tables = [r[0] for r in _query(db, "select table_name from duckdb_tables() where schema_name = 'experiments'")]
    before = {t: _query(db, f"select * from experiments.{t} order by all") for t in tables}
    con = duckdb.connect(str(db))
    try:
        experiments = load_experiments()
        pipeline.run_designs(con, "2026-10", experiments)
        pipeline.run_assignments(con, "2026-10", experiments, root / "reports")
        pipeline.run_analysis(con, "2026-10", experiments)
        pipeline.run_retrospectives(con, "2026-10", experiments, root / "reports")
    finally:
        con.close()
    assert {t: _query(db, f"select * from experiments.{t} order by all") for t in tables} == before
