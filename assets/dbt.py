"""dbt models as Dagster assets (staging, intermediate, marts), partitioned by month.

Each partition runs one `dbt build`: the month goes to the run-context table read by the models'
partition macros, the scoping note's values go as (constant) vars, incremental models replace that month
only, and dbt tests become asset checks. See cadence/dbt_manifest.py for why the month is not a var.
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from cadence.dbt_manifest import build_args, write_run_context
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
    yield from dbt.cli(["build", *args], context=context).stream()
