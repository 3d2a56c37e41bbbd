"""Optional planted experiments (``generate(..., experiment=...)``): arms, a known true lift, a guardrail
harm and a sample-ratio imbalance, recorded in the manifest.

Enrolment and arms come from cadence.experiments.assignment, the very functions the pipeline uses, on the
lead ids the writer prints: the planted arm of every lead is the pipeline's assignment. What is planted:

- ``true_lift_points``: added to the conversion probability of the treatment arms' leads (a number for
  every treatment arm, or ``{arm: points}``); the cadence itself is not re-simulated;
- ``complaint_rate``: ``{arm: rate}``, the share of that arm's delivered e-mails that draw a complaint
  (at least; the planted complaint spike week stays);
- ``imbalance``: ``{arm: name, drop_share: s}``, a share of that arm's leads dropped from the extract with
  every row about them (a broken export or routing rule): the SRM check must trip.

The other keys are an experiments.yml entry (hypothesis and MDE may be left out here).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from cadence.experiments import assignment as A
from cadence.experiments.config import Experiment, parse_experiment

from . import _model as M

PLANT_KEYS = ("true_lift_points", "complaint_rate", "imbalance")


@dataclass
class Planted:
    spec: Experiment
    raw: dict  # the planting keys as given
    arm: np.ndarray  # per lead: arm index, -1 when not enrolled
    lift: np.ndarray  # per lead: probability added (0 when not treated)
    complaint: np.ndarray  # per lead: planted complaint rate (NaN: none)
    drop: np.ndarray  # per lead: dropped from the extract


def _parse(raw: dict, where: str) -> tuple[Experiment, dict]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: an experiment must be a mapping, not {raw!r}")
    spec = {
        "hypothesis": "planted by the sample-data generator",
        "minimum_detectable_effect_points": 3.0,
        **{k: v for k, v in raw.items() if k not in PLANT_KEYS},
    }
    return parse_experiment(spec, where), {k: raw[k] for k in PLANT_KEYS if k in raw}


def parse(experiment) -> list[tuple[Experiment, dict]]:
    """One experiment (a dict) or a list of them; their segments must not overlap in time and leads."""
    items = experiment if isinstance(experiment, list | tuple) else [experiment]
    return [_parse(raw, f"experiment[{i}]") for i, raw in enumerate(items)]


def _per_arm(e: Experiment, value, what: str) -> dict[str, float]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {a.name: float(value) for a in e.treatments}
    if isinstance(value, dict) and set(value) <= {a.name for a in e.arms}:
        return {k: float(v) for k, v in value.items()}
    raise ValueError(f"experiment {e.name}: {what} must be a number or {{arm: number}}, not {value!r}")


def prepare(parsed: list[tuple[Experiment, dict]], L, lead_ids: list[str], seed: int, y: int, m: int) -> list[Planted]:
    """Enrol and assign the month's leads, and lay out what is planted on each."""
    labels = {
        c: np.array(v, dtype=object)
        for c, v in (("channel", M.CHANNELS), ("company_size", M.SIZES), ("funnel_phase", M.PHASES))
    }
    flags = {"is_vip": L.vip, "is_dispute": L.dispute, "is_hot_lead": L.score >= 80}
    taken = np.zeros(L.n, dtype=bool)
    out = []
    for k, (e, raw) in enumerate(parsed):
        mask = A.eligible(
            e,
            labels["channel"][L.channel],
            labels["company_size"][L.size],
            labels["funnel_phase"][L.phase],
            L.created,
            flags,
        )
        if (mask & taken).any():
            raise ValueError(f"experiment {e.name}: its leads overlap another planted experiment's")
        taken |= mask
        arm = np.full(L.n, -1)
        idx = np.flatnonzero(mask)
        arm[idx] = A.arm_index([a.weight for a in e.arms], A.buckets(e.salt, [lead_ids[i] for i in idx]))
        names = [a.name for a in e.arms]
        lift, complaint = np.zeros(L.n), np.full(L.n, np.nan)
        for name, points in _per_arm(e, raw.get("true_lift_points", 0.0), "true_lift_points").items():
            lift[arm == names.index(name)] = points / 100
        for name, rate in _per_arm(e, raw.get("complaint_rate", {}), "complaint_rate").items():
            complaint[arm == names.index(name)] = rate
        drop = np.zeros(L.n, dtype=bool)
        if raw.get("imbalance"):
            imb = raw["imbalance"]
            if not isinstance(imb, dict) or imb.get("arm") not in names or not 0 < imb.get("drop_share", 0) < 1:
                raise ValueError(f"experiment {e.name}: imbalance must be {{arm: <arm>, drop_share: (0, 1)}}")
            drng = np.random.default_rng(np.random.SeedSequence([seed, y, m, 2, k]))
            drop = (arm == names.index(imb["arm"])) & (drng.random(L.n) < imb["drop_share"])
        out.append(Planted(e, raw, arm, lift, complaint, drop))
    return out


