"""Group-sequential boundaries: O'Brien-Fleming-type alpha spending (Lan & DeMets 1983).

Looking at an A/B test every week and stopping at the first p < 0.05 inflates the false-positive rate
(about 12 % with four looks). The O'Brien-Fleming-type spending function, applied to each side with
half the two-sided alpha as in gsDesign's ``sfLDOF`` and ldbounds, ``alpha_side(t) = 2 - 2 * Phi(z_{1-alpha/4}
/ sqrt(t))``, says how much may be spent by information fraction t; the boundary c_k of look k is the |z|
whose crossing probability (either side), given no earlier crossing, spends exactly ``2 * (alpha_side(t_k)
- alpha_side(t_k-1))``. Early boundaries are very strict (4.33 at a quarter of the data), the final one
close to 1.96 (2.01 with four looks), and the overall false-positive rate stays alpha.

The crossing probabilities come from the standard recursive numerical integration (Armitage, McPherson &
Rowe 1969) of the score process S(t) = Z(t) * sqrt(t), a Brownian motion under the null hypothesis:
the density of S on the continuation region is carried from look to look on a grid (Simpson's rule).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

GRID = 801  # points of the continuation-region grid (odd, for Simpson's rule)


def spent(t: float, alpha: float) -> float:
    """Two-sided alpha spent by information fraction t (both sides, O'Brien-Fleming-type per side)."""
    if t <= 0:
        return 0.0
    return float(2 * (2 - 2 * stats.norm.cdf(stats.norm.ppf(1 - alpha / 4) / np.sqrt(min(t, 1.0)))))


def _simpson(m: int) -> np.ndarray:
    w = np.ones(m)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w / 3


def _crossing(b: float, weights: np.ndarray, grid: np.ndarray, step: float) -> float:
    """P(|S_k| >= b and no earlier crossing): the continuation density (as weights on the grid of S_k-1)
    times the probability that the increment lands beyond +-b."""
    return float(weights @ (stats.norm.cdf((-b - grid) / step) + stats.norm.sf((b - grid) / step)))


def obrien_fleming_bounds(fractions: Sequence[float], alpha: float = 0.05) -> list[float]:
    """|z| boundaries of looks at increasing information fractions in (0, 1] (the last is usually 1)."""
    t = np.asarray(fractions, float)
    if len(t) == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1:
        raise ValueError(f"information fractions must increase within (0, 1], got {list(fractions)}")
    bounds = [float(stats.norm.isf(spent(t[0], alpha) / 2))]
    grid = np.linspace(-bounds[0] * np.sqrt(t[0]), bounds[0] * np.sqrt(t[0]), GRID)
    dens = stats.norm.pdf(grid, scale=np.sqrt(t[0]))  # sub-density of S(t1) on the continuation region
    for k in range(1, len(t)):
        step = np.sqrt(t[k] - t[k - 1])
        weights = dens * _simpson(GRID) * (grid[1] - grid[0])
        target = spent(t[k], alpha) - spent(t[k - 1], alpha)

        hi = (bounds[-1] + 10) * np.sqrt(t[k])
        if target <= _crossing(hi, weights, grid, step):  # nothing (measurable) left to spend at this look
            bounds.append(float("inf"))
            continue
        b = optimize.brentq(
            lambda b, w=weights, g=grid, s=step, a=target: _crossing(b, w, g, s) - a, 1e-9, hi, xtol=1e-10
        )
        bounds.append(float(b / np.sqrt(t[k])))
        new = np.linspace(-b, b, GRID)
        dens = stats.norm.pdf((new[:, None] - grid[None, :]) / step) / step @ weights
        grid = new
    return bounds
