"""Touches (calls and sent e-mails), opt-outs, TTF and the planted conversion, all per row in numpy.

Order of the draw: a planned touch count per lead -> touch times (first touch at the TTF, later ones
snapped to local working hours) -> opt-outs (later touches dropped, except a planted few) -> e-mail
delivery -> the observed TTF and pre-conversion touch count -> conversion from the planted curve ->
the opportunity after the last touch -> post-conversion touches for some converted leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _model as M
from ._leads import Leads
from ._text import NAT
from ._tz import Offsets

H = 3600
D = 86_400
CALL_HOURS = np.array([9, 10, 11, 12, 13, 14, 15, 16])
CALL_HOUR_W = np.array([0.11, 0.15, 0.14, 0.07, 0.09, 0.14, 0.15, 0.15])
OPT_OUT_SHARE = 0.03
OPT_OUT_VIOLATION_SHARE = 0.15
POST_CONVERSION_SHARE = 0.35
BOUNCE_RATE = 0.03


@dataclass
class Touches:
    lead: np.ndarray  # int64 lead index
    t: np.ndarray  # int64 epoch seconds (UTC)
    call: np.ndarray  # bool: call (else a sent e-mail)
    first: np.ndarray  # bool: the lead's first planned touch (at the TTF)
    post: np.ndarray  # bool: after the opportunity was created
    trigger: np.ndarray  # bool: the touch that led to the opt-out

    def take(self, idx) -> Touches:
        return Touches(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(a: Touches, b: Touches) -> Touches:
        return Touches(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in a.__dataclass_fields__))


def _tod(rng, call: np.ndarray) -> np.ndarray:
    """Local time of day: calls mostly 09:00-17:00 (7 % just outside), e-mails 08:00-18:00."""
    n = len(call)
    hours = rng.choice(CALL_HOURS, size=n, p=CALL_HOUR_W)
    tod = hours * H + rng.integers(0, H, n)
    outside = call & (rng.random(n) < 0.07)
    early = rng.random(n) < 0.5
    tod = np.where(outside & early, rng.integers(7 * H + 1800, 9 * H, n), tod)
    tod = np.where(outside & ~early, rng.integers(17 * H, 20 * H, n), tod)
    return np.where(call, tod, rng.integers(8 * H, 18 * H, n))


def snap(rng, tz: Offsets, t, zone, call, after, limit) -> np.ndarray:
    """Move touches to working hours on their local day (weekends -> Monday), then into (after, limit]."""
    day = tz.local(t, zone) // D
    dow = (day + 3) % 7
    weekday_only = call | (rng.random(len(t)) < 0.8)
    shift = np.where(weekday_only & (dow == 5), 2, np.where(weekday_only & (dow == 6), 1, 0))
    new = tz.to_utc((day + shift) * D + _tod(rng, call), zone)
    new = np.where(new <= after, new + D, new)
    return np.minimum(np.maximum(new, after + 60), limit)


def plan(rng, L: Leads, tz: Offsets) -> Touches:
    seg = L.seg
    mean, shape = M.seg_array("touches_mean")[seg], M.seg_array("touches_shape")[seg]
    k = np.minimum(rng.poisson(rng.gamma(shape, mean / shape)), M.MAX_TOUCHES)
    k = np.where(L.vip, 1 + rng.binomial(2, 0.4, L.n), k)
    k = np.where(L.dispute, rng.binomial(3, 0.5, L.n), k)

    fast = rng.random(L.n) < M.seg_array("ttf_fast_share")[seg]
    slow_h = 2.0 + np.minimum(np.exp(rng.normal(np.log(M.seg_array("ttf_slow_median_h")[seg]), 1.0)), 118)
    ttf_h = np.where(fast, rng.uniform(0.05, 1.95, L.n), slow_h)
    t0 = L.created + (ttf_h * H).astype(np.int64)

    lead = np.repeat(np.arange(L.n), k)
    first = np.zeros(len(lead), dtype=bool)
    first[(np.cumsum(k) - k)[k > 0]] = True
    call = rng.random(len(lead)) < M.seg_array("call_share")[seg[lead]]
    call = np.where(L.vip[lead], True, np.where(L.dispute[lead], False, call))
    # a slow first contact happens in working hours too (a fast one follows the lead, even late)
    who = np.flatnonzero(first & ~fast[lead])
    wl = lead[who]
    t0[wl] = snap(rng, tz, t0[wl], L.zone[wl], call[who], L.created[wl] + 2 * H, L.created[wl] + 6 * D)
    gap = M.seg_array("span_days")[seg[lead]] * rng.random(len(lead)) ** 1.4 * D
    t = t0[lead] + 600 + gap.astype(np.int64)
    limit = L.created[lead] + M.SCHEDULE_DAYS * D
    t = snap(rng, tz, t, L.zone[lead], call, t0[lead], limit)
    t = np.where(first, t0[lead], t)
    z = np.zeros(len(lead), dtype=bool)
    return Touches(lead=lead, t=t, call=call, first=first, post=z, trigger=z.copy())


def opt_out(rng, L: Leads, tt: Touches) -> Touches:
    """~3 % of worked leads opt out just after one of their touches; later touches are dropped, except
    one for a planted share of them (touches after opt-out)."""
    k = np.bincount(tt.lead, minlength=L.n)
    worked = (k > 0) & ~L.vip
    opted = worked & (rng.random(L.n) < OPT_OUT_SHARE / max(worked.mean(), 1e-9))
    starts = np.cumsum(k) - k
    trig = (starts + (rng.random(L.n) * k).astype(np.int64))[opted]
    tt.trigger[trig] = True
    L.optout = np.full(L.n, NAT, dtype=np.int64)
    L.optout[tt.lead[trig]] = tt.t[trig] + rng.integers(5 * 60, 3 * H, len(trig))

    after = (L.optout[tt.lead] != NAT) & (tt.t > L.optout[tt.lead])
    violator = rng.random(L.n) < OPT_OUT_VIOLATION_SHARE
    first_after = np.full(L.n, np.iinfo(np.int64).max)
    np.minimum.at(first_after, tt.lead[after], tt.t[after])
    keep = ~after | (violator[tt.lead] & (tt.t == first_after[tt.lead]))
    return tt.take(np.flatnonzero(keep))


@dataclass
class Conversion:
    converted: np.ndarray
    opp_at: np.ndarray
    ttf_h: np.ndarray
    touches: np.ndarray
    p: np.ndarray
    lift: np.ndarray | None = None  # probability added by a planted experiment (after the cap)


def convert(
    rng, L: Leads, tt: Touches, delivered_at: np.ndarray, rep_mult: np.ndarray, p_shift: np.ndarray | None = None
) -> Conversion:
    """Draw conversions from the planted curves on the *observed* touch count and TTF (plus ``p_shift``,
    the lift of a planted experiment's treatment arms, when given)."""
    effective = np.where(tt.call, tt.t, delivered_at)
    first_eff = np.full(L.n, np.iinfo(np.int64).max)
    ok = effective != NAT
    np.minimum.at(first_eff, tt.lead[ok], effective[ok])
    ttf_h = np.where(first_eff == np.iinfo(np.int64).max, np.nan, (first_eff - L.created) / H)
    touches = np.bincount(tt.lead, minlength=L.n)
    p = M.base_probability(L.seg, touches, ttf_h)
    p = np.where(L.vip, M.VIP_P, p)
    p = p * rep_mult[L.rep] * np.array(M.PHASE_MULT)[L.phase] * (0.7 + 0.6 * L.score / 100)
    p = np.minimum(np.where(L.dispute, p * M.DISPUTE_MULT, p), M.P_CAP)
    lift = None
    if p_shift is not None:
        shifted = np.clip(p + p_shift, 0.0, M.P_CAP)
        p, lift = shifted, shifted - p
    converted = rng.random(L.n) < p

    last = np.full(L.n, NAT, dtype=np.int64)
    np.maximum.at(last, tt.lead, tt.t)
    opp_at = np.where(last == NAT, L.created + rng.integers(D, 20 * D, L.n), last + rng.integers(2 * H, 48 * H, L.n))
    opp_at = np.minimum(opp_at, L.created + (M.WINDOW_DAYS - 2) * D)
    return Conversion(converted, np.where(converted, opp_at, NAT), ttf_h, touches, p, lift)


def post_conversion(rng, L: Leads, conv: Conversion, tz: Offsets) -> Touches:
    """Some converted leads keep being touched after the opportunity exists (cadence not stopped)."""
    who = conv.converted & (L.optout == NAT) & (conv.touches > 0) & (rng.random(L.n) < POST_CONVERSION_SHARE)
    m = np.where(who, 1 + rng.binomial(2, 0.4, L.n), 0)
    lead = np.repeat(np.arange(L.n), m)
    start = conv.opp_at[lead] + 1800
    limit = L.created[lead] + M.WINDOW_DAYS * D - H
    call = rng.random(len(lead)) < M.seg_array("call_share")[L.seg[lead]]
    t = start + (rng.random(len(lead)) * (limit - start)).astype(np.int64)
    t = snap(rng, tz, t, L.zone[lead], call, start, limit)
    z = np.zeros(len(lead), dtype=bool)
    return Touches(lead=lead, t=t, call=call, first=z, post=~z, trigger=z.copy())


def sql_reached(rng, L: Leads, conv: Conversion) -> np.ndarray:
    """SQL/opportunity-phase leads are SQL at creation; converted MQLs qualify before their opportunity;
    a few other MQLs qualify during the window."""
    sql = np.full(L.n, NAT, dtype=np.int64)
    sql = np.where(L.phase >= 1, L.created, sql)
    span = np.maximum(np.where(conv.converted, conv.opp_at, L.created) - L.created, 60)
    mql_conv = (L.phase == 0) & conv.converted
    sql = np.where(mql_conv, L.created + (rng.random(L.n) * span).astype(np.int64), sql)
    other = (L.phase == 0) & ~conv.converted & (rng.random(L.n) < 0.08)
    return np.where(other, L.created + rng.integers(H, 25 * D, L.n), sql)
