"""The single Dagster Definitions: assembles assets, checks, jobs, schedules, sensors and resources."""

import dagster as dg

from assets.dbt import cadence_dbt_models
from assets.ingestion import ingestion_assets
from assets.serving import build_published_bi
from orchestration.jobs import monthly_audit_job
from orchestration.loggers import progress_logger
from orchestration.resources import build_resources
from orchestration.schedules import monthly_audit_schedule

published_bi = build_published_bi(upstream=[cadence_dbt_models])

defs = dg.Definitions(
    assets=[*ingestion_assets, cadence_dbt_models, published_bi],
    jobs=[monthly_audit_job],
    schedules=[monthly_audit_schedule],
    resources=build_resources(),
    loggers={"console": dg.colored_console_logger, "cadence_progress": progress_logger},
)
