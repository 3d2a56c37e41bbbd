"""The unexpected-rows queries of the suites (DuckDB SQL over ``{batch}``, GE's placeholder for the rows
being validated). Each returns the offending rows with their file and row, so a result carries a sample."""

from __future__ import annotations

from dataclasses import dataclass, field

from cadence.contract import ENTITIES, Entity
from quality.sql import (
    Thresholds,
    extracted_at,
    has_offset,
    ident,
    instant,
    month_bounds,
    month_leads,
    month_literal,
    previous_month,
    raw_batch,
    valid_zone,
    written_offset_minutes,
)

LINEAGE = "_source_file, _source_row"


@dataclass(frozen=True)
class TableRules:
    daily: str | None = None                       # timestamp expected on every day of the month
    future: tuple[str, ...] = ()                   # event timestamps that cannot be after the export
    before_creation: tuple[str, ...] = ()          # timestamps that cannot precede the lead's creation
    non_negative: tuple[str, ...] = ()
    value_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    bounded: tuple[str, int, int] | None = None


_SETS = {e.name: e.value_sets for e in ENTITIES}  # the contract's coded columns (cadence/contract.py)
TABLE_RULES: dict[str, TableRules] = {
    "leads": TableRules(daily="created_at", future=("created_at", "opted_out_at", "sql_at"),
                        value_sets=_SETS["leads"], bounded=("lead_score", 0, 100)),
    "opportunities": TableRules(future=("created_at", "closed_at"), before_creation=("created_at",),
                                non_negative=("amount",), value_sets=_SETS["opportunities"]),
    "calls": TableRules(future=("started_at",), before_creation=("started_at",),
                        non_negative=("duration_seconds",), value_sets=_SETS["calls"]),
    "email_events": TableRules(future=("event_at",), before_creation=("event_at",),
                               value_sets=_SETS["email_events"]),
    "meetings": TableRules(future=("booked_at",), before_creation=("booked_at", "scheduled_at"),
                           non_negative=("duration_minutes",), value_sets=_SETS["meetings"]),
}
assert set(TABLE_RULES) == {e.name for e in ENTITIES}


def load_log_mismatch(ent: Entity, month: str) -> str:
    m = month_literal(month)
    log = f"_partition_month = {m} and source = '{ent.source}' and entity = '{ent.name}'"
    return (f"select loads._source_file, loads.rows_loaded, coalesce(found.n, 0) as rows_in_table, "
            f"loads.rows_rejected, coalesce(rejects.n, 0) as rejects_logged from raw._loads as loads "
            f"left join (select _source_file, count(*) as n from {{batch}} group by 1) as found "
            f"on found._source_file = loads._source_file "
            f"left join (select _source_file, count(*) as n from raw._load_rejects where {log} group by 1) as rejects "
            f"on rejects._source_file = loads._source_file "
            f"where loads.{log} and (coalesce(found.n, 0) <> loads.rows_loaded "
            f"or coalesce(rejects.n, 0) <> loads.rows_rejected) "
            f"union all select _source_file, null, count(*), null, null from {{batch}} "
            f"where _source_file not in (select _source_file from raw._loads where {log}) group by 1")


def row_count_vs_previous(ent: Entity, month: str, t: Thresholds) -> str:
    prev = month_literal(previous_month(month))
    return (f"select current_rows, previous_rows from (select count(*) as current_rows from {{batch}}) "
            f"cross join (select count(*) as previous_rows from raw.{ident(ent.table)} "
            f"where _partition_month = {prev}) where previous_rows > 0 and "
            f"(current_rows < {float(t.row_count_min_ratio)} * previous_rows "
            f"or current_rows > {float(t.row_count_max_ratio)} * previous_rows)")


def missing_days(col: str, month: str) -> str:
    """Days of the month (UTC dates) without a single row. Used for the leads' creation only: touches
    are legitimately sparse on a cohort's first days and at weekends."""
    start, end = month_bounds(month)
    return (f"select cast(day as date) as missing_day from generate_series(date '{start}', "
            f"date '{end}' - interval 1 day, interval 1 day) as days(day) where cast(day as date) not in "
            f"(select cast(timezone('UTC', {instant(col)}) as date) from {{batch}} where {instant(col)} is not null)")


def _outside_month(month: str) -> str:
    """Leads created in another month, by UTC date and by local date (the cleaning's outside_month)."""
    created, m = instant("created_at"), month_literal(month)
    zone = f"(case when {valid_zone('lead_timezone')} then lead_timezone end)"
    return (f"({created} is not null and strftime(timezone('UTC', {created}), '%Y-%m') <> {m} "
            f"and ({zone} is null or strftime(timezone({zone}, {created}), '%Y-%m') <> {m}))")


def leads_outside_month(month: str) -> str:
    return f"select {LINEAGE}, lead_id, created_at from {{batch}} where {_outside_month(month)}"