def p_shift(planted: list[Planted]) -> np.ndarray | None:
    return sum(p.lift for p in planted) if planted else None


def complaint_rates(planted: list[Planted]) -> np.ndarray | None:
    if not any(np.isfinite(p.complaint).any() for p in planted):
        return None
    return np.fmax.reduce([p.complaint for p in planted])


def kept(planted: list[Planted]) -> np.ndarray | None:
    """Leads that stay in the extract (None when nothing is dropped)."""
    drop = [p.drop for p in planted if p.drop.any()]
    return ~np.logical_or.reduce(drop) if drop else None


def filter_frames(frames: dict, keep: np.ndarray) -> dict:
    """Every row about a dropped lead leaves every file."""
    return {e: {c: v[keep[f["lead"]]] for c, v in f.items()} for e, f in frames.items()}


def manifest(planted: list[Planted], conv, lead_ids: list[str], keep: np.ndarray | None) -> list[dict]:
    """The planted truth: per arm, enrolled / dropped / in-extract leads, conversions, expected rate."""
    keep = np.ones(len(lead_ids), dtype=bool) if keep is None else keep
    out = []
    for p in planted:
        e, arms = p.spec, [a.name for a in p.spec.arms]
        per = {}
        for i, name in enumerate(arms):
            sel = p.arm == i
            ext = sel & keep
            per[name] = {
                "weight": e.arms[i].weight,
                "enrolled": int(sel.sum()),
                "dropped": int((sel & p.drop).sum()),
                "in_extract": int(ext.sum()),
                "conversions_in_extract": int(conv.converted[ext].sum()),
                "expected_rate": round(float(conv.p[ext].mean()), 6) if ext.any() else None,
                "true_lift_points": round(100 * float(conv.lift[ext].mean()), 6) if ext.any() else 0.0,
                "complaint_rate": float(p.complaint[sel][0])
                if sel.any() and np.isfinite(p.complaint[sel][0])
                else None,
            }
        lines = sorted(f"{lead_ids[j]},{arms[p.arm[j]]}\n" for j in np.flatnonzero((p.arm >= 0) & keep))
        out.append(
            {
                "name": e.name,
                "salt": e.salt,
                "assignment_rule": A.HASH_RULE,
                "segment": {k: list(v) for k, v in e.segment.items()},
                "start_date": e.start_date.isoformat(),
                "end_date_exclusive": e.end_date.isoformat(),
                "exclude_flags": list(e.exclude_flags),
                "planted": {k: v for k, v in p.raw.items()},
                "arms": per,
                "lift_basis": "points added to each treated lead's conversion probability (capped at "
                f"{M.P_CAP}); true_lift_points = mean added over the arm's leads in the extract",
                "assignments_sha256": hashlib.sha256("".join(lines).encode()).hexdigest(),
                "assignments_basis": "sorted 'lead_id,arm\\n' lines of the enrolled leads in the extract",
            }
        )
    return out
