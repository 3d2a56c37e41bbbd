"""Writing the ``guardrails`` schema: one month replaced at a time, never the other months.

Tables are created on first write from the rows' own columns; if a code change alters the columns, the
table is rebuilt (other months are recomputed by re-running them). The caller owns the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from cadence.mapping import quote_ident, quote_literal

SCHEMA = "guardrails"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]


def _swap_in(con: duckdb.DuckDBPyConnection, table: str, staged: str, month: str, comment: str) -> int:
    target = f"{SCHEMA}.{quote_ident(table)}"
    con.execute(f"create schema if not exists {SCHEMA}")
    exists = con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                         [SCHEMA, table]).fetchone()[0]
    if exists and _columns(con, target) != _columns(con, staged):
        con.execute(f"drop table {target}")
        exists = 0
    if not exists:
        con.execute(f"create table {target} as select * from {staged} limit 0")
    con.execute(f"comment on table {target} is {quote_literal(comment)}")
    con.execute(f"delete from {target} where partition_month = ?", [month])
    con.execute(f"insert into {target} by name select * from {staged}")
    rows = con.execute(f"select count(*) from {staged}").fetchone()[0]
    con.execute(f"drop table {staged}")
    return rows


def replace_month_from_sql(con: duckdb.DuckDBPyConnection, table: str, select_sql: str,
                           params: Mapping[str, Any], month: str, comment: str) -> int:
    """Replace ``month``'s rows of ``guardrails.<table>`` with the rows of a query; returns their count."""
    staged = quote_ident(f"_staged_{table}")
    con.execute(f"create or replace temp table {staged} as {select_sql}", dict(params))
    return _swap_in(con, table, staged, month, comment)


def replace_month_from_rows(con: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Mapping[str, Any]],
                            columns: Mapping[str, str], month: str, comment: str) -> int:
    """Replace ``month``'s rows of ``guardrails.<table>`` with Python rows (``columns``: name -> SQL type;
    lists and dicts are stored as JSON text)."""
    staged = quote_ident(f"_staged_{table}")
    ddl = ", ".join(f"{quote_ident(name)} {kind}" for name, kind in columns.items())
    con.execute(f"create or replace temp table {staged} ({ddl})")
    if rows:
        marks = ", ".join("?" for _ in columns)
        con.executemany(f"insert into {staged} values ({marks})", [
            [json.dumps(row.get(c)) if isinstance(row.get(c), list | dict) else row.get(c) for c in columns]
            for row in rows
        ])
    return _swap_in(con, table, staged, month, comment)


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Run a query with named parameters; rows as dicts."""
    cursor = con.execute(sql, dict(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
