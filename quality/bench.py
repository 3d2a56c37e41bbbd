"""Measure the cost of the quality suites: GE in DuckDB (the chosen route) vs GE on pandas.

    uv run python -m quality.bench --rows 1000000 [--pandas]

Builds a synthetic month of ``raw.voip__calls`` (N rows, text as received) and its leads in a temporary
DuckDB file, then times the full ``raw.voip__calls`` suite (21 checks, in-database), and with
``--pandas`` the same kind of column checks through GE's pandas datasource after fetching the columns.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from cadence.ingest import ensure_raw_tables
from quality.suites import suite
from quality.validate import validate

MONTH = "2026-10"


def build(db: Path, rows: int) -> None:
    leads = max(rows // 4, 1)
    con = duckdb.connect(str(db))
    ensure_raw_tables(con)
    con.execute(f"""
        insert into raw.crm__leads (lead_id, created_at, lead_timezone, channel, company_size, funnel_phase,
            rep_id, _partition_month, _source_file, _source_row)
        select 'L' || i, strftime(timestamp '2026-10-01' + to_seconds(i % 2500000), '%Y-%m-%dT%H:%M:%S') || '+02:00',
            'Europe/Paris', 'inbound', 'SMB', 'MQL', 'R1', '{MONTH}', 'crm/{MONTH}/leads.csv', i + 1
        from range({leads}) t(i)""")
    con.execute(f"""
        insert into raw.voip__calls (call_id, lead_id, rep_id, started_at, direction, outcome, duration_seconds,
            phone_number, _partition_month, _source_file, _source_row)
        select 'C' || i, 'L' || (i % {leads}), 'R1',
            strftime(timestamp '2026-10-20 08:00:00' + to_seconds(i % 86400), '%Y-%m-%dT%H:%M:%S') || '+02:00',
            'outbound', (['connected', 'voicemail', 'no_answer', 'busy', 'wrong_number'])[i % 5 + 1],
            cast(i % 900 as varchar), '+33 6 00', '{MONTH}', 'voip/{MONTH}/calls.csv', i + 1
        from range({rows}) t(i)""")
    for source, entity, n in (("crm", "leads", leads), ("voip", "calls", rows)):
        con.execute("insert into raw._loads (_partition_month, source, entity, _source_file, _file_hash, rows_loaded, "
                    "rows_rejected, _run_id, _loaded_at) values (?, ?, ?, ?, 'x', ?, 0, 'bench', now())",
                    [MONTH, source, entity, f"{source}/{MONTH}/{entity}.csv", n])
    con.close()


SIMPLE = ("select call_id, lead_id, started_at, outcome, direction, "
          "try_cast(duration_seconds as double) as duration_seconds from raw.voip__calls")


def _simple_checks():
    import great_expectations.expectations as gxe

    checks = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("call_id", "lead_id", "started_at", "outcome")]
    return checks + [
        gxe.ExpectColumnValuesToBeUnique(column="call_id"),
        gxe.ExpectColumnValuesToBeInSet(column="direction", value_set=["outbound", "inbound"]),
        gxe.ExpectColumnValuesToBeInSet(column="outcome", value_set=["connected", "voicemail", "no_answer", "busy",
                                                                      "wrong_number"]),
        gxe.ExpectColumnValuesToBeBetween(column="duration_seconds", min_value=0)]


def bench_simple(db: Path, route: str) -> float:
    """The same 8 column checks, in DuckDB (SQL datasource, query asset) or on a fetched pandas frame."""
    import great_expectations as gx

    from quality.gx_duckdb import add_duckdb_datasource, close_datasource, make_context

    started = time.perf_counter()
    ctx = make_context()
    if route == "pandas":
        con = duckdb.connect(str(db), read_only=True)
        params = {"dataframe": con.execute(SIMPLE).df()}
        con.close()
        batch = ctx.data_sources.add_pandas("p").add_dataframe_asset("c").add_batch_definition_whole_dataframe("a")
    else:
        datasource, params = add_duckdb_datasource(ctx, db), {}
        batch = datasource.add_query_asset(name="c", query=SIMPLE).add_batch_definition_whole_table("a")
    definition = ctx.validation_definitions.add(gx.ValidationDefinition(
        name=route, data=batch, suite=ctx.suites.add(gx.ExpectationSuite(name=route, expectations=_simple_checks()))))
    definition.run(batch_parameters=params)
    if route != "pandas":
        close_datasource(datasource)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pandas", action="store_true", help="also time GE's pandas route (8 column checks)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cadence-quality-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        build(db, args.rows)
        print(f"built {args.rows:,} calls in {time.perf_counter() - started:.1f} s")
        outcome = validate(suite("raw.voip__calls"), MONTH, db)
        print(f"GE in DuckDB (SQL datasource): {len(outcome.checks)} checks in {outcome.seconds:.2f} s")
        print(f"the same 8 column checks, GE in DuckDB: {bench_simple(db, 'duckdb'):.2f} s")
        if args.pandas:
            print(f"the same 8 column checks, GE on pandas (incl. fetch): {bench_simple(db, 'pandas'):.2f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
