"""Analytics assets: the audit's statistics and decisions for one month, in DuckDB schema `analytics`.

One multi-asset running the steps of cadence.analytics.steps (pure functions over the marts and earlier
analytics tables) in order; each step replaces the month in its tables in one transaction. Every table
holds `partition_month` and `scoping_note_version`. What one row is: cadence.analytics.catalog and docs/analytics.md.
"""

import time

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


def _specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            key(t),
            group_name="analytics",
            kinds={"duckdb", "python"},
            description=TABLES[t],
            deps=[key(r) for r in reads],
        )
        for tables, reads in STEPS.values()
        for t in tables
    ]


@dg.multi_asset(
    name="analytics",
    specs=_specs(),
    partitions_def=monthly_partitions,
    pool=DUCKDB_POOL,
    can_subset=True,
    description="The audit's statistics and decisions for the month (cadence.analytics.steps, in order).",
    backfill_policy=dg.BackfillPolicy.multi_run(1),
)
def analytics(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    """Runs the steps (in dependency order) that write a selected table, each replacing the month in its
    tables. One op for all steps: ten ops cost ~2 s of Dagster step overhead per run for ~1 s of work at
    small sizes. A subset (e.g. one table re-materialised from the UI) runs only the steps it needs and
    reads the other tables as they are."""
    month = month_of(context.partition_key)
    note = load_scoping_note(settings.load().scoping_note)  # read when the run starts (CADENCE_SCOPING_NOTE)
    cfg = analysis_config(note)
    selected = set(context.selected_asset_keys)
    with duckdb.get_connection() as con:
        for name, (tables, _reads) in STEPS.items():
            if not selected & {key(t) for t in tables}:
                continue
            started = time.perf_counter()
            frames = getattr(steps, name)(con, month, cfg, note)
            written = write_month(con, month, cfg.version, frames)
            extra = {"linear_fits": read_month(con, "linear_fits", month)} if name == "curves" else {}
            context.log.info(f"analytics step {name}: {time.perf_counter() - started:.2f}s")
            for table in tables:
                if key(table) not in selected:
                    continue
                md = {k: dg.MetadataValue.md(v) for k, v in metadata(table, frames, cfg, extra).items()}
                yield dg.MaterializeResult(
                    asset_key=key(table),
                    metadata={
                        "month": month,
                        "table": f"analytics.{table}",
                        "step": name,
                        "scoping_note_version": cfg.version,
                        "dagster/row_count": dg.MetadataValue.int(written[table]),
                        **md,
                    },
                )


analytics_assets = [analytics]
