"""dbt models as Dagster assets (staging, intermediate, marts), partitioned by month.

Each partition runs one `dbt build`: the month goes to the run-context table read by the models'
partition macros, the scoping note's values go as (constant) vars, incremental models replace that month
only, and dbt tests become asset checks. See cadence/dbt_manifest.py for why the month is not a var.
"""

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from cadence import settings
from cadence.dbt_manifest import build_args, dbt_threads_for, write_run_context
from orchestration.dbt_project import cadence_dbt_project
from orchestration.partitions import dbt_vars, month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL


class CadenceDbtTranslator(DagsterDbtTranslator):
    """Groups come from the model's folder (staging / intermediate / marts), never from name lists."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "model":
            fqn = dbt_resource_props.get("fqn", [])
            return fqn[1] if len(fqn) > 2 else "dbt"
        return super().get_group_name(dbt_resource_props)


@dbt_assets(
    manifest=cadence_dbt_project.manifest_path,
    project=cadence_dbt_project,
    partitions_def=monthly_partitions,
    dagster_dbt_translator=CadenceDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    backfill_policy=dg.BackfillPolicy.multi_run(1),
    pool=DUCKDB_POOL,
)
def cadence_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    args = build_args()  # validates the scoping note before anything is written
    month = month_of(context.partition_key)
    with duckdb.get_connection() as con:
        write_run_context(con, dbt_vars(month), context.run_id)
        raw_rows = month_raw_rows(con, month)
    threads = dbt_threads_for(int(raw_rows), settings.load().dbt_threads)
    context.log.info(f"dbt build for {month}: {raw_rows:,} raw rows, {threads} thread(s)")
    target = Path(dbt.project_dir) / "target" / "runs" / f"{month}-{context.run_id[:8]}"
    try:
        # no colour codes: dbt's lines go to the run's log file and Dagster's compute logs, not to a terminal
        yield from dbt.cli(["build", *args, "--threads", str(threads), "--no-use-colors"], context=context,
                           target_path=target).stream()
    finally:
        prune_run_targets(target.parent)


def month_raw_rows(con, month: str) -> int:
    """Raw rows loaded for the month (the load log; 0 before any load)."""
    try:
        return int(con.execute("select coalesce(sum(rows_loaded), 0) from raw._loads where _partition_month = ?",
                               [month]).fetchone()[0])
    except duckdb.CatalogException:
        return 0


KEPT_RUN_TARGETS = 5


def prune_run_targets(runs_dir: Path, keep: int = KEPT_RUN_TARGETS) -> list[Path]:
    """Keep the newest ``keep`` per-run dbt target folders (compiled SQL, dbt.log, run_results.json of the
    last runs, for debugging) and delete the older ones: each holds a copy of the manifest (~8 MB), so one
    folder per run, the dagster-dbt default, grows without bound with the monthly runs and backfills."""
    folders = sorted((p for p in runs_dir.glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return folders[keep:]
