"""Guardrail assets (schema ``guardrails``): compliance violations, weekly rate rules, KPI rules relative to
the previous month, and the breaches the alert sensors send (orchestration/sensors.py).

The logic lives in cadence.guardrails; rules and thresholds come from the scoping note. Each asset
replaces one month in one transaction. ``breaches`` also carries its rows in its materialisation metadata
(``alert_outbox``): the sensors read them from Dagster's event log, never from the DuckDB file.
"""

from collections.abc import Callable

import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence import settings as cadence_settings
from cadence.guardrails import audit
from cadence.guardrails.rules import GuardrailConfig
from cadence.scoping import load_scoping_note
from orchestration.partitions import month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL

GROUP = "guardrails"
OUTBOX_METADATA_KEY = "alert_outbox"


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, name])


def dbt_key(path: str) -> dg.AssetKey:
    return dg.AssetKey(path.split("/"))


def _config() -> GuardrailConfig:
    return GuardrailConfig.from_note(load_scoping_note(cadence_settings.load().scoping_note))


def _in_transaction(duckdb: DuckDBResource, work: Callable):
    with duckdb.get_connection() as con:
        con.execute("begin")
        try:
            out = work(con)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return out


_COMMON = dict(partitions_def=monthly_partitions, pool=DUCKDB_POOL, backfill_policy=dg.BackfillPolicy.multi_run(1))


@dg.multi_asset(
    name="guardrails_touch_violations", group_name=GROUP, **_COMMON,
    specs=[dg.AssetSpec(key(t), description=audit.COMMENTS[t], kinds={"duckdb"},
                        deps=[dbt_key("intermediate/int_touches_sequenced"), dbt_key("marts/fct_lead_cadence")])
           for t in ("touch_violations", "lead_violations", "violation_counts")],
)
def touch_violations(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Rep touches of the month's cohort that break a touch rule (from int_touches_sequenced and
    fct_lead_cadence), with per-lead and per rep/segment/week roll-ups."""
    month = month_of(context.partition_key)
    counts = _in_transaction(duckdb, lambda con: audit.write_touch_violations(con, month, _config()))
    per_rule = {f"violations/{rule}": dg.MetadataValue.int(n) for rule, n in counts.items()}
    yield dg.MaterializeResult(asset_key=key("touch_violations"), metadata={
        "month": month, **per_rule, "dagster/row_count": dg.MetadataValue.int(sum(counts.values()))})
    yield dg.MaterializeResult(asset_key=key("lead_violations"), metadata={"month": month})
    yield dg.MaterializeResult(asset_key=key("violation_counts"), metadata={"month": month})


@dg.asset(key=key("weekly_rates"), group_name=GROUP, kinds={"duckdb"}, deps=[dbt_key("marts/kpi_guardrails_weekly")],
          description=audit.COMMENTS["weekly_rates"], **_COMMON)
def weekly_rates(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Complaint, unsubscribe and bounce rates per ISO week and segment (from kpi_guardrails_weekly) against
    the note's thresholds, with a one-sided binomial test."""
    month = month_of(context.partition_key)
    rows = _in_transaction(duckdb, lambda con: audit.write_weekly_rates(con, month, _config()))
    breached = sorted(f"{r['rule_id']} {r['iso_week']} {r['segment_key']}" for r in rows if r["is_breach"])
    return dg.MaterializeResult(metadata={
        "month": month, "breaches": dg.MetadataValue.int(len(breached)),
        "breached": dg.MetadataValue.md("\n".join(f"- {b}" for b in breached) or "none"),
        "dagster/row_count": dg.MetadataValue.int(len(rows))})


@dg.asset(key=key("kpi_changes"), group_name=GROUP, kinds={"duckdb"}, deps=[dbt_key("marts/kpi_segments_monthly")],
          description=audit.COMMENTS["kpi_changes"], **_COMMON)
def kpi_changes(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Conversion rate and average order value per segment against the previous month (kpi_segments_monthly;
    the previous month must be materialised for a verdict)."""
    month = month_of(context.partition_key)
    rows = _in_transaction(duckdb, lambda con: audit.write_kpi_changes(con, month, _config()))
    return dg.MaterializeResult(metadata={
        "month": month, "breaches": dg.MetadataValue.int(sum(r["is_breach"] for r in rows)),
        "compared_segments": dg.MetadataValue.int(sum(r["relative_change"] is not None for r in rows)),
        "dagster/row_count": dg.MetadataValue.int(len(rows))})


@dg.asset(key=key("breaches"), group_name=GROUP, kinds={"duckdb"},
          deps=[key("touch_violations"), key("weekly_rates"), key("kpi_changes"),
                dbt_key("intermediate/int_touches_unioned"), dbt_key("intermediate/int_email_messages_pivoted")],
          description=audit.COMMENTS["breaches"], **_COMMON)
def breaches(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """One row per breach of the month (touch rule, rate rule per week and segment, KPI rule per segment)
    with its top contributors and corrective action: the alert outbox, also in the metadata."""
    month = month_of(context.partition_key)
    found = _in_transaction(duckdb, lambda con: audit.write_breaches(con, month, _config(), context.run_id))
    per_rule: dict[str, int] = {}
    for b in found:
        per_rule[b["rule_id"]] = per_rule.get(b["rule_id"], 0) + 1
    return dg.MaterializeResult(metadata={
        "month": month, OUTBOX_METADATA_KEY: dg.MetadataValue.json(found),
        **{f"breaches/{rule}": dg.MetadataValue.int(n) for rule, n in sorted(per_rule.items())},
        "critical": dg.MetadataValue.int(sum(b["severity"] == "critical" for b in found)),
        "dagster/row_count": dg.MetadataValue.int(len(found))})


@dg.asset_check(asset=breaches, blocking=False, pool=DUCKDB_POOL,
                description="Warns when the run's month has a critical breach. A check never fails the run in "
                            "open-source Dagster: the alert sensors watch the breaches themselves.")
def no_critical_breach(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource) -> dg.AssetCheckResult:
    # An unpartitioned check (partitioned checks are a preview feature) reads the run's month from its tags.
    month = month_of(context.run.tags.get("dagster/partition", "")) or None
    with duckdb.get_connection() as con:
        rows = con.execute("select rule_id, count(*) from guardrails.breaches where severity = 'critical' "
                           "and partition_month = coalesce(?, partition_month) group by 1 order by 1",
                           [month]).fetchall()
    found = ", ".join(f"{rule} ({n})" for rule, n in rows)
    return dg.AssetCheckResult(passed=not rows, severity=dg.AssetCheckSeverity.WARN, description=(
        f"critical breaches in {month or 'the warehouse'}: {found}" if rows else "no critical breach"), metadata={
        "month": month or "all", "critical_breaches": dg.MetadataValue.json(dict(rows))})


guardrails_assets = [touch_violations, weekly_rates, kpi_changes, breaches]
guardrails_checks = [no_critical_breach]
