"""The data model of an experiment (what config/experiments.yml declares, once validated)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SEGMENT_VALUES = {
    "channel": ("inbound", "outbound", "partner"),
    "company_size": ("SMB", "Mid", "Enterprise"),
    "funnel_phase": ("MQL", "SQL", "opportunity"),
}
LEAD_FLAGS = ("is_vip", "is_dispute", "is_hot_lead")
SUCCESS_KPIS = ("conversion_rate", "meeting_rate")
GUARDRAIL_KPIS = ("complaint_rate", "unsubscribe_rate", "bounce_rate")
CADENCE_KEYS = {
    "min_touches": int,
    "min_touches_days": int,
    "ttf_target_hours": float,
    "max_touches_per_day": int,
    "max_emails_per_day": int,
}
EARLY_STOPPING = ("none", "obrien_fleming")


class ExperimentConfigError(ValueError):
    """A problem in the experiments file; the message names the key."""


@dataclass(frozen=True)
class Arm:
    name: str
    weight: float
    cadence: dict[str, Any]  # CADENCE_KEYS values plus an optional free-text `description`


@dataclass(frozen=True)
class Guardrail:
    kpi: str
    max_rate: float  # absolute ceiling of the rate
    max_ratio_to_control: float  # a treatment arm this many times the control rate (and significant) breaches


@dataclass(frozen=True)
class Experiment:
    name: str
    hypothesis: str
    segment: dict[str, tuple[str, ...]]
    arms: tuple[Arm, ...]  # the control arm first
    success_kpi: str
    guardrails: tuple[Guardrail, ...]
    start_date: date
    duration_days: int
    mde_points: float
    salt: str
    alpha: float
    power: float
    srm_alpha: float
    rule_of_thumb_leads_per_arm: int
    baseline_lookback_months: int
    baseline_cr: float | None
    early_stopping: str
    exclude_flags: tuple[str, ...]
    complete_windows_only: bool
    guardrail_ceiling_alpha: float
    guardrail_alpha: float

    @property
    def control(self) -> Arm:
        return self.arms[0]

    @property
    def treatments(self) -> tuple[Arm, ...]:
        return self.arms[1:]

    @property
    def end_date(self) -> date:
        """First day after the enrolment window: leads created in [start_date, end_date) are enrolled."""
        return self.start_date + timedelta(days=self.duration_days)

    @property
    def weeks(self) -> int:
        """Planned looks: one at the end of each enrolment week (the last may be shorter)."""
        return -(-self.duration_days // 7)

    @property
    def segment_label(self) -> str:
        return " | ".join(f"{k}={'/'.join(v)}" for k, v in self.segment.items()) or "all leads"
