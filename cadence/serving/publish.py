"""Publish the warehouse's BI tables to a separate, read-only DuckDB file and to Parquet, atomically.

DuckDB allows one read-write process per file and an open reader locks the writer out, so BI tools must
never open the working database. After a successful month the pipeline copies every table of the
published schemas into ``<publish_dir>/cadence_bi.duckdb.tmp`` (storage version v1.4.0, which DuckDB 1.4+
clients open), adds stable views in schema ``bi`` and the tables' comments, detaches it and renames it
over ``cadence_bi.duckdb``: a reader sees the old file or the new one, never a mix (open connections
keep their snapshot). Parquet goes to a new versioned folder per publication, partitioned by month, and
the ``parquet`` symlink is swapped to it in one rename.
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


def publish(con: duckdb.DuckDBPyConnection, publish_dir: Path, *, run_id: str = "manual",
            schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> Publication:
    """Copy the published schemas of the working database (``con``) to the BI file and Parquet."""
    started = time.perf_counter()
    publish_dir.mkdir(parents=True, exist_ok=True)
    final, tmp = publish_dir / BI_FILE, publish_dir / (BI_FILE + ".tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    tables = _tables(con, schemas)
    counts: dict[str, int] = {}
    con.execute(f"attach {quote_literal(str(tmp))} as bi_pub (storage_version {quote_literal(STORAGE_VERSION)})")
    try:
        for schema in sorted({t[0] for t in tables} | {"bi"}):
            con.execute(f"create schema if not exists bi_pub.{quote_ident(schema)}")
        for schema, table, comment in tables:
            src = f"{quote_ident(schema)}.{quote_ident(table)}"
            dst = f"bi_pub.{src}"
            con.execute(f"create table {dst} as select * from {src}")
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
        con.execute("create table bi_pub.bi._publication as select ? as run_id, now() as published_at, ? as tables",
                    [run_id, len(counts)])
    finally:
        con.execute("detach bi_pub")
    os.replace(tmp, final)
    parquet_dir = _publish_parquet(con, publish_dir, tables, run_id)
    return Publication(final, parquet_dir, counts, views, time.perf_counter() - started)


def _publish_parquet(con, publish_dir: Path, tables, run_id: str) -> Path:
    """Write every table under a fresh versioned folder, then swap the `parquet` symlink to it."""
    version = publish_dir / f"parquet.{time.strftime('%Y%m%dT%H%M%S')}.{run_id[:8]}"
    version.mkdir(parents=True)
    for schema, table, _ in tables:
        cols = {r[0] for r in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ?", [schema, table]).fetchall()}
        target = version / schema / table
        target.parent.mkdir(parents=True, exist_ok=True)
        src = f"{quote_ident(schema)}.{quote_ident(table)}"
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
