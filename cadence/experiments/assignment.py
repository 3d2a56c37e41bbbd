"""Who is in an experiment and in which arm: the one assignment rule, shared by the pipeline and the generator.

A lead is **eligible** when, at creation, it is in the experiment's segment, created in
``[start_date, end_date)`` (UTC) and carries none of the excluded flags (VIP and dispute leads follow their
exception rule, not an experimental cadence). Its **arm** is a pure function of the experiment's salt and
the lead id: ``u = first 8 bytes of sha256(salt + 0x1f + lead_id) / 2**64``, then the arm whose cumulative
weight first exceeds ``u``. Nothing else enters the hash, so:

- a lead's arm never changes when other leads arrive late, are deleted or are loaded twice (an extract
  that loses leads shows up as a sample-ratio mismatch instead of being silently re-balanced);
- the sales tools can compute the arm themselves at lead creation, and the pipeline finds the same one;
- the rule is blind to rep, team and sector, so within every rep x segment stratum leads are randomised
  with the same probabilities: each rep works every arm in the planned proportions and no rep or sector
  bias can enter (the balance is checked per rep and per segment cell, see ``stats.balance_p_value``);
- experiments with different salts are independent of each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import numpy as np

from cadence.experiments.config import Experiment

HASH_RULE = "sha256(salt 0x1f lead_id)[:8] / 2^64 -> arm by cumulative weight"
NOT_ENROLLED = ""


def bucket(salt: str, lead_id: str) -> float:
    """The lead's uniform draw in [0, 1): reproducible anywhere from the salt and the lead id alone."""
    digest = hashlib.sha256(f"{salt}\x1f{lead_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def buckets(salt: str, lead_ids: Iterable[str]) -> np.ndarray:
    return np.fromiter((bucket(salt, str(lead)) for lead in lead_ids), dtype=float)


def arm_index(weights: Iterable[float], u: np.ndarray) -> np.ndarray:
    """Index of the arm each draw falls in (cumulative weights; the last arm takes float rounding)."""
    edges = np.cumsum(list(weights))
    return np.minimum(np.searchsorted(edges, u, side="right"), len(edges) - 1)


def assign(experiment: Experiment, lead_ids: Iterable[str]) -> np.ndarray:
    """The arm name of each lead id (eligibility is not checked here)."""
    lead_ids = list(lead_ids)
    names = np.array([a.name for a in experiment.arms], dtype=object)
    if not lead_ids:
        return np.array([], dtype=object)
    return names[arm_index([a.weight for a in experiment.arms], buckets(experiment.salt, lead_ids))]


def epoch_seconds(day) -> int:
    """A date at 00:00 UTC, in epoch seconds."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def in_population(
    experiment: Experiment, channel, company_size, funnel_phase, flags: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Boolean mask of the leads of the experiment's segment without an excluded flag, whenever created
    (arrays of segment labels and each excluded flag as a boolean array)."""
    mask = np.ones(len(channel), dtype=bool)
    for column, values in (("channel", channel), ("company_size", company_size), ("funnel_phase", funnel_phase)):
        if column in experiment.segment:
            mask &= np.isin(np.asarray(values, dtype=object), list(experiment.segment[column]))
    for flag in experiment.exclude_flags:
        mask &= ~np.asarray(flags[flag], dtype=bool)
    return mask


def eligible(
    experiment: Experiment, channel, company_size, funnel_phase, created_epoch, flags: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Boolean mask of the leads the experiment enrols: its population, created (epoch seconds UTC) in
    ``[start_date, end_date)``."""
    created = np.asarray(created_epoch, dtype=np.int64)
    window = (created >= epoch_seconds(experiment.start_date)) & (created < epoch_seconds(experiment.end_date))
    return window & in_population(experiment, channel, company_size, funnel_phase, flags)


def enrolment_week(experiment: Experiment, created_epoch) -> np.ndarray:
    """1-based week of the enrolment window each lead was created in (week k = days 7(k-1) .. 7k-1)."""
    days = (np.asarray(created_epoch, dtype=np.int64) - epoch_seconds(experiment.start_date)) // 86_400
    return (days // 7 + 1).astype(int)
