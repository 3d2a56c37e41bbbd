"""The planted business model: segments, cadences, conversion curves, reps and their parameters.

Everything the analysis must later recover is defined here and copied verbatim into the manifest.
"""

from __future__ import annotations

import numpy as np

CHANNELS = ("inbound", "outbound", "partner")
SIZES = ("SMB", "Mid", "Enterprise")
PHASES = ("MQL", "SQL", "opportunity")
CHANNEL_P = (0.45, 0.40, 0.15)
SIZE_P = {"inbound": (0.55, 0.30, 0.15), "outbound": (0.40, 0.35, 0.25), "partner": (0.35, 0.35, 0.30)}
PHASE_P = (0.70, 0.25, 0.05)
PHASE_MULT = (0.85, 1.30, 1.60)  # weighted mean 1.0: the segment curves stay the population averages

TEAMS = ("Inbound Desk", "Outbound SDR", "Enterprise", "Partners")
TEAM_SIZES = (7, 6, 4, 3)
REPS = tuple(f"R{i:02d}" for i in range(1, sum(TEAM_SIZES) + 1))
REP_TEAM = np.repeat(np.arange(len(TEAMS)), TEAM_SIZES)

WINDOW_DAYS = 30
SCHEDULE_DAYS = 26  # pre-conversion touches end here, leaving room for the opportunity and later touches
P_CAP = 0.95
VIP_P = 0.55
DISPUTE_MULT = 0.5

# Per segment (channel, size): touch-count distribution (gamma-Poisson mean/shape), the span of the
# cadence in days, the share of calls, TTF (share contacted within 2 h, median hours otherwise) and
# the conversion curve as a function of pre-conversion touches (and TTF where stated).
SEGMENTS: dict[tuple[str, str], dict] = {
    ("inbound", "SMB"): dict(
        touches_mean=6.0,
        touches_shape=2.5,
        span_days=10,
        call_share=0.50,
        ttf_fast_share=0.45,
        ttf_slow_median_h=10,
        curve=dict(shape="plateau", b=0.03, m=0.03, plateau_at=6, ttf_threshold_h=2.0, ttf_multiplier=1.8),
    ),
    ("inbound", "Mid"): dict(
        touches_mean=7.0,
        touches_shape=3.0,
        span_days=14,
        call_share=0.50,
        ttf_fast_share=0.35,
        ttf_slow_median_h=12,
        curve=dict(shape="linear", b=0.05, m=0.012),
    ),
    ("inbound", "Enterprise"): dict(
        touches_mean=9.0,
        touches_shape=3.0,
        span_days=21,
        call_share=0.45,
        ttf_fast_share=0.30,
        ttf_slow_median_h=14,
        curve=dict(shape="linear", b=0.04, m=0.010),
    ),
    ("outbound", "SMB"): dict(
        touches_mean=6.0,
        touches_shape=2.5,
        span_days=12,
        call_share=0.55,
        ttf_fast_share=0.10,
        ttf_slow_median_h=22,
        curve=dict(shape="linear", b=0.02, m=0.008),
    ),
    ("outbound", "Mid"): dict(
        touches_mean=7.0,
        touches_shape=3.0,
        span_days=14,
        call_share=0.50,
        ttf_fast_share=0.10,
        ttf_slow_median_h=22,
        curve=dict(shape="linear", b=0.025, m=0.010),
    ),
    ("outbound", "Enterprise"): dict(
        touches_mean=9.0,
        touches_shape=2.2,
        span_days=21,
        call_share=0.45,
        ttf_fast_share=0.08,
        ttf_slow_median_h=26,
        curve=dict(shape="logistic", floor=0.01, L=0.35, k=0.9, x0=8.0),
    ),
    ("partner", "SMB"): dict(
        touches_mean=5.0,
        touches_shape=2.5,
        span_days=10,
        call_share=0.45,
        ttf_fast_share=0.25,
        ttf_slow_median_h=8,
        curve=dict(shape="linear", b=0.07, m=0.006),
    ),
    ("partner", "Mid"): dict(
        touches_mean=6.0,
        touches_shape=3.0,
        span_days=14,
        call_share=0.45,
        ttf_fast_share=0.25,
        ttf_slow_median_h=8,
        curve=dict(shape="linear", b=0.06, m=0.008),
    ),
    ("partner", "Enterprise"): dict(
        touches_mean=8.0,
        touches_shape=3.0,
        span_days=21,
        call_share=0.45,
        ttf_fast_share=0.20,
        ttf_slow_median_h=10,
        curve=dict(shape="linear", b=0.05, m=0.010),
    ),
}
SEGMENT_KEYS = list(SEGMENTS)
LINEAR_CAP = 0.60
MAX_TOUCHES = 30


