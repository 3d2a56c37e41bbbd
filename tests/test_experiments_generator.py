"""The generator's planted experiments, read back from the written files with pandas.

The arm of each lead in the files is recomputed twice: with the pipeline's enrolment (cadence.experiments)
and with hashlib from the documented rule; both must equal the planted truth of the manifest.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from scipy import stats as sps

from cadence.experiments import analysis
from cadence.experiments.config import parse_experiment
from cadence.generator import generate

MONTH = "2026-10"
ARMS = [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}]
BASE = {
    "name": "trial",
    "segment": {"channel": "inbound"},
    "arms": ARMS,
    "start_date": "2026-10-05",
    "duration_days": 21,
}


def documented_arm(salt: str, lead_id: str) -> str:
    u = int.from_bytes(hashlib.sha256(f"{salt}\x1f{lead_id}".encode()).digest()[:8], "big") / 2**64
    return "a" if u < 0.5 else "b"


def read(root, source: str, entity: str) -> pd.DataFrame:
    return pd.read_csv(root / source / MONTH / f"{entity}.csv", dtype=str, keep_default_na=False)


def leads_from_files(root) -> pd.DataFrame:
    """The lead columns the pipeline's enrolment needs, parsed from leads.csv."""
    leads = read(root, "crm", "leads")
    created = pd.to_datetime(leads["created_at"], utc=True, format="ISO8601")
    out = leads[["lead_id", "channel", "company_size", "funnel_phase", "rep_id"]].copy()
    out["created_epoch"] = (created - pd.Timestamp("1970-01-01", tz="UTC")) // pd.Timedelta(seconds=1)
    for flag in ("is_vip", "is_dispute"):
        out[flag] = leads[flag] == "true"
    out["is_hot_lead"] = leads["lead_score"].astype(int) >= 80
    for col in ("is_window_complete", "is_converted"):
        out[col] = False
    out["meetings_held"] = 0
    return out


def sha(enrolled: pd.DataFrame) -> str:
    lines = sorted(f"{lead},{arm}\n" for lead, arm in zip(enrolled["lead_id"], enrolled["arm"], strict=True))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("landing")
    spec = {**BASE, "true_lift_points": 5.0, "complaint_rate": {"b": 0.02}}
    manifest = generate(root, [MONTH], leads_per_month=4000, seed=3, experiment=spec)[MONTH]
    return root, manifest["experiments"][0]


def test_planted_arms_are_the_pipelines_assignment(planted):
    root, truth = planted
    enrolled = analysis.enrol(
        parse_experiment({**BASE, "hypothesis": "h", "minimum_detectable_effect_points": 3}), leads_from_files(root)
    )
    assert sha(enrolled) == truth["assignments_sha256"]
    assert list(enrolled["arm"]) == [documented_arm("trial", lead) for lead in enrolled["lead_id"]]
    assert {a: int((enrolled["arm"] == a).sum()) for a in "ab"} == {a: truth["arms"][a]["in_extract"] for a in "ab"}
    assert truth["arms"]["a"]["in_extract"] > 300


def test_the_planted_lift_is_what_the_files_hold(planted):
    root, truth = planted
    leads = read(root, "crm", "leads").set_index("lead_id")
    opps = read(root, "crm", "opportunities")
    created = pd.to_datetime(leads["created_at"], utc=True, format="ISO8601")
    opp_at = pd.to_datetime(opps["created_at"], utc=True, format="ISO8601")
    within = opps[(opp_at.to_numpy() - created.loc[opps["lead_id"]].to_numpy()) < pd.Timedelta(days=30)]
    converted = set(within["lead_id"])
    enrolled = analysis.enrol(
        parse_experiment({**BASE, "hypothesis": "h", "minimum_detectable_effect_points": 3}), leads_from_files(root)
    )
    for arm in "ab":
        ids = enrolled[enrolled["arm"] == arm]["lead_id"]
        assert sum(i in converted for i in ids) == truth["arms"][arm]["conversions_in_extract"]
    assert 4.9 < truth["arms"]["b"]["true_lift_points"] <= 5.0  # a few leads hit the 0.95 probability cap
    assert truth["arms"]["a"]["true_lift_points"] == 0.0
    assert truth["arms"]["b"]["expected_rate"] - truth["arms"]["a"]["expected_rate"] == pytest.approx(0.05, abs=0.02)


