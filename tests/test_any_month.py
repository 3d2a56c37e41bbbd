"""Any month, any set of sources: a CRM-only month runs to the reports (saying what was not provided), and a
2018 month is a partition as soon as its extracts are in the landing folder, with no setting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from cadence import cli

pytestmark = pytest.mark.integration


def test_a_crm_only_month_runs_to_the_reports(module_data_dir):
    root = module_data_dir
    assert cli.main(["generate", "--month", "2026-10", "--leads", "500", "--seed", "5"]) == 0
    for source in ("voip", "emailing", "calendar"):
        shutil.rmtree(root / "landing" / source / "2026-10")
    assert cli.run_months(["2026-10"])
    with duckdb.connect(str(root / "warehouse" / "cadence.duckdb"), read_only=True) as con:
        provided = dict(con.execute("select table_name, is_provided from cleaning.cleaning_accounting "
                                    "where partition_month = '2026-10'").fetchall())
        leads, touches = con.execute("select count(*), sum(touches_in_window) from marts.fct_lead_cadence "
                                     "where partition_month = '2026-10'").fetchone()
    assert provided == {"crm__leads": True, "crm__opportunities": True, "voip__calls": False,
                        "emailing__email_events": False, "calendar__meetings": False}
    assert leads == 500 and touches == 0
    reports = root / "reports" / "2026-10"
    said = "Not provided for 2026-10: calls, e-mail events, meetings; no touch channel provided"
    assert said in (reports / "audit_note.md").read_text(encoding="utf-8")
    assert said in (reports / "dashboard.html").read_text(encoding="utf-8")
    assert (reports / "audit_workbook.xlsx").stat().st_size > 0


def test_a_2018_month_runs_once_its_extracts_are_in_the_landing_folder(tmp_path):
    env = {**os.environ, "CADENCE_DATA_DIR": str(tmp_path)}
    for var in ("CADENCE_LANDING_DIR", "CADENCE_DUCKDB_PATH", "CADENCE_REPORTS_DIR", "CADENCE_PUBLISH_DIR",
                "DAGSTER_HOME", "CADENCE_FIRST_MONTH"):
        env.pop(var, None)
    cadence = [sys.executable, "-m", "cadence.cli"]
    gen = subprocess.run([*cadence, "generate", "--month", "2018-03", "--leads", "300"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert gen.returncode == 0, gen.stderr[-2000:]
    run = subprocess.run([*cadence, "run", "--month", "2018-03"], env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    with duckdb.connect(str(tmp_path / "warehouse" / "cadence.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_lead_cadence where partition_month = '2018-03'"
                           ).fetchone()[0] == 300
    assert (tmp_path / "reports" / "2018-03" / "dashboard.html").exists()