def seg_array(name: str) -> np.ndarray:
    """One parameter of every segment, indexed by segment code ``channel * 3 + size``."""
    return np.array([SEGMENTS[k][name] for k in SEGMENT_KEYS], dtype=float)


def team_of(channel: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Partners -> Partners; Enterprise -> Enterprise; else Inbound Desk / Outbound SDR by channel."""
    team = np.where(channel == 0, 0, 1)
    team = np.where(size == 2, 2, team)
    return np.where(channel == 2, 3, team).astype(np.int8)


def rep_multipliers(seed: int) -> np.ndarray:
    """Conversion odds of each rep (stable across months: depends on the seed only), mean 1 per team."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 0]))
    raw = np.exp(rng.normal(0.0, 0.28, len(REPS)))
    for team in range(len(TEAMS)):
        members = np.flatnonzero(np.equal(REP_TEAM, team))
        raw[members] /= raw[members].mean()
    return np.round(raw, 3)


def base_probability(seg: np.ndarray, touches: np.ndarray, ttf_h: np.ndarray) -> np.ndarray:
    """The planted segment curve: P(conversion) from pre-conversion touches (and TTF for inbound SMB)."""
    p = np.zeros(len(seg))
    x = touches.astype(float)
    for code, key in enumerate(SEGMENT_KEYS):
        c = SEGMENTS[key]["curve"]
        sel = seg == code
        if c["shape"] == "plateau":
            fast = np.nan_to_num(ttf_h[sel], nan=np.inf) <= c["ttf_threshold_h"]
            p[sel] = (c["b"] + c["m"] * np.minimum(x[sel], c["plateau_at"])) * np.where(fast, c["ttf_multiplier"], 1)
        elif c["shape"] == "logistic":
            p[sel] = c["floor"] + c["L"] / (1 + np.exp(-c["k"] * (x[sel] - c["x0"])))
        else:
            p[sel] = np.minimum(c["b"] + c["m"] * x[sel], LINEAR_CAP)
    return p


def effects_manifest(rep_mult: np.ndarray) -> dict:
    """The planted parameters, as recorded in the manifest."""
    curves = {
        f"{ch}/{size}": {
            **SEGMENTS[(ch, size)]["curve"],
            "touches_mean": SEGMENTS[(ch, size)]["touches_mean"],
            "cadence_span_days": SEGMENTS[(ch, size)]["span_days"],
            "share_ttf_le_2h_target": SEGMENTS[(ch, size)]["ttf_fast_share"],
        }
        for ch, size in SEGMENT_KEYS
    }
    return {
        "conversion_definition": f"an opportunity created within {WINDOW_DAYS} days of lead creation",
        "touch_definition": "a call (any outcome or direction) or a sent e-mail (one per message_id)",
        "curve_input": "touches before the opportunity's created_at (post-conversion touches excluded)",
        "ttf_definition": "hours from lead creation to the first call or the first delivered e-mail",
        "formulas": {
            "plateau": "p = (b + m*min(touches, plateau_at)) * (ttf_multiplier if ttf_hours <= "
            "ttf_threshold_h else 1); no contact counts as slow",
            "logistic": "p = floor + L / (1 + exp(-k*(touches - x0)))",
            "linear": f"p = min(b + m*touches, {LINEAR_CAP})",
            "final": f"min(curve * rep * funnel_phase * lead_score * dispute, {P_CAP}); "
            "VIP leads use vip_cluster.p instead of the curve",
        },
        "segments": curves,
        "vip_cluster": {
            "p": VIP_P,
            "touches": "1-3, calls only (one validated channel)",
            "note": "VIP leads are excluded from the segment curves",
        },
        "disputes": {"multiplier": DISPUTE_MULT, "touches": "0-3, e-mails only (one validated channel)"},
        "multipliers": {
            "rep": dict(zip(REPS, rep_mult.tolist(), strict=True)),
            "rep_team": dict(zip(REPS, [TEAMS[t] for t in REP_TEAM], strict=True)),
            "funnel_phase": dict(zip(PHASES, PHASE_MULT, strict=True)),
            "lead_score": "0.7 + 0.6 * lead_score / 100 (lead_score ~ 100*Beta(2, 2), mean 1)",
        },
    }
