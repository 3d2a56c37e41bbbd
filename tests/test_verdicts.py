"""The verdict (cadence.analytics.verdict) settles what the light and the thresholds could say differently:
planted lights and threshold rows, the verdict checked against the rule it must keep."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cadence.analytics.config import analysis_config
from cadence.analytics.verdict import experiment_plan, verdicts
from cadence.experiments.stats import sample_size

CFG = analysis_config()
KEY = "channel=inbound | company_size=SMB"


def _light(light: str, effect: str, leads: int = 2000, cr: float = 0.2, key: str = KEY) -> dict:
    ch, size = ("all", "all") if key == "all" else ("inbound", "SMB")
    return {"segment_level": "all" if key == "all" else "channel+company_size", "segment_key": key,
            "channel": ch, "company_size": size, "funnel_phase": "all", "population": "standard", "light": light,
            "light_rule": "x", "reason": f"{light} because", "effect": effect, "effect_summary": effect,
            "leads": leads, "touches": 5 * leads, "cr": cr, "delta_cr_points": 1.0, "method_light": "red"}


def _threshold(name: str, cur: float, rec: float, status: str = "recommended", key: str = KEY) -> dict:
    return {"segment_key": key, "threshold": name, "status": status, "current_value": cur, "recommended_value": rec,
            "note": f"{name} note"}


def _verdict(light: dict, *rows: dict) -> dict:
    return verdicts(pd.DataFrame([light]), pd.DataFrame(list(rows)), CFG).iloc[0].to_dict()


def test_a_red_light_never_carries_more_contact_volume():
    v = _verdict(_light("red", "none"), _threshold("min_touches", 4, 7), _threshold("ttf_target_hours", 2, 1))
    assert v["min_touches_status"] == "held" and pd.isna(v["min_touches_recommended"])
    assert "held" in v["held_changes"] and "4 → 7" in v["held_changes"]
    # the TTF target does not raise volume: it stays the change, and the decision says stop pushing volume
    assert (v["change_threshold"], v["change_from"], v["change_to"], v["change_direction"]) == \
        ("ttf_target_hours", 2, 1, "lower")
    assert v["decision"].startswith("Stop pushing volume") and "4 → 7" not in v["headline"]


def test_an_effect_that_hurts_holds_a_raise_but_not_a_cut():
    v = _verdict(_light("amber", "hurts"), _threshold("min_touches", 6, 8))
    assert v["min_touches_status"] == "held" and v["change_threshold"] is None
    v = _verdict(_light("amber", "hurts"), _threshold("min_touches", 6, 4))
    assert (v["change_threshold"], v["change_direction"]) == ("min_touches", "lower")


def test_the_experiment_tests_the_change_in_its_direction_where_the_segment_can_run_it():
    v = _verdict(_light("amber", "pays", leads=10_000, cr=0.2), _threshold("min_touches", 4, 6))
    n = max(max(sample_size(0.2, 0.03, 1 - CFG.confidence, CFG.experiment_power)), 200)
    assert v["experiment_status"] == "proposed" and v["experiment_leads_per_arm"] == n
    assert "minimum touches 4 → 6" in v["experiment"] and v["experiment_weeks"] <= CFG.experiment_max_weeks
    assert v["experiment_weeks"] == pytest.approx(math.ceil(10 * 2 * n / (10_000 / (30.4 / 7))) / 10)
    slow = _verdict(_light("amber", "pays", leads=400, cr=0.2), _threshold("min_touches", 4, 6))
    assert slow["experiment_status"] == "too_slow" and "Not testable within 4 weeks" in slow["experiment"]
    assert slow["decision"].startswith("Try the change below") and slow["headline"].split("; ")[-1].startswith("try ")
    none = _verdict(_light("amber", "pays"), _threshold("min_touches", 4, 4))
    assert none["experiment_status"] == "none" and none["change_threshold"] is None


def test_grey_and_overall_segments_propose_no_experiment():
    assert _verdict(_light("grey", "unclear", leads=60), _threshold("min_touches", 4, 6))["experiment_status"] == "none"
    overall = _verdict(_light("amber", "pays", key="all"), _threshold("min_touches", 4, 6, key="all"))
    assert overall["experiment_status"] == "none" and overall["change_threshold"] == "min_touches"


def test_experiment_plan_floor_is_the_rule_of_thumb():
    n, weeks = experiment_plan(0.5, 100_000, CFG)
    assert n >= 200 and weeks < 1
    assert experiment_plan(None, 100, CFG) == (None, None)
