"""The bad-input corpus (tests/bad_inputs/corpus.py): every malformed input gives a clear error naming the
file and the line or column, or a logged rejection / exclusion; none crashes without a message, none drops
a row silently, none changes another month or another source."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from bad_inputs.corpus import (
    FILE_CASES,
    MONTH,
    OTHER_MONTH,
    ROW_CASES,
    STRICT_RULES,
    baseline,
    write_month,
    write_row_cases,
)
from quality_helpers import dbt_build

from cadence.contract import ENTITIES, SOURCES, entity
from cadence.ingest import IngestError, load_source_month
from cadence.mapping import load_mapping
from quality.suites import ERROR, suite
from quality.validate import validate

CONFIG = Path(__file__).resolve().parents[1] / "config" / "sources.yml"
TABLES = {e.name: e.table for e in ENTITIES}


def test_the_corpus_is_large_enough_and_names_are_unique():
    names = [c.name for c in FILE_CASES] + [c.name for c in ROW_CASES]
    assert len(names) == len(set(names)) and len(names) >= 25


def _snapshot(con, skip: tuple[str, str] | None = None) -> dict:
    """Every raw row and bookkeeping row, except those of (source, month) `skip`."""
    out = {}
    for ent in ENTITIES:
        rows = con.execute(f"select * exclude (_loaded_at, _run_id) from raw.{ent.table} order by all").fetchall()
        out[ent.table] = [r for r in rows if skip is None or (ent.source, r[-4]) != skip]
    for table in ("_loads", "_load_rejects"):
        rows = con.execute(f"select _partition_month, source, entity, _source_file from raw.{table} order by all"
                           ).fetchall()
        out[table] = [r for r in rows if skip is None or (r[1], r[0]) != skip]
    return out


@pytest.fixture
def loaded(tmp_path):
    """Two months of every source loaded from valid baselines."""
    landing = tmp_path / "landing"
    write_month(landing, baseline(OTHER_MONTH), OTHER_MONTH)
    write_month(landing, baseline(MONTH), MONTH)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    mappings = load_mapping(CONFIG)
    for month in (OTHER_MONTH, MONTH):
        for source in SOURCES:
            load_source_month(con, source, month, landing, mappings)
    yield con, landing, mappings
    con.close()


@pytest.mark.parametrize("case", FILE_CASES, ids=lambda c: c.name)
def test_file_case(loaded, case, tmp_path):
    con, landing, mappings = loaded
    before = _snapshot(con)
    case.change(landing / case.source / MONTH / case.file)
    if case.error:
        with pytest.raises(IngestError) as err:
            load_source_month(con, case.source, MONTH, landing, mappings)
        message = str(err.value)
        assert case.error.lower() in message.lower(), message
        assert f"{case.source}/{MONTH}" in err.value.file, message
        if case.line is not None:
            assert err.value.line == case.line, message
        if case.column is not None:
            assert err.value.column == case.column, message
        assert _snapshot(con) == before  # a failed load changes nothing, anywhere
        return
    loads = load_source_month(con, case.source, MONTH, landing, mappings)
    assert _snapshot(con, skip=(case.source, MONTH)) == _snapshot_without(before, case.source)
    rejects = [r[0] for r in con.execute(
        "select line from raw._load_rejects where _partition_month = ? and source = ? order by line",
        [MONTH, case.source]).fetchall()]
    assert tuple(rejects) == case.rejected_lines
    for load in loads:  # every line of every file is a row, a line inside a quoted field, or a logged reject
        for f in load.files:
            raw = con.execute(f"select count(*) from raw.{TABLES[load.entity]} where _source_file = ?",
                              [f.path]).fetchone()[0]
            assert raw == f.rows and f.rejected == len([x for x in rejects if load.entity in f.path])
    if case.name == "replaced_between_runs":
        leads = next(f for load in loads for f in load.files if f.path.endswith("leads.csv"))
        assert leads.replaced and leads.previous_sha256 != leads.sha256
        assert con.execute("select count(*) from raw.crm__leads where _partition_month = ? and lead_score = '75'",
                           [MONTH]).fetchone()[0] == 8
    if case.name == "another_months_data":
        con.close()  # GE opens the file read-only: no other connection in this process
        outcome = validate(suite("raw.crm__leads"), MONTH, tmp_path / "w.duckdb")
        check = next(c for c in outcome.checks if c.check == "leads_belong_to_the_month")
        assert not check.success and check.severity == ERROR  # blocking: nothing downstream is built
        assert check.sample[0]["mostly_created_in"] == OTHER_MONTH and check.sample[0]["leads_outside_month"] == 8
    if case.name == "quoted_newlines_in_file":
        name = con.execute("select company_name from raw.crm__leads where _partition_month = ? and _source_row = 1",
                           [MONTH]).fetchone()[0]
        assert name == 'Acme\nHolding, "Europe"'


def _snapshot_without(snapshot: dict, source: str) -> dict:
    tables = {e.table for e in ENTITIES if e.source == source}
    out = {}
    for table, rows in snapshot.items():
        if table in tables:
            out[table] = [r for r in rows if r[-4] != MONTH]
        elif table.startswith("_"):
            out[table] = [r for r in rows if (r[1], r[0]) != (source, MONTH)]
        else:
            out[table] = rows
    return out


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    """One month holding every row case, loaded and cleaned by the real dbt staging + cleaning models."""
    root = tmp_path_factory.mktemp("row_cases")
    landing = root / "landing"
    data = write_row_cases(landing)
    write_month(landing, baseline(OTHER_MONTH), OTHER_MONTH)
    db = root / "w.duckdb"
    con = duckdb.connect(str(db))
    mappings = load_mapping(CONFIG)
    for month in (OTHER_MONTH, MONTH):
        for source in SOURCES:
            load_source_month(con, source, month, landing, mappings)
    con.close()
    dbt_build(db, MONTH)
    con = duckdb.connect(str(db), read_only=True)
    yield con, data
    con.close()


@pytest.mark.integration
@pytest.mark.parametrize("case", ROW_CASES, ids=lambda c: c.name)
def test_row_case(cleaned, case):
    con, _data = cleaned
    ent = next(e for e in ENTITIES if e.name == case.table)
    keys = {str(r[ent.key]) for r in case.rows()}
    got = con.execute(
        f"select {ent.key}, exclusion_reason, exclusion_detail, is_kept from staging.stg_{ent.table} "
        f"where partition_month = ? and {ent.key} in (select unnest(?))", [MONTH, sorted(keys)]).fetchall()
    assert len(got) == len(case.rows())  # every row of the case is in staging: none dropped
    excluded = {(k, (reason or "").split(":")[0]) for k, reason, _detail, kept in got if not kept}
    kept = {k for k, _r, _d, is_kept in got if is_kept}
    assert excluded == {(k, case.rule) for k in case.keys}, got
    assert kept == set(case.kept_keys), got
    for k, reason, detail, is_kept in got:
        assert is_kept or (detail and len(detail) > 10), (k, reason)  # a reason in words
    flagged = dict(con.execute(
        f"select {ent.key}, flags from staging.stg_{ent.table} where partition_month = ? and is_kept "
        f"and {ent.key} in (select unnest(?))", [MONTH, sorted(keys)]).fetchall())
    assert flagged == {k: case.flags.get(k) for k in case.kept_keys}  # kept and flagged, or kept clean
    if case.flags:
        details = con.execute(f"select flag_detail from staging.stg_{ent.table} where partition_month = ? "
                              f"and flags is not null and {ent.key} in (select unnest(?))",
                              [MONTH, sorted(case.flags)]).fetchall()
        assert all(d and len(d) > 20 for (d,) in details), details  # the flag in words
    for k, expected in case.values.items():
        cols = list(expected)
        row = con.execute(f"select {', '.join(cols)} from staging.stg_{ent.table} where partition_month = ? "
                          f"and is_kept and {ent.key} = ?", [MONTH, k]).fetchone()
        assert dict(zip(cols, row, strict=True)) == expected, (k, row)
    logged = con.execute(
        "select record_id, rule, _source_file, _source_row, source_line from cleaning.cleaning_log "
        "where partition_month = ? and table_name = ? and record_id in (select unnest(?))",
        [MONTH, ent.table, sorted(keys)]).fetchall()
    assert sorted((r[0], r[1]) for r in logged) == sorted(
        (k, (reason or "").split(":")[0]) for k, reason, _d, is_kept in got if not is_kept)
    assert all(r[2] == f"{ent.source}/{MONTH}/{ent.name}.csv" and r[3] >= 1 and r[4] >= 2 for r in logged)


@pytest.mark.integration
def test_row_cases_keep_the_accounting_exact_and_the_other_month_clean(cleaned):
    con, data = cleaned
    rows = con.execute("select table_name, is_balanced, raw_rows, kept_rows, excluded_rows from "
                       "cleaning.cleaning_accounting where partition_month = ?", [MONTH]).fetchall()
    assert len(rows) == len(ENTITIES) and all(r[1] for r in rows), rows
    for table, _ok, raw, kept, excluded in rows:
        name = next(e.name for e in ENTITIES if e.table == table)
        assert raw == len(data[name]) == kept + excluded
    assert con.execute("select count(*) from cleaning.cleaning_log where partition_month = ?",
                       [OTHER_MONTH]).fetchone()[0] == 0
    assert entity("voip", "calls").key == "call_id"


@pytest.mark.integration
def test_strict_time_zone_policy_excludes_what_repair_reads_in_the_lead_zone(tmp_path):
    """The scoping note's `cleaning.time_zone_policy: strict` keeps the exclusion of wrong and missing offsets."""
    landing = tmp_path / "landing"
    write_row_cases(landing)
    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    mappings = load_mapping(CONFIG)
    for source in SOURCES:
        load_source_month(con, source, MONTH, landing, mappings)
    con.close()
    dbt_build(db, MONTH, select="staging", dbt_vars={"time_zone_policy": "strict"})
    with duckdb.connect(str(db), read_only=True) as con:
        got = dict(con.execute("select call_id, split_part(exclusion_reason, ':', 1) from staging.stg_voip__calls "
                               "where call_id in (select unnest(?))", [sorted(STRICT_RULES)]).fetchall())
        flagged = con.execute("select count(*) from staging.stg_voip__calls where tz_repaired").fetchone()[0]
    assert got == STRICT_RULES and flagged == 0
    # the raw gate reads "future" as staging does (after the file's export time, not a horizon of its own)
    with duckdb.connect(str(db), read_only=True) as con:
        future = {t: con.execute(f"select count(*) from staging.stg_{t} where exclusion_reason like "
                                 f"'future_timestamp%'").fetchone()[0]
                  for t in ("voip__calls", "emailing__email_events")}
    assert future["emailing__email_events"] == 2  # E-future, E-after-export
    for table, col in (("voip__calls", "started_at"), ("emailing__email_events", "event_at")):
        outcome = validate(suite(f"raw.{table}"), MONTH, db)
        check = next(c for c in outcome.checks if c.check == f"{col}_not_in_future")
        assert check.unexpected == future[table], (table, check)


def test_the_gates_take_their_cleaning_thresholds_from_the_scoping_note():
    from cadence.scoping import parse_scoping_note
    from quality.sql import Thresholds

    note = parse_scoping_note({"cleaning": {"burst_calls_per_lead_day": 12}, "attribution_window_days": 60})
    assert Thresholds.from_note(note).burst_calls_per_lead_day == 12
