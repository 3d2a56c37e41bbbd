"""The experiments file: the default loads, the environment variable moves it, and every mistake is named."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml

from cadence.experiments.config import ExperimentConfigError, config_path, load_experiments, parse_experiments
from cadence.settings import CONFIG_DIR

BASE = {
    "experiments": [
        {
            "name": "trial",
            "hypothesis": "h",
            "segment": {"channel": "inbound", "company_size": ["SMB", "Mid"]},
            "arms": [
                {"name": "a", "weight": 0.5, "cadence": {"min_touches": 3}},
                {"name": "b", "weight": 0.5, "cadence": {"min_touches": 4, "ttf_target_hours": 2}},
            ],
            "start_date": "2026-10-05",
            "duration_days": 28,
            "minimum_detectable_effect_points": 3,
        }
    ],
}


def test_the_default_file_declares_one_documented_experiment():
    (e,) = load_experiments(CONFIG_DIR / "experiments.yml")
    assert e.name == "inbound_smb_four_touches" and e.segment == {"channel": ("inbound",), "company_size": ("SMB",)}
    assert [a.name for a in e.arms] == ["control", "four_touches_2h"] and e.control.name == "control"
    assert 14 <= e.duration_days <= 28 and e.weeks == 4 and e.end_date == date(2026, 11, 2)
    assert {g.kpi for g in e.guardrails} == {"complaint_rate", "unsubscribe_rate"}
    assert (e.alpha, e.power, e.srm_alpha, e.rule_of_thumb_leads_per_arm) == (0.05, 0.8, 0.001, 200)
    assert e.salt == e.name and e.early_stopping == "obrien_fleming"


def test_the_environment_variable_overrides_the_path(tmp_path, monkeypatch):
    other = tmp_path / "mine.yml"
    other.write_text(yaml.safe_dump(BASE))
    monkeypatch.setenv("CADENCE_EXPERIMENTS_CONFIG", str(other))
    assert config_path() == other
    assert [e.name for e in load_experiments()] == ["trial"]
    monkeypatch.setenv("CADENCE_EXPERIMENTS_CONFIG", str(tmp_path / "missing.yml"))
    with pytest.raises(ExperimentConfigError, match="file not found"):
        load_experiments()


def test_defaults_are_inherited_and_overridable():
    data = copy.deepcopy(BASE)
    data["defaults"] = {"alpha": 0.1, "guardrails": {"complaint_rate": {"max": 0.003}}}
    data["experiments"][0]["power"] = 0.9
    data["experiments"][0]["guardrails"] = {"complaint_rate": {"max_ratio_to_control": 2}}
    (e,) = parse_experiments(data)
    assert (e.alpha, e.power) == (0.1, 0.9)
    complaint = next(g for g in e.guardrails if g.kpi == "complaint_rate")
    assert (complaint.max_rate, complaint.max_ratio_to_control) == (0.003, 2.0)


@pytest.mark.parametrize(
    "path,value,key",
    [
        (("duration_days",), 35, "experiments[0].duration_days"),
        (("start_date",), "05/10/2026", "experiments[0].start_date"),
        (("arms", 1, "weight"), 0.6, "experiments[0].arms"),
        (("arms", 1, "name"), "a", "experiments[0].arms"),
        (("arms", 0, "cadence", "min_touch"), 3, "experiments[0].arms[0].cadence.min_touch"),
        (("segment", "channel"), "web", "experiments[0].segment.channel"),
        (("segment", "region"), "EU", "experiments[0].segment.region"),
        (("success_kpi",), "revenue", "experiments[0].success_kpi"),
        (("guardrails",), {"spam_rate": {"max": 0.1}}, "experiments[0].guardrails.spam_rate"),
        (("alpha",), 0.7, "experiments[0].alpha"),
        (("early_stopping",), "pocock", "experiments[0].early_stopping"),
        (("exclude_flags",), ["is_vip", "is_rich"], "experiments[0].exclude_flags"),
        (("name",), "Bad Name", "experiments[0].name"),
        (("minimum_detectable_effect_points",), 0, "experiments[0].minimum_detectable_effect_points"),
    ],
)
def test_every_mistake_names_its_key(path, value, key):
    data = copy.deepcopy(BASE)
    node = data["experiments"][0]
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    with pytest.raises(ExperimentConfigError) as err:
        parse_experiments(data)
    assert key in str(err.value)


def test_missing_keys_duplicates_and_unknown_sections_are_named():
    data = copy.deepcopy(BASE)
    del data["experiments"][0]["hypothesis"]
    with pytest.raises(ExperimentConfigError, match=r"experiments\[0\]\.hypothesis: is required"):
        parse_experiments(data)
    data = copy.deepcopy(BASE)
    data["experiments"].append(copy.deepcopy(data["experiments"][0]))
    with pytest.raises(ExperimentConfigError, match="names must be unique"):
        parse_experiments(data)
    with pytest.raises(ExperimentConfigError, match=r"<file>\.experiment: unknown key"):
        parse_experiments({"experiment": []})
    with pytest.raises(ExperimentConfigError, match=r"defaults\.power"):
        parse_experiments({"defaults": {"power": 2}})
    assert parse_experiments(None) == ()
