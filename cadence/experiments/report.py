"""Files for people and tools: the assignment CSV the sales tools import, and the Markdown fragments the
audit note and dashboard include.

Layout under CADENCE_REPORTS_DIR/experiments/:
- ``<experiment>/<YYYY-MM>/assignments.csv``: one line per lead enrolled in that cohort month;
- ``<experiment>/<YYYY-MM>/readout.md`` and, once decided, ``retrospective.md``;
- ``<YYYY-MM>.md``: the month's "Experiments" section of the audit note (every readout and retrospective).
Every file is written to a temporary name and renamed: a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from cadence.experiments.config import CADENCE_KEYS, Experiment


def _atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_assignments_csv(reports_dir: Path, experiment: str, month: str, rows: pd.DataFrame) -> Path:
    """The arm and the cadence to apply for each enrolled lead of the month."""
    out = rows[["experiment", "lead_id", "arm"]].copy()
    cadence = rows["arm_cadence"].map(json.loads) if len(rows) else pd.Series(dtype=object)
    for key in (*CADENCE_KEYS, "description"):
        out[key if key != "description" else "cadence_description"] = [c.get(key) for c in cadence]
    created = pd.to_datetime(rows["created_at"])
    out["created_at"] = created.dt.strftime("%Y-%m-%dT%H:%M:%SZ") if len(rows) else []
    for col in ("rep_id", "enrolment_week", "assignment_rule"):
        out[col] = rows[col].to_numpy()
    return _atomic(
        Path(reports_dir) / "experiments" / experiment / month / "assignments.csv",
        out.sort_values("lead_id").to_csv(index=False, lineterminator="\n"),
    )


def _pct(x, digits: int = 1) -> str:
    return "–" if x is None or pd.isna(x) else f"{100 * x:.{digits}f} %"


def _num(x, fmt: str = ".1f") -> str:
    return "–" if x is None or pd.isna(x) else format(x, fmt)


def _head(e: Experiment, state: str, design: dict) -> list[str]:
    lines = [
        f"### Experiment `{e.name}`: {e.segment_label} ({state})",
        "",
        f"*Hypothesis:* {e.hypothesis}",
        "",
        f"Enrolment {e.start_date} to {e.end_date} (exclusive, {e.duration_days} days); success KPI "
        f"{e.success_kpi.replace('_', ' ')}; arms: "
        + ", ".join(f"`{a.name}` {a.weight:.0%}" for a in e.arms)
        + f". Design: {(design.get('summary') or 'no design').rstrip('.')}.",
        "",
    ]
    if design.get("warnings"):
        lines += [f"> {w}" for w in design["warnings"].split("\n")] + [""]
    return lines


def planned_section(e: Experiment, design: dict) -> str:
    """The section of an experiment that has not started: its design and the cadence of each arm."""
    lines = _head(e, "planned", design) + ["| arm | weight | cadence |", "|---|---:|---|"]
    for a in e.arms:
        cadence = ", ".join(f"{k} {v:g}" for k, v in a.cadence.items() if k in CADENCE_KEYS)
        lines.append(
            f"| {a.name} | {a.weight:.0%} | {cadence or '–'}"
            f"{' (' + a.cadence['description'] + ')' if a.cadence.get('description') else ''} |"
        )
    return "\n".join([*lines, ""])


def experiment_section(
    e: Experiment, decision: dict, tables: dict[str, pd.DataFrame], final: pd.Series | None, retro: dict | None
) -> str:
    """The Markdown section of a running or ended experiment for the month."""
    design = tables["designs"].iloc[0].to_dict() if len(tables["designs"]) else {}
    lines = _head(e, decision["status"], {k: v for k, v in design.items() if isinstance(v, str) or v is None})
    metrics = tables["arm_metrics"]
    metrics = metrics[metrics["period"] == "to_date"] if len(metrics) else metrics
    if len(metrics):
        lines += [
            "Every lead enrolled so far:",
            "",
            "| arm | leads | CR [CI] | median TTF (h) | meetings / lead | complaints | unsubscribes |",
            "|---|---:|---|---:|---:|---:|---:|",
        ]
        for m in metrics.itertuples(index=False):
            lines.append(
                f"| {m.arm} | {m.leads:,} | {_pct(m.rate)} [{_pct(m.rate_low)}, {_pct(m.rate_high)}] | "
                f"{_num(m.median_ttf_hours)} | {_num(m.meetings_per_lead, '.2f')} | "
                f"{_pct(m.complaint_rate, 2)} | {_pct(m.unsubscribe_rate, 2)} |"
            )
        lines.append("")
    if final is not None and pd.notna(final.get("z")):
        bound = "" if pd.isna(final["boundary_z"]) else f"; boundary |z| >= {final['boundary_z']:.2f}"
        lines += [
            f"**Look {int(final['look'])} of {e.weeks}** (leads of weeks 1-{int(final['look'])}, information "
            f"{final['information_fraction']:.0%}): "
            f"`{final['arm']}` vs `{e.control.name}` {final['abs_lift_points']:+.2f} points "
            f"[{final['abs_lift_low']:+.2f}, {final['abs_lift_high']:+.2f}] ({100 * final['rel_lift']:+.1f} %), "
            f"z = {final['z']:.2f}, p = {final['p_value']:.2g}, P(beats control) = {final['prob_to_beat']:.1%}"
            f"{bound}.",
            "",
        ]
    lines += [
        f"**Checks:** sample ratio p = {decision['srm_p_value']:.3g}"
        f"{' (MISMATCH)' if decision['is_srm'] else ''}; balance by rep p = "
        f"{_num(decision['rep_balance_p_value'], '.3g')}, by segment p = "
        f"{_num(decision['segment_balance_p_value'], '.3g')}; guardrails: {decision['guardrail_breaches']} "
        f"breached arm-weeks, {decision['attributable_breaches']} attributable to a treatment arm, "
        f"{decision['guardrail_alerts']} alerts.",
        "",
        f"**Recommendation: {decision['recommendation'].upper()}**"
        + (f" `{decision['recommended_arm']}`" if decision["recommended_arm"] else "")
        + f". {decision['reason']}",
        "",
    ]
    if retro:
        lines += [
            f"#### Retrospective of `{e.name}`",
            "",
            f"- Result: {retro.get('result', 'no comparison available')}",
            f"- Decision: {retro['decision']}" + (f" `{retro['decided_arm']}`" if retro["decided_arm"] else ""),
            f"- Next cycle's thresholds: {retro['threshold_change_text']}",
            f"- {retro.get('next_cycle') or 'Next cycle: no baseline available.'}",
            "",
        ]
    return "\n".join(lines)


def write_fragments(reports_dir: Path, month: str, sections: list[str]) -> Path:
    """Per-experiment readout / retrospective files and the month's combined section."""
    root = Path(reports_dir) / "experiments"
    for text in sections:
        name = text.split("`", 2)[1]
        _atomic(root / name / month / "readout.md", text + "\n")
        if "#### Retrospective" in text:
            _atomic(root / name / month / "retrospective.md", text[text.index("#### Retrospective") :] + "\n")
    body = "\n".join(sections) if sections else "No experiment running this month.\n"
    return _atomic(root / f"{month}.md", f"## Experiments ({month})\n\n{body}")
