"""How the pipeline calls dbt: the scoping note named by CADENCE_SCOPING_NOTE reaches dbt as vars, the
month reaches it through the run-context table, and the vars do not change from one month to the next."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from cadence.dbt_manifest import build_args, write_run_context
from cadence.scoping import ScopingNoteError
from orchestration.partitions import dbt_vars


def _vars(args: list[str]) -> dict:
    return json.loads(args[args.index("--vars") + 1])


def test_another_note_reaches_dbt_and_the_month_does_not(tmp_path):
    note = tmp_path / "q4.yml"
    note.write_text("attribution_window_days: 14\nconversion: won\ncontact: {call: connected}\n")
    args = build_args(note)
    got = _vars(args)
    assert (got["attribution_window_days"], got["conversion_stage"], got["contact_call"]) == (14, "won", "connected")
    assert json.loads(got["scoping_note_json"])["attribution_window_days"] == 14
    assert "partition_month" not in got  # constant vars keep dbt's partial parse valid across months
    assert args[-2:] == ["--exclude-resource-type", "unit_test"]
    assert _vars(build_args(note)) == got


def test_a_bad_note_fails_before_dbt_runs(tmp_path):
    note = tmp_path / "bad.yml"
    note.write_text("conversion: signed\n")
    with pytest.raises(ScopingNoteError, match="conversion"):
        build_args(note)


def test_run_context_names_the_month_being_built(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_run_context(con, dbt_vars("2026-02"), "run-1")
    write_run_context(con, dbt_vars("2026-03"), "run-2")  # replaced, never appended
    rows = con.execute("select partition_month, min_date, max_date, run_id from main._cadence_run_context").fetchall()
    assert rows == [("2026-03", date(2026, 3, 1), date(2026, 4, 1), "run-2")]


def test_dbt_threads_follow_the_month_size_unless_configured():
    from cadence.dbt_manifest import SMALL_MONTH_ROWS, dbt_threads_for

    assert dbt_threads_for(130_000) == 2
    assert dbt_threads_for(SMALL_MONTH_ROWS - 1) == 2
    assert dbt_threads_for(SMALL_MONTH_ROWS) == 1
    assert dbt_threads_for(13_000_000) == 1
    assert dbt_threads_for(13_000_000, configured=4) == 4
    assert dbt_threads_for(10, configured=1) == 1


def test_month_raw_rows_reads_the_load_log(tmp_path):
    from assets.dbt import month_raw_rows

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert month_raw_rows(con, "2026-09") == 0  # nothing loaded yet: no load log
    con.execute("create schema raw; create table raw._loads (_partition_month varchar, rows_loaded bigint)")
    con.execute("insert into raw._loads values ('2026-09', 10), ('2026-09', 5), ('2026-08', 100)")
    assert month_raw_rows(con, "2026-09") == 15
    assert month_raw_rows(con, "2026-10") == 0


def test_only_the_newest_dbt_run_folders_are_kept(tmp_path):
    import os

    from assets.dbt import prune_run_targets

    runs = tmp_path / "runs"
    for i in range(8):
        folder = runs / f"2026-09-run{i}"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text("{}")
        os.utime(folder, (1_000_000 + i, 1_000_000 + i))
    removed = prune_run_targets(runs, keep=5)
    assert sorted(p.name for p in removed) == ["2026-09-run0", "2026-09-run1", "2026-09-run2"]
    assert sorted(p.name for p in runs.iterdir()) == [f"2026-09-run{i}" for i in range(3, 8)]
    assert prune_run_targets(runs, keep=5) == []


def test_two_processes_starting_together_get_a_whole_manifest(tmp_path):
    """Two commands (or the webserver and the daemon) starting together with a stale manifest: one parses,
    the other waits for it (a file lock) instead of parsing too and reading a half-written manifest.json."""
    import os
    import subprocess
    import sys

    from cadence.settings import DBT_PROJECT_DIR

    (DBT_PROJECT_DIR / "target" / "cadence_parse_vars.json").unlink(missing_ok=True)  # stale: both would parse
    code = ("import orjson; from cadence.dbt_manifest import ensure_manifest; "
            "orjson.loads(ensure_manifest().read_bytes()); print('whole')")
    env = {**os.environ, "CADENCE_DATA_DIR": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0] and all(o.strip() == "whole" for o, _ in outs), outs
