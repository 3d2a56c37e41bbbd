"""Enrolment, readouts, guardrails, decisions, design, storage and reports on synthetic lead tables.

Arms are recomputed here from the documented rule with hashlib (an independent implementation, what a
sales tool would code); outcomes are drawn with a planted truth; counts are recomputed with pandas.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from cadence.experiments import analysis, decision, design, guardrails, report, stats, store
from cadence.experiments.config import parse_experiment
from cadence.experiments.periods import available_looks, planned_looks, status
from cadence.experiments.tables import COLUMNS

SPEC = {
    "name": "trial",
    "hypothesis": "h",
    "segment": {"channel": "inbound"},
    "arms": [
        {"name": "a", "weight": 0.5, "cadence": {"min_touches": 3, "ttf_target_hours": 4}},
        {"name": "b", "weight": 0.5, "cadence": {"min_touches": 4, "ttf_target_hours": 2}},
    ],
    "start_date": "2026-10-05",
    "duration_days": 28,
    "minimum_detectable_effect_points": 3,
}
EXP = parse_experiment(SPEC)
START = int(datetime(2026, 10, 5, tzinfo=UTC).timestamp())


def documented_arm(salt: str, lead_id: str) -> str:
    u = int.from_bytes(hashlib.sha256(f"{salt}\x1f{lead_id}".encode()).digest()[:8], "big") / 2**64
    return "a" if u < 0.5 else "b"


def synthetic(
    n: int,
    seed: int,
    lift: float = 0.0,
    base: float = 0.12,
    month: str = "2026-10",
    first: int = START - 4 * 86_400,
    span_days: int = 35,
    complaint_b: float | None = None,
) -> pd.DataFrame:
    """Leads like store.fetch_leads returns them; conversions drawn with `lift` for arm b's leads."""
    rng = np.random.default_rng(seed)
    ids = [f"L{month.replace('-', '')}-{i:06d}" for i in range(1, n + 1)]
    arm_b = np.array([documented_arm("trial", i) == "b" for i in ids])
    created = first + rng.integers(0, span_days * 86_400, n)
    delivered = rng.poisson(4, n) + 1
    complained = rng.binomial(delivered, np.where(arm_b & (complaint_b is not None), complaint_b or 0, 0.0005))
    return pd.DataFrame(
        {
            "lead_id": ids,
            "partition_month": month,
            "created_epoch": created,
            "created_at": pd.to_datetime(created, unit="s"),
            "channel": rng.choice(["inbound", "outbound"], n, p=[0.8, 0.2]),
            "company_size": "SMB",
            "funnel_phase": rng.choice(["MQL", "SQL"], n),
            "team": "Inbound Desk",
            "rep_id": rng.choice([f"R{i:02d}" for i in range(1, 8)], n),
            "is_vip": rng.random(n) < 0.03,
            "is_dispute": rng.random(n) < 0.01,
            "is_hot_lead": False,
            "is_window_complete": True,
            "is_converted": rng.random(n) < base + lift * arm_b,
            "meetings_held": rng.poisson(0.2, n),
            "ttf_hours": rng.exponential(6, n),
            "touches_in_window": rng.poisson(5, n),
            "emails_sent": delivered,
            "emails_delivered": delivered,
            "emails_complained": complained,
            "emails_unsubscribed": rng.binomial(1, 0.01, n),
            "emails_bounced": 0,
        }
    )


