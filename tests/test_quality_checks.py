"""The GE-on-DuckDB workaround, the Dagster checks built from the suites, and their results (unit tests)."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import duckdb
import great_expectations as gx
import great_expectations.expectations as gxe
import pytest

from quality import gx_duckdb
from quality.checks import build_suites_checks, check_result, quality_checks
from quality.suites import ERROR, RAW_SUITES, SUITES, Check, Suite, rows, suite
from quality.validate import CheckOutcome, SuiteOutcome, validate


@pytest.fixture
def tiny_db(tmp_path):
    db = tmp_path / "t.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema raw")
    con.execute("create table raw.t as select i as id, case when i % 10 = 0 then null else 'x' end as v, "
                "i % 7 - 1 as n, 'voip/x.csv' as _source_file, i as _source_row from range(1, 101) r(i)")
    con.close()
    return db


TINY = Suite("raw.t", ("raw", "t"), lambda m: "select * from raw.t", (
    Check("v_present", "completeness", "warning", lambda m, t: gxe.ExpectColumnValuesToNotBeNull(column="v"), ""),
    Check("id_unique", "key_uniqueness", "error", lambda m, t: gxe.ExpectColumnValuesToBeUnique(column="id"), ""),
    Check("n_non_negative", "ranges", "warning", rows(lambda m, t: "select * from {batch} where n < 0"), ""),
))


def test_ge_runs_in_duckdb_with_the_persisted_connection_workaround(tiny_db):
    """Fails as soon as the workaround stops working (a GE upgrade): then re-check quality/README.md."""
    assert gx.__version__ == gx_duckdb.VERIFIED_GE_VERSION
    outcome = validate(TINY, "2026-10", tiny_db)
    got = {c.check: (c.success, c.unexpected, c.error) for c in outcome.checks}
    negatives = sum(1 for i in range(1, 101) if i % 7 - 1 < 0)
    assert got == {"v_present": (False, 10, None), "id_unique": (True, 0, None),
                   "n_non_negative": (False, negatives, None)}
    sample = next(c for c in outcome.checks if c.check == "n_non_negative").sample
    assert len(sample) == 10 and all(r["n"] < 0 and r["_source_file"] == "voip/x.csv" for r in sample)


def test_without_the_workaround_ge_fails_on_duckdb(tiny_db, monkeypatch):
    """Documents the upstream bug (GE #11579/#10738). If this starts failing, GE fixed it upstream and the
    workaround in quality/gx_duckdb.py can go."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    original = tuple(d for d in engine._PERSISTED_CONNECTION_DIALECTS if getattr(d, "value", d) != "duckdb")
    monkeypatch.setattr(gx_duckdb, "enable_duckdb_persisted_connection", lambda: None)
    monkeypatch.setattr(engine, "_PERSISTED_CONNECTION_DIALECTS", original)
    outcome = validate(TINY, "2026-10", tiny_db)
    assert any(c.error for c in outcome.checks)


def test_the_pin_is_checked(monkeypatch):
    monkeypatch.setattr(gx, "__version__", "1.99.0")
    with pytest.raises(gx_duckdb.QualitySetupError, match="not the verified"):
        gx_duckdb.enable_duckdb_persisted_connection()


def test_validation_releases_the_duckdb_file(tiny_db):
    """GE's persisted connection must be closed: dbt (a subprocess) writes the file right after."""
    validate(TINY, "2026-10", tiny_db)
    code = f"import duckdb; duckdb.connect({str(tiny_db)!r}).execute('create table x as select 1').close()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _outcome(*checks: CheckOutcome) -> SuiteOutcome:
    return SuiteOutcome("raw.voip__calls", "2026-10", list(checks), 0.5, "/r/raw.voip__calls.json",
                        "/r/data_docs/index.html")


def test_check_result_blocks_on_errors_and_carries_counts_and_a_sample():
    raw = suite("raw.voip__calls")
    row = {"_source_file": "voip/2026-10/calls.csv", "_source_row": 12, "call_id": "C1"}
    outcome = _outcome(
        CheckOutcome("rows_present", "structure", ERROR, True, None, 10),
        CheckOutcome("rows_match_load_log", "structure", ERROR, False, 1, 1, [{"_source_file": "f", "rows_loaded": 3}]),
        CheckOutcome("call_id_unique", "key_uniqueness", "warning", False, 16, 16, [row] * 12),
        CheckOutcome("no_exact_duplicates", "key_uniqueness", "warning", True, 0, 0),
    )
    structure = check_result(raw, outcome, "structure")
    assert not structure.passed and structure.severity == dg.AssetCheckSeverity.ERROR
    assert structure.metadata["failed_checks"].value == 1 and "rows_match_load_log" in structure.description
    keys = check_result(raw, outcome, "key_uniqueness")
    assert not keys.passed and keys.severity == dg.AssetCheckSeverity.WARN
    assert keys.metadata["rows.call_id_unique"].value == 16 and keys.metadata["rows.no_exact_duplicates"].value == 0
    assert keys.metadata["offending_rows"].value == 16
    sample = keys.metadata["sample"].value
    assert sample.count("voip/2026-10/calls.csv") == 10 and "| check |" in sample  # 10 rows max
    assert keys.metadata["data_docs"].value.startswith("file://")
    assert keys.asset_key == dg.AssetKey(["raw", "voip__calls"]) and keys.check_name == "key_uniqueness"


def test_a_check_that_cannot_run_fails_with_its_error():
    raw = suite("raw.voip__calls")
    outcome = _outcome(CheckOutcome("rows_present", "structure", ERROR, False, None, None, error="Binder Error: x"))
    result = check_result(raw, outcome, "structure")
    assert not result.passed and "Binder Error" in result.metadata["checks"].value


def test_checks_are_partitioned_blocking_for_errors_and_in_the_duckdb_pool():
    # two ops: the raw suites, then every suite on what dbt built; together, every suite's dimensions
    assert [c.node_def.name for c in quality_checks] == ["quality__raw", "quality__built"]
    specs = {(spec.asset_key, spec.name): spec for c in quality_checks for spec in c.check_specs}
    expected = {(dg.AssetKey(list(s.asset_key)), d) for s in SUITES for d in s.dimensions}
    assert set(specs) == expected
    for s in SUITES:
        for name, severity in s.dimensions.items():
            spec = specs[(dg.AssetKey(list(s.asset_key)), name)]
            assert spec.blocking == (severity == ERROR)
            assert spec.partitions_def is not None
    assert all(c.node_def.pool == "cadence_duckdb" for c in quality_checks)
    raw_op = {spec.asset_key for spec in quality_checks[0].check_specs}
    assert raw_op == {dg.AssetKey(list(s.asset_key)) for s in RAW_SUITES}
    touches = build_suites_checks("t", (suite("raw.voip__calls"),), "calls only")
    assert {d.asset_key for spec in touches.check_specs for d in spec.additional_deps} == {
        dg.AssetKey(["raw", "crm__leads"])}


def test_the_checks_are_in_the_definitions():
    from orchestration.definitions import defs

    keys = {k for k in defs.resolve_asset_graph().asset_check_keys}
    assert dg.AssetCheckKey(dg.AssetKey(["cleaning", "cleaning_accounting"]), "row_accounting") in keys
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "voip__calls"]), "time_zones") in keys
