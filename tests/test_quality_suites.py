"""Every raw suite on a passing input (a clean generated month) and a failing one (the same generator with
every planted defect): on the first nothing fails, on the second each check counts exactly what the
generator's manifest says was planted. Runs GE in DuckDB, no Dagster, no dbt."""

from __future__ import annotations

import json

import duckdb
import pytest
from quality_helpers import expected_raw_counts

from cadence.contract import SOURCES
from cadence.generator import generate
from cadence.ingest import load_source_month
from cadence.mapping import load_mapping
from cadence.settings import CONFIG_DIR
from quality.suites import ERROR, RAW_SUITES, STAGING_SUITES, SUITES, suite
from quality.validate import validate


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("suites")
    landing = root / "landing"
    generate(landing, ["2026-09"], leads_per_month=300, seed=11)
    generate(landing, ["2026-10"], leads_per_month=300, seed=11, defects=True)
    generate(landing, ["2026-11"], leads_per_month=300, seed=11)
    db = root / "w.duckdb"
    con = duckdb.connect(str(db))
    mappings = load_mapping(CONFIG_DIR / "sources.yml")
    for month in ("2026-09", "2026-10", "2026-11"):
        for source in SOURCES:
            load_source_month(con, source, month, landing, mappings)
    con.close()
    manifest = json.loads((landing / "_manifest" / "2026-10.json").read_text())
    return db, root, manifest


def test_suites_are_named_after_their_data_and_cover_every_raw_table():
    assert [s.name for s in RAW_SUITES] == ["raw.crm__leads", "raw.crm__opportunities", "raw.voip__calls",
                                            "raw.emailing__email_events", "raw.calendar__meetings"]
    assert {s.name.split(".")[0] for s in SUITES} == {"raw", "staging", "cleaning", "marts"}
    for s in SUITES:
        assert s.name == ".".join(s.asset_key)
        assert s.dimensions  # one severity per dimension (raises otherwise)
    # raw: only structure blocks; cleaned data: every check blocks
    assert all(sev == ERROR for s in RAW_SUITES for d, sev in s.dimensions.items() if d == "structure")
    assert all(sev != ERROR for s in RAW_SUITES for d, sev in s.dimensions.items() if d != "structure")
    assert all(sev == ERROR for s in STAGING_SUITES for sev in s.dimensions.values())


@pytest.mark.parametrize("raw_suite", RAW_SUITES, ids=lambda s: s.name)
def test_raw_suite_passes_on_a_clean_month(warehouse, raw_suite):
    db, _root, _ = warehouse
    outcome = validate(raw_suite, "2026-11", db)
    assert outcome.success, [(c.check, c.unexpected, c.observed, c.error) for c in outcome.checks if not c.success]


@pytest.mark.parametrize("raw_suite", RAW_SUITES, ids=lambda s: s.name)
def test_raw_suite_counts_exactly_the_planted_defects(warehouse, raw_suite):
    db, root, manifest = warehouse
    outcome = validate(raw_suite, "2026-10", db, report_dir=root / "reports")
    assert not [c for c in outcome.checks if c.error], [c.error for c in outcome.checks if c.error]
    counts = outcome.counts()
    expected = expected_raw_counts(manifest, raw_suite.asset_key[1], list(counts))
    assert counts == expected
    assert any(expected.values())  # the failing input really fails this suite
    assert not outcome.success
    # blocking (structural) checks still pass: defects are the cleaning's job, not a broken load
    assert all(c.success for c in outcome.checks if c.severity == ERROR)
    # every failing row-level check carries a sample naming file and row
    for c in outcome.checks:
        if c.unexpected and c.check not in ("every_day_represented", "row_count_vs_previous_month"):
            assert c.sample and all("_source_file" in r or "lead_id" in r for r in c.sample), c.check
    # every failure says why in a sentence carrying its count, kept in the JSON (the console's reason)
    for c in outcome.checks:
        assert bool(c.message) == (not c.success), c.check
        if not c.success and c.unexpected and c.check not in ("rows_match_load_log", "leads_belong_to_the_month"):
            assert f"{c.unexpected:,} row(s)" in c.message, c.message
    report = json.loads((root / "reports" / f"{raw_suite.name}.json").read_text())
    assert report["month"] == "2026-10" and len(report["checks"]) == len(outcome.checks)
    assert [c["message"] for c in report["checks"]] == [c.message for c in outcome.checks]
    assert (root / "reports" / "data_docs" / "index.html").exists()
    assert any((root / "reports" / "validations").rglob("*.json"))


def test_row_count_and_daily_coverage_fail_on_a_thin_month(warehouse, tmp_path):
    db, _root, _ = warehouse
    thin = tmp_path / "thin.duckdb"
    con = duckdb.connect(str(thin))
    con.execute(f"attach '{db}' as src (read_only)")
    con.execute("create schema raw")
    for t in ("crm__leads", "_loads", "_load_rejects"):
        con.execute(f"create table raw.{t} as select * from src.raw.{t}")
    # keep October's leads of the first ten days only: a third of September's rows, 21 days missing
    con.execute("delete from raw.crm__leads where _partition_month = '2026-10' and created_at >= '2026-10-11'")
    con.execute("update raw._loads set rows_loaded = (select count(*) from raw.crm__leads "
                "where _partition_month = '2026-10') where _partition_month = '2026-10' and entity = 'leads'")
    con.close()
    outcome = validate(suite("raw.crm__leads"), "2026-10", thin)
    failed = {c.check: c for c in outcome.checks if not c.success}
    assert failed["row_count_vs_previous_month"].unexpected == 1
    assert 20 <= failed["every_day_represented"].unexpected <= 21
    assert "rows_match_load_log" not in failed


def test_structure_check_catches_rows_the_load_log_does_not_know(warehouse, tmp_path):
    db, _root, _ = warehouse
    broken = tmp_path / "broken.duckdb"
    con = duckdb.connect(str(broken))
    con.execute(f"attach '{db}' as src (read_only)")
    con.execute("create schema raw")
    for t in ("crm__leads", "_loads", "_load_rejects"):
        con.execute(f"create table raw.{t} as select * from src.raw.{t}")
    con.execute("delete from raw.crm__leads where _partition_month = '2026-11' and _source_row <= 3")
    con.close()
    outcome = validate(suite("raw.crm__leads"), "2026-11", broken)
    failed = {c.check: c for c in outcome.checks if not c.success}
    assert failed["rows_match_load_log"].severity == ERROR
    assert [k for k, c in failed.items() if c.severity == ERROR] == ["rows_match_load_log"]
    assert failed["rows_match_load_log"].sample[0]["rows_in_table"] == failed["rows_match_load_log"].sample[0][
        "rows_loaded"] - 3
