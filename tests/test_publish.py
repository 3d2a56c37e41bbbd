"""The published BI file: opened by a real older DuckDB client, and read in a loop by a separate process
during a full run and a rerun without a single error or a half-published state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from cadence import cli
from cadence.analytics import steps

pytestmark = pytest.mark.integration

READER = r"""
import json, sys, time, duckdb
path, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
import os
with open(out, "w") as fh:
    while not os.path.exists(stop):
        rec = {"t": time.time()}
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                rec["leads"] = dict(con.execute(
                    "select partition_month, count(*) from bi.lead_cadence group by 1").fetchall())
                rec["kpi_leads"] = dict(con.execute(
                    "select partition_month, leads from bi.segment_kpis where segment_level = 'all'").fetchall())
                rec["run_id"] = con.execute("select run_id from bi._publication").fetchone()[0]
                rec["months"] = dict(con.execute("select partition_month, run_id from bi._months").fetchall())
            finally:
                con.close()
        except Exception as exc:  # every error counts
            rec["error"] = f"{type(exc).__name__}: {exc}"
        fh.write(json.dumps(rec) + "\n")
        fh.flush()
        time.sleep(0.05)
"""


def _planted_failure(*_args, **_kwargs):
    raise RuntimeError("planted failure halfway through the analytics")


@pytest.fixture(scope="module")
def two_months(module_data_dir):
    """2026-10 runs first and fails halfway (a planted error in the analytics' decisions step: its marts,
    cleaning and first analytics tables are rebuilt, the rest not), then 2026-09 runs and succeeds."""
    root = module_data_dir
    assert cli.main(["generate", "--month", "2026-09", "--to", "2026-10", "--leads", "500", "--seed", "3"]) == 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(steps, "decisions", _planted_failure)
        assert not cli.run_months(["2026-10"])
    assert cli.run_months(["2026-09"])
    return root


def _months_per_table(con) -> dict[str, set]:
    tables = con.execute("select schema_name, table_name from duckdb_columns() where column_name = 'partition_month' "
                         "and schema_name in ('marts', 'analytics', 'guardrails', 'cleaning', 'experiments') "
                         "and not starts_with(table_name, '_')").fetchall()
    return {f"{s}.{t}": {m for (m,) in con.execute(f'select distinct partition_month from {s}."{t}"').fetchall()}
            for s, t in tables}


def test_a_month_is_published_only_from_its_own_successful_run(two_months):
    with duckdb.connect(str(two_months / "warehouse" / "cadence.duckdb"), read_only=True) as work:
        working = _months_per_table(work)
    # the failed month is really half-built in the working database
    assert "2026-10" in working["marts.fct_lead_cadence"] and "2026-10" in working["analytics.segment_moments"]
    assert "2026-10" not in working["analytics.traffic_light"]
    with duckdb.connect(str(two_months / "published" / "cadence_bi.duckdb"), read_only=True) as bi:
        published = _months_per_table(bi)
        assert published.keys() == working.keys()
        assert {t: m for t, m in published.items() if m - {"2026-09"}} == {}  # nothing of the failed month
        months = bi.execute("select partition_month, run_id from bi._months").fetchall()
        last = bi.execute("select partition_month, run_id from bi._publication").fetchall()
    assert months == last and [m for m, _ in months] == ["2026-09"]


def test_a_run_that_did_not_build_the_month_does_not_publish_it(two_months):
    import dagster as dg

    from orchestration.definitions import defs

    bi = two_months / "published" / "cadence_bi.duckdb"
    before = bi.stat().st_mtime_ns
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("monthly_audit").execute_in_process(
            partition_key="2026-10-01", instance=instance, raise_on_error=False,
            asset_selection=[dg.AssetKey(["serving", "published_bi"])])
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.user_failure_data
    assert failure.description.startswith("2026-10 not published: ")
    assert "cadence run --month 2026-10" in failure.description
    assert bi.stat().st_mtime_ns == before


def test_published_file_opens_in_an_older_duckdb_client(two_months):
    bi = two_months / "published" / "cadence_bi.duckdb"
    cli_exe = Path(sys.executable).with_name("duckdb")  # duckdb-cli 1.5.6 from PyPI: an older engine
    out = subprocess.run([str(cli_exe), "-readonly", "-csv", str(bi),
                          "select count(*) as n from bi.lead_cadence where partition_month = '2026-09'"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["n", "500"]
    con = duckdb.connect(str(bi), read_only=True)
    comments = con.execute("select count(*) from duckdb_columns() where table_name = 'fct_lead_cadence' "
                           "and comment is not null").fetchone()[0]
    con.close()
    assert comments > 10  # dbt descriptions travel as column comments


def test_reader_never_errors_nor_sees_a_mix_during_run_and_rerun(two_months, tmp_path):
    bi = two_months / "published" / "cadence_bi.duckdb"
    log, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(bi), str(log), str(stop)])
    try:
        time.sleep(1.0)
        assert cli.run_months(["2026-10"])
        assert cli.run_months(["2026-10"])
        time.sleep(1.0)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    reads = [json.loads(line) for line in log.read_text().splitlines()]
    errors = [r["error"] for r in reads if "error" in r]
    assert not errors, errors[:3]
    assert len(reads) > 20
    seen = set()
    for r in reads:
        assert r["leads"] == r["kpi_leads"], r  # every table of one read comes from one publication
        assert r["leads"] in ({"2026-09": 500}, {"2026-09": 500, "2026-10": 500}), r
        seen.add(tuple(sorted(r["leads"])))
    assert seen == {("2026-09",), ("2026-09", "2026-10")}  # it saw the old state and the new one
    assert len({r["run_id"] for r in reads}) == 3
    # 2026-09 stays as its own run published it while 2026-10 is published twice
    assert len({r["months"]["2026-09"] for r in reads}) == 1
    assert {r["months"].get("2026-10") for r in reads} == {None, *(r["run_id"] for r in reads)} - {reads[0]["run_id"]}


def test_an_empty_table_still_has_a_parquet_file_with_its_schema(tmp_path):
    """A Parquet reader of an empty table gets 0 rows and its columns, not "No files found"."""
    from cadence.serving.publish import publish

    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_empty (partition_month varchar, lead_id varchar, rate double)")
        con.execute("create table marts.fct_full as select '2026-09' as partition_month, 'L1' as lead_id, 0.5 as rate")
        publish(con, tmp_path / "published", month=None, run_id="test0000")
    files = sorted((tmp_path / "published" / "parquet" / "marts" / "fct_empty").rglob("*.parquet"))
    assert files, "no Parquet file for the empty table"
    got = duckdb.sql(f"select * from read_parquet('{tmp_path}/published/parquet/marts/fct_empty/**/*.parquet')")
    assert got.columns == ["partition_month", "lead_id", "rate"] and len(got.fetchall()) == 0
