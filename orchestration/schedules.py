"""Schedules. The monthly audit runs at 06:00 UTC on the 1st for the month that just closed."""

import dagster as dg

from orchestration.jobs import monthly_audit_job

monthly_audit_schedule = dg.build_schedule_from_partitioned_job(
    monthly_audit_job,
    hour_of_day=6,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 1st at 06:00 UTC, the audit of the month just closed.",
)
