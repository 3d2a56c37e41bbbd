"""Reading and writing the `analytics` schema: one month replaced atomically across an asset's tables."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

SCHEMA = "analytics"
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
NUMERIC = {"integer", "floating", "mixed-integer-float", "decimal", "empty"}


def _table(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"bad table name {name!r}")
    return f"{SCHEMA}.{name}"


def _prepared(df: pd.DataFrame, month: str, version: str) -> pd.DataFrame:
    """partition_month first, scoping_note_version last; numbers-or-None object columns as floats."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and pd.api.types.infer_dtype(out[col], skipna=True) in NUMERIC:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    out.insert(0, "partition_month", month)
    out["scoping_note_version"] = version
    return out


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ?",
        [SCHEMA, name],
    ).fetchall()
    return dict(rows)


def write_month(
    con: duckdb.DuckDBPyConnection, month: str, version: str, tables: dict[str, pd.DataFrame]
) -> dict[str, int]:
    """Replace `month` in every table of `tables` in one transaction (created on first write; columns a
    newer version adds are added). Returns rows written per table. A failure changes nothing."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute("begin transaction")
    try:
        written = {}
        for name, df in tables.items():
            target, existing = _table(name), _columns(con, name)
            if existing:
                con.execute(f"delete from {target} where partition_month = ?", [month])
            if df.columns.empty:
                written[name] = 0
                continue
            frame = _prepared(df, month, version)
            con.register("_analytics_frame", frame)
            if not existing:
                con.execute(f"create table {target} as select * from _analytics_frame")
            else:
                new = con.execute("describe select * from _analytics_frame").fetchall()
                for col, dtype, *_ in new:
                    if col not in existing:
                        con.execute(f'alter table {target} add column "{col}" {dtype}')
                con.execute(f"insert into {target} by name select * from _analytics_frame")
            con.unregister("_analytics_frame")
            written[name] = len(frame)
        con.execute("commit")
        return written
    except Exception:
        con.execute("rollback")
        raise


def read_month(con: duckdb.DuckDBPyConnection, name: str, month: str) -> pd.DataFrame:
    """One month of an analytics table, without the bookkeeping columns."""
    df = con.execute(f"select * from {_table(name)} where partition_month = ?", [month]).df()
    df = df.drop(columns=["partition_month", "scoping_note_version"])
    # plain object columns: the estimators loop over small groups, and slicing Arrow strings is slow there
    return df.astype({c: object for c in df.columns if pd.api.types.is_string_dtype(df[c])})


def read_optional(con: duckdb.DuckDBPyConnection, table: str, month: str, columns: str = "*") -> pd.DataFrame:
    """One month of `table` (another team's, or an earlier month of ours); an empty frame with `columns`
    when the table does not exist yet, so a step degrades to "not available" instead of failing."""
    try:
        return con.execute(f"select {columns} from {table} where partition_month = ?", [month]).df()
    except duckdb.CatalogException:
        return pd.DataFrame(columns=[] if columns == "*" else [c.strip() for c in columns.split(",")])
