"""From touches to the entity frames: calls, e-mail events, meetings and opportunities.

A frame is a dict of equal-length numpy columns (codes, indices, epoch seconds); ``_write`` renders it
to the canonical text. Rows are in export order (chronological), numbered 1..n in that order.
"""

from __future__ import annotations

import numpy as np

from ._leads import Leads
from ._text import NAT
from ._touches import Conversion, Touches
from ._tz import Offsets

H, D = 3600, 86_400
OUTCOMES = ("connected", "voicemail", "no_answer", "wrong_number", "busy")
DIRECTIONS = ("outbound", "inbound")
EVENT_TYPES = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed", "complained")
STATUSES = ("booked", "held", "no_show", "cancelled")
STAGES = ("open", "won", "lost")
CLOSE_REASONS = ("product_fit", "relationship", "price", "competitor", "no_budget", "no_decision", "timing")
CAMPAIGN_KINDS = (
    "inbound sequence",
    "outbound sequence",
    "partner sequence",
    "enterprise ABM",
    "nurture newsletter",
    "webinar invitation",
)
#: P(connected) of an outbound call by local hour: the "best time to call" planted in the data.
REACH_BY_HOUR = {
    7: 0.18,
    8: 0.28,
    9: 0.36,
    10: 0.42,
    11: 0.40,
    12: 0.24,
    13: 0.27,
    14: 0.35,
    15: 0.38,
    16: 0.44,
    17: 0.38,
    18: 0.28,
    19: 0.20,
    20: 0.16,
}
REACH_SIZE = (1.05, 1.0, 0.85)
OPEN_RATE, CLICK_RATE = 0.45, 0.20
REPLY_RATE = {"base": 0.04, "converted_lead": 0.15, "post_conversion": 0.20}
COMPLAINT_RATE, SPIKE_COMPLAINT_RATE = 0.0005, 0.01


