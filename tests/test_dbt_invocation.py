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
