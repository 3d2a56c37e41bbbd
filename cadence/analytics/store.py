"""Reading and writing the `analytics` schema: one month replaced atomically across an asset's tables.

Every table is created from its declared columns (cadence/analytics/columns.py), whether the month's
frame has rows or not: a step that finds nothing (no cluster, no Simpson warning) still writes its table,
so the next step reads an empty table instead of failing on a missing one."""

from __future__ import annotations

import re

import duckdb
import pandas as pd

from cadence.analytics.columns import COLUMNS

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


def _quoted(column: str) -> str:
    if not _NAME.match(column):
        raise ValueError(f"bad column name {column!r}")
    return f'"{column}"'


def declared(name: str) -> dict[str, str]:
    """The table's columns and SQL types, bookkeeping columns included."""
    if name not in COLUMNS:
        raise ValueError(f"analytics.{name} has no declared columns (cadence/analytics/columns.py)")
    return {"partition_month": "varchar", **COLUMNS[name], "scoping_note_version": "varchar"}


def _ensure(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Create the table from its declaration, or bring an older one to it: declared columns it lacks are
    added, a column whose type changed (e.g. FLOAT -> DOUBLE) is altered; other months' rows are kept."""
    target, existing, columns = _table(name), _columns(con, name), declared(name)
    if not existing:
        con.execute(f"create table {target} ({', '.join(f'{_quoted(c)} {t}' for c, t in columns.items())})")
        return
    for col, kind in columns.items():
        if col not in existing:
            con.execute(f"alter table {target} add column {_quoted(col)} {kind}")
        elif existing[col] != kind.upper():
            con.execute(f"alter table {target} alter column {_quoted(col)} set data type {kind}")


def write_month(
    con: duckdb.DuckDBPyConnection, month: str, version: str, tables: dict[str, pd.DataFrame]
) -> dict[str, int]:
    """Replace `month` in every table of `tables` in one transaction (each table created from its declared
    columns, empty frame or not; a declared column a frame lacks is NULL, a column not declared is an
    error). Returns rows written per table. A failure changes nothing."""
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute("begin transaction")
    try:
        written = {}
        for name, df in tables.items():
            _ensure(con, name)
            undeclared = sorted(set(df.columns) - set(COLUMNS[name]))
            if undeclared:
                raise ValueError(f"analytics.{name}: columns {undeclared} are not declared in columns.py")
            con.execute(f"delete from {_table(name)} where partition_month = ?", [month])
            written[name] = len(df)
            if not len(df):
                continue
            con.register("_analytics_frame", _prepared(df, month, version))
            con.execute(f"insert into {_table(name)} by name select * from _analytics_frame")
            con.unregister("_analytics_frame")
        con.execute("commit")
        return written
    except Exception:
        con.execute("rollback")
        raise


def empty(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """A frame with the table's declared columns and types, and no row."""
    cols = ", ".join(f"null::{t} as {_quoted(c)}" for c, t in declared(name).items())
    return con.execute(f"select {cols} limit 0").df()


def read_month(con: duckdb.DuckDBPyConnection, name: str, month: str) -> pd.DataFrame:
    """One month of an analytics table, without the bookkeeping columns. A table no step has written yet
    (a subset run on a fresh warehouse) reads as an empty month with the declared columns."""
    try:
        df = con.execute(f"select * from {_table(name)} where partition_month = ?", [month]).df()
    except duckdb.CatalogException:
        df = empty(con, name)
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
