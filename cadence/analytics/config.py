"""The analysis settings of a scoping note (its `analysis:` section plus the thresholds it needs)."""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

from cadence.scoping import ScopingNote, parse_scoping_note


@dataclass(frozen=True)
class AnalysisConfig:
    """Every number a statistic or a rule uses, read once from the resolved note."""

    version: str
    population: str
    exception_flags: tuple[str, ...]
    x_measure: str
    threshold_x_measure: str
    complete_windows_only: bool
    confidence: float
    min_n: int
    min_n_shape: int
    min_bin_leads: int
    shape_aic_margin: float
    trim_share: float
    r_green: float
    r_amber: float
    delta_cr_points_green: float
    effect_min_points: float
    experiment_mde_points: float
    experiment_power: float
    experiment_min_per_arm: int
    experiment_max_weeks: int
    threshold_resamples: int
    threshold_min_agreement: float
    threshold_tolerance_touches: int
    complaint_rise_ratio: float
    ttf_band_edges_hours: tuple[float, ...]
    ttf_min_gap_points: float
    quadrant_lookback_months: int
    rep_min_leads: int
    account_min_leads: int
    list_min_leads: int
    list_min_months: int
    cluster_attributes: tuple[str, ...]
    cluster_min_leads: int
    cluster_min_effect_size: float
    cluster_min_z: float
    ttf_target_hours: float
    max_touches_per_day: int
    max_emails_per_day: int
    complaint_rate_max: float
    unsubscribe_rate_max: float

    @property
    def z(self) -> float:
        """Two-sided normal quantile of the confidence level (1.96 at 95 %)."""
        return float(stats.norm.ppf(0.5 + self.confidence / 2))

    @property
    def z_effect(self) -> float:
        """Normal quantile of the effect's intervals: two statistics (marginal effect, touch bands) answer
        one question, so each is read at 1 − (1 − confidence)/2 (Bonferroni): 2.24 at 95 %."""
        return float(stats.norm.ppf(1 - (1 - self.confidence) / 4))

    @property
    def ttf_bands(self) -> list[str]:
        """Band labels in band-index order (0 = never contacted, then by increasing TTF)."""
        return ttf_band_labels(self.ttf_band_edges_hours)


def ttf_band_labels(edges: tuple[float, ...] | list[float]) -> list[str]:
    fmt = [f"{e:g}h" for e in edges]
    return ["not_contacted", f"<={fmt[0]}"] + [f"{a}-{b}" for a, b in zip(fmt, fmt[1:], strict=False)] + [f">{fmt[-1]}"]


def analysis_config(note: ScopingNote | None = None) -> AnalysisConfig:
    """The settings of `note` (the default note when None)."""
    note = note or parse_scoping_note({})
    a, t = note["analysis"], note["thresholds"]
    tuples = {k: tuple(a[k]) for k in ("exception_flags", "ttf_band_edges_hours", "cluster_attributes")}
    keep = (
        "ttf_target_hours",
        "max_touches_per_day",
        "max_emails_per_day",
        "complaint_rate_max",
        "unsubscribe_rate_max",
    )
    return AnalysisConfig(version=note.version, **{**a, **tuples}, **{k: t[k] for k in keep})
