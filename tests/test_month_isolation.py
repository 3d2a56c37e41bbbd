"""One month never damages another (issue 16 items 2 and 3), with real dbt on a real DuckDB file.

- A re-exported month whose new result is empty in a model (no exclusions: no cleaning_log rows) loses its
  old rows there: every incremental model replaces exactly the month being built (item 2).
- A bad value in one month fails that month only, and the failure names file, row, column and value
  (item 3). The bad value is a lead channel the extract contract accepts (as if the contract had been widened:
  staging keeps it) but the staging test does not: the kind of drift a test is there to catch.

Two months: 2026-09 holds the bad value; 2026-10 is exported with planted defects (exclusions), then
re-exported clean.
"""

from __future__ import annotations

import csv
import json
import shutil

import duckdb
import pytest
from quality_helpers import dbt_build

from cadence.dbt_failures import describe
from cadence.dbt_manifest import write_run_context
from cadence.generator import generate
from cadence.ingest import load_source_month
from cadence.mapping import load_mapping
from cadence.scoping import dbt_vars as scoping_vars
from cadence.scoping import load_scoping_note
from cadence.settings import CONFIG_DIR
from orchestration.partitions import dbt_vars as partition_vars

pytestmark = pytest.mark.integration

BAD_MONTH, OTHER_MONTH, EMPTY_MONTH = "2026-09", "2026-10", "2026-12"
SOURCES = ("crm", "voip", "emailing", "calendar")
BAD_ROW = 7  # the data row (1-based) of the leads file whose channel is planted
VALUE_SETS = scoping_vars(load_scoping_note(CONFIG_DIR / "scoping_note.yml"))["contract_value_sets"]
WIDENED = {"contract_value_sets": {**VALUE_SETS, "leads": {**VALUE_SETS["leads"],
                                                          "channel": [*VALUE_SETS["leads"]["channel"], "webinar"]}}}


def _load(db, landing, month):
    con = duckdb.connect(str(db))
    try:
        for source in SOURCES:
            load_source_month(con, source, month, landing, load_mapping(CONFIG_DIR / "sources.yml"))
    finally:
        con.close()


def _dbt(db, month, select, workdir, command="build", check=True, dbt_vars=WIDENED):
    """dbt for ``month`` as the pipeline calls it: the month in the run-context table, constant vars."""
    with duckdb.connect(str(db)) as con:
        write_run_context(con, partition_vars(month), "test")
    return dbt_build(db, None, select=select, workdir=workdir, dbt_vars=dbt_vars, check=check, command=command)


def _plant_channel(path, row_no: int, value: str) -> str:
    rows = list(csv.DictReader(path.open(newline="")))
    rows[row_no - 1]["channel"] = value
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows[row_no - 1]["lead_id"]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("isolation")
    landing, db = root / "landing", root / "w.duckdb"
    generate(landing, [BAD_MONTH], leads_per_month=60, seed=11)
    generate(landing, [OTHER_MONTH], leads_per_month=60, seed=12, defects=True)
    bad_lead = _plant_channel(landing / "crm" / BAD_MONTH / "leads.csv", BAD_ROW, "webinar")
    _load(db, landing, OTHER_MONTH)  # (a first build builds every month in raw: one at a time here)
    _dbt(db, OTHER_MONTH, "staging cleaning intermediate marts", root)
    _load(db, landing, BAD_MONTH)
    # staging built with a contract that knew 'webinar', tested against today's contract (contract_values reads
    # the same var as staging: the value reaches the tests only when the two differ, or through a staging bug)
    _dbt(db, BAD_MONTH, "staging", root, command="run")
    failed = _dbt(db, BAD_MONTH, "staging", root, command="test", check=False, dbt_vars={})
    assert failed.returncode != 0, "the planted value did not fail its month"
    for name in ("run_results.json", "manifest.json"):
        shutil.copy(root / "dbt_target" / name, root / f"bad_{name}")
    return root, landing, db, bad_lead