def test_enrolment_follows_the_documented_rule_and_is_stable_when_leads_disappear():
    leads = synthetic(6000, 1)
    enrolled = analysis.enrol(EXP, leads)
    in_window = (leads["created_epoch"] >= START) & (leads["created_epoch"] < START + 28 * 86_400)
    expected = leads[in_window & (leads["channel"] == "inbound") & ~leads["is_vip"] & ~leads["is_dispute"]]
    assert list(enrolled["lead_id"]) == list(expected["lead_id"])
    assert list(enrolled["arm"]) == [documented_arm("trial", i) for i in enrolled["lead_id"]]
    assert set(enrolled["enrolment_week"]) == {1, 2, 3, 4}
    subset = analysis.enrol(EXP, leads.iloc[::3])
    again = enrolled.set_index("lead_id").loc[subset["lead_id"], "arm"]
    assert list(again) == list(subset["arm"])  # a lead's arm never depends on the other leads
    rows = analysis.assignment_rows(EXP, enrolled, "2026-10")
    assert set(COLUMNS["assignments"]) <= set(rows.columns) and rows["iso_week"].iloc[0].startswith("2026-W")


def test_readouts_recover_a_planted_lift_at_every_look():
    leads = synthetic(40_000, 2, lift=0.03)
    enrolled = analysis.enrol(EXP, leads)
    looks = analysis.readouts(EXP, enrolled, planned_looks(EXP), "2026-11")
    assert list(looks["look"]) == [1, 2, 3, 4] and looks["is_final_look"].tolist() == [False] * 3 + [True]
    final = looks.iloc[-1]
    a, b = enrolled[enrolled["arm"] == "a"], enrolled[enrolled["arm"] == "b"]
    assert (final["control_leads"], final["treatment_leads"]) == (len(a), len(b))
    assert final["abs_lift_points"] == pytest.approx(100 * (b["is_converted"].mean() - a["is_converted"].mean()))
    assert final["abs_lift_low"] < 3.0 < final["abs_lift_high"] and final["abs_lift_low"] > 0
    table = [[arm["is_converted"].sum(), (~arm["is_converted"]).sum()] for arm in (b, a)]
    assert final["p_value"] == pytest.approx(sps.chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    assert final["prob_to_beat"] > 0.99 and final["verdict"] == "better"
    assert looks["boundary_z"].tolist() == pytest.approx([4.3326, 2.9631, 2.3590, 2.0141], abs=2e-3)
    # looks become available week by week as months close
    assert [lk.k for lk in available_looks(EXP, "2026-10")] == [1, 2, 3]
    assert status(EXP, "2026-10") == "running" and status(EXP, "2026-11") == "ended"


def test_srm_and_rep_balance_catch_lost_or_rerouted_leads():
    leads = synthetic(12_000, 3)
    enrolled = analysis.enrol(EXP, leads)
    counts, _, p = analysis.srm(EXP, enrolled)
    assert p > 0.001 and counts == [int((enrolled["arm"] == "a").sum()), int((enrolled["arm"] == "b").sum())]
    rng = np.random.default_rng(0)
    lost = enrolled[~((enrolled["arm"] == "b") & (rng.random(len(enrolled)) < 0.2))]
    assert analysis.srm(EXP, lost)[2] < 1e-6
    bal = analysis.balance(EXP, enrolled, "2026-10")
    assert not bal["is_imbalanced"].any()
    # one rep quietly works arm a only: the arms stay near 50/50 overall, the rep balance check trips
    rerouted = enrolled[~((enrolled["rep_id"] == "R03") & (enrolled["arm"] == "b"))]
    bal = analysis.balance(EXP, rerouted, "2026-10")
    assert bal[bal["stratum_kind"] == "rep"]["is_imbalanced"].all()
    assert not bal[bal["stratum_kind"] == "segment"]["is_imbalanced"].any()


def test_guardrails_flag_the_harmful_arm_and_shape_alert_records():
    leads = synthetic(20_000, 4, complaint_b=0.01)
    enrolled = analysis.enrol(EXP, leads)
    weekly = guardrails.weekly(EXP, enrolled, "2026-11")
    comp = weekly[(weekly["kpi"] == "complaint_rate") & (weekly["period"] == "to_date")].set_index("arm")
    b = enrolled[enrolled["arm"] == "b"]
    assert comp.loc["b", "rate"] == pytest.approx(b["emails_complained"].sum() / b["emails_delivered"].sum())
    assert comp.loc["b", "is_relative_breach"] and comp.loc["b", "is_attributable"]
    assert not comp.loc["a", "is_absolute_breach"] and not comp.loc["a", "is_attributable"]
    found = guardrails.breaches(EXP, weekly, enrolled, "2026-11")
    ids = {f["breach_id"] for f in found}
    assert "experiment:trial:b:to_date:complaint_rate:relative" in ids
    assert all(f["arm"] == "b" for f in found) and len(ids) == len(found)
    assert found == guardrails.breaches(EXP, weekly, enrolled, "2026-11")  # deterministic
    messages = pytest.importorskip("cadence.notify.messages")
    note = messages.breach_notification(found[0], "run-1", "http://ui/runs/run-1")
    assert note.notification_id == found[0]["breach_id"] and "trial" in note.title
    quiet = guardrails.weekly(EXP, analysis.enrol(EXP, synthetic(20_000, 4)), "2026-11")
    assert not quiet["is_attributable"].any()


def _looks(zs: list[float], bounds: list[float], final: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "look": k,
                "arm": "b",
                "z": z,
                "boundary_z": bd,
                "is_boundary_crossed": abs(z) >= bd,
                "is_final_look": k == final,
                "abs_lift_points": z,
                "abs_lift_low": z - 1,
                "abs_lift_high": z + 1,
            }
            for k, (z, bd) in enumerate(zip(zs, bounds, strict=True), 1)
        ]
    )


