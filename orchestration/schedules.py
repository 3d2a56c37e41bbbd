"""Schedules of the monthly audit.

- `monthly_audit_schedule`: 06:00 UTC on the 1st, for the month that just closed. Its extracts hold the
  cohort's first weeks: quality gates, KPIs and guardrail alerts come out at once, while the analytics
  leave out the leads whose attribution window is still open (see analysis.complete_windows_only).
- `monthly_audit_final_schedule`: 06:00 UTC on the 3rd, for the month before last. Every lead of that
  cohort has its full attribution window (30 days by default) behind it: re-running the month replaces
  its partition with the final numbers. Alerts already sent are not sent again.
"""

from datetime import date

import dagster as dg

from orchestration.jobs import monthly_audit_job

monthly_audit_schedule = dg.build_schedule_from_partitioned_job(
    monthly_audit_job,
    hour_of_day=6,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On the 1st at 06:00 UTC, the audit of the month just closed (windows still open).",
)


def final_month_of(scheduled: date) -> str:
    """The month whose cohort's windows have all closed by `scheduled` (the month before last)."""
    year, month = scheduled.year, scheduled.month - 2
    if month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1).isoformat()


@dg.schedule(job=monthly_audit_job, cron_schedule="0 6 3 * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING, name="monthly_audit_final_schedule",
             description="On the 3rd at 06:00 UTC, the final audit of the month before last (windows closed).")
def monthly_audit_final_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    partition_key = final_month_of(context.scheduled_execution_time.date())
    return dg.RunRequest(run_key=f"final-{partition_key}", partition_key=partition_key,
                         tags={"cadence/reading": "final"})
