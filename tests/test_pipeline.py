"""End to end on generated data with planted defects: the whole graph for two months in a real DuckDB
file, row counts against the generator's manifest, exclusions against the planted defects, and a rerun
that changes nothing (and never touches the other month)."""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pandas as pd
import pytest

from cadence import cli
from cadence.contract import ENTITIES

pytestmark = pytest.mark.integration

MONTHS = ("2026-09", "2026-10")


@pytest.fixture(scope="module")
def warehouse(module_data_dir):
    root = module_data_dir
    assert cli.main(["generate", "--month", "2026-09", "--leads", "400", "--seed", "7"]) == 0
    assert cli.main(["generate", "--month", "2026-10", "--leads", "600", "--seed", "7", "--defects"]) == 0
    assert cli.run_months(list(MONTHS))
    manifests = {m: json.loads((root / "landing" / "_manifest" / f"{m}.json").read_text()) for m in MONTHS}
    return root, root / "warehouse" / "cadence.duckdb", manifests


def _snapshot(db) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out = {}
        for ent in ENTITIES:
            out[f"raw.{ent.table}"] = con.execute(
                f"select * exclude (_loaded_at, _run_id) from raw.{ent.table} order by all").fetchall()
            stg = f"staging.stg_{ent.table}"
            out[stg] = con.execute(f"select * exclude (_loaded_at) from {stg} order by all").fetchall()
        return out
    finally:
        con.close()


def test_raw_rows_match_the_files_written(warehouse):
    _root, db, manifests = warehouse
    con = duckdb.connect(str(db), read_only=True)
    for month, manifest in manifests.items():
        for rel, info in manifest["files"].items():
            n = con.execute("select count(*) from raw._loads where _partition_month = ? and _source_file = ?",
                            [month, rel]).fetchone()
            loaded = con.execute("select rows_loaded + rows_rejected from raw._loads where _source_file = ?",
                                 [rel]).fetchone()[0]
            assert n[0] == 1 and loaded == info["rows"], rel
    con.close()


def test_staging_keeps_every_raw_row_and_excludes_exactly_the_planted_defects(warehouse):
    _root, db, manifests = warehouse
    con = duckdb.connect(str(db), read_only=True)
    for ent in ENTITIES:
        raw = con.execute(f"select _partition_month, count(*) from raw.{ent.table} group by 1 order by 1").fetchall()
        stg = con.execute(f"select partition_month, count(*) from staging.stg_{ent.table} group by 1 order by 1"
                          ).fetchall()
        assert raw == stg, ent.table  # raw = kept + excluded, exactly
    # The clean month has no exclusion at all.
    for ent in ENTITIES:
        assert con.execute(f"select count(*) from staging.stg_{ent.table} where partition_month = '2026-09' "
                           f"and not is_kept").fetchone()[0] == 0
    excluded = {}
    for ent in ENTITIES:
        for rel, row, reason in con.execute(
            f"select _source_file, _source_row, exclusion_reason from staging.stg_{ent.table} "
            f"where partition_month = '2026-10' and not is_kept").fetchall():
            excluded[(rel, row)] = reason
    defects = manifests["2026-10"]["defects"]

    def planted(kind):
        return {(r["file"], r["row"]) for r in defects[kind]["rows"]}

    assert {k for k, v in excluded.items() if v == "exact_duplicate"} == planted("exact_duplicates")
    assert {k for k, v in excluded.items() if v == "duplicate_key"} == planted("key_duplicates")
    assert {k for k, v in excluded.items() if v.startswith("missing_mandatory")} == planted("empty_mandatory")
    counts = Counter(v.split(":")[0] for v in excluded.values())
    counts.pop("lead_excluded", None)  # touches of an excluded lead: checked in tests/test_quality_pipeline.py
    assert counts == Counter({
        "exact_duplicate": defects["exact_duplicates"]["count"],
        "duplicate_key": defects["key_duplicates"]["count"],
        "missing_mandatory": defects["empty_mandatory"]["count"],
        "unknown_lead": defects["orphan_touches"]["count"],
        "before_lead_creation": defects["touches_before_creation"]["count"],
        "call_burst": defects["call_burst"]["count"],
    })
    # Rows that record something real are kept and flagged: wrong or missing offsets, negative durations.
    flagged = {}
    for ent in ENTITIES:
        for rel, row, flags in con.execute(
            f"select _source_file, _source_row, flags from staging.stg_{ent.table} "
            f"where partition_month = '2026-10' and is_kept and flags is not null").fetchall():
            flagged[(rel, row)] = flags
    assert {k for k, v in flagged.items() if v.startswith("tz_repaired")} == (
        planted("naive_timestamps") | planted("wrong_offsets"))
    assert {k for k, v in flagged.items() if v.startswith("negative_duration")} == planted("negative_durations")
    assert len(flagged) == sum(defects[k]["count"] for k in ("naive_timestamps", "wrong_offsets", "negative_durations"))
    con.close()


def test_repaired_times_are_the_true_instants(warehouse, tmp_path):
    """The planted wrong and missing offsets carry the true local wall time: read in the lead's zone they give
    back, to the second, the instants of the same month generated without defects (same seed)."""
    _root, db, _ = warehouse
    assert cli.main(["generate", "--month", "2026-10", "--leads", "600", "--seed", "7",
                     "--landing", str(tmp_path)]) == 0
    clean_calls = pd.read_csv(tmp_path / "voip" / "2026-10" / "calls.csv", dtype=str)
    clean_events = pd.read_csv(tmp_path / "emailing" / "2026-10" / "email_events.csv", dtype=str)
    truth = {**dict(zip("call:" + clean_calls.call_id, clean_calls.started_at, strict=True)),
             **dict(zip("event:" + clean_events.event_id, clean_events.event_at, strict=True))}
    with duckdb.connect(str(db), read_only=True) as con:
        repaired = con.execute(
            "select 'call:' || call_id, started_at from staging.stg_voip__calls where partition_month = '2026-10' "
            "and tz_repaired union all select 'event:' || event_id, event_at from staging.stg_emailing__email_events "
            "where partition_month = '2026-10' and tz_repaired").fetchall()
    assert len(repaired) >= 4
    for key, got in repaired:
        expected = pd.Timestamp(truth[key]).tz_convert("UTC").tz_localize(None).to_pydatetime()
        assert got == expected, key


def test_personal_data_never_leaves_raw(warehouse):
    _root, db, _ = warehouse
    con = duckdb.connect(str(db), read_only=True)
    email = con.execute("select email from raw.crm__leads where email is not null limit 1").fetchone()[0]
    for _schema, table, column in con.execute(
        "select schema_name, table_name, column_name from duckdb_columns() where schema_name <> 'raw'"
    ).fetchall():
        assert column not in ("email", "phone", "phone_number", "email_address", "contact_name"), (table, column)
    hits = con.execute("select count(*) from staging.stg_crm__leads where email_hash = ?", [email]).fetchone()[0]
    assert hits == 0 and "@" not in str(con.execute("select email_hash from staging.stg_crm__leads limit 1").fetchone())
    con.close()


def test_rerun_of_a_month_is_identical_and_leaves_the_other_month_alone(warehouse):
    _root, db, _ = warehouse
    before = _snapshot(db)
    assert cli.run_months(["2026-10"])
    after = _snapshot(db)
    for table in before:
        assert before[table] == after[table], table
