"""The thresholds table: every segment of the decision population, three recommendations each."""

from __future__ import annotations

import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.sql import DIMS
from cadence.analytics.thresholds import daily_cap, min_touches, not_measurable, ttf_target

SEG = ["segment_level", "segment_key", *DIMS]
COLUMNS = [
    *SEG,
    "population",
    "threshold",
    "status",
    "current_value",
    "recommended_value",
    "x_measure",
    "leads",
    "shape",
    "reading",
    "stability",
    "resamples",
    "interval_low",
    "interval_high",
    "evidence_gap_points",
    "evidence_gap_ci_low_points",
    "evidence_gap_ci_high_points",
    "basis",
    "note",
]


def current_threshold(note_values: dict, segment: dict, name: str):
    """The scoping note's value for a segment: the first segment_thresholds entry setting `name` whose
    match fits the segment's own dimensions (a dimension at 'all' matches nothing), else the default."""
    for entry in note_values["segment_thresholds"]:
        if name in entry and all(segment.get(k) == v for k, v in entry["match"].items()):
            return entry[name]
    return note_values["thresholds"][name]


def threshold_table(
    shapes: pd.DataFrame,
    cells: pd.DataFrame,
    gaps: pd.DataFrame,
    intensity: pd.DataFrame,
    note_values: dict,
    cfg: AnalysisConfig,
) -> pd.DataFrame:
    """One row per segment and threshold: current and recommended value, status (recommended |
    keep_current | too_thin | not_measurable when the segment had no touch), basis, leads, interval, evidence
    gap and a note."""
    pop, xt = cfg.population, cfg.threshold_x_measure
    sel = shapes[(shapes["population"] == pop) & (shapes["x_measure"] == xt) & (shapes["segment_level"] != "rep_id")]
    cells = cells[(cells["population"] == pop) & (cells["x_measure"] == xt)]
    by_cells = dict(tuple(cells.groupby("segment_key")[["touches", "converted", "leads"]]))
    by_gaps = dict(tuple(gaps[gaps["population"] == pop].groupby("segment_key")))
    by_day = dict(tuple(intensity.groupby("segment_key")))
    rows = []
    for shape in sel.to_dict("records"):
        seg = {k: shape[k] for k in SEG}
        key = seg["segment_key"]

        def now(name: str, seg=seg):
            return current_threshold(note_values, seg, name)

        seg_cells = by_cells.get(key, cells.iloc[:0])
        if not (seg_cells["touches"] > 0).any():  # no touch at all in the segment
            names = ("min_touches", "ttf_target_hours", "max_touches_per_day")
            found = [not_measurable(name, now(name), int(shape["leads"])) for name in names]
        else:
            found = [
                min_touches(shape, seg_cells, now("min_touches"), cfg),
                ttf_target(by_gaps.get(key, gaps.iloc[:0]), now("ttf_target_hours"), cfg),
                daily_cap(by_day.get(key, intensity.iloc[:0]), now("max_touches_per_day"), cfg),
            ]
        rows += [
            {**seg, "population": pop, "x_measure": xt if r["threshold"] == "min_touches" else None, **r} for r in found
        ]
    return pd.DataFrame(rows).reindex(columns=COLUMNS)