def _copy(warehouse, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copy(warehouse[2], db)
    return db


def test_a_bad_value_fails_its_own_month_naming_file_row_column_and_value(warehouse):
    root, _landing, db, bad_lead = warehouse
    with duckdb.connect(str(db), read_only=True) as con:
        def query(sql):
            cursor = con.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()

        text = describe(json.loads((root / "bad_run_results.json").read_text()),
                        json.loads((root / "bad_manifest.json").read_text()), BAD_MONTH, query)
        truth = con.execute("select _source_file, _source_row from raw.crm__leads where lead_id = ?",
                            [bad_lead]).fetchone()
    assert truth == (f"crm/{BAD_MONTH}/leads.csv", BAD_ROW)
    assert (f"dbt test contract_values (inbound, outbound, partner, other) failed on staging.stg_crm__leads.channel "
            f"for {BAD_MONTH}: 1 failing row(s)") in text
    assert f"  - crm/{BAD_MONTH}/leads.csv, data row {BAD_ROW} (line {BAD_ROW + 1}): channel = 'webinar'" in text
    assert len(text.splitlines()) == 2  # nothing else failed: the month's other tests passed


def test_a_bad_value_in_one_month_does_not_fail_another(warehouse, tmp_path):
    db = _copy(warehouse, tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:  # the bad row is in the table, in its own month
        assert con.execute("select partition_month from staging.stg_crm__leads where channel = 'webinar'"
                           ).fetchall() == [(BAD_MONTH,)]
    _dbt(db, OTHER_MONTH, "stg_crm__leads", warehouse[0])  # raises on failure


def test_a_reexport_without_exclusions_replaces_the_months_cleaning_log(warehouse, tmp_path):
    _root, landing, _db, _ = warehouse
    db = _copy(warehouse, tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        before = dict(con.execute("select partition_month, count(*) from cleaning.cleaning_log group by 1").fetchall())
    assert before.get(OTHER_MONTH, 0) > 0  # the defective export's exclusions
    fresh = tmp_path / "landing"
    shutil.copytree(landing / "crm" / BAD_MONTH, fresh / "crm" / BAD_MONTH)
    generate(fresh, [OTHER_MONTH], leads_per_month=60, seed=12, defects=False)  # re-exported, clean
    _load(db, fresh, OTHER_MONTH)
    _dbt(db, OTHER_MONTH, "staging cleaning", warehouse[0])  # raises on failure
    with duckdb.connect(str(db), read_only=True) as con:
        after = dict(con.execute("select partition_month, count(*) from cleaning.cleaning_log group by 1").fetchall())
        balanced = con.execute("select bool_and(is_balanced) from cleaning.cleaning_accounting "
                               "where partition_month = ?", [OTHER_MONTH]).fetchone()[0]
    assert OTHER_MONTH not in after and balanced
    assert {m: n for m, n in after.items()} == {m: n for m, n in before.items() if m != OTHER_MONTH}


def test_every_incremental_model_replaces_exactly_the_month_being_run(warehouse, tmp_path):
    """Every model's table gets rows for a month that has no data at all, then that month is run: every
    model's new result for it is empty, and every planted row must be gone; the other months unchanged."""
    db = _copy(warehouse, tmp_path)
    with duckdb.connect(str(db)) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables() where schema_name in "
                             "('staging', 'cleaning', 'intermediate', 'marts')").fetchall()
        counts = {}
        for schema, table in tables:
            name = f'{schema}."{table}"'
            con.execute(f"insert into {name} select * replace ('{EMPTY_MONTH}' as partition_month) from {name} "
                        f"where partition_month = '{OTHER_MONTH}'")
            counts[name] = dict(con.execute(f"select partition_month, count(*) from {name} group by 1").fetchall())
    assert len(tables) >= 20 and sum(c.get(EMPTY_MONTH, 0) for c in counts.values()) > 1000
    _dbt(db, EMPTY_MONTH, "staging cleaning intermediate marts", warehouse[0], command="run")
    with duckdb.connect(str(db), read_only=True) as con:
        for name, before in counts.items():
            after = dict(con.execute(f"select partition_month, count(*) from {name} group by 1").fetchall())
            assert after == {m: n for m, n in before.items() if m != EMPTY_MONTH}, name
