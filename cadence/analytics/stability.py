"""How stable a recommended minimum is: the shape choice and its reading redone on resamples of the leads.

A bend located on a flat likelihood (a plateau whose breakpoint could be anywhere between 3 and 12, a
parabola's top at the end of a flat part) jumps from one month, or one generated sample, to the next:
"4 -> 12" one time, "4 -> 3" the next. The month's leads are resampled (a multinomial draw of the same
number of leads over its (touches, converted) cells, i.e. the bootstrap of the leads, done on the
aggregates), each resample gets the same shape choice and reading, and the recommendation stands only
when most resamples land within a touch of it.

The draws are seeded from the counts themselves: the same data gives the same resamples, the same
agreement and the same recommendation, whatever the run, the segment's name or the order of the rows.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.shapes import model_row, reading, select_shape


def data_seed(*arrays) -> int:
    """A seed that is a function of the counts only (SHA-256 of their int64 bytes)."""
    digest = hashlib.sha256()
    for a in arrays:
        digest.update(np.ascontiguousarray(np.asarray(a, dtype=np.int64)).tobytes())
        digest.update(b"|")
    return int.from_bytes(digest.digest()[:8], "little")


def resampled_readings(x, s, n, cfg: AnalysisConfig, s_start=None, value: int | None = None) -> list[int | None]:
    """The touch count each of up to `threshold_resamples` resamples reads (None: that resample's chosen
    shape gives no threshold: flat, straight, falling, too few touch values...). x: touch values, s:
    conversions, n: leads per touch value. With `value`, the draws stop as soon as the verdict on it is
    settled (enough resamples agree, or too many disagree for the rest to matter): the same verdict as
    with every resample, for less work."""
    x, s, n = (np.asarray(a, float) for a in (x, s, n))
    total, k, b = int(n.sum()), len(x), cfg.threshold_resamples
    if b == 0 or total == 0:
        return []
    need = needed(cfg)
    cells = np.concatenate([s, n - s])
    rng = np.random.default_rng(data_seed(x, s, n))
    out: list[int | None] = []
    agree = 0
    for d in rng.multinomial(total, cells / total, size=b):
        ss, nn = d[:k].astype(float), (d[:k] + d[k:]).astype(float)
        keep = nn > 0
        chosen, _ = select_shape(x[keep], ss[keep], nn[keep], cfg, s_start)
        out.append(reading(model_row(chosen), x[keep], nn[keep])[1] if chosen else None)
        if value is not None:
            agree += _agrees(out[-1], value, cfg.threshold_tolerance_touches)
            if agree >= need or len(out) - agree > b - need:
                break
    return out


def needed(cfg: AnalysisConfig) -> int:
    """Resamples that must agree with a reading for it to be recommended."""
    return math.ceil(cfg.threshold_min_agreement * cfg.threshold_resamples - 1e-9)


def _agrees(vote: int | None, value: int, tolerance: int) -> bool:
    return vote is not None and abs(vote - value) <= tolerance


def agreement(value: int, votes: list[int | None], cfg: AnalysisConfig) -> tuple[bool, float]:
    """(stable?, share of the resamples drawn whose reading lies within `threshold_tolerance_touches` of
    `value`; a resample with no reading disagrees)."""
    if not votes:
        return True, float("nan")
    agree = sum(_agrees(v, value, cfg.threshold_tolerance_touches) for v in votes)
    return agree >= needed(cfg), agree / len(votes)
