"""Guardrails per arm and enrolment week: complaint, unsubscribe and bounce rates against their ceiling and
against the control arm, and the breach records the alert sensors send.

A week is an enrolment week (the leads created in it, with every e-mail of their attribution window), so
each week compares randomised cohorts like for like. Rates are per delivered e-mail (per sent e-mail
for bounces). In a period:

- **absolute** breach: the arm's rate is above the ceiling and a one-sided exact binomial test against the
  ceiling gives p < ``guardrail_ceiling_alpha`` (0.05, as the segment guardrails' ``significance``: one
  complaint out of 300 e-mails is above 0.2 % yet says nothing; 1 turns the test off);
- **relative** breach (treatment arms): its rate is at least ``max_ratio_to_control`` times the control's
  and significantly higher (one-sided exact conditional test of two rare-event rates, p < ``guardrail_alpha``,
  0.001 by default: several weeks and KPIs are tested, and complaints cluster in time, e.g. one bad
  campaign week, so a looser level stops good arms by chance). The harm is then **attributable** to the
  arm's cadence: the recommendation is to stop (a safety rule, any week).

Alerts go out for a treatment arm's relative breaches and for its absolute breaches while the control
stays under the ceiling (the arm alone is above it: watch it). When the control breaches too, the breach
is the segment's, not the experiment's: the segment guardrails (guardrails.weekly_rates) alert it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.experiments import stats
from cadence.experiments.config import Experiment
from cadence.experiments.periods import iso_week, week_start

#: KPI -> (events column, base column) of marts.fct_lead_cadence.
KPI_COLUMNS = {
    "complaint_rate": ("emails_complained", "emails_delivered"),
    "unsubscribe_rate": ("emails_unsubscribed", "emails_delivered"),
    "bounce_rate": ("emails_bounced", "emails_sent"),
}
#: Streams of the alert sensors (cadence.guardrails.rules): complaints have their own.
COMPLAINT_STREAM, GUARDRAIL_STREAM = "complaint", "guardrail"


def _periods(experiment: Experiment, enrolled: pd.DataFrame) -> list[tuple[str, str | None, pd.DataFrame]]:
    weeks = [
        (f"W{k}", iso_week(week_start(experiment, k)), enrolled[enrolled["enrolment_week"] == k])
        for k in range(1, experiment.weeks + 1)
    ]
    return [(p, w, part) for p, w, part in [*weeks, ("to_date", None, enrolled)] if len(part)]


def weekly(experiment: Experiment, enrolled: pd.DataFrame, month: str) -> pd.DataFrame:
    """experiments.guardrail_weekly: one row per period (W1..WK, to_date), guardrail KPI and arm."""
    rows = []
    for period, week, part in _periods(experiment, enrolled):
        for g in experiment.guardrails:
            ev_col, base_col = KPI_COLUMNS[g.kpi]
            sums = part.groupby("arm")[[ev_col, base_col]].sum()
            c_ev, c_base = (
                int(sums.loc[experiment.control.name, c]) if experiment.control.name in sums.index else 0
                for c in (ev_col, base_col)
            )
            c_rate = c_ev / c_base if c_base else None
            for arm in experiment.arms:
                ev, base = (int(sums.loc[arm.name, c]) if arm.name in sums.index else 0 for c in (ev_col, base_col))
                rate = ev / base if base else None
                p_max = stats.p_above(ev, base, g.max_rate)
                absolute = bool(rate is not None and rate > g.max_rate and p_max < experiment.guardrail_ceiling_alpha)
                treated = arm.name != experiment.control.name
                p = stats.rate_ratio_p(ev, base, c_ev, c_base) if treated and base and c_base else None
                ratio = (
                    (rate / c_rate if c_rate else (np.inf if rate else None)) if treated and rate is not None else None
                )
                relative = bool(
                    treated
                    and p is not None
                    and p < experiment.guardrail_alpha
                    and ratio is not None
                    and ratio >= g.max_ratio_to_control
                )
                rows.append(
                    {
                        "partition_month": month,
                        "experiment": experiment.name,
                        "period": period,
                        "iso_week": week,
                        "kpi": g.kpi,
                        "arm": arm.name,
                        "events": ev,
                        "base": base,
                        "rate": rate,
                        "max_rate": g.max_rate,
                        "p_value_above_max": p_max,
                        "control_rate": c_rate,
                        "ratio_to_control": None if ratio is None or not np.isfinite(ratio) else ratio,
                        "p_value_vs_control": p,
                        "is_absolute_breach": absolute,
                        "is_relative_breach": relative,
                    }
                )
    out = pd.DataFrame(rows)
    if len(out):
        ctrl = out[out["arm"] == experiment.control.name].set_index(["period", "kpi"])["is_absolute_breach"]
        ctrl_abs = [bool(ctrl.get((p, k), False)) for p, k in zip(out["period"], out["kpi"], strict=True)]
        treated = out["arm"] != experiment.control.name
        alone = out["is_absolute_breach"] & ~np.array(ctrl_abs)
        out["is_attributable"] = treated & out["is_relative_breach"]
        out["is_alert"] = treated & (out["is_relative_breach"] | alone)
    return out


def _top_reps(enrolled: pd.DataFrame, period: str, arm: str, column: str) -> list[dict]:
    part = enrolled[enrolled["arm"] == arm]
    if period != "to_date":
        part = part[part["enrolment_week"] == int(period[1:])]
    top = part.groupby("rep_id")[column].sum().sort_values(ascending=False, kind="stable")
    return [{"name": str(rep), "count": float(n)} for rep, n in top.head(3).items() if n > 0]


def breaches(experiment: Experiment, weekly_rows: pd.DataFrame, enrolled: pd.DataFrame, month: str) -> list[dict]:
    """One record per alerted breach (treatment arm, period, KPI, kind absolute / relative), shaped like the
    alert outbox of cadence.guardrails (breach_id, stream, severity, title, comparison, top_reps, action...)."""
    out = []
    if not len(weekly_rows):
        return out
    for row in weekly_rows[weekly_rows["is_alert"]].itertuples(index=False):
        for kind, hit in (("absolute", row.is_absolute_breach), ("relative", row.is_relative_breach)):
            if not hit:
                continue
            label = row.kpi.replace("_", " ")
            if kind == "absolute":
                comparison = f"{label} {row.rate:.3%} of {row.base:,} > max {row.max_rate:.3%}"
                threshold, p = row.max_rate, None
            else:
                comparison = (
                    f"{label} {row.rate:.3%} of {row.base:,} vs control {row.control_rate or 0:.3%} "
                    f"(one-sided exact p = {row.p_value_vs_control:.2g})"
                )
                threshold, p = row.control_rate, row.p_value_vs_control
            action = (
                f"Stop arm '{row.arm}' of experiment {experiment.name}: its cadence causes the breach; revise "
                "its content and daily caps before any restart."
                if row.is_attributable
                else f"Watch arm '{row.arm}' of experiment {experiment.name}: above the ceiling, not (yet) "
                "significantly above the control; check its content and daily caps."
            )
            out.append(
                {
                    "breach_id": f"experiment:{experiment.name}:{row.arm}:{row.period}:{row.kpi}:{kind}",
                    "partition_month": month,
                    "stream": COMPLAINT_STREAM if row.kpi == "complaint_rate" else GUARDRAIL_STREAM,
                    "rule_id": f"experiment_{row.kpi}",
                    "family": "experiment",
                    "title": f"Experiment {experiment.name}, arm {row.arm}: {label} {kind} breach",
                    "severity": ("critical" if row.kpi == "complaint_rate" else "high")
                    if row.is_attributable
                    else ("high" if row.kpi == "complaint_rate" else "medium"),
                    "iso_week": row.iso_week,
                    "segment_level": "experiment",
                    "segment_key": experiment.segment_label,
                    "comparison": comparison,
                    "observed": row.rate,
                    "threshold": threshold,
                    "events": float(row.events),
                    "base": int(row.base),
                    "p_value": p,
                    "leads": int((enrolled["arm"] == row.arm).sum()),
                    "top_reps": _top_reps(enrolled, row.period, row.arm, KPI_COLUMNS[row.kpi][0]),
                    "top_campaigns": [],
                    "top_segments": [],
                    "action": action,
                    "note_version": "",
                    "experiment": experiment.name,
                    "arm": row.arm,
                    "period": row.period,
                    "kpi": row.kpi,
                    "kind": kind,
                    "is_attributable": bool(row.is_attributable),
                }
            )
    return out
