"""What the command line prints (issue 17): the demo in a few lines ending with the result paths, everything
else in a log file; a failed month as one summary (asset, reason, what to do, log), never a lock error.

The CLI runs in a subprocess with its output redirected, as a user's `./run.sh demo > out.txt` would."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cadence.settings import DERIVED_ENV

CLI = [sys.executable, "-m", "cadence.cli"]


def _env(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "CADENCE_DATA_DIR": str(data_dir)}
    for var in (*DERIVED_ENV, "CADENCE_FIRST_MONTH"):
        env.pop(var, None)
    return env


def _cli(data_dir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=_env(data_dir), capture_output=True, text=True, timeout=timeout)


def _log_path(stdout: str) -> Path:
    found = re.search(r"^Log: (.+\.log)$", stdout, re.M)
    assert found, stdout
    return Path(found.group(1))


@pytest.mark.integration
def test_a_month_holding_another_months_leads_fails_with_one_clear_summary(data_dir, tmp_path, capfd):
    """Leads of 2026-04 dropped in 2026-09's folder: the raw structure gate blocks the month. The terminal gets
    one summary whose reason is the sentence the suite's JSON keeps (with counts taken from the file here),
    what to do and the log, and no traceback or DuckDB lock error; the warehouse is free for `status` at once.
    (In this process, to save the imports: the output is read from file descriptor 1, as a terminal would.)"""
    from cadence import cli
    from cadence.generator import generate

    assert cli.main(["generate", "--month", "2026-09", "--leads", "300"]) == 0
    generate(tmp_path / "april", ["2026-04"], leads_per_month=300, seed=42)
    leads_file = data_dir / "landing" / "crm" / "2026-09" / "leads.csv"
    mixed = pd.concat([pd.read_csv(leads_file, dtype=str).head(100),
                       pd.read_csv(tmp_path / "april" / "crm" / "2026-04" / "leads.csv", dtype=str)])
    mixed.to_csv(leads_file, index=False)
    outside = int((mixed.created_at.str[:7] != "2026-09").sum())  # April is far from any zone's month edge
    capfd.readouterr()

    assert cli.main(["run", "--month", "2026-09"]) == 1
    got = capfd.readouterr()
    out = got.out + got.err
    report = json.loads((data_dir / "reports" / "quality" / "2026-09" / "raw.crm__leads.json").read_text())
    sentence = next(c["message"] for c in report["checks"] if c["check"] == "leads_belong_to_the_month")
    assert sentence.startswith(f"{outside:,} of {len(mixed):,} leads were created outside 2026-09, mostly in 2026-04")
    assert re.search(r"^Month 2026-09: FAILED at quality__raw", got.out, re.M), out
    assert re.search(r"^  Failed +: raw/crm__leads, blocking check 'structure'", got.out, re.M), out
    reason = next(line for line in got.out.splitlines() if line.lstrip().startswith("Reason"))
    assert sentence in reason
    assert f"crm export in {data_dir / 'landing' / 'crm' / '2026-09'}/" in got.out
    log = _log_path(got.out)
    assert f"  Log       : {log}" in got.out and log.is_file()
    assert "DagsterAssetCheckFailedError" in log.read_text()  # the details are kept, in the log
    for noise in ("Traceback", "Could not set lock", "Not executing", "\x1b["):
        assert noise not in out, noise
    assert len(got.out.splitlines()) <= 12, got.out
    status = _cli(data_dir, "status", "--compact", timeout=120)
    assert status.returncode == 0 and re.search(r"^  raw +5 tables", status.stdout, re.M), status.stdout


@pytest.mark.integration
def test_the_demo_prints_under_40_lines_ending_with_the_result_paths(tmp_path):
    demo = _cli(tmp_path, "demo", "--leads", "300")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    lines = demo.stdout.splitlines()
    assert len(lines) < 40, demo.stdout
    assert demo.stderr == ""  # no BetaWarning or any other warning line
    assert "\x1b[" not in demo.stdout  # no colour codes when redirected
    results = next(i for i, line in enumerate(lines) if line.startswith("Results of 2026-09"))
    assert re.search(r"^Month 2026-07: .*\n(?:.*\n)*Month 2026-08: .*\n(?:.*\n)*Month 2026-09: ", demo.stdout, re.M)
    paths = [line.split(": ", 1)[1].split("  (+")[0] for line in lines[results + 1:]]
    assert len(paths) >= 9 and all(Path(p).exists() for p in paths), lines[results:]
    assert {Path(p).name for p in paths} >= {"dashboard.html", "audit_note.html", "audit_workbook.xlsx"}
    assert re.search(r"^Month 2026-09: (\d+)/\1 steps done in ", demo.stdout, re.M), demo.stdout
    log = _log_path(demo.stdout).read_text()
    assert re.search(r"Done\. PASS=\d+ WARN=0 ERROR=0", log)  # dbt's output is in the log, uncoloured
    assert "\x1b[" not in log and "START" in log and " START " not in demo.stdout


def test_a_step_failing_inside_a_connection_releases_the_warehouse(tmp_path):
    """dagster-duckdb closes its connection only on success: a failed step kept the file locked, and the
    `status` started next (another process) died on DuckDB's lock. The project's resource always closes it."""
    from orchestration.resources import ClosingDuckDBResource

    db = tmp_path / "w.duckdb"
    resource = ClosingDuckDBResource(database=str(db))
    # pytest.raises keeps the traceback, as Dagster does for a while after a failed step
    with pytest.raises(ValueError) as failure, resource.get_connection() as con:
        con.execute("create table t as select 1 as x")
        raise ValueError("a step fails")
    code = f"import duckdb; print(duckdb.connect({str(db)!r}, read_only=True).execute('select x from t').fetchall())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert other.returncode == 0 and other.stdout.strip() == "[(1,)]", other.stderr
    assert failure.value.args == ("a step fails",)


def test_status_of_a_warehouse_being_written_says_so_without_a_traceback(tmp_path):
    db = tmp_path / "warehouse" / "cadence.duckdb"
    db.parent.mkdir(parents=True)
    writer = duckdb.connect(str(db))  # a run holding the file
    try:
        status = _cli(tmp_path, "status", timeout=60)
    finally:
        writer.close()
    assert status.returncode == 1
    assert "is open for writing by another process" in status.stdout and f"PID {os.getpid()}" in status.stdout
    assert "Traceback" not in status.stdout + status.stderr


def test_a_failed_step_is_summarised_by_its_root_cause_and_a_warned_step_in_one_line(tmp_path):
    from cadence.console import FailedCheck, MonthOutcome, StepFailure, failure_lines, warning_lines

    ingest = StepFailure("ingest_crm", "IngestError", "cadence.ingest.IngestError: /l/crm/2026-09/leads.csv, column "
                         "'lead_id': missing column; the header has ['leadid']\n", ["raw/crm__leads", "raw/crm__opps"])
    dbt = StepFailure("cadence_dbt_models", "DagsterDbtCliRuntimeError",
                      "The dbt CLI process with command `dbt build` failed with exit code 1. Check the stdout in the "
                      "Dagster compute logs.\n\nErrors parsed from dbt logs:\n\nRuntime Error in model stg_voip__calls "
                      "(models/staging/stg_voip__calls.sql)\n  Conversion Error: x")
    warned = [FailedCheck("quality__raw", "raw/voip__calls", "ranges", False, "1 of 5 checks failed: a"),
              FailedCheck("quality__raw", "raw/voip__calls", "time_zones", False, "2 of 5 checks failed")]
    outcome = MonthOutcome("2026-09", False, 12.0, 3, 19, 5, [ingest, dbt], warned,
                           {"experiments__designs": ["too few leads per arm"]})
    lines = failure_lines(outcome, tmp_path / "landing", tmp_path / "x.log")
    assert "  Failed    : ingest_crm (raw/crm__leads, raw/crm__opps)" in lines
    assert ("  Reason    : /l/crm/2026-09/leads.csv, column 'lead_id': missing column; the header has ['leadid']"
            in lines)
    assert any(line.startswith("  What to do: Correct that file") and "mapping check --month 2026-09" in line
               for line in lines)
    assert "  Reason    : Runtime Error in model stg_voip__calls (models/staging/stg_voip__calls.sql)" in lines
    assert lines[-1] == f"  Log       : {tmp_path / 'x.log'}"
    assert warning_lines(outcome) == [
        "  warning experiments__designs: too few leads per arm",
        "  warning quality__raw: raw/voip__calls ranges: 1 of 5 checks failed: a (+1 more in the log)"]