def test_planted_complaints_hit_the_arm_only(planted):
    root, _ = planted
    events = read(root, "emailing", "email_events")
    arm = {lead: documented_arm("trial", lead) for lead in events["lead_id"].unique()}
    enrolled = set(
        analysis.enrol(
            parse_experiment({**BASE, "hypothesis": "h", "minimum_detectable_effect_points": 3}), leads_from_files(root)
        )["lead_id"]
    )
    events = events[events["lead_id"].isin(enrolled)]
    for name, rate in (("b", 0.02), ("a", 0.0005)):
        mine = events[events["lead_id"].map(arm) == name]
        delivered, complained = (mine["event_type"] == "delivered").sum(), (mine["event_type"] == "complained").sum()
        ci = sps.binomtest(int(complained), int(delivered)).proportion_ci(0.999)
        assert ci.low <= rate <= ci.high, (name, complained, delivered)


def test_a_planted_imbalance_removes_the_leads_everywhere_and_trips_the_srm_check(tmp_path):
    spec = {**BASE, "imbalance": {"arm": "b", "drop_share": 0.3}}
    manifest = generate(tmp_path, [MONTH], leads_per_month=4000, seed=3, experiment=spec)[MONTH]
    truth = manifest["experiments"][0]["arms"]
    leads = read(tmp_path, "crm", "leads")
    assert len(leads) == 4000 - truth["b"]["dropped"] and truth["b"]["dropped"] > 100 and truth["a"]["dropped"] == 0
    for source, entity in (
        ("voip", "calls"),
        ("emailing", "email_events"),
        ("calendar", "meetings"),
        ("crm", "opportunities"),
    ):
        assert set(read(tmp_path, source, entity)["lead_id"]) <= set(leads["lead_id"]), entity
    assert manifest["files"][f"crm/{MONTH}/leads.csv"]["rows"] == len(leads)
    experiment = parse_experiment({**BASE, "hypothesis": "h", "minimum_detectable_effect_points": 3})
    enrolled = analysis.enrol(experiment, leads_from_files(tmp_path))
    counts, chi2, p = analysis.srm(experiment, enrolled)
    assert counts == [truth["a"]["in_extract"], truth["b"]["in_extract"]]
    assert p < 0.001 and p == pytest.approx(sps.chisquare(counts).pvalue)
    assert sha(enrolled) == manifest["experiments"][0]["assignments_sha256"]


def test_an_experiment_without_enrolment_this_month_leaves_the_month_byte_identical(tmp_path):
    plain = generate(tmp_path / "plain", [MONTH], leads_per_month=1500, seed=9)[MONTH]
    later = {**BASE, "start_date": "2026-12-01", "true_lift_points": 3.0}
    planted = generate(tmp_path / "exp", [MONTH], leads_per_month=1500, seed=9, experiment=later)[MONTH]
    assert planted["files"] == plain["files"]  # same rows and sha256 of every file
    assert planted["experiments"][0]["arms"]["a"]["enrolled"] == 0 and "experiments" not in plain
    for path in (tmp_path / "plain").rglob("*.csv"):
        assert path.read_bytes() == (tmp_path / "exp" / path.relative_to(tmp_path / "plain")).read_bytes()


def test_bad_plans_are_refused(tmp_path):
    with pytest.raises(ValueError, match="plant one or the other"):
        generate(
            tmp_path, [MONTH], 500, experiment={**BASE, "imbalance": {"arm": "b", "drop_share": 0.2}}, defects=True
        )
    with pytest.raises(ValueError, match="imbalance must be"):
        generate(tmp_path, [MONTH], 500, experiment={**BASE, "imbalance": {"arm": "z", "drop_share": 0.2}})
    with pytest.raises(ValueError, match="duration_days"):
        generate(tmp_path, [MONTH], 500, experiment={**BASE, "duration_days": 60})
    with pytest.raises(ValueError, match="overlap"):
        generate(tmp_path, [MONTH], 500, experiment=[BASE, {**BASE, "name": "other"}])
