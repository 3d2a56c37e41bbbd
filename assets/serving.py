"""Serving assets: what BI tools, analysts and managers read.

`published_bi`: a read-only DuckDB file (`<publish dir>/cadence_bi.duckdb`) and Parquet files
partitioned by month, holding every table of the marts, analytics, guardrails and cleaning schemas plus
stable views in schema `bi`. It runs last in a month's run and replaces only that month in the previous
publication, atomically (cadence.serving.publish): a month is published only from a run that built all of
it, so no month mixes tables of different runs, and a failed or still-running month is never published.
"""

from collections.abc import Sequence

import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence.serving.publish import publish
from orchestration.partitions import month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL, CadencePaths


def unbuilt(instance: dg.DagsterInstance, run_id: str, deps: Sequence[dg.AssetKey]) -> list[str]:
    """The dependencies the run ``run_id`` did not materialise."""
    built = {r.event_log_entry.dagster_event.asset_key for r in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records if r.event_log_entry.dagster_event}
    return sorted(k.to_user_string() for k in deps if k not in built)


def build_published_bi(upstream: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    """``upstream``: every asset of a month's run (the publication waits for all of them, reports included)."""
    deps = [key for assets_def in upstream for key in assets_def.keys]

    @dg.asset(name="published_bi", key_prefix=["serving"], group_name="serving", deps=deps,
              partitions_def=monthly_partitions, pool=DUCKDB_POOL, kinds={"duckdb", "parquet"},
              backfill_policy=dg.BackfillPolicy.multi_run(1))
    def published_bi(context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: CadencePaths):
        """The BI copy: one DuckDB file (storage v1.4.0, views in schema `bi`, column comments, `bi._months`:
        the run each month comes from) and Parquet partitioned by month, each swapped in atomically; readers
        never open the working database. Only the run's month is replaced."""
        month = month_of(context.partition_key)
        missing = unbuilt(context.instance, context.run_id, deps)
        if missing:
            raise dg.Failure(description=(
                f"{month} not published: {len(missing)} of its tables were not built by this run "
                f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}). A month is published only from "
                f"a run that builds all of it: run `cadence run --month {month}`."), allow_retries=False)
        with duckdb.get_connection() as con:
            pub = publish(con, paths.published, month=month, run_id=context.run_id)
        return dg.MaterializeResult(metadata={
            "month": month,
            "duckdb_file": dg.MetadataValue.path(str(pub.duckdb_path)),
            "parquet_dir": dg.MetadataValue.path(str(pub.parquet_dir)),
            "views": dg.MetadataValue.md("\n".join(f"- `{v}`" for v in pub.views)),
            "tables": dg.MetadataValue.md("\n".join(f"- `{t}`: {n:,} rows" for t, n in pub.tables.items())),
            "seconds": dg.MetadataValue.float(round(pub.seconds, 3)),
        })

    return published_bi
