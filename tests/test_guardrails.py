"""Guardrail rules on a tiny hand-built warehouse: every touch rule fires exactly on the touches built to
break it (and not on the ones built to pass), weekly rates need significance, KPI rules compare with the
previous month, breaches have stable ids and carry contributors and actions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from cadence.guardrails import audit
from cadence.guardrails.breaches import breach_id
from cadence.guardrails.kpis import evaluate_kpis, previous_month
from cadence.guardrails.rates import evaluate_weekly_rates, p_value_above
from cadence.guardrails.rules import RULE_SPECS, GuardrailConfig
from cadence.scoping import GUARDRAIL_RULES, parse_scoping_note

CONFIG = GuardrailConfig.from_note(parse_scoping_note({}))
T0 = datetime(2026, 10, 5, 8, 0)


def _table(con, name: str, rows: list[dict]) -> None:
    schema = name.split(".")[0]
    con.execute(f"create schema if not exists {schema}")
    con.register("_rows", pd.DataFrame(rows))
    con.execute(f"create or replace table {name} as select * from _rows")
    con.unregister("_rows")


def _touch(touch_id, lead, at, channel="call", *, month="2026-10", rep="R1", hour=None, direction="outbound",
           is_touch=True, after_opt_out=False, cool_down=False, seg=("inbound", "SMB")):
    local = at  # lead-local = UTC in this fixture
    return {"touch_id": touch_id, "partition_month": month, "lead_id": lead, "rep_id": rep, "touch_channel": channel,
            "touch_at": at, "touch_local_at": local, "touch_local_date": local.date(),
            "touch_local_hour": local.hour if hour is None else hour, "is_after_opt_out": after_opt_out,
            "is_cool_down_breach": cool_down, "previous_touch_at": at - timedelta(days=2), "channel": seg[0],
            "company_size": seg[1], "funnel_phase": "MQL", "is_touch": is_touch, "direction": direction}


def _lead(lead, month="2026-10", *, account=None, vip=False, dispute=False, seg=("inbound", "SMB"), rep="R1"):
    return {"lead_id": lead, "partition_month": month, "account_id": account or f"ACC-{lead}", "is_vip": vip,
            "is_dispute": dispute, "opted_out_at": None, "max_emails_per_day": 2, "max_touches_per_day": 3,
            "rep_id": rep, "channel": seg[0], "company_size": seg[1], "funnel_phase": "MQL", "is_in_scope": True,
            "is_converted": False, "opportunities_won": 0, "won_amount": 0.0}


#: (touch id, rules it must break)
EXPECTED = {
    "t-optout-mail": {"opt_out_contact"},
    "t-cap-mail3": {"email_daily_cap"},
    "t-cap-call4": {"touch_daily_cap"},
    "t-hours-8": {"calling_hours"},
    "t-hours-17": {"calling_hours"},
    "t-vip-mail": {"vip_dispute_channel"},
    "t-cooldown": {"cool_down_breach"},
    "t-ent-3rd": {"enterprise_48h_cap"},
}


@pytest.fixture
def warehouse():
    con = duckdb.connect()
    ent = ("outbound", "Enterprise")
    touches = [
        # opt-out: the rep's e-mail after the opt-out breaks it; the lead's own call after it does not;
        # a meeting that is not a touch in the note is not audited
        _touch("t-optout-call-before", "L1", T0 + timedelta(hours=2)),
        _touch("t-optout-mail", "L1", T0 + timedelta(days=1, hours=2), "email", after_opt_out=True),
        _touch("t-optout-inbound", "L1", T0 + timedelta(days=1, hours=3), direction="inbound", after_opt_out=True),
        _touch("t-optout-meeting", "L1", T0 + timedelta(days=2, hours=3), "meeting", is_touch=False,
               after_opt_out=True),
        # daily caps: 3 e-mails then a call on one day (caps 2 e-mails, 3 touches)
        *[_touch(f"t-cap-mail{i}", "L2", T0 + timedelta(hours=1 + i), "email") for i in (1, 2, 3)],
        _touch("t-cap-call4", "L2", T0 + timedelta(hours=6)),
        # calling hours [9, 17): 08:xx and 17:xx break it, 16:xx does not, an e-mail at 07:xx is no call
        _touch("t-hours-8", "L3", datetime(2026, 10, 6, 8, 30)),
        _touch("t-hours-16", "L3", datetime(2026, 10, 7, 16, 59)),
        _touch("t-hours-17", "L3", datetime(2026, 10, 8, 17, 0)),
        _touch("t-hours-mail7", "L3", datetime(2026, 10, 9, 7, 0), "email"),
        # VIP: first touch is a call (the validated channel), then an e-mail
        _touch("t-vip-call", "L4", datetime(2026, 10, 6, 10, 0)),
        _touch("t-vip-call2", "L4", datetime(2026, 10, 8, 10, 0)),
        _touch("t-vip-mail", "L4", datetime(2026, 10, 10, 10, 0), "email"),
        # cool-down flag from int_touches_sequenced
        _touch("t-cooldown", "L5", datetime(2026, 10, 12, 10, 0), cool_down=True),
        # Enterprise account ACC-E: two touches of the previous cohort, then a third within 48 h
        _touch("t-ent-prev1", "L7", datetime(2026, 10, 1, 10, 0), month="2026-09", seg=ent),
        _touch("t-ent-prev2", "L7", datetime(2026, 10, 1, 12, 0), month="2026-09", seg=ent),
        _touch("t-ent-3rd", "L6", datetime(2026, 10, 2, 9, 0), seg=ent),
        _touch("t-ent-later", "L6", datetime(2026, 10, 10, 9, 0), seg=ent),
    ]
    leads = [_lead("L1"), _lead("L2"), _lead("L3"), _lead("L4", vip=True), _lead("L5"),
             _lead("L6", account="ACC-E", seg=ent), _lead("L7", "2026-09", account="ACC-E", seg=ent)]
    _table(con, "intermediate.int_touches_sequenced", touches)
    _table(con, "marts.fct_lead_cadence", leads)
    _table(con, "intermediate.int_email_messages_pivoted", [
        {"touch_id": t["touch_id"], "partition_month": t["partition_month"], "campaign_id": "CMP-A"}
        for t in touches if t["touch_channel"] == "email"])
    yield con
    con.close()


def test_each_touch_rule_fires_exactly_on_the_touches_built_to_break_it(warehouse):
    counts = audit.write_touch_violations(warehouse, "2026-10", CONFIG)
    found: dict[str, set[str]] = {}
    for rule, touch in warehouse.execute("select rule_id, touch_id from guardrails.touch_violations").fetchall():
        found.setdefault(touch, set()).add(rule)
    assert found == EXPECTED
    assert counts == {spec.rule_id: sum(spec.rule_id in r for r in EXPECTED.values())
                      for spec in CONFIG.rules("touch")}
    # roll-ups add up to the touch table, per lead and per rep/segment/week
    for table in ("lead_violations", "violation_counts"):
        assert warehouse.execute(f"select sum(violations) from guardrails.{table}").fetchone()[0] == len(EXPECTED)


def test_touch_rules_follow_the_note(warehouse):
    note = parse_scoping_note({"thresholds": {"calling_hours": {"start": 8, "end": 18}},
                               "guardrails": {"enterprise_max_touches_per_48h": 3, "validated_channel": "email"}})
    audit.write_touch_violations(warehouse, "2026-10", GuardrailConfig.from_note(note))
    rows = set(warehouse.execute("select rule_id, touch_id from guardrails.touch_violations").fetchall())
    assert not {r for r in rows if r[0] in ("calling_hours", "enterprise_48h_cap")}
    # validated channel e-mail: the VIP's two calls break it now, its e-mail does not
    assert {t for r, t in rows if r == "vip_dispute_channel"} == {"t-vip-call", "t-vip-call2"}


def test_rewriting_a_month_replaces_it_and_keeps_the_others(warehouse):
    audit.write_touch_violations(warehouse, "2026-10", CONFIG)
    warehouse.execute("insert into guardrails.touch_violations by name "
                      "select * replace ('2026-08' as partition_month) from guardrails.touch_violations")
    audit.write_touch_violations(warehouse, "2026-10", CONFIG)
    per_month = dict(warehouse.execute("select partition_month, count(*) from guardrails.touch_violations "
                                       "group by 1").fetchall())
    assert per_month == {"2026-08": len(EXPECTED), "2026-10": len(EXPECTED)}


def _week(segment: tuple[str, str], sent: int, delivered: int, complaints: int, unsubs: int = 0, bounces: int = 0,
          week: str = "2026-W42") -> dict:
    return {"partition_month": "2026-10", "iso_week": week, "week_start_date": date(2026, 10, 12),
            "segment_level": "channel+company_size", "segment_key": f"channel={segment[0]} | company_size={segment[1]}",
            "channel": segment[0], "company_size": segment[1], "funnel_phase": "all", "emails_sent": sent,
            "emails_delivered": delivered, "complaints": complaints, "unsubscribes": unsubs, "bounces": bounces}


def test_a_weekly_rate_breaches_only_when_significantly_above_its_threshold():
    rows = [_week(("outbound", "Mid"), 1000, 980, 15), _week(("inbound", "SMB"), 310, 300, 1),
            _week(("partner", "SMB"), 0, 0, 0)]
    out = {(r["segment_key"], r["rule_id"]): r for r in evaluate_weekly_rates(rows, CONFIG)}
    keys = ("channel=outbound | company_size=Mid", "channel=inbound | company_size=SMB",
            "channel=partner | company_size=SMB")
    spike, single, empty = (out[(k, "complaint_rate")] for k in keys)
    assert spike["is_breach"] and spike["p_value"] < 1e-6 and spike["rate"] == pytest.approx(15 / 980)
    assert single["rate"] > 0.002 and not single["is_breach"] and single["p_value"] > 0.4  # one complaint: noise
    assert empty["rate"] is None and not empty["is_breach"]
    plain = GuardrailConfig.from_note(parse_scoping_note({"guardrails": {"significance": 1, "rate_min_events": 0}}))
    verdicts = [r["is_breach"] for r in evaluate_weekly_rates(rows[1:2], plain) if r["rule_id"] == "complaint_rate"]
    assert verdicts == [True]
    assert p_value_above(0, 100, 0.002) == 1.0 and p_value_above(3, 0, 0.002) is None


def test_a_rate_alert_needs_a_base_and_events_and_its_severity_follows_the_evidence():
    """1 complaint in 23 e-mails has p = 0.045 < 0.05 but is no alert; a barely significant week pages one
    level below the rule's severity; strong evidence gets the rule's own (critical for complaints)."""
    tiny, borderline, strong = (_week(("inbound", "SMB"), 23, 23, 1), _week(("outbound", "SMB"), 420, 400, 4),
                                _week(("outbound", "Mid"), 1000, 980, 15))
    out = {r["segment_key"]: r for r in evaluate_weekly_rates([tiny, borderline, strong], CONFIG)
           if r["rule_id"] == "complaint_rate"}
    small = out["channel=inbound | company_size=SMB"]
    assert small["p_value"] == pytest.approx(1 - 0.998 ** 23) and small["p_value"] < 0.05 and not small["is_breach"]
    weak = out["channel=outbound | company_size=SMB"]
    assert 0.005 < weak["p_value"] < 0.05 and weak["is_breach"] and weak["severity"] == "high"
    assert out["channel=outbound | company_size=Mid"]["severity"] == "critical"
    flat = GuardrailConfig.from_note(parse_scoping_note({"guardrails": {"severity_by_evidence": False}}))
    assert {r["severity"] for r in evaluate_weekly_rates([borderline], flat) if r["rule_id"] == "complaint_rate"} \
        == {"critical"}


def test_kpi_rules_compare_with_the_previous_month():
    row = {"partition_month": "2026-10", "segment_level": "all", "segment_key": "all", "channel": "all",
           "company_size": "all", "funnel_phase": "all", "leads": 1000, "previous_leads": 900,
           "conversion_rate": 0.17, "previous_conversion_rate": 0.20,
           "average_order_value": 9700.0, "previous_average_order_value": 10000.0}
    out = {r["rule_id"]: r for r in evaluate_kpis([row], CONFIG)}
    drop = out["conversion_rate_drop"]
    assert drop["is_breach"] and drop["relative_change"] == pytest.approx(-0.15)
    assert not out["average_order_value_drop"]["is_breach"]  # -3 % is within the allowed 5 %
    first = {**row, "previous_conversion_rate": None, "previous_average_order_value": None}
    assert not any(r["is_breach"] or r["relative_change"] is not None for r in evaluate_kpis([first], CONFIG))
    assert previous_month("2026-01") == "2025-12" and previous_month("2026-10") == "2026-09"


def test_breach_ids_are_deterministic_and_distinct():
    same = ("complaint_rate", "2026-10", "2026-W42", "x")
    assert breach_id(*same) == breach_id(*same)
    ids = {breach_id(r, m, w, s) for r in ("complaint_rate", "bounce_rate") for m in ("2026-09", "2026-10")
           for w in ("2026-W41", "2026-W42") for s in ("a", "b")}
    assert len(ids) == 16


def test_every_rule_has_a_severity_and_an_action_in_the_note():
    assert set(RULE_SPECS) == set(GUARDRAIL_RULES)
    for rule in RULE_SPECS:
        assert CONFIG.severity(rule) in ("critical", "high", "medium", "low") and len(CONFIG.action(rule)) > 20
    assert CONFIG.severity("complaint_rate") == "critical" and RULE_SPECS["complaint_rate"].stream == "complaint"
    assert {s.stream for r, s in RULE_SPECS.items() if r != "complaint_rate"} == {"guardrail"}


def test_breaches_end_to_end_on_the_tiny_warehouse(warehouse):
    """Touch breaches once per rule, a rate breach per significant week with its top reps and campaigns, a KPI
    breach with the reps behind it; a rule set to `off` keeps its table rows but has no breach."""
    con = warehouse
    audit.write_touch_violations(con, "2026-10", CONFIG)
    spike = ("outbound", "Mid")
    _table(con, "marts.kpi_guardrails_weekly", [_week(spike, 1000, 980, 15), _week(("inbound", "SMB"), 310, 300, 1)])
    complained = [{"touch_id": f"email:M{i}:LX", "partition_month": "2026-10", "lead_id": "LX",
                   "rep_id": "R9" if i < 10 else "R8", "touch_channel": "email",
                   "email_delivered_at": datetime(2026, 10, 13, 10, i), "touch_at": datetime(2026, 10, 13, 10, 0),
                   "is_email_complained": True, "is_email_unsubscribed": False, "is_email_bounced": False,
                   "channel": spike[0], "company_size": spike[1], "funnel_phase": "MQL"} for i in range(15)]
    _table(con, "intermediate.int_touches_unioned", complained)
    con.execute("insert into intermediate.int_email_messages_pivoted select touch_id, partition_month, "
                "case when rep_id = 'R9' then 'CMP-SPIKE' else 'CMP-B' end from intermediate.int_touches_unioned")
    con.execute("insert into marts.fct_lead_cadence by name select 'LX' as lead_id, '2026-10' as partition_month, "
                "'outbound' as channel, 'Mid' as company_size, 'MQL' as funnel_phase, true as is_in_scope, "
                "'R9' as rep_id, false as is_converted")
    kpi = [{"partition_month": m, "segment_level": "all", "segment_key": "all", "channel": "all", "company_size": "all",
            "funnel_phase": "all", "leads": 100, "conversions": c, "conversion_rate": c / 100, "opportunities_won": 10,
            "won_amount": 100000.0} for m, c in (("2026-09", 20), ("2026-10", 17))]
    _table(con, "marts.kpi_segments_monthly", kpi)
    con.execute("update marts.fct_lead_cadence set is_converted = true where lead_id in ('L1', 'L2')")
    con.execute("insert into marts.fct_lead_cadence by name select 'P' || i as lead_id, '2026-09' as partition_month, "
                "'inbound' as channel, 'SMB' as company_size, 'MQL' as funnel_phase, true as is_in_scope, "
                "'R1' as rep_id, i < 5 as is_converted, 0 as opportunities_won, 0.0 as won_amount "
                "from range(10) as r(i)")
    audit.write_weekly_rates(con, "2026-10", CONFIG)
    audit.write_kpi_changes(con, "2026-10", CONFIG)
    found = audit.write_breaches(con, "2026-10", CONFIG, run_id="run-1")

    by_rule: dict[str, list] = {}
    for b in found:
        by_rule.setdefault(b["rule_id"], []).append(b)
    assert {r: len(v) for r, v in by_rule.items()} == {
        **{r: 1 for r in set().union(*EXPECTED.values())}, "complaint_rate": 1, "conversion_rate_drop": 1}
    complaint = by_rule["complaint_rate"][0]
    assert complaint["segment_key"] == "channel=outbound | company_size=Mid" and complaint["iso_week"] == "2026-W42"
    assert complaint["top_reps"][0] == {"name": "R9", "count": 10.0}
    assert complaint["top_campaigns"][0] == {"name": "CMP-SPIKE", "count": 10.0}
    assert complaint["action"] == GUARDRAIL_RULES["complaint_rate"][1] and complaint["stream"] == "complaint"
    assert "1.53 %" in complaint["comparison"] and "0.20 %" in complaint["comparison"]
    drop = by_rule["conversion_rate_drop"][0]
    assert drop["top_reps"][0]["name"] == "R1" and drop["top_reps"][0]["count"] < 0  # R1 converted 2/5 vs 5/10
    stored = con.execute("select breach_id, run_id from guardrails.breaches order by 1").fetchall()
    assert sorted(b["breach_id"] for b in found) == [r[0] for r in stored] and {r[1] for r in stored} == {"run-1"}

    # A rerun gives the same ids; a rule switched off has no breach but keeps its violations.
    again = audit.write_breaches(con, "2026-10", CONFIG, run_id="run-2")
    assert sorted(b["breach_id"] for b in again) == sorted(b["breach_id"] for b in found)
    off = parse_scoping_note({"guardrails": {"rules": {"calling_hours": {"severity": "off"}}}})
    rules = {b["rule_id"] for b in audit.write_breaches(con, "2026-10", GuardrailConfig.from_note(off), run_id="r3")}
    assert "calling_hours" not in rules
    assert con.execute("select count(*) from guardrails.touch_violations "
                       "where rule_id = 'calling_hours'").fetchone()[0] == 2
