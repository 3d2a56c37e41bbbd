"""dbt's own unit tests (`unit_tests:` in the models' yml: window bounds, TTF across DST, non-response
runs...). The monthly builds skip them (cadence/dbt_manifest.py); this test runs them on an empty
warehouse built with `dbt run --empty`, so a broken model logic fails the suite."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from cadence.ingest import ensure_raw_tables
from cadence.settings import DBT_PROJECT_DIR


def _dbt(args: list[str], env: dict[str, str], target: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("dbt")
    return subprocess.run([str(exe), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                           str(DBT_PROJECT_DIR), "--target-path", str(target)],
                          cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=600)


def test_dbt_unit_tests_pass(tmp_path):
    db = tmp_path / "unit.duckdb"
    con = duckdb.connect(str(db))
    ensure_raw_tables(con)
    con.close()
    env = {**os.environ, "CADENCE_DUCKDB_PATH": str(db)}
    target = tmp_path / "target"
    built = _dbt(["run", "--empty"], env, target)
    assert built.returncode == 0, built.stdout[-3000:]
    result = _dbt(["test", "--select", "test_type:unit"], env, target)
    assert result.returncode == 0, result.stdout[-4000:]
    passed = [line for line in result.stdout.splitlines() if " PASS " in line]
    assert len(passed) >= 10, result.stdout[-2000:]
