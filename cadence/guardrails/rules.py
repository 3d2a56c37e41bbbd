"""The guardrail rules: what each one audits, its family, its alert stream, and its settings from the note.

Three families:
- ``touch``: a rep's touch that breaks a compliance rule (one violation row per touch and rule);
- ``rate``: a weekly e-mail rate per segment above its threshold (one row per week, segment and rule);
- ``kpi``: a KPI down against the previous month by more than the allowed share (one row per segment).

Thresholds come from the scoping note (``thresholds`` and ``segment_thresholds``, shared with dbt), the
rest from its ``guardrails`` section (``cadence.scoping``): severities, corrective actions, levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cadence.scoping import GUARDRAIL_RULES, ScopingNote

#: The complaint-rate rule has its own sensor; every other rule goes to the general guardrail sensor.
COMPLAINT_STREAM, GUARDRAIL_STREAM = "complaint", "guardrail"


@dataclass(frozen=True)
class RuleSpec:
    rule_id: str
    family: str  # touch | rate | kpi
    title: str
    #: rate rules: (events column, base column, threshold key in `thresholds`); kpi rules: (kpi, drop key)
    measure: tuple[str, ...] = ()

    @property
    def stream(self) -> str:
        return COMPLAINT_STREAM if self.rule_id == "complaint_rate" else GUARDRAIL_STREAM


RULE_SPECS: dict[str, RuleSpec] = {s.rule_id: s for s in (
    RuleSpec("opt_out_contact", "touch", "Touch after the lead opted out"),
    RuleSpec("cool_down_breach", "touch", "Touch during the cool-down after consecutive non-responses"),
    RuleSpec("email_daily_cap", "touch", "E-mails above the daily cap (per lead, lead-local day)"),
    RuleSpec("touch_daily_cap", "touch", "Touches above the daily cap (per lead, lead-local day)"),
    RuleSpec("enterprise_48h_cap", "touch", "Enterprise account touched too often in 48 h"),
    RuleSpec("calling_hours", "touch", "Call outside the allowed hours (lead-local time)"),
    RuleSpec("vip_dispute_channel", "touch", "VIP / dispute lead touched on a non-validated channel"),
    RuleSpec("complaint_rate", "rate", "Weekly complaint rate above threshold",
             ("complaints", "emails_delivered", "complaint_rate_max")),
    RuleSpec("unsubscribe_rate", "rate", "Weekly unsubscribe rate above threshold",
             ("unsubscribes", "emails_delivered", "unsubscribe_rate_max")),
    RuleSpec("bounce_rate", "rate", "Weekly bounce rate above threshold",
             ("bounces", "emails_sent", "bounce_rate_max")),
    RuleSpec("conversion_rate_drop", "kpi", "Lead -> opportunity conversion rate down vs previous month",
             ("conversion_rate", "conversion_rate_drop_max")),
    RuleSpec("average_order_value_drop", "kpi", "Average order value down vs previous month",
             ("average_order_value", "average_order_value_drop_max")),
)}
assert set(RULE_SPECS) == set(GUARDRAIL_RULES), "GUARDRAIL_RULES (scoping) and RULE_SPECS must list the same rules"


@dataclass(frozen=True)
class GuardrailConfig:
    """Everything the rules need, resolved from a scoping note (defaults included)."""

    thresholds: dict[str, Any]
    guardrails: dict[str, Any]
    note_version: str

    @classmethod
    def from_note(cls, note: ScopingNote) -> GuardrailConfig:
        return cls(thresholds=note["thresholds"], guardrails=note["guardrails"], note_version=note.version)

    def severity(self, rule_id: str) -> str:
        return self.guardrails["rules"][rule_id]["severity"]

    def action(self, rule_id: str) -> str:
        return self.guardrails["rules"][rule_id]["action"]

    def alerts_on(self, rule_id: str) -> bool:
        return self.severity(rule_id) != "off"

    def threshold(self, rule_id: str) -> float:
        """The limit a rate or KPI rule compares against (a rate, or an allowed relative drop)."""
        spec = RULE_SPECS[rule_id]
        key = spec.measure[-1]
        return self.thresholds[key] if spec.family == "rate" else self.guardrails[key]

    @property
    def calling_hours(self) -> tuple[int, int]:
        hours = self.thresholds["calling_hours"]
        return hours["start"], hours["end"]

    def rules(self, family: str) -> list[RuleSpec]:
        return [spec for spec in RULE_SPECS.values() if spec.family == family]
