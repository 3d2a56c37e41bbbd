"""The recurring Q3 (coaching priority) and Q1 (models to imitate) lists name a unit only on evidence:
enough months in the quadrant and enough leads (analysis.list_min_months / list_min_leads)."""

from __future__ import annotations

import pandas as pd

from cadence.analytics.quadrants import quadrant_lists, unit_quadrants


def test_a_unit_is_listed_only_when_recurring_on_enough_leads():
    rows = []
    for month in ("2026-08", "2026-09", "2026-10"):
        for unit, leads, cr in (("R_recurring", 40, 0.10), ("R_once", 40, 0.10 if month == "2026-10" else 0.30),
                                ("A_tiny", 3, 0.0), ("R_model", 50, 0.35)):
            rows.append({"partition_month": month, "unit_type": "rep", "unit_id": unit, "leads": leads,
                         "x_mean": 3 if cr < 0.2 else 7, "cr": cr, "x_expected": 5.0, "cr_expected": 0.2})
    units = unit_quadrants(pd.DataFrame(rows))
    old = quadrant_lists(units)  # the previous rule: any month in the quadrant, any size
    assert {"R_once", "A_tiny"} <= set(old.loc[old["list_name"] == "coaching_priority", "unit_id"])
    lists = quadrant_lists(units, min_leads=30, min_months=2)
    coach = lists[lists["list_name"] == "coaching_priority"]
    assert list(coach["unit_id"]) == ["R_recurring"] and coach.iloc[0]["months_in_quadrant"] == 3
    # R_once was in Q1 for two months on 40 leads each: a model, after R_model (3 months)
    assert list(lists.loc[lists["list_name"] == "model_to_imitate", "unit_id"]) == ["R_model", "R_once"]
