"""The statistics behind the traffic light and the recommended minimum touches (issue 15, items 2-3), on
planted curves generated here (pure Python, aggregated to (touches, converted) cells as the SQL does)
and on the UCI bank calls (real data: skipped when ../shared/realdata is absent).

Planted truths: a plateau from 6 touches, an S-curve (midpoint 8, k 0.9: 90 % of its rise at 10.44), an
inverted U with its optimum at 9, a flat curve and a falling one (no minimum to recommend)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from cadence.analytics import catalog, steps
from cadence.analytics.config import analysis_config
from cadence.analytics.decision import decide, method_light
from cadence.analytics.effect import PAYING, effect_of_touches, touch_bands
from cadence.analytics.linear import fit_moments, moments_of_cells, r_tier
from cadence.analytics.logistic import logistic_tables
from cadence.analytics.shapes import touch_curves
from cadence.analytics.stability import data_seed
from cadence.analytics.store import read_month
from cadence.analytics.thresholds import min_touches
from cadence.scoping import parse_scoping_note

NOTE = parse_scoping_note({})
CFG = analysis_config(NOTE)
CURRENT = 4
CURVES = {  # name: (mean touches, P(convert | touches), the minimum a manager should get)
    "plateau": (6.0, lambda x: 0.03 + 0.03 * np.minimum(x, 6), 6),
    "s": (9.0, lambda x: 0.01 + 0.35 / (1 + np.exp(-0.9 * (x - 8))), 8 + math.log(9) / 0.9),
    "optimum": (9.0, lambda x: np.clip(0.30 - 0.003 * (x - 9) ** 2, 0.01, 1), 9),
    "flat": (6.0, lambda x: np.full(len(x), 0.12), None),
    "decreasing": (6.0, lambda x: np.maximum(0.25 - 0.012 * x, 0.02), None),
}
GROUP = {
    "population": "standard",
    "x_measure": "touches_before_conversion",
    "segment_level": "all",
    "segment_key": "all",
    "channel": "all",
    "company_size": "all",
    "funnel_phase": "all",
    "rep_id": "all",
}
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "uci-bank-marketing" / "bank-full.csv"


def planted(name: str, leads: int, seed: int) -> pd.DataFrame:
    """(touches, converted, leads) cells of `leads` leads: touches gamma-Poisson (as the generator),
    conversion drawn from the planted curve."""
    mean, curve, _ = CURVES[name]
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(2.5, mean / 2.5, leads))
    y = (rng.random(leads) < curve(x)).astype(int)
    return pd.DataFrame({"touches": x, "converted": y}).value_counts().rename("leads").reset_index()


def shape_row(cells: pd.DataFrame) -> dict:
    _, shapes = touch_curves(cells.assign(**GROUP), CFG)
    return shapes.iloc[0].to_dict()


def recommend(cells: pd.DataFrame) -> dict:
    """The min_touches row the thresholds step writes for these cells (curve shape, then reading)."""
    return min_touches(shape_row(cells), cells, CURRENT, CFG)


def off_by(rec: dict, truth) -> float:
    """How far a recommended value lies from the truth (inf when the truth is 'no new minimum')."""
    return math.inf if truth is None else abs(rec["recommended_value"] - truth)


@pytest.mark.parametrize("name", list(CURVES))
def test_planted_curves_give_their_minimum_within_one_touch(name):
    truth = CURVES[name][2]
    for seed in range(5):
        rec = recommend(planted(name, 10_000, seed))
        if truth is None:  # flat or falling: no new number, and say why
            assert rec["status"] == "keep_current" and rec["recommended_value"] == CURRENT, (seed, rec)
            assert rec["reading"] is None
        else:
            assert rec["status"] == "recommended" and off_by(rec, truth) <= 1, (seed, rec)
            assert rec["stability"] >= CFG.threshold_min_agreement and rec["resamples"] <= CFG.threshold_resamples
            assert rec["interval_low"] <= rec["recommended_value"] <= rec["interval_high"]


@pytest.mark.parametrize(("name", "leads"), [("plateau", 1_000), ("plateau", 2_000), ("s", 5_000)])
def test_smaller_samples_say_too_thin_rather_than_a_far_off_minimum(name, leads):
    """The instability of issue 15 ('4 -> 12' one time, '4 -> 3' the next): the old reading took a poorly
    located bend at face value (a parabola's top at the end of a plateau: 12-13 for a plateau from 6; the
    S-curve's 90 % point rounded up: 12 for 10.4). Now a minimum is given only when resamples of the
    leads agree on it; otherwise the segment is too thin and nothing is recommended."""
    truth, given = CURVES[name][2], 0
    for seed in range(5):  # the old reading gave 12 (plateau, 1,000, seed 1), 13 (2,000, seed 4), 12 (S, seeds 2, 3)
        rec = recommend(planted(name, leads, seed))
        assert rec["status"] in ("recommended", "too_thin", "keep_current"), rec
        if rec["status"] == "recommended":
            given += 1
            assert off_by(rec, truth) <= 1, (seed, rec)
        else:
            assert rec["recommended_value"] in (None, CURRENT)
    assert given >= 1  # not a rule that never recommends


def test_a_thin_segment_is_too_thin_and_recommends_nothing():
    for name in CURVES:
        rec = recommend(planted(name, 250, 1))
        assert rec["status"] == "too_thin" and rec["recommended_value"] is None
        assert "too thin" in rec["note"]
    unstable = recommend(planted("plateau", 1_000, 5))  # a bend is fitted, the resamples disagree on it
    assert unstable["status"] == "too_thin" and unstable["recommended_value"] is None
    assert unstable["stability"] < CFG.threshold_min_agreement and "resamples" in unstable["note"]


def test_the_same_data_gives_the_same_recommendation():
    cells = planted("plateau", 3_000, 2)
    first = recommend(cells)
    shuffled = cells.sample(frac=1, random_state=7).reset_index(drop=True)
    assert recommend(shuffled) == first  # the resamples are seeded from the counts, not the row order
    assert data_seed([1, 2], [3, 4]) == data_seed([1, 2], [3, 4]) != data_seed([1, 2], [3, 5])


def _light(cells: pd.DataFrame, **over) -> tuple[str, str, str, dict]:
    """Light of one segment whose cells are `cells`, computed by the same functions as the step."""
    g = cells.assign(**GROUP, ttf_band=len(CFG.ttf_bands) - 1)
    logit, _ = logistic_tables(g, CFG)
    n, sx, sy, sxx, sxy, syy = moments_of_cells(*(cells[c].to_numpy() for c in ("touches", "converted", "leads")))
    fit = fit_moments(n, sx, sy, sxx, sxy, syy)
    tier = r_tier(fit["r"], CFG.r_green, CFG.r_amber)
    inputs = {
        "leads": n,
        "touches": sx,
        "r": fit["r"],
        "r_used": fit["r"],
        "r_tier_used": tier,
        "r_reading_used": "touches_before_conversion",
        "delta_cr_points": math.nan,
        "delta_cr_ci_low_points": math.nan,
        "delta_cr_ci_high_points": math.nan,
        "is_complaints_rising": False,
        "complaints_note": "",
        "is_simpson_warning": False,
        "is_slope_sign_unstable": False,
        "is_unexplained_cluster": False,
        "is_mixed_gains": False,
        **effect_of_touches(logit.iloc[0].to_dict(), cells, shape_row(cells), CFG, recommend(cells)),
        **over,
    }
    inputs["method_light"], inputs["method_reason"] = method_light(inputs, CFG)
    return (*decide(inputs, CFG), inputs)


def test_r_alone_never_makes_a_paying_segment_red():
    """Issue 15: CR 1 % -> 7 % with touches (a plateau from 6) gives r < 0.10, the method's 'r ≈ 0', yet
    touches clearly pay: the light is not red, and it says what r alone would say."""
    x = np.arange(0, 16)
    leads = np.full(len(x), 400)
    conv = np.round(leads * (0.01 + 0.01 * np.minimum(x, 6))).astype(int)
    cells = pd.DataFrame(
        {
            "touches": np.r_[x, x],
            "converted": np.r_[np.ones(len(x), int), np.zeros(len(x), int)],
            "leads": np.r_[conv, leads - conv],
        }
    )
    light, rule, reason, e = _light(cells)
    assert e["r"] < CFG.r_amber and e["method_light"] == "red"
    assert e["effect"] == "pays" and (e["band_gap_ci_low_points"] > 0 or e["effect_ame_ci_low_points"] > 0)
    assert light == "amber" and rule == "gain_not_shown"
    assert reason.startswith("touches pay") and "the method's r reading alone would say red (r ≈ 0" in reason
    green = _light(cells, delta_cr_points=2.5, delta_cr_ci_low_points=0.4, delta_cr_ci_high_points=4.6)
    assert green[:2] == ("green", "all_met")
    unsure_gain = _light(cells, delta_cr_points=2.5, delta_cr_ci_low_points=-0.4, delta_cr_ci_high_points=5.4)
    assert unsure_gain[0] == "amber" and "interval includes 0" in unsure_gain[2]


@pytest.mark.parametrize(
    ("name", "leads", "light", "rule", "effect"),
    [
        ("plateau", 10_000, "amber", "gain_not_shown", "pays"),
        ("optimum", 10_000, "amber", "optimum", "pays_to_optimum"),
        ("flat", 40_000, "red", "touches_no_effect", "none"),
        ("decreasing", 10_000, "red", "touches_hurt", "hurts"),
        ("flat", 400, "amber", "effect_unclear", "unclear"),  # too few leads to call it ≈ 0
    ],
)
def test_the_light_reads_the_effect_at_the_segment_size(name, leads, light, rule, effect):
    got, why, reason, e = _light(planted(name, leads, 3))
    assert (got, why, e["effect"]) == (light, rule, effect), reason
    if effect in ("none", "hurts"):
        assert reason.endswith("stop pushing volume") or "stop pushing volume;" in reason
    assert _light(planted(name, leads, 3), is_complaints_rising=True, complaints_note="x")[0] == "red"


def test_the_light_quotes_a_bend_only_where_the_threshold_located_it():
    cells = planted("plateau", 1_000, 5)  # a bend is fitted (here a parabola's top), the resamples disagree
    _, _, reason, e = _light(cells)
    assert recommend(cells)["status"] == "too_thin" and e["curve_reading"] in ("plateau_start", "optimum")
    assert e["effect"] in PAYING and "not located at this size" in reason and pd.isna(e["curve_reading_touches"])
    located = _light(planted("plateau", 10_000, 0))[3]
    assert "plateau start at about 6 touches" in located["effect_summary"]
    assert list(catalog.STEPS) == [s.__name__ for s in steps.STEPS]  # the assets run the steps in this order
    assert list(catalog.STEPS).index("thresholds") < list(catalog.STEPS).index("decisions")


def test_touch_bands_split_on_touches_alone():
    x, n = np.array([0, 1, 2, 3, 5]), np.array([10, 30, 20, 25, 15])
    b = touch_bands(x, np.array([1, 2, 3, 4, 5]), n)
    assert b["split"] == 2 and (b["leads_high"], b["leads_low"]) == (60, 40)  # 60 % >= 2 vs 85 % >= 1
    assert b["x_mean_high"] == pytest.approx((2 * 20 + 3 * 25 + 5 * 15) / 60)


CLAIM = re.compile(r"\bpays?\b|\bpaying\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def uci(tmp_path_factory):
    """The UCI bank calls as one month of marts.fct_lead_cadence (one lead per client, touches = calls of
    the campaign, converted = subscribed), every analytics step run on it."""
    if not REALDATA.exists():
        pytest.skip(f"UCI bank data not found at {REALDATA}")
    month = "2010-01"
    con = duckdb.connect(str(tmp_path_factory.mktemp("uci") / "uci.duckdb"))
    con.execute("create schema marts")
    con.execute(
        f"""create table marts.fct_lead_cadence as
        select 'U' || row_number() over () as lead_id, '{month}' as partition_month, 'outbound' as channel,
            'SMB' as company_size, 'MQL' as funnel_phase, 'T' as team, 'R01' as rep_id,
            'A' || row_number() over () as account_id, true as is_in_scope, true as is_window_complete,
            y = 'yes' as is_converted, campaign as touches_before_conversion, campaign as touches_in_window,
            null::double as ttf_hours, 24.0 as ttf_target_hours, false as is_within_ttf_target,
            0 as emails_delivered, 0 as emails_complained, 0 as emails_unsubscribed, 0 as emails_replied,
            0 as meetings_held, 1 as max_touches_in_one_day, false as is_vip, false as is_dispute,
            false as is_hot_lead, false as is_opted_out, 'uci' as scoping_note_version,
            timestamp '2010-12-01' as data_as_of_at
        from read_csv('{REALDATA}', delim = ';', header = true)"""
    )
    steps.run_month(con, month, CFG, NOTE)
    yield con, month
    con.close()


def test_uci_bank_calls_never_say_contact_frequency_pays(uci):
    """Real calls (UCI bank marketing, 45,211 clients): more calls, lower subscription (r ≈ -0.07). No
    light, curve, threshold or diagnostic text may claim that contact frequency pays."""
    con, month = uci
    tl = read_month(con, "traffic_light", month).set_index("segment_key")
    overall = tl.loc["all"]
    assert overall["leads"] == 45_211 and overall["r"] < 0 and overall["light"] == "red"
    assert overall["effect"] == "hurts" and overall["effect_ame_ci_high_points"] < 0
    assert overall["light_rule"] == "touches_hurt" and "stop pushing volume" in overall["reason"]
    assert not tl["effect"].isin(PAYING).any()
    th = read_month(con, "thresholds", month)
    assert not ((th["threshold"] == "min_touches") & (th["status"] == "recommended")).any()
    texts = {
        "traffic_light": tl[["reason", "effect_summary", "curve_description"]],
        "thresholds": th[["basis", "note"]],
        "curve_shapes": read_month(con, "curve_shapes", month)[["description"]],
        "diagnostic": read_month(con, "diagnostic", month)[["answer"]],
    }
    for table, frame in texts.items():
        for text in (v for v in frame.to_numpy().ravel() if isinstance(v, str)):
            assert not CLAIM.search(text), (table, text)


def test_uci_audit_note_never_says_contact_frequency_pays(uci):
    from cadence.reports.gather import gather
    from cadence.reports.note import render_note

    con, month = uci
    text = render_note(gather(con, month))
    assert "red" in text and not CLAIM.search(text), [line for line in text.splitlines() if CLAIM.search(line)]
    verdict = read_month(con, "verdicts", month).set_index("segment_key").loc["all"]
    assert verdict["effect"] == "hurts" and verdict["change_direction"] != "raise"
    assert f"- {verdict['headline']}" in text  # the summary on top quotes the verdict
