"""Issue #4's definition of done, on a generated month with every planted defect, through Dagster:
ingestion -> dbt staging + cleaning (+ the lead mart) -> the quality checks, for one partition.
The checks and the cleaning log must find exactly what the generator's manifest says was planted, the row
accounting must hold, and GE's results must be kept for the month (JSON + Data Docs)."""

from __future__ import annotations

import json
from collections import Counter

import dagster as dg
import duckdb
import pytest
from quality_helpers import EXCLUDED_AS, FLAGGED_AS, expected_raw_counts

from assets.dbt import cadence_dbt_models
from assets.ingestion import ingestion_assets
from cadence.contract import ENTITIES, SOURCES
from cadence.generator import generate
from cadence.ingest import load_source_month
from cadence.mapping import load_mapping
from cadence.settings import CONFIG_DIR
from orchestration.resources import build_resources
from quality.checks import quality_checks
from quality.suites import ERROR, SUITES

pytestmark = pytest.mark.integration
MONTH = "2026-10"


@pytest.fixture(scope="module")
def run(module_data_dir):
    root = module_data_dir
    landing, db = root / "landing", root / "warehouse" / "cadence.duckdb"
    generate(landing, ["2026-09"], leads_per_month=400, seed=5)
    generate(landing, [MONTH], leads_per_month=400, seed=5, defects=True)
    con = duckdb.connect(str(db))  # the previous month, for the row-count bounds (raw only)
    for source in SOURCES:
        load_source_month(con, source, "2026-09", landing, load_mapping(CONFIG_DIR / "sources.yml"))
    con.close()
    # the whole dbt project (a subset would drop models that singular tests read), not the later layers
    with dg.instance_for_test() as instance:
        result = dg.materialize([*ingestion_assets, cadence_dbt_models, *quality_checks],
                                partition_key=f"{MONTH}-01", resources=build_resources(), raise_on_error=False,
                                instance=instance)
    manifest = json.loads((landing / "_manifest" / f"{MONTH}.json").read_text())
    return result, db, root, manifest


def _evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}


def test_every_check_ran_for_the_partition_and_cleaned_data_passes(run):
    result, _db, _root, _ = run
    assert result.success
    evaluations = _evaluations(result)
    for s in SUITES:
        for dimension, severity in s.dimensions.items():
            e = evaluations[(".".join(s.asset_key).replace(".", "/"), dimension)]
            assert e.partition == f"{MONTH}-01"
            if severity == ERROR:  # structure, cleaned rows, accounting, the mart's grain: all pass
                assert e.passed, (s.name, dimension, e.metadata["checks"].value)


def test_raw_checks_count_exactly_the_planted_defects(run):
    result, _db, _root, manifest = run
    evaluations = _evaluations(result)
    for ent in ENTITIES:
        counts = {}
        for (key, _dim), e in evaluations.items():
            if key == f"raw/{ent.table}":
                counts.update({k[5:]: v.value for k, v in e.metadata.items() if k.startswith("rows.")})
        assert counts == expected_raw_counts(manifest, ent.table, list(counts)), ent.table


