"""Shared by the quality tests: build staging + cleaning with real dbt on a temporary DuckDB file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cadence.settings import DBT_PROJECT_DIR


def dbt_build(database: Path, month: str | None, select: str = "staging cleaning", workdir: Path | None = None,
              dbt_vars: dict | None = None, check: bool = True, command: str = "build",
              ) -> subprocess.CompletedProcess:
    """`dbt build` (or ``command``) of the selected models for ``month`` into ``database`` (a subprocess: dbt's
    connection must be gone before the test reads the file). Its target folder is private to the test
    (``workdir``/dbt_target). ``check``: a failure raises AssertionError."""
    workdir = workdir or database.parent
    env = {**os.environ, "CADENCE_DUCKDB_PATH": str(database), "DBT_LOG_PATH": str(workdir / "dbt_logs")}
    dbt = str(Path(sys.executable).with_name("dbt"))
    # month None: the month comes from the run-context table (cadence.dbt_manifest.write_run_context), as in
    # the pipeline; constant vars keep dbt's partial parsing valid across months (a shared workdir is faster)
    variables = json.dumps({**({"partition_month": month} if month else {}), **(dbt_vars or {})})
    cmd = [dbt, command, "--select", *select.split(), "--vars", variables,
           "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(workdir / "dbt_target"), "--quiet"]
    if command in ("build", "test"):  # dbt's unit tests run in tests/test_dbt_unit.py, with the default vars
        cmd += ["--indirect-selection", "cautious", "--exclude", "test_type:unit"]
    done = subprocess.run(cmd, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"dbt build failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    return done


# planted defect kind -> the raw check that must count it (per file); a check not listed must count 0
TS = {"calls": "started_at", "email_events": "event_at"}


def expected_raw_counts(manifest: dict, table: str, checks: list[str]) -> dict[str, int]:
    """What each row-level check of suite raw.<table> must find on a generated month: the planted counts
    of the generator's manifest, 0 for every other check."""
    source, name = table.split("__")
    path = f"{source}/{manifest['month']}/{name}.csv"
    defects = manifest["defects"]

    def planted(kind: str) -> int:
        return defects.get(kind, {}).get("by_file", {}).get(path, 0)

    key = next(c for c in checks if c.endswith("_unique"))
    out = dict.fromkeys(checks, 0)
    out["no_exact_duplicates"] = planted("exact_duplicates")
    out[key] = planted("exact_duplicates") + planted("key_duplicates")
    if name in TS:
        ts = TS[name]
        out["lead_id_known"] = planted("orphan_touches")
        out[f"{ts}_has_utc_offset"] = planted("naive_timestamps")
        out[f"{ts}_offset_matches_lead_zone"] = planted("wrong_offsets")
        out[f"{ts}_not_before_lead_creation"] = planted("touches_before_creation")
    if name == "calls":
        out["calls_per_lead_day_plausible"] = planted("call_burst")
        out["duration_seconds_non_negative"] = planted("negative_durations")
    for row in defects.get("empty_mandatory", {}).get("rows", []):
        if row["file"] == path:
            out[f"{row['column']}_present"] += 1
    return out


# planted defect kind -> the cleaning rule that must exclude exactly its rows
EXCLUDED_AS = {"exact_duplicates": "exact_duplicate", "key_duplicates": "duplicate_key",
               "orphan_touches": "unknown_lead", "touches_before_creation": "before_lead_creation",
               "call_burst": "call_burst", "empty_mandatory": "missing_mandatory"}
# planted defect kind -> the flag under which the cleaning keeps exactly its rows (they record real touches)
FLAGGED_AS = {"naive_timestamps": "tz_repaired", "wrong_offsets": "tz_repaired",
              "negative_durations": "negative_duration"}
