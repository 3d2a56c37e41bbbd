"""Experiment assets (schema ``experiments``): the A/B protocol of step 7, from config/experiments.yml.

designs -> assignments (+ CSV for the sales tools) -> analysis (arm metrics, looks, balance, guardrails,
breaches, decisions) -> retrospectives (+ Markdown fragments for the audit note). The logic lives in
cadence.experiments; each asset replaces one month of its tables in one transaction.
``guardrail_breaches`` also carries its rows in its metadata (``alert_outbox``, the format of
guardrails/breaches) so the alert sensors can send them.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence.experiments import pipeline
from cadence.experiments.config import load_experiments
from cadence.experiments.tables import COMMENTS
from orchestration.partitions import month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL, CadencePaths

GROUP = "experiments"
OUTBOX_METADATA_KEY = "alert_outbox"
FCT = dg.AssetKey(["marts", "fct_lead_cadence"])
ANALYSIS_TABLES = ("arm_metrics", "readouts", "balance", "guardrail_weekly", "guardrail_breaches", "decisions")
_COMMON = dict(
    group_name=GROUP,
    partitions_def=monthly_partitions,
    pool=DUCKDB_POOL,
    backfill_policy=dg.BackfillPolicy.multi_run(1),
)


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, name])


@dg.asset(key=key("designs"), deps=[FCT], kinds={"duckdb"}, description=COMMENTS["designs"], **_COMMON)
def experiment_designs(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    """Sample size per arm from the segment's baseline CR (previous months), the MDE the expected volume
    reaches, and warnings when the 200-leads-per-arm rule of thumb is too small."""
    month = month_of(context.partition_key)
    with duckdb.get_connection() as con:
        rows = pipeline.run_designs(con, month, load_experiments())
    for row in rows:
        context.log.info(row["summary"])
        for warning in filter(None, row["warnings"].split("\n")):
            context.log.warning(f"{row['experiment']}: {warning}")
    return dg.MaterializeResult(
        metadata={
            "month": month,
            "designs": dg.MetadataValue.md("\n".join(f"- {r['summary']}" for r in rows) or "no experiment"),
            "dagster/row_count": len(rows),
        }
    )


@dg.asset(key=key("assignments"), deps=[FCT], kinds={"duckdb", "csv"}, description=COMMENTS["assignments"], **_COMMON)
def experiment_assignments(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: CadencePaths
) -> dg.MaterializeResult:
    """The arm of every lead of the month enrolled in an experiment, and the CSV the sales tools import
    (CADENCE_REPORTS_DIR/experiments/<experiment>/<month>/assignments.csv)."""
    month = month_of(context.partition_key)
    with duckdb.get_connection() as con:
        counts = pipeline.run_assignments(con, month, load_experiments(), paths.reports)
    return dg.MaterializeResult(
        metadata={
            "month": month,
            "arms": dg.MetadataValue.json(counts),
            "dagster/row_count": sum(sum(c.values()) for c in counts.values()),
        }
    )


@dg.multi_asset(
    name="experiment_analysis",
    **_COMMON,
    specs=[
        dg.AssetSpec(key(t), description=COMMENTS[t], kinds={"duckdb"}, deps=[FCT, key("assignments")])
        for t in ANALYSIS_TABLES
    ],
)
def experiment_analysis(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Per running or ended experiment: CR per arm, lift with intervals at each weekly look, SRM and
    balance checks, guardrails per arm and week, and the stop / continue / ship recommendation."""
    month = month_of(context.partition_key)
    with duckdb.get_connection() as con:
        out = pipeline.run_analysis(con, month, load_experiments())
    for d in out["decisions"]:
        context.log.info(f"{d['experiment']}: {d['recommendation']} {d['recommended_arm'] or ''} - {d['reason']}")
    for t in ANALYSIS_TABLES:
        meta = {"month": month}
        if t == "decisions":
            meta["decisions"] = dg.MetadataValue.json({d["experiment"]: d["recommendation"] for d in out["decisions"]})
        if t == "guardrail_breaches":
            meta[OUTBOX_METADATA_KEY] = dg.MetadataValue.json(out["breaches"])
            meta["dagster/row_count"] = len(out["breaches"])
        yield dg.MaterializeResult(asset_key=key(t), metadata=meta)


@dg.asset(
    key=key("retrospectives"),
    kinds={"duckdb", "markdown"},
    description=COMMENTS["retrospectives"],
    deps=[key("designs"), key("decisions"), key("readouts"), key("arm_metrics"), key("guardrail_weekly")],
    **_COMMON,
)
def experiment_retrospectives(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: CadencePaths
) -> dg.MaterializeResult:
    """Result, decision and next cycle's threshold changes of each experiment decided this month, and the
    month's Markdown section for the audit note (CADENCE_REPORTS_DIR/experiments/<month>.md)."""
    month = month_of(context.partition_key)
    with duckdb.get_connection() as con:
        rows = pipeline.run_retrospectives(con, month, load_experiments(), paths.reports)
    return dg.MaterializeResult(
        metadata={
            "month": month,
            "note_fragment": dg.MetadataValue.path(str(paths.reports / "experiments" / f"{month}.md")),
            "decided": dg.MetadataValue.json({r["experiment"]: r["decision"] for r in rows}),
            "dagster/row_count": len(rows),
        }
    )


experiments_assets = [experiment_designs, experiment_assignments, experiment_analysis, experiment_retrospectives]
