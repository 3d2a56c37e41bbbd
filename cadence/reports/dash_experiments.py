"""Experiments (step 7): per experiment of the month, its hypothesis and design, the recommendation, and
the lift of each arm against control at every weekly look (table and interval chart)."""

from __future__ import annotations

import pandas as pd

from cadence.reports import charts, fmt
from cadence.reports.gather import ReportData
from cadence.reports.html import Raw, card, chip, esc, section, table

TONES = {"ship": "green", "stop": "red", "continue": "amber"}


def _first(df: pd.DataFrame, **match) -> dict:
    for col, val in match.items():
        df = df[df[col] == val] if len(df) else df
    return df.iloc[0].to_dict() if len(df) else {}


def readout_rows(looks: pd.DataFrame) -> list[dict]:
    return looks.sort_values(["look", "arm"]).to_dict("records") if len(looks) else []


def _card(data: ReportData, d: dict) -> str:
    name = d["experiment"]
    design = _first(data.of("exp_designs"), experiment=name)
    looks = data.of("exp_readouts")
    looks = looks[looks["experiment"] == name] if len(looks) else looks
    rows = readout_rows(looks)
    multi = len({r["arm"] for r in rows}) > 1
    arm_name = rows[0]["arm"] if rows else "Arm"
    forest = charts.forest_chart(
        [
            {
                "label": f"look {r['look']}" + (f" {r['arm']}" if multi else ""),
                "est": r["abs_lift_points"],
                "lo": r["abs_lift_low"],
                "hi": r["abs_lift_high"],
            }
            for r in rows
        ],
        f"experiment-{name}",
        f"Lift of {name} by look",
        "CR pts",
        620,
    )
    columns = [
        (
            "Look",
            lambda r: f"{r['look']} · {r['look_end_date']:%d %b}" if pd.notna(r["look_end_date"]) else r["look"],
            "nw",
        ),
        ("Arm", lambda r: r["arm"], "nw"),
        ("Control", lambda r: f"{fmt.pct(r['control_rate'])} of {fmt.num(r['control_leads'])}", "n"),
        (
            "Arm CR" if multi else arm_name,
            lambda r: f"{fmt.pct(r['treatment_rate'])} of {fmt.num(r['treatment_leads'])}",
            "n",
        ),
        (
            "Lift [95% CI]",
            lambda r: (
                f"{fmt.points(r['abs_lift_points'])} [{fmt.signed(r['abs_lift_low'], 1)}, "
                f"{fmt.signed(r['abs_lift_high'], 1)}]"
            ),
            "n",
        ),
        ("p", lambda r: f"{r['p_value']:.2f}", "n"),
        ("Verdict", lambda r: str(r["verdict"]).replace("_", " "), ""),
    ]
    tbl = table(
        rows,
        columns if multi else [c for c in columns if c[0] != "Arm"],
        "no look yet",
    )
    rec = str(d["recommendation"])
    facts = (
        f"<p>{esc(design.get('hypothesis', ''))}</p>"
        f"<p class='sub'>{esc(fmt.segment_label(design.get('segment', '')))} · {esc(d['status'])} · "
        f"{fmt.num(d['analysed_leads'])} leads analysed · {int(d['looks_done'])} look(s) · "
        f"sample-ratio p = {d['srm_p_value']:.2f} · guardrail breaches attributable to an arm: "
        f"{fmt.num(d['attributable_breaches'])}</p>"
        f"<p>{chip(rec, TONES.get(rec, 'grey'))} {esc(d['reason'])}</p>{tbl}"
    )
    return (
        f'<div class="row c2" style="margin-bottom:12px">{card(name, facts)}'
        f"{card('Lift vs control at each look', forest, 'CR points, 95% interval', 'chart-card')}</div>"
    )


def experiments(data: ReportData) -> Raw:
    if "experiments.decisions" in data.unavailable:
        body = '<p class="na">Experiments: not available.</p>'
    else:
        body = "".join(_card(data, d) for d in data.of("exp_decisions").to_dict("records"))
        body = body or '<p class="na">No experiment running or decided this month.</p>'
    if data.experiments_fragment:
        body += '<p class="sub">The full readout and any retrospective are in the audit note.</p>'
    return section("experiments", "Experiments", Raw(body), "", "A/B tests of cadences (step 7 of the cycle).")
