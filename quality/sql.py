"""SQL builders for the quality suites (pure functions, DuckDB SQL, no GE, no Dagster).

Raw tables hold text exactly as received, so every check parses what it needs itself: this is an
implementation independent from dbt staging's (macros/cleaning.sql), and tests compare the two.
Only constants of the contract and a validated month are ever put into SQL text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
# no `{n}` quantifier: GE formats unexpected-rows queries with str.format (braces are placeholders)
OFFSET_RE = r"(Z|[+-][0-9][0-9](:?[0-9][0-9])?)$"


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of the quality gates. The cleaning ones come from the scoping note (`from_note`), the
    one source dbt reads them from too; the others are the gates' own."""

    row_count_min_ratio: float = 0.5       # this month's rows / previous month's rows, lower bound
    row_count_max_ratio: float = 2.0       # ... upper bound
    burst_calls_per_lead_day: int = 50     # more calls to one lead in one local day = an entry error
    max_top_outliers: int = 5

    @classmethod
    def from_note(cls, note) -> Thresholds:
        """The gates' thresholds for a scoping note (cadence.scoping.ScopingNote)."""
        return cls(burst_calls_per_lead_day=int(note["cleaning"]["burst_calls_per_lead_day"]))


def month_literal(month: str) -> str:
    """'2026-10' -> "'2026-10'" after checking it really is a month (the only value put into SQL)."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    return f"'{month}'"


def ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not a plain identifier")
    return name


def previous_month(month: str) -> str:
    month_literal(month)
    y, m = (int(x) for x in month.split("-"))
    return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    month_literal(month)
    y, m = (int(x) for x in month.split("-"))
    return date(y, m, 1), date(y + (m == 12), m % 12 + 1, 1)


def extracted_at(table: str, month: str) -> str:
    """The export time of each file of a raw table's month (`_source_file`, `extracted_at`): its
    `_extract.yml` instant, else its load time (macros/cleaning.sql: source_rows)."""
    source, entity = ident(table).split("__")
    return (f"select _source_file, coalesce(max(exported_at), max(_loaded_at)) as extracted_at from raw._loads "
            f"where _partition_month = {month_literal(month)} and source = '{source}' and entity = '{entity}' "
            f"group by _source_file")


def has_offset(col: str) -> str:
    return f"regexp_matches({ident(col)}, '{OFFSET_RE}')"


def instant(col: str) -> str:
    """The UTC instant of an ISO text with an offset (NULL for naive or garbage text)."""
    return f"(case when {has_offset(col)} then try_cast({ident(col)} as timestamptz) end)"


def written_offset_minutes(col: str) -> str:
    wall = f"try_cast(regexp_replace({ident(col)}, '{OFFSET_RE}', '') as timestamp)"
    return f"cast(round((epoch({wall}) - epoch({instant(col)})) / 60) as integer)"


def valid_zone(zone: str) -> str:
    return f"{zone} in (select name from pg_timezone_names())"


def raw_batch(table: str, month: str) -> str:
    """The rows a raw suite validates: one month of one raw table."""
    return f"select * from raw.{ident(table)} where _partition_month = {month_literal(month)}"


def month_leads(month: str) -> str:
    """The raw leads of the month, one row per lead_id (valid zone only; creation as an instant)."""
    return (f"select lead_id, min(case when {valid_zone('lead_timezone')} then lead_timezone end) as zone, "
            f"min({instant('created_at')}) as created from raw.crm__leads "
            f"where _partition_month = {month_literal(month)} and lead_id is not null group by lead_id")