def month_of_another_month(month: str) -> str:
    """One row when most leads were created in another month: another month's export in this folder."""
    return (f"select count(*) filter (where {_outside_month(month)}) as leads_outside_month, count(*) as leads, "
            f"mode(left(created_at, 7)) as mostly_created_in from {{batch}} "
            f"having count(*) filter (where {_outside_month(month)}) * 2 > count(*)")


def tz_naive(key: str, col: str) -> str:
    c = ident(col)
    return (f"select {LINEAGE}, {ident(key)}, {c} from {{batch}} where {c} is not null "
            f"and not {has_offset(c)} and try_cast({c} as timestamp) is not null")


def not_a_timestamp(key: str, col: str) -> str:
    c = ident(col)
    return (f"select {LINEAGE}, {ident(key)}, {c} from {{batch}} where {c} is not null and "
            f"(case when {has_offset(c)} then try_cast({c} as timestamptz) is null "
            f"else try_cast({c} as timestamp) is null end)")


def _batch_with_leads(month: str) -> str:
    """The batch's rows (alias b) joined to their lead of the month (alias l: zone, created)."""
    return f"(select * from {{batch}}) as b inner join ({month_leads(month)}) as l on b.lead_id = l.lead_id"


def _with_zone(ent: Entity, month: str) -> tuple[str, str, str]:
    """(from clause, zone column, creation column) for the rows of ``ent`` joined to their lead."""
    if ent.name == "leads":
        zone = f"(case when {valid_zone('b.lead_timezone')} then b.lead_timezone end)"
        return "(select * from {batch}) as b", zone, instant("created_at")
    return _batch_with_leads(month), "l.zone", "l.created"


def _zoned_rows(ent: Entity, col: str, month: str) -> str:
    """CTEs `zoned` (the rows with their lead's zone and the instant of ``col``) and `offsets` (each zone's
    UTC offset per 15-minute bucket). IANA transitions fall on quarter hours (UTC), so a bucket's offset
    is every instant's in it; converting the few thousand distinct buckets instead of every row is what
    keeps the time-zone checks fast at 10 M rows."""
    src, zone, _ = _with_zone(ent, month)
    bucket = "time_bucket(interval '15 minutes', timezone('UTC', checked_instant))"
    return (f"with zoned as (select b.*, {zone} as zone, {instant(col)} as checked_instant from {src}), "
            f"offsets as (select zone, bucket, cast(round((epoch(timezone(zone, timezone('UTC', bucket))) "
            f"- epoch(timezone('UTC', bucket))) / 60) as integer) as zone_offset from (select distinct zone, "
            f"{bucket} as bucket from zoned where zone is not null and checked_instant is not null)), "
            f"located as (select zoned.*, offsets.zone_offset from zoned inner join offsets "
            f"on zoned.zone = offsets.zone and {bucket} = offsets.bucket) ")


def wrong_offset(ent: Entity, col: str, month: str) -> str:
    c = ident(col)
    written = written_offset_minutes(c)
    return (_zoned_rows(ent, c, month)
            + f"select _source_file, _source_row, {ident(ent.key)}, {c}, zone, {written} as written_offset_minutes, "
            f"zone_offset as zone_offset_minutes from located "
            f"where not regexp_matches({c}, '[Zz]$') and {written} <> zone_offset")


def unknown_zone() -> str:
    return (f"select {LINEAGE}, lead_id, lead_timezone from {{batch}} "
            f"where lead_timezone is not null and not {valid_zone('lead_timezone')}")


def future(ent: Entity, col: str, month: str) -> str:
    """Rows dated after their file was exported (its `_extract.yml`, else its load time)."""
    c = ident(col)
    return (f"select _source_file, _source_row, {ident(ent.key)}, {c}, extracted_at from (select b.*, x.extracted_at "
            f"from (select * from {{batch}}) as b inner join ({extracted_at(ent.table, month)}) as x "
            f"on b._source_file = x._source_file) where timezone('UTC', {instant(c)}) > extracted_at")


def before_creation(key: str, col: str, month: str) -> str:
    c = ident(col)
    return (f"select b._source_file, b._source_row, b.{ident(key)}, b.lead_id, b.{c}, l.created as lead_created "
            f"from {_batch_with_leads(month)} "
            f"where {instant(c)} < l.created")


def repeated_key(key: str) -> str:
    """Rows repeating an earlier row's key. Ranked only among the keys seen more than once (a narrow
    aggregate finds those few first), not over every row of the month."""
    k = ident(key)
    return (f"select {LINEAGE}, {k} from (select *, row_number() over (partition by {k} "
            f"order by _source_file, _source_row) as k_rank from {{batch}} where {k} in "
            f"(select {k} from {{batch}} where {k} is not null group by {k} having count(*) > 1)) where k_rank > 1")


