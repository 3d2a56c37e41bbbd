"""The guardrail audit of one month, table by table (each function is what one Dagster asset does).

Reads the dbt models (``intermediate.int_touches_sequenced``, ``marts.fct_lead_cadence``,
``marts.kpi_guardrails_weekly``, ``marts.kpi_segments_monthly``), writes schema ``guardrails``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from cadence.guardrails import breaches as B
from cadence.guardrails.kpis import KPI_SQL, REP_CONTRIBUTORS_SQL, evaluate_kpis, previous_month
from cadence.guardrails.rates import WEEKLY_COUNTS_SQL, contributors_sql, evaluate_weekly_rates
from cadence.guardrails.rules import RULE_SPECS, GuardrailConfig
from cadence.guardrails.store import fetch_dicts, replace_month_from_rows, replace_month_from_sql
from cadence.guardrails.touch_sql import (
    LEAD_VIOLATIONS_SQL,
    TOUCH_VIOLATIONS_SQL,
    VIOLATION_COUNTS_SQL,
    touch_params,
)
from cadence.segments import CUBE

SEGMENT = {"segment_level": "varchar", "segment_key": "varchar", **{c: "varchar" for c in CUBE}}
WEEKLY_RATES_COLUMNS = {
    "partition_month": "varchar", "iso_week": "varchar", "week_start_date": "date", **SEGMENT,
    "rule_id": "varchar", "events": "bigint", "base": "bigint", "base_measure": "varchar", "rate": "double",
    "threshold": "double", "p_value": "double", "is_breach": "boolean", "severity": "varchar",
}
KPI_CHANGES_COLUMNS = {
    "partition_month": "varchar", "previous_month": "varchar", **SEGMENT, "rule_id": "varchar",
    "kpi": "varchar", "value": "double", "previous_value": "double", "relative_change": "double",
    "max_drop": "double", "is_breach": "boolean", "leads": "bigint", "previous_leads": "bigint",
    "severity": "varchar",
}
BREACHES_COLUMNS = {
    "breach_id": "varchar", "partition_month": "varchar", "stream": "varchar", "rule_id": "varchar",
    "family": "varchar", "title": "varchar", "severity": "varchar", "iso_week": "varchar",
    "segment_level": "varchar", "segment_key": "varchar", "comparison": "varchar", "observed": "double",
    "threshold": "double", "events": "double", "base": "bigint", "p_value": "double", "leads": "bigint",
    "top_reps": "varchar", "top_campaigns": "varchar", "top_segments": "varchar", "action": "varchar",
    "note_version": "varchar", "run_id": "varchar", "detected_at": "timestamp",
}
RULES_COLUMNS = {
    "partition_month": "varchar", "rule_id": "varchar", "family": "varchar", "stream": "varchar",
    "title": "varchar", "severity": "varchar", "action": "varchar", "threshold": "double",
    "note_version": "varchar",
}
COMMENTS = {
    "touch_violations": "Grain: one row per rep touch and broken touch rule (opt-out, cool-down, daily caps, "
                        "Enterprise 48 h cap, calling hours, VIP/dispute channel) of the cohort month.",
    "lead_violations": "Grain: one row per month, touch rule and lead: violations, reps, first and last.",
    "violation_counts": "Grain: one row per month, touch rule, ISO week, segment and rep: violations, leads.",
    "weekly_rates": "Grain: one row per month, ISO week, segment (guardrails.rate_segment_level) and rate rule "
                    "(complaint, unsubscribe, bounce): rate, threshold, one-sided p-value, verdict.",
    "kpi_changes": "Grain: one row per month, segment (guardrails.kpi_segment_level) and KPI rule: value, "
                   "previous month's value, relative change, allowed drop, verdict.",
    "breaches": "Grain: one row per breach (rule, month, week, segment): the alert outbox; breach_id is "
                "deterministic, so reruns keep the ids and alerts go out once.",
    "rule_catalogue": "Grain: one row per month and guardrail rule: severity, corrective action, threshold.",
}


def write_touch_violations(con: duckdb.DuckDBPyConnection, month: str, config: GuardrailConfig) -> dict[str, int]:
    """touch_violations, lead_violations, violation_counts for ``month``; returns violations per rule."""
    params = touch_params(config, month, previous_month(month))
    replace_month_from_sql(con, "touch_violations", TOUCH_VIOLATIONS_SQL, params, month,
                           COMMENTS["touch_violations"])
    for table, sql in (("lead_violations", LEAD_VIOLATIONS_SQL), ("violation_counts", VIOLATION_COUNTS_SQL)):
        replace_month_from_sql(con, table, sql, {"month": month}, month, COMMENTS[table])
    counts = dict(con.execute("select rule_id, count(*) from guardrails.touch_violations where partition_month = ? "
                              "group by 1", [month]).fetchall())
    return {spec.rule_id: counts.get(spec.rule_id, 0) for spec in config.rules("touch")}


def write_weekly_rates(con: duckdb.DuckDBPyConnection, month: str, config: GuardrailConfig) -> list[dict[str, Any]]:
    rows = fetch_dicts(con, WEEKLY_COUNTS_SQL,
                       {"month": month, "segment_level": config.guardrails["rate_segment_level"]})
    evaluated = evaluate_weekly_rates(rows, config)
    replace_month_from_rows(con, "weekly_rates", evaluated, WEEKLY_RATES_COLUMNS, month, COMMENTS["weekly_rates"])
    return evaluated


def write_kpi_changes(con: duckdb.DuckDBPyConnection, month: str, config: GuardrailConfig) -> list[dict[str, Any]]:
    rows = fetch_dicts(con, KPI_SQL, {"month": month, "previous_month": previous_month(month),
                                      "segment_level": config.guardrails["kpi_segment_level"]})
    evaluated = evaluate_kpis(rows, config)
    replace_month_from_rows(con, "kpi_changes", evaluated, KPI_CHANGES_COLUMNS, month, COMMENTS["kpi_changes"])
    return evaluated


def _segment_params(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in CUBE}


def _pairs(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[tuple[str, float]]:
    return [(r[0], r[1]) for r in con.execute(sql, params).fetchall()]


def collect_breaches(con: duckdb.DuckDBPyConnection, month: str, config: GuardrailConfig) -> list[dict[str, Any]]:
    """Every breach of ``month`` from the tables written above, with its top contributors."""
    totals = fetch_dicts(con, B.TOUCH_TOTALS_SQL, {"month": month})
    tops: dict[str, dict[str, list]] = {}
    for dimension in B.TOUCH_TOP_COLUMNS:
        tops[dimension] = {}
        for rule_id, name, count in con.execute(B.touch_top_sql(dimension), {"month": month, "top": B.TOP}).fetchall():
            tops[dimension].setdefault(rule_id, []).append((name, count))
    found = B.touch_breaches(month, totals, tops, config)

    for row in fetch_dicts(con, "select * from guardrails.weekly_rates where partition_month = $month and is_breach "
                                "order by rule_id, iso_week, segment_key", {"month": month}):
        if not config.alerts_on(row["rule_id"]):
            continue
        params = {"month": month, "week_start": row["week_start_date"], "top": B.TOP, **_segment_params(row)}
        found.append(B.rate_breach(row, _pairs(con, contributors_sql(row["rule_id"], "rep"), params),
                                   _pairs(con, contributors_sql(row["rule_id"], "campaign"), params), config))

    for row in fetch_dicts(con, "select * from guardrails.kpi_changes where partition_month = $month and is_breach "
                                "order by rule_id, segment_key", {"month": month}):
        if not config.alerts_on(row["rule_id"]):
            continue
        params = {"month": month, "previous_month": row["previous_month"], "kpi": row["kpi"], "top": B.TOP,
                  **_segment_params(row)}
        found.append(B.kpi_breach(row, _pairs(con, REP_CONTRIBUTORS_SQL, params), config))
    return found


def write_breaches(con: duckdb.DuckDBPyConnection, month: str, config: GuardrailConfig,
                   run_id: str) -> list[dict[str, Any]]:
    """guardrails.breaches (the alert outbox) and guardrails.rule_catalogue for ``month``."""
    found = collect_breaches(con, month, config)
    detected_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [{**b, "run_id": run_id, "detected_at": detected_at} for b in found]
    replace_month_from_rows(con, "breaches", rows, BREACHES_COLUMNS, month, COMMENTS["breaches"])
    catalogue = [{"partition_month": month, "rule_id": s.rule_id, "family": s.family, "stream": s.stream,
                  "title": s.title, "severity": config.severity(s.rule_id), "action": config.action(s.rule_id),
                  "threshold": None if s.family == "touch" else config.threshold(s.rule_id),
                  "note_version": config.note_version} for s in RULE_SPECS.values()]
    replace_month_from_rows(con, "rule_catalogue", catalogue, RULES_COLUMNS, month, COMMENTS["rule_catalogue"])
    return found
