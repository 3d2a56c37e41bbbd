"""DuckDB access of the experiments: leads from the marts in, tables of schema ``experiments`` out.

Every table has a ``partition_month`` column; writing one month replaces that month's rows only (delete +
insert in the caller's transaction), from a DataFrame cast to the table's declared column types. If a code
change alters a table's columns, the table is rebuilt empty first (re-run the other months).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb
import pandas as pd

from cadence.mapping import quote_ident, quote_literal

SCHEMA = "experiments"
#: Lead columns of marts.fct_lead_cadence the experiments read (flags and counts coalesced).
LEAD_SQL = """
select
    lead_id, partition_month, cast(epoch(created_at) as bigint) as created_epoch, created_at, channel,
    company_size, funnel_phase, team, rep_id,
    coalesce(is_vip, false) as is_vip, coalesce(is_dispute, false) as is_dispute,
    coalesce(is_hot_lead, false) as is_hot_lead, coalesce(is_window_complete, false) as is_window_complete,
    coalesce(is_converted, false) as is_converted, coalesce(meetings_held, 0) as meetings_held, ttf_hours,
    coalesce(touches_in_window, 0) as touches_in_window, coalesce(emails_sent, 0) as emails_sent,
    coalesce(emails_delivered, 0) as emails_delivered, coalesce(emails_complained, 0) as emails_complained,
    coalesce(emails_unsubscribed, 0) as emails_unsubscribed, coalesce(emails_bounced, 0) as emails_bounced
from marts.fct_lead_cadence
where partition_month between $first and $last
order by partition_month, lead_id
"""


def fetch_leads(con: duckdb.DuckDBPyConnection, first_month: str, last_month: str) -> pd.DataFrame:
    """Leads of the cohort months [first_month, last_month] (one row per lead)."""
    return con.execute(LEAD_SQL, {"first": first_month, "last": last_month}).df()


def months_present(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Cohort months that marts.fct_lead_cadence holds."""
    return {r[0] for r in con.execute("select distinct partition_month from marts.fct_lead_cadence").fetchall()}


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All the month's tables of an asset change together or not at all."""
    con.execute("begin")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def replace_month(
    con: duckdb.DuckDBPyConnection,
    table: str,
    month: str,
    frame: pd.DataFrame,
    columns: Mapping[str, str],
    comment: str,
) -> int:
    """Replace ``month``'s rows of ``experiments.<table>`` with ``frame`` (columns: name -> SQL type)."""
    target = f"{SCHEMA}.{quote_ident(table)}"
    ddl = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns.items())
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(f"create or replace temp table _exp_staged ({ddl})")
    if len(frame):
        con.register("_exp_incoming", frame.reindex(columns=list(columns)))  # absent columns are NULL
        try:
            con.execute("insert into _exp_staged by name select * from _exp_incoming")
        finally:
            con.unregister("_exp_incoming")
    have = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = "
        "current_database() and schema_name = ? and table_name = ? order by column_index",
        [SCHEMA, table],
    ).fetchall()
    wanted = con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = 'temp' "
        "and table_name = '_exp_staged' order by column_index"
    ).fetchall()
    if have and have != wanted:
        con.execute(f"drop table {target}")
    if not have or have != wanted:
        con.execute(f"create table {target} ({ddl})")
    con.execute(f"comment on table {target} is {quote_literal(comment)}")
    con.execute(f"delete from {target} where partition_month = ?", [month])
    con.execute(f"insert into {target} by name select * from _exp_staged")
    con.execute("drop table _exp_staged")
    return len(frame)


def read_month(con: duckdb.DuckDBPyConnection, table: str, month: str) -> pd.DataFrame:
    """``month``'s rows of ``experiments.<table>`` (empty when the table does not exist yet)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [SCHEMA, table]
    ).fetchone()[0]
    if not exists:
        return pd.DataFrame()
    return con.execute(f"select * from {SCHEMA}.{quote_ident(table)} where partition_month = ?", [month]).df()
