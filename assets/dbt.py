"""dbt models as Dagster assets (staging, intermediate, marts), partitioned by month.

Each partition runs one `dbt build` with the month passed as vars (`partition_month`, `min_date`,
`max_date`): incremental models replace that month only. dbt tests become asset checks.
"""


import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

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
def cadence_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    month = month_of(context.partition_key)
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars(month))], context=context).stream()