def exact_duplicates(ent: Entity) -> str:
    """Rows repeating an earlier row entirely. Candidates first: rows whose 64-bit hash of all columns
    is seen more than once (a hash collision only adds a candidate); the exact ranking then runs on
    those few rows, on the columns themselves."""
    cols = ", ".join(ident(c) for c in ent.columns)
    return (f"select {LINEAGE}, {ident(ent.key)} from (select *, row_number() over (partition by {cols} "
            f"order by _source_file, _source_row) as p_rank from {{batch}} where hash({cols}) in "
            f"(select hash({cols}) from {{batch}} group by 1 having count(*) > 1)) where p_rank > 1")


def unknown_lead(key: str, month: str) -> str:
    return (f"select {LINEAGE}, {ident(key)}, lead_id from {{batch}} where lead_id is not null and lead_id not in "
            f"(select lead_id from raw.crm__leads where _partition_month = {month_literal(month)} "
            f"and lead_id is not null)")


def missing(key: str, col: str) -> str:
    c = ident(col)
    return f"select {LINEAGE}, {ident(key)} from {{batch}} where {c} is null"


def not_in_set(key: str, col: str, values: tuple[str, ...]) -> str:
    c = ident(col)
    allowed = ", ".join("'" + ident(v.lower()) + "'" for v in values)
    return (f"select {LINEAGE}, {ident(key)}, {c} from {{batch}} "
            f"where {c} is not null and lower(trim({c})) not in ({allowed})")


def not_a_number(key: str, col: str) -> str:
    c = ident(col)
    return (f"select {LINEAGE}, {ident(key)}, {c} from {{batch}} "
            f"where {c} is not null and try_cast({c} as double) is null")


def negative(key: str, col: str) -> str:
    c = ident(col)
    return f"select {LINEAGE}, {ident(key)}, {c} from {{batch}} where try_cast({c} as double) < 0"


def out_of_bounds(key: str, col: str, lo: int, hi: int) -> str:
    c = ident(col)
    return (f"select {LINEAGE}, {ident(key)}, {c} from {{batch}} "
            f"where try_cast({c} as double) < {int(lo)} or try_cast({c} as double) > {int(hi)}")


def call_bursts(month: str, t: Thresholds) -> str:
    calls = next(e for e in ENTITIES if e.name == "calls")
    local_day = "cast(timezone('UTC', checked_instant) + to_minutes(zone_offset) as date)"
    return (_zoned_rows(calls, "started_at", month)
            + f"select _source_file, _source_row, call_id, lead_id, local_day, calls_that_day from ("
            f"select *, {local_day} as local_day, count(*) over (partition by lead_id, {local_day}) "
            f"as calls_that_day from located) where calls_that_day > {int(t.burst_calls_per_lead_day)}")


# --- on the cleaned (staging, kept) rows ------------------------------------------------------------

def _kept_leads(month: str) -> str:
    return (f"select lead_id, created_at from staging.stg_crm__leads "
            f"where partition_month = {month_literal(month)} and is_kept")


def clean_unknown_lead(month: str) -> str:
    return (f"select {LINEAGE}, lead_id from {{batch}} where lead_id not in "
            f"(select lead_id from ({_kept_leads(month)}))")


def clean_before_creation(key: str, col: str, month: str) -> str:
    c = ident(col)
    return (f"select b._source_file, b._source_row, b.{ident(key)}, b.{c}, l.created_at "
            f"from (select * from {{batch}}) as b inner join ({_kept_leads(month)}) as l "
            f"on b.lead_id = l.lead_id where b.{c} < l.created_at")


def clean_call_bursts(month: str, t: Thresholds) -> str:
    return (f"select lead_id, local_day, count(*) as calls from (select b.lead_id, cast(timezone(l.lead_timezone, "
            f"timezone('UTC', b.started_at)) as date) as local_day from (select * from {{batch}}) as b inner join "
            f"staging.stg_crm__leads as l on b.lead_id = l.lead_id and l.partition_month = {month_literal(month)} "
            f"and l.is_kept) group by all having count(*) > {int(t.burst_calls_per_lead_day)}")


def accounting_missing() -> str:
    return "select table_name, files, raw_rows from {batch} where is_required and not is_present"


def accounting_unbalanced() -> str:
    return "select * exclude (partition_month) from {batch} where not is_balanced"


def mart_fan_out(month: str) -> str:
    return (f"select coalesce(m.lead_id, k.lead_id) as lead_id, m.lead_id is null as missing_from_mart "
            f"from (select * from {{batch}}) as m full outer join ({_kept_leads(month)}) as k on m.lead_id = k.lead_id "
            f"where m.lead_id is null or k.lead_id is null")


__all__ = ["TABLE_RULES", "raw_batch"]
