"""Publish the warehouse's BI tables to a separate, read-only DuckDB file and to Parquet, atomically, one
month at a time.

DuckDB allows one read-write process per file and an open reader locks the writer out, so BI tools must
never open the working database. At the end of a successful run of a month the pipeline builds
``<publish_dir>/cadence_bi.duckdb.tmp`` (storage version v1.4.0, which DuckDB 1.4+ clients open) from the
previous publication with that month's rows replaced by the working database's, adds stable views in
schema ``bi`` and the tables' comments, detaches it and renames it over ``cadence_bi.duckdb``: a reader sees
the old file or the new one, never a mix (open connections keep their snapshot).

Why a month and not the whole warehouse: other months in the working database may be mid-run (two runs
interleave step by step in the DuckDB pool) or left half-built by a failed run; copying them would publish
a month whose tables come from different runs. So every month in the published file is exactly what its
last successful run wrote, and ``bi._months`` says which run that was. Tables without ``partition_month``
(catalogues) come from the publishing run. Parquet goes to a new versioned folder per publication, written
from the new file (partitioned by month), and the ``parquet`` symlink is swapped to it in one rename.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cadence.mapping import quote_ident, quote_literal

PUBLISHED_SCHEMAS = ("marts", "analytics", "guardrails", "cleaning", "experiments")
STORAGE_VERSION = "v1.4.0"
BI_FILE = "cadence_bi.duckdb"

#: Stable names for BI: bi.<name> -> <schema>.<table>. Internal tables may be renamed; these stay.
BI_VIEWS = {
    "lead_cadence": "marts.fct_lead_cadence",
    "segment_kpis": "marts.kpi_segments_monthly",
    "rep_kpis": "marts.kpi_reps_monthly",
    "funnel_stages": "marts.kpi_funnel_stages_monthly",
    "call_hours": "marts.kpi_call_hours_monthly",
    "guardrails_weekly": "marts.kpi_guardrails_weekly",
    "scoping_notes": "marts.fct_scoping_note_runs",
}


@dataclass
class Publication:
    duckdb_path: Path
    parquet_dir: Path
    tables: dict[str, int]
    views: list[str]
    seconds: float


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    marks = ", ".join("?" for _ in schemas)
    return con.execute(
        f"select schema_name, table_name, comment from duckdb_tables() where database_name = current_database() "
        f"and schema_name in ({marks}) and not starts_with(table_name, '_') order by 1, 2", list(schemas)
    ).fetchall()


def _columns(con, database: str, schema: str, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = ? and table_name = ? "
        "order by column_index", [database, schema, table]).fetchall()]


def publish(con: duckdb.DuckDBPyConnection, publish_dir: Path, *, month: str | None, run_id: str = "manual",
            schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> Publication:
    """Publish ``month`` ('YYYY-MM') of the published schemas of the working database (``con``): the previous
    publication with that month's rows replaced. ``month=None`` republishes every month from the working
    database (a first publication, or by hand after checking every month)."""
    started = time.perf_counter()
    publish_dir.mkdir(parents=True, exist_ok=True)
    final, tmp = publish_dir / BI_FILE, publish_dir / (BI_FILE + ".tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    tables = _tables(con, schemas)
    counts: dict[str, int] = {}
    keep_old = month is not None and final.exists()
    con.execute(f"attach {quote_literal(str(tmp))} as bi_pub (storage_version {quote_literal(STORAGE_VERSION)})")
    if keep_old:
        con.execute(f"attach {quote_literal(str(final))} as bi_old (read_only)")
    try:
        here = con.execute("select current_database()").fetchone()[0]
        for schema in sorted({t[0] for t in tables} | {"bi"}):
            con.execute(f"create schema if not exists bi_pub.{quote_ident(schema)}")
        for schema, table, comment in tables:
            src = f"{quote_ident(schema)}.{quote_ident(table)}"
            dst = f"bi_pub.{src}"
            columns = _columns(con, here, schema, table)
            monthly = "partition_month" in columns
            where = " where partition_month = ?" if monthly and month else ""
            con.execute(f"create table {dst} as select * from {src}{where}", [month] if where else [])
            old = _columns(con, "bi_old", schema, table) if keep_old and monthly else []
            if "partition_month" in old:  # every other month as its own last successful run published it
                common = ", ".join(quote_ident(c) for c in columns if c in old)
                con.execute(f"insert into {dst} by name select {common} from bi_old.{src} "
                            "where partition_month is distinct from ?", [month])
            counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {dst}").fetchone()[0]
            if comment:
                con.execute(f"comment on table {dst} is {quote_literal(comment)}")
            for column, col_comment in con.execute(
                "select column_name, comment from duckdb_columns() where database_name = current_database() "
                "and schema_name = ? and table_name = ? and comment is not null", [schema, table]).fetchall():
                con.execute(f"comment on column {dst}.{quote_ident(column)} is {quote_literal(col_comment)}")
        views = []
        for view, target in BI_VIEWS.items():
            if target in counts:
                schema, table = target.split(".")
                con.execute(f"create view bi_pub.bi.{quote_ident(view)} as select * from "
                            f"{quote_ident(schema)}.{quote_ident(table)}")
                views.append(f"bi.{view}")
        _record_months(con, month, run_id, keep_old, tables)
        con.execute("create table bi_pub.bi._publication as select ? as run_id, ? as partition_month, "
                    "now() as published_at, ? as tables", [run_id, month, len(counts)])
        parquet_dir = _publish_parquet(con, publish_dir, tables, run_id)
    finally:
        if keep_old:
            con.execute("detach bi_old")
        con.execute("detach bi_pub")
    os.replace(tmp, final)
    link = _swap_parquet(publish_dir, parquet_dir)
    return Publication(final, link, counts, views, time.perf_counter() - started)


def _record_months(con, month: str | None, run_id: str, keep_old: bool, tables) -> None:
    """bi._months: one row per published month, the run that built it and when it was published."""
    con.execute("create table bi_pub.bi._months (partition_month varchar, run_id varchar, published_at timestamp)")
    old = keep_old and con.execute("select count(*) from duckdb_tables() where database_name = 'bi_old' "
                                   "and schema_name = 'bi' and table_name = '_months'").fetchone()[0]
    if old:
        con.execute("insert into bi_pub.bi._months select * from bi_old.bi._months where partition_month <> ?",
                    [month])
    if month:
        con.execute("insert into bi_pub.bi._months values (?, ?, now())", [month, run_id])
        return
    monthly = [f"select distinct partition_month from {quote_ident(s)}.{quote_ident(t)}" for s, t, _ in tables
               if "partition_month" in _columns(con, con.execute("select current_database()").fetchone()[0], s, t)]
    if monthly:
        con.execute(f"insert into bi_pub.bi._months select partition_month, ?, now() from "
                    f"({' union '.join(monthly)}) where partition_month is not null", [run_id])


def _publish_parquet(con, publish_dir: Path, tables, run_id: str) -> Path:
    """Write every table of the new publication (attached as bi_pub) under a fresh versioned folder."""
    version = publish_dir / f"parquet.{time.strftime('%Y%m%dT%H%M%S')}.{run_id[:8]}"
    version.mkdir(parents=True)
    for schema, table, _ in tables:
        cols = set(_columns(con, "bi_pub", schema, table))
        target = version / schema / table
        target.parent.mkdir(parents=True, exist_ok=True)
        src = f"bi_pub.{quote_ident(schema)}.{quote_ident(table)}"
        empty = con.execute(f"select count(*) = 0 from {src}").fetchone()[0]
        if "partition_month" in cols and not empty:
            con.execute(f"copy (select * from {src}) to {quote_literal(str(target))} "
                        f"(format parquet, partition_by (partition_month), overwrite_or_ignore)")
        elif "partition_month" in cols:  # no month yet: one empty file with the schema, so readers get 0 rows
            target.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * from {src}) to {quote_literal(str(target / 'empty.parquet'))} "
                        f"(format parquet)")
        else:
            con.execute(f"copy (select * from {src}) to {quote_literal(str(target) + '.parquet')} (format parquet)")
    return version


def _swap_parquet(publish_dir: Path, version: Path) -> Path:
    """Point the `parquet` symlink at ``version`` in one rename; keep the previous version for open readers."""
    link, tmp_link = publish_dir / "parquet", publish_dir / "parquet.swap"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(version.name)
    os.replace(tmp_link, link)
    for old in publish_dir.glob("parquet.*"):  # keep the current and the previous version
        if old.is_dir() and not old.is_symlink() and old != version and old.name != _previous(publish_dir, version):
            shutil.rmtree(old, ignore_errors=True)
    return link


def _previous(publish_dir: Path, current: Path) -> str | None:
    versions = sorted(p.name for p in publish_dir.glob("parquet.2*") if p.is_dir() and p != current)
    return versions[-1] if versions else None