def test_cleaning_log_holds_exactly_the_planted_rows_with_rule_file_and_line(run):
    _result, db, _root, manifest = run
    con = duckdb.connect(str(db), read_only=True)
    log = con.execute("select rule, _source_file, _source_row, source_line, reason, record_id "
                      "from cleaning.cleaning_log where partition_month = ?", [MONTH]).fetchall()
    by_rule: dict[str, set] = {}
    for rule, file, row, line, reason, _rid in log:
        by_rule.setdefault(rule, set()).add((file, row))
        assert line == row + 1 and reason
    for kind, rule in EXCLUDED_AS.items():
        planted = {(r["file"], r["row"]) for r in manifest["defects"][kind]["rows"]}
        assert by_rule.pop(rule) == planted, kind
    # the only other rule: touches of a lead the cleaning excluded (the lead with an empty rep_id)
    dropped = [r["id"] for r in manifest["defects"]["empty_mandatory"]["rows"] if r["column"] == "rep_id"]
    touches = sum(con.execute(f"select count(*) from raw.{t} where _partition_month = ? and lead_id in "
                              f"(select unnest(?))", [MONTH, dropped]).fetchone()[0]
                  for t in ("crm__opportunities", "voip__calls", "emailing__email_events", "calendar__meetings"))
    assert len(by_rule.pop("lead_excluded", set())) == touches
    assert by_rule == {}
    # the extreme-but-real lead is kept, every one of its rows
    real = manifest["defects"]["extreme_real"]["lead_ids"]
    assert con.execute("select count(*) from staging.stg_voip__calls where lead_id in (select unnest(?)) "
                       "and not is_kept", [real]).fetchone()[0] == 0
    con.close()


def test_cleaning_flags_hold_exactly_the_planted_rows_kept(run):
    """Wrong and missing offsets and negative durations are real touches: kept, flagged, listed."""
    _result, db, _root, manifest = run
    with duckdb.connect(str(db), read_only=True) as con:
        flags = con.execute("select flag, _source_file, _source_row, source_line, detail from cleaning.cleaning_flags "
                            "where partition_month = ?", [MONTH]).fetchall()
    by_flag: dict[str, set] = {}
    for flag, file, row, line, detail in flags:
        by_flag.setdefault(flag, set()).add((file, row))
        assert line == row + 1 and len(detail) > 20
    expected: dict[str, set] = {}
    for kind, flag in FLAGGED_AS.items():
        expected.setdefault(flag, set()).update((r["file"], r["row"]) for r in manifest["defects"][kind]["rows"])
    assert by_flag == expected


def test_row_accounting_holds_against_the_files(run):
    _result, db, _root, manifest = run
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("select table_name, file_lines, raw_rows, kept_rows, excluded_rows, logged_exclusions, "
                       "is_balanced from cleaning.cleaning_accounting where partition_month = ?", [MONTH]).fetchall()
    assert len(rows) == len(ENTITIES)
    for table, lines, raw, kept, excluded, logged, balanced in rows:
        source, name = table.split("__")
        assert lines == raw == manifest["files"][f"{source}/{MONTH}/{name}.csv"]["rows"]
        assert raw == kept + excluded and excluded == logged and balanced
    con.close()


def test_outliers_are_classified_and_the_top5_box_is_written(run):
    _result, db, _root, manifest = run
    con = duckdb.connect(str(db), read_only=True)
    top = con.execute("select outlier_rank, outlier_class, entity_id, is_kept from cleaning.outliers_top5 "
                      "where partition_month = ? order by outlier_rank", [MONTH]).fetchall()
    burst = manifest["defects"]["call_burst"]["lead_ids"][0]
    assert 1 <= len(top) <= 5 and top[0][:4] == (1, "error", burst, False)
    real = set(manifest["defects"]["extreme_real"]["lead_ids"])
    flagged = con.execute("select entity_id, outlier_class, is_kept from cleaning.outliers where partition_month = ? "
                          "and metric = 'touches_per_lead'", [MONTH]).fetchall()
    assert {r[0]: (r[1], r[2]) for r in flagged if r[0] in real} == dict.fromkeys(real, ("exceptional", True))
    assert Counter(r[1] for r in top) <= Counter({"error": 5, "exceptional": 5, "opportunity": 5, "risk": 5})
    con.close()


def test_ge_results_are_kept_per_partition(run):
    _result, _db, root, _ = run
    month_dir = root / "reports" / "quality" / MONTH
    assert (month_dir / "data_docs" / "index.html").exists()
    for s in SUITES:
        report = json.loads((month_dir / f"{s.name}.json").read_text())
        assert report["month"] == MONTH and report["checks"]
    assert len(list((month_dir / "validations").rglob("*.json"))) >= len(SUITES)