def deliver(rng, tt: Touches, bounce_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Per touch: bounced flag and delivery instant (NAT for calls and bounces)."""
    email = ~tt.call
    bounced = email & (rng.random(len(tt.t)) < bounce_rate)
    at = tt.t + rng.integers(1, 121, len(tt.t))
    return bounced, np.where(email & ~bounced, at, NAT)


def calls(rng, L: Leads, tt: Touches, tz: Offsets) -> dict:
    idx = np.flatnonzero(tt.call)
    idx = idx[np.argsort(tt.t[idx], kind="stable")]
    lead, t = tt.lead[idx], tt.t[idx]
    n = len(idx)
    hour = tz.local(t, L.zone[lead]) // H % 24
    reach = np.array([REACH_BY_HOUR.get(h, 0.10) for h in range(24)])[hour] * np.array(REACH_SIZE)[L.size[lead]]
    inbound = ~tt.first[idx] & (rng.random(n) < 0.06)
    connected = rng.random(n) < np.where(inbound, 0.90, reach)
    v = rng.random(n)
    other = np.select([v < 0.04, v < 0.12, v < 0.62], [3, 4, 1], 2)
    outcome = np.where(connected, 0, np.where(inbound, 2, other))
    duration = np.clip(np.exp(rng.normal(np.log(300), 0.8, n)), 30, 3600).astype(np.int64)
    return {
        "num": np.arange(1, n + 1),
        "lead": lead,
        "contact": lead,
        "zone": L.zone[lead],
        "rep": L.rep[lead],
        "started": t,
        "direction": inbound.astype(np.int8),
        "outcome": outcome.astype(np.int8),
        "duration": np.where(connected, duration, 0),
        "post": tt.post[idx],
    }


def _delay(rng, n: int, mean_s: float, minimum: int) -> np.ndarray:
    return np.maximum(rng.exponential(mean_s, n), minimum).astype(np.int64)


def email_events(
    rng, L: Leads, tt: Touches, bounced, delivered, conv: Conversion, spike: dict, complaint_p: np.ndarray | None = None
) -> dict:
    """E-mail events; ``complaint_p`` (per lead, NaN: none) raises the complaint rate of a planted
    experiment arm's delivered e-mails."""
    idx = np.flatnonzero(~tt.call)
    idx = idx[np.argsort(tt.t[idx], kind="stable")]
    lead, sent, deliv, bounce = tt.lead[idx], tt.t[idx], delivered[idx], bounced[idx]
    n = len(idx)
    msg = np.arange(1, n + 1)
    ok = deliv != NAT
    kind = np.where(L.size[lead] == 2, 3, L.channel[lead])
    campaign = np.where(rng.random(n) < 0.8, kind, rng.integers(4, 6, n))

    opened = ok & (rng.random(n) < OPEN_RATE)
    open_at = deliv + _delay(rng, n, 5 * H, 30)
    clicked = opened & (rng.random(n) < CLICK_RATE)
    reply_p = np.where(
        tt.post[idx],
        REPLY_RATE["post_conversion"],
        np.where(conv.converted[lead], REPLY_RATE["converted_lead"], REPLY_RATE["base"]),
    )
    replied = ok & (rng.random(n) < reply_p)
    in_spike = (L.seg[lead] == spike["seg"]) & (deliv >= spike["start"]) & (deliv < spike["end"])
    rate = np.where(in_spike, SPIKE_COMPLAINT_RATE, COMPLAINT_RATE)
    if complaint_p is not None:
        rate = np.fmax(rate, complaint_p[lead])
    complained = ok & (rng.random(n) < rate)
    unsub = ok & tt.trigger[idx]

    parts = [  # (mask, type code, instant)
        (np.ones(n, bool), 0, sent),
        (ok, 1, deliv),
        (opened, 2, open_at),
        (clicked, 3, open_at + _delay(rng, n, 1200, 5)),
        (replied, 4, deliv + _delay(rng, n, 8 * H, 300)),
        (bounce, 5, sent + rng.integers(5, 301, n)),
        (unsub, 6, L.optout[lead]),
        (complained, 7, deliv + _delay(rng, n, 3 * H, 60)),
    ]
    end = L.created[lead] + 30 * D
    rows, types, ats = [], [], []
    for mask, code, at in parts:
        keep = mask & ((at < end) | (code in (0, 1, 5)))
        sel = np.flatnonzero(keep)
        rows.append(sel)
        types.append(np.full(len(sel), code, np.int8))
        ats.append(at[sel])
    row, etype, at = np.concatenate(rows), np.concatenate(types), np.concatenate(ats)
    # a unique sort key (instant, message, type) makes the order independent of the sort algorithm
    base = at.min() if len(at) else 0
    order = np.argsort(((at - base) << 33) | (row.astype(np.int64) << 3) | etype)
    row, etype, at = row[order], etype[order], at[order]
    m = len(row)
    return {
        "num": np.arange(1, m + 1),
        "msg": msg[row],
        "lead": lead[row],
        "contact": lead[row],
        "zone": L.zone[lead[row]],
        "rep": L.rep[lead[row]],
        "campaign": campaign[row].astype(np.int8),
        "etype": etype,
        "at": at,
        "post": tt.post[idx][row],
    }


def meetings(rng, L: Leads, conv: Conversion, calls_f: dict, email_f: dict, tz: Offsets) -> dict:
    """Meetings for leads who responded (a reply, or a connected call of 2 minutes or more)."""
    big = np.iinfo(np.int64).max
    resp = np.full(L.n, big)
    rep = email_f["etype"] == 4
    np.minimum.at(resp, email_f["lead"][rep], email_f["at"][rep])
    talk = (calls_f["outcome"] == 0) & (calls_f["duration"] >= 120)
    np.minimum.at(resp, calls_f["lead"][talk], calls_f["started"][talk] + calls_f["duration"][talk])
    p = np.where(conv.converted, 0.65, 0.18)
    lead = np.flatnonzero((resp != big) & (rng.random(L.n) < p))
    booked = resp[lead] + rng.integers(300, 3 * H, len(lead))
    zone = L.zone[lead]
    target = booked + rng.integers(1, 7, len(lead)) * D
    day = tz.local(target, zone) // D
    day = day + np.where((day + 3) % 7 == 5, 2, np.where((day + 3) % 7 == 6, 1, 0))
    sched = tz.to_utc(day * D + rng.integers(18, 34, len(lead)) * 1800, zone)
    sched = np.where(sched <= booked, sched + D, sched)
    keep = sched < L.created[lead] + 30 * D - H
    lead, booked, sched = lead[keep], booked[keep], sched[keep]
    order = np.argsort(booked, kind="stable")
    lead, booked, sched = lead[order], booked[order], sched[order]
    n = len(lead)
    status = rng.choice(4, size=n, p=[0.08, 0.68, 0.12, 0.12]).astype(np.int8)
    minutes = np.where(L.size[lead] == 2, rng.choice([45, 60], n), rng.choice([30, 30, 45], n))
    return {
        "num": np.arange(1, n + 1),
        "lead": lead,
        "contact": lead,
        "zone": L.zone[lead],
        "rep": L.rep[lead],
        "booked": booked,
        "scheduled": sched,
        "status": status,
        "duration": minutes,
    }


def opportunities(rng, L: Leads, conv: Conversion, export_at: int) -> dict:
    lead = np.flatnonzero(conv.converted)
    lead = lead[np.argsort(conv.opp_at[lead], kind="stable")]
    n = len(lead)
    size = L.size[lead]
    created = conv.opp_at[lead]
    close_days = np.exp(rng.normal(np.log(np.array([7, 15, 30])[size]), 0.6))
    closed = created + (close_days * D).astype(np.int64)
    is_closed = closed < export_at
    won = rng.random(n) < np.array([0.45, 0.35, 0.30])[size]
    stage = np.where(is_closed, np.where(won, 1, 2), 0).astype(np.int8)
    won_reason = np.array([0, 1, 2, 6])[rng.integers(0, 4, n)]
    lost_reason = np.array([2, 3, 4, 5, 6])[rng.integers(0, 5, n)]
    reason = np.where(stage == 1, won_reason, np.where(stage == 2, lost_reason, -1))
    euros = np.exp(rng.normal(np.log(np.array([6_000, 30_000, 180_000])[size]), np.array([0.5, 0.5, 0.6])[size]))
    return {
        "num": np.arange(1, n + 1),
        "lead": lead,
        "contact": lead,
        "zone": L.zone[lead],
        "rep": L.rep[lead],
        "created": created,
        "stage": stage,
        "amount": np.round(euros / 10).astype(np.int64) * 1000,
        "closed": np.where(is_closed, closed, NAT),
        "reason": reason.astype(np.int8),
    }