def test_decision_rules_in_order():
    guard = pd.DataFrame(
        {
            "is_attributable": [False],
            "arm": ["b"],
            "kpi": ["complaint_rate"],
            "period": ["W1"],
            "rate": [0.01],
            "control_rate": [0.001],
        }
    )
    ob = [4.33, 2.96, 2.36, 2.01]

    def decide(state="running", srm=0.5, looks=None, g=guard, missing=(), pending=0):
        return decision.decide(
            EXP, state, srm, looks if looks is not None else _looks([1.0], ob[:1]), g, list(missing), pending, 1000
        )

    assert decide(srm=1e-5)["recommendation"] == "stop"
    assert decide(g=guard.assign(is_attributable=True)) | {"reason": ""} == {
        "recommendation": "stop",
        "recommended_arm": "b",
        "reason": "",
        "is_final": True,
    }
    assert decide(looks=_looks([1.0, 3.1], ob[:2]))["recommendation"] == "ship"  # crossed 2.96 at look 2
    assert decide(looks=_looks([1.0, -3.1], ob[:2]))["recommendation"] == "stop"
    assert decide(looks=_looks([2.5, 2.5], ob[:2]))["recommendation"] == "continue"  # p = 0.012, no peeking
    final = _looks([1.0, 1.5, 2.0, 2.1], ob)
    assert decide("ended", looks=final)["recommendation"] == "ship"
    assert decide("ended", looks=_looks([1.0, 1.5, 2.0, 1.9], ob))["recommendation"] == "stop"
    assert decide("ended", looks=final, missing=["2026-10"])["recommendation"] == "continue"
    assert decide("ended", looks=final, pending=12)["recommendation"] == "continue"
    fixed = parse_experiment({**SPEC, "early_stopping": "none"})
    inf = [float("inf")] * 3 + [1.96]
    assert (
        decision.decide(fixed, "running", 0.5, _looks([5.0, 6.0], inf[:2]), guard, [], 0, 1000)["recommendation"]
        == "continue"
    )
    changes, text = decision.threshold_changes(EXP, "ship", "b")
    assert changes == [{"key": "min_touches", "from": 3, "to": 4}, {"key": "ttf_target_hours", "from": 4.0, "to": 2.0}]
    assert "min_touches: 3 -> 4" in text and decision.threshold_changes(EXP, "stop", None)[0] == []


