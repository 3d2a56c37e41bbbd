"""Jobs. The monthly audit materialises the whole asset graph for one month.

Steps run in one process (in_process executor): they all write the same DuckDB file one after the
other, and a subprocess per step would cost ~4 s each for nothing.
"""

import dagster as dg

from orchestration.partitions import monthly_partitions

monthly_audit_job = dg.define_asset_job(
    name="monthly_audit",
    selection=dg.AssetSelection.all(),
    partitions_def=monthly_partitions,
    executor_def=dg.in_process_executor,
    description="The whole audit for one month: ingestion -> dbt (staging, intermediate, marts) -> analytics.",
)
