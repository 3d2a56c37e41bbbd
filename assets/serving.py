"""Serving assets: what BI tools, analysts and managers read.

`published_bi`: a read-only DuckDB file (`<publish dir>/cadence_bi.duckdb`) and Parquet files
partitioned by month, holding every table of the marts, analytics, guardrails and cleaning schemas plus
stable views in schema `bi`. Swapped in atomically after each successful month (cadence.serving.publish).
"""

from collections.abc import Sequence

import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence.serving.publish import publish
from orchestration.partitions import monthly_partitions
from orchestration.resources import DUCKDB_POOL, CadencePaths

#: Asset groups whose tables are published (their assets are the publication's upstream).
PUBLISHED_GROUPS = ("marts", "analytics", "guardrails", "cleaning", "experiments")


def build_published_bi(upstream: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    deps = [key for assets_def in upstream for key in assets_def.keys
            if assets_def.group_names_by_key.get(key) in PUBLISHED_GROUPS]

    @dg.asset(name="published_bi", key_prefix=["serving"], group_name="serving", deps=deps,
              partitions_def=monthly_partitions, pool=DUCKDB_POOL, kinds={"duckdb", "parquet"},
              backfill_policy=dg.BackfillPolicy.multi_run(1))
    def published_bi(context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: CadencePaths):
        """The BI copy: one DuckDB file (storage v1.4.0, views in schema `bi`, column comments) and Parquet
        partitioned by month, each swapped in atomically; readers never open the working database."""
        with duckdb.get_connection() as con:
            pub = publish(con, paths.published, run_id=context.run_id)
        return dg.MaterializeResult(metadata={
            "duckdb_file": dg.MetadataValue.path(str(pub.duckdb_path)),
            "parquet_dir": dg.MetadataValue.path(str(pub.parquet_dir)),
            "views": dg.MetadataValue.md("\n".join(f"- `{v}`" for v in pub.views)),
            "tables": dg.MetadataValue.md("\n".join(f"- `{t}`: {n:,} rows" for t, n in pub.tables.items())),
            "seconds": dg.MetadataValue.float(round(pub.seconds, 3)),
        })

    return published_bi
