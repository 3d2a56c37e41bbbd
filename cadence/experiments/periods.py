"""Calendar of an experiment: months, status in a partition month, and the planned weekly looks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from cadence.experiments.config import Experiment


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift(month: str, k: int) -> str:
    y, m = (int(x) for x in month.split("-"))
    y, m = divmod(y * 12 + m - 1 + k, 12)
    return f"{y:04d}-{m + 1:02d}"


def bounds(month: str) -> tuple[date, date]:
    """First day of the month and first day of the next one."""
    first = date.fromisoformat(f"{month}-01")
    return first, date.fromisoformat(f"{shift(month, 1)}-01")


def enrolment_months(experiment: Experiment) -> list[str]:
    """Cohort months holding the experiment's leads (start month .. month of the last enrolment day)."""
    months, month = [], month_of(experiment.start_date)
    while month <= month_of(experiment.end_date - timedelta(days=1)):
        months.append(month)
        month = shift(month, 1)
    return months


def status(experiment: Experiment, month: str) -> str:
    """'planned' (starts after the month), 'running' (enrols past the month's end), 'ended' (its last
    enrolment day is in the month or before; the month's data completes it) or 'past' (ended before)."""
    first, after = bounds(month)
    if experiment.start_date >= after:
        return "planned"
    if experiment.end_date <= first:
        return "past"
    return "running" if experiment.end_date > after else "ended"


@dataclass(frozen=True)
class Look:
    k: int  # 1..K
    end: date  # exclusive: the look analyses leads enrolled in [start_date, end)
    fraction: float  # information fraction (share of the planned enrolment days)


def planned_looks(experiment: Experiment) -> list[Look]:
    """One look at the end of each enrolment week; the last at the planned end (fraction 1)."""
    looks = []
    for k in range(1, experiment.weeks + 1):
        days = min(7 * k, experiment.duration_days)
        looks.append(Look(k, experiment.start_date + timedelta(days=days), days / experiment.duration_days))
    return looks


def available_looks(experiment: Experiment, month: str) -> list[Look]:
    """Looks whose enrolment week is over by the end of ``month`` (their leads are all in the data)."""
    _, after = bounds(month)
    return [look for look in planned_looks(experiment) if look.end <= after]


def week_start(experiment: Experiment, k: int) -> date:
    """First day of enrolment week k."""
    return experiment.start_date + timedelta(days=7 * (k - 1))


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"
