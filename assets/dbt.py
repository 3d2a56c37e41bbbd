"""dbt models as Dagster assets (staging, intermediate, marts), partitioned by month.

Each partition runs one `dbt build`: the month goes to the run-context table read by the models'
partition macros, the scoping note's values go as (constant) vars, incremental models replace that month
only, and dbt tests become asset checks. See cadence/dbt_manifest.py for why the month is not a var.
"""

import json
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from cadence import settings
from cadence.dbt_failures import describe
from cadence.dbt_manifest import build_args, dbt_threads_for, write_run_context
from orchestration.dbt_project import cadence_dbt_project
from orchestration.partitions import dbt_vars, month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL
from orchestration.run_health import DBT_PID_TAG


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
        invocation = dbt.cli(["build", *args, "--threads", str(threads), "--no-use-colors"], context=context,
                             target_path=target, raise_on_error=False)
        # dbt outlives a killed run and keeps writing the file: the run monitor stops it (run_health.py)
        context.instance.add_run_tags(context.run_id, {DBT_PID_TAG: f"{invocation.process.pid}:{time.time():.0f}"})
        yield from invocation.stream()
        if not invocation.is_successful():
            raise dg.Failure(description=failure_description(target, month, duckdb), allow_retries=False)
    finally:
        prune_run_targets(target.parent)


def failure_description(target: Path, month: str, duckdb: DuckDBResource) -> str:
    """What failed in the month's dbt build (cadence.dbt_failures), with a sample of the failing rows."""
    results, manifest = target / "run_results.json", target / "manifest.json"
    if not results.exists():
        return f"dbt build failed for {month} before running anything; see {target / 'dbt.log'}"

    def query(sql: str) -> tuple[list[str], list[tuple]]:
        with duckdb.get_connection() as con:
            cursor = con.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()

    text = describe(json.loads(results.read_text()), json.loads(manifest.read_text()) if manifest.exists() else {},
                    month, query)
    return f"dbt build failed for {month}:\n{text or 'no failed node reported'}\n(details: {results})"


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
