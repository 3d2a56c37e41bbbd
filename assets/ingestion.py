"""Ingestion assets: one per source, each materialising that source's raw tables for one month.

Each raw table (``raw.<source>__<entity>``) holds one row per line of the month's extract files, every
value as text after the field mapping, plus lineage columns. The load logic lives in cadence.ingest.
"""


import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence.contract import SOURCES, entities_of
from cadence.ingest import load_source_month
from cadence.mapping import load_mapping
from orchestration.partitions import month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL, CadencePaths

SOURCE_DESCRIPTIONS = {
    "crm": "CRM extract: leads and opportunities",
    "voip": "VoIP extract: call records",
    "emailing": "E-mailing extract: message events",
    "calendar": "Calendar extract: meetings",
}


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", table])


def build_ingestion_asset(source: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            raw_key(ent.table),
            group_name="ingestion",
            kinds={"duckdb", "csv"},
            description=(f"One row per line of `landing/{source}/<YYYY-MM>/{ent.name}*` ({ent.name} of the "
                         f"month's lead cohort), as text, with lineage columns. Key: {ent.key}."),
        )
        for ent in entities_of(source)
    ]

    @dg.multi_asset(name=f"ingest_{source}", specs=specs, partitions_def=monthly_partitions,
                    pool=DUCKDB_POOL, description=SOURCE_DESCRIPTIONS[source],
                    backfill_policy=dg.BackfillPolicy.multi_run(1))
    def _ingest(context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: CadencePaths):
        month = month_of(context.partition_key)
        mappings = load_mapping(paths.sources_config)
        with duckdb.get_connection() as con:
            loads = load_source_month(con, source, month, paths.landing, mappings, run_id=context.run_id)
        for load in loads:
            context.log.info(f"{load.table} {month}: {load.rows:,} rows, {load.rejected} rejected lines"
                             if load.provided else f"{load.table} {month}: not provided (no file this month)")
            yield dg.MaterializeResult(
                asset_key=raw_key(f"{source}__{load.entity}"),
                metadata={
                    "month": month,
                    "provided": dg.MetadataValue.bool(load.provided),
                    "rows": dg.MetadataValue.int(load.rows),
                    "rejected_lines": dg.MetadataValue.int(load.rejected),
                    "files": dg.MetadataValue.md("\n".join(
                        f"- `{f.path}`: {f.rows:,} rows, {f.rejected} rejected, sha256 `{f.sha256[:12]}…`"
                        for f in load.files)),
                    "seconds": dg.MetadataValue.float(round(load.seconds, 3)),
                    "dagster/row_count": dg.MetadataValue.int(load.rows),
                },
            )

    return _ingest


ingestion_assets = [build_ingestion_asset(source) for source in SOURCES]
