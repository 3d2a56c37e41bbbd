"""The single Dagster Definitions: assembles assets, checks, jobs, schedules, sensors and resources."""

import dagster as dg

from assets.analytics import analytics_assets
from assets.dbt import cadence_dbt_models
from assets.experiments import experiments_assets
from assets.guardrails import guardrails_assets, guardrails_checks
from assets.ingestion import ingestion_assets
from assets.reports import build_report_assets
from assets.serving import build_published_bi
from orchestration.jobs import monthly_audit_job
from orchestration.loggers import progress_logger
from orchestration.resources import build_resources
from orchestration.run_health import dead_run_sensor
from orchestration.schedules import monthly_audit_final_schedule, monthly_audit_schedule
from orchestration.sensors import alert_sensors
from quality.checks import quality_checks

audit_reports = build_report_assets(
    upstream=[cadence_dbt_models, *guardrails_assets, *analytics_assets, *experiments_assets]
)
# Last in a month's run, after everything else (a month is published only from a run that built all of it)
published_bi = build_published_bi(
    upstream=[*ingestion_assets, cadence_dbt_models, *guardrails_assets, *analytics_assets, *experiments_assets,
              audit_reports]
)

defs = dg.Definitions(
    assets=[
        *ingestion_assets,
        cadence_dbt_models,
        *guardrails_assets,
        *analytics_assets,
        *experiments_assets,
        published_bi,
        audit_reports,
    ],
    asset_checks=[*guardrails_checks, *quality_checks],
    jobs=[monthly_audit_job],
    schedules=[monthly_audit_schedule, monthly_audit_final_schedule],
    sensors=[*alert_sensors, dead_run_sensor],  # dead runs: failed, their pool slots freed
    resources=build_resources(),
    loggers={"console": dg.colored_console_logger, "cadence_progress": progress_logger},
)