def test_design_uses_the_previous_months_and_warns_when_200_per_arm_is_too_small():
    before = synthetic(3000, 5, month="2026-09", first=START - 34 * 86_400, span_days=30, base=0.2)
    base = design.baseline(EXP, before)
    pop = before[(before["channel"] == "inbound") & ~before["is_vip"] & ~before["is_dispute"]]
    assert base.source == "previous_months" and base.months == ("2026-09",)
    assert base.cr == pytest.approx(pop["is_converted"].mean()) and base.leads_per_day == pytest.approx(len(pop) / 30)
    row = design.design_row(EXP, base, "2026-09")
    n = max(row["required_control_leads"], row["required_treatment_leads"])
    assert n == max(stats.sample_size(base.cr, 0.03, 0.05, 0.8))
    assert n > 200 and not row["is_rule_of_thumb_enough"] and "rule of thumb of 200" in row["warnings"]
    assert row["expected_control_leads"] == pytest.approx(len(pop) / 30 * 28 * 0.5) and row["is_powered"] is False
    big = design.design_row(parse_experiment({**SPEC, "minimum_detectable_effect_points": 25}), base, "2026-09")
    assert big["is_rule_of_thumb_enough"] and big["is_powered"] and big["warnings"] == ""
    none = design.design_row(EXP, design.baseline(EXP, before.iloc[0:0]), "2026-09")
    assert none["baseline_source"] == "none" and "No baseline" in none["warnings"]


def test_replace_month_touches_one_month_and_rebuilds_on_new_columns():
    con = duckdb.connect()
    cols = {"partition_month": "varchar", "x": "bigint"}
    for month, xs in (("2026-09", [1, 2]), ("2026-10", [3])):
        with store.transaction(con):
            store.replace_month(con, "t", month, pd.DataFrame({"partition_month": month, "x": xs}), cols, "c")
    with store.transaction(con):
        store.replace_month(con, "t", "2026-10", pd.DataFrame({"partition_month": ["2026-10"], "x": [9]}), cols, "c")
    assert con.execute("select * from experiments.t order by all").fetchall() == [
        ("2026-09", 1),
        ("2026-09", 2),
        ("2026-10", 9),
    ]
    with pytest.raises(RuntimeError), store.transaction(con):
        store.replace_month(con, "t", "2026-09", pd.DataFrame(columns=list(cols)), cols, "c")
        raise RuntimeError("half-way")
    assert con.execute("select count(*) from experiments.t where partition_month = '2026-09'").fetchone()[0] == 2
    with store.transaction(con):
        store.replace_month(
            con,
            "t",
            "2026-10",
            pd.DataFrame({"partition_month": ["2026-10"], "x": [1], "y": [0.5]}),
            {**cols, "y": "double"},
            "c",
        )
    assert con.execute("select * from experiments.t").fetchall() == [("2026-10", 1, 0.5)]


def test_assignment_csv_and_note_fragment(tmp_path):
    enrolled = analysis.enrol(EXP, synthetic(800, 6))
    rows = analysis.assignment_rows(EXP, enrolled, "2026-10")
    path = report.write_assignments_csv(tmp_path, "trial", "2026-10", rows)
    assert path == tmp_path / "experiments" / "trial" / "2026-10" / "assignments.csv"
    csv = pd.read_csv(path, dtype=str)
    assert list(csv["lead_id"]) == sorted(rows["lead_id"])
    assert (csv["arm"] == [documented_arm("trial", i) for i in csv["lead_id"]]).all()
    assert set(csv[csv["arm"] == "b"]["min_touches"]) == {"4"} and csv["created_at"].str.endswith("Z").all()
    plan = design.design_row(EXP, design.baseline(EXP, enrolled.iloc[0:0]), "2026-09")
    out = report.write_fragments(tmp_path, "2026-09", [report.planned_section(EXP, plan)])
    text = out.read_text()
    assert text.startswith("## Experiments (2026-09)") and "`trial`" in text and "min_touches 4" in text
    assert (tmp_path / "experiments" / "trial" / "2026-09" / "readout.md").exists()
