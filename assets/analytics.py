"""Analytics assets: the audit's statistics and decisions for one month, in DuckDB schema `analytics`.

One multi-asset per step of cadence.analytics.steps (pure functions over the marts and earlier analytics
tables); each replaces the month in its tables in one transaction. Every table holds `partition_month`
and `scoping_note_version`. What one row is: cadence.analytics.catalog and docs/analytics.md.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence import settings
from cadence.analytics import steps
from cadence.analytics.catalog import STEPS, TABLES
from cadence.analytics.config import analysis_config
from cadence.analytics.report import metadata
from cadence.analytics.store import read_month, write_month
from cadence.scoping import load_scoping_note
from orchestration.partitions import month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL


def key(table: str) -> dg.AssetKey:
    """'linear_fits' -> analytics/linear_fits; 'marts.fct_lead_cadence' -> marts/fct_lead_cadence."""
    return dg.AssetKey(table.split(".") if "." in table else ["analytics", table])


def build_analytics_asset(name: str) -> dg.AssetsDefinition:
    tables, reads = STEPS[name]
    run = getattr(steps, name)
    specs = [
        dg.AssetSpec(
            key(t),
            group_name="analytics",
            kinds={"duckdb", "python"},
            description=TABLES[t],
            deps=[key(r) for r in reads],
        )
        for t in tables
    ]

    @dg.multi_asset(
        name=f"analytics_{name}",
        specs=specs,
        partitions_def=monthly_partitions,
        pool=DUCKDB_POOL,
        description=(run.__doc__ or name).split("\n")[0],
        backfill_policy=dg.BackfillPolicy.multi_run(1),
    )
    def _analytics(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        """Runs the step on the partition's month and replaces that month in the step's tables."""
        month = month_of(context.partition_key)
        note = load_scoping_note(settings.load().scoping_note)  # read when the run starts (CADENCE_SCOPING_NOTE)
        cfg = analysis_config(note)
        with duckdb.get_connection() as con:
            frames = run(con, month, cfg, note)
            written = write_month(con, month, cfg.version, frames)
            extra = {"linear_fits": read_month(con, "linear_fits", month)} if name == "curves" else {}
        for table in tables:
            md = {k: dg.MetadataValue.md(v) for k, v in metadata(table, frames, cfg, extra).items()}
            yield dg.MaterializeResult(
                asset_key=key(table),
                metadata={
                    "month": month,
                    "table": f"analytics.{table}",
                    "scoping_note_version": cfg.version,
                    "dagster/row_count": dg.MetadataValue.int(written[table]),
                    **md,
                },
            )

    return _analytics


analytics_assets = [build_analytics_asset(name) for name in STEPS]
