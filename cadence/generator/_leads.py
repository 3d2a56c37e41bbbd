"""Leads: who they are (segment, zone, rep, account, contact details), created across the month."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _model as M
from . import _text as T
from ._tz import PHONE_TEMPLATES, ZONE_WEIGHTS, Offsets

FIRST = (
    "Marie",
    "Jean",
    "Camille",
    "Lucas",
    "Hélène",
    "François",
    "Chloé",
    "Nicolas",
    "Léa",
    "Thomas",
    "Emma",
    "Oliver",
    "Amelia",
    "James",
    "Sophie",
    "Daniel",
    "Olivia",
    "Michael",
    "Priya",
    "Arjun",
    "Wei",
    "Mei",
    "Hiroshi",
    "Aiko",
    "Sofia",
    "Mateo",
    "Anna",
    "Lukas",
    "Noah",
    "Grace",
    "Zoë",
    "Raphaël",
)
LAST = (
    "Martin",
    "Bernard",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Girard",
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Wilson",
    "Johnson",
    "Miller",
    "Davis",
    "Garcia",
    "Nguyen",
    "Tan",
    "Lim",
    "Patel",
    "Sharma",
    "Kumar",
    "Müller",
    "Schmidt",
    "Rossi",
    "Ferrari",
    "Kowalski",
    "O'Brien",
    "Lambert",
    "Roux",
    "Faure",
)
WORD_A = (
    "Nord",
    "Blue",
    "Alpine",
    "Silver",
    "Green",
    "Rapid",
    "Bright",
    "Atlas",
    "Clear",
    "Prime",
    "Vertex",
    "Lumen",
    "Orion",
    "Cobalt",
    "Helix",
    "Summit",
    "Delta",
    "Nova",
    "Pioneer",
    "Harbor",
)
WORD_B = (
    "Logistics",
    "Systems",
    "Foods",
    "Energy",
    "Analytics",
    "Robotics",
    "Health",
    "Retail",
    "Software",
    "Textiles",
    "Finance",
    "Media",
    "Industries",
    "Labs",
    "Mobility",
    "Pharma",
)
LEGAL = ("SAS", "Ltd", "Inc", "GmbH", "SA", "LLC", "Pte Ltd", "Pty Ltd")


def _slug(name: str) -> str:
    table = str.maketrans("éèëêàâäîïôöûüùçñ'", "eeeeaaaiioouuucn-")
    return name.lower().translate(table).replace("-", "")


@dataclass
class Leads:
    n: int
    created: np.ndarray
    zone: np.ndarray
    channel: np.ndarray
    size: np.ndarray
    seg: np.ndarray
    phase: np.ndarray
    team: np.ndarray
    rep: np.ndarray
    score: np.ndarray
    vip: np.ndarray
    dispute: np.ndarray
    account_id: pa.Array
    company: pa.Array
    contact: pa.Array
    email: pa.Array
    phone: pa.Array
    optout: np.ndarray = field(default=None)
    sql: np.ndarray = field(default=None)


def _created(rng, n: int, channel: np.ndarray, zone: np.ndarray, start: int, end: int, tz: Offsets):
    """Every day of the month; weekends quieter (inbound web forms less so); business-ish local hours."""
    ndays = (end - start) // 86_400
    dow = (start // 86_400 + np.arange(ndays) + 3) % 7
    day = np.empty(n, dtype=np.int64)
    for ch, weekend in enumerate((0.45, 0.12, 0.15)):
        sel = np.flatnonzero(channel == ch)
        w = np.where(dow >= 5, weekend, 1.0)
        day[sel] = rng.choice(ndays, size=len(sel), p=w / w.sum())
    peak = np.where(rng.random(n) < 0.55, 10.5, 15.0)
    hours = rng.normal(peak, 2.0)
    hours = np.where((hours < 7.0) | (hours > 20.5), rng.uniform(8.0, 18.0, n), hours)
    late = (channel == 0) & (rng.random(n) < 0.12)  # web forms in the evening
    hours = np.where(late, rng.uniform(19.0, 23.0, n), hours)
    wall = start + day * 86_400 + (hours * 3600).astype(np.int64)
    utc = tz.to_utc(wall, zone)
    # keep the creation inside the month in UTC too (a dbt window on created_at sees every lead)
    utc = np.where(utc < start, utc + 86_400, utc)
    return np.where(utc >= end, utc - 86_400, utc)


def _phones(rng, zone: np.ndarray) -> pa.Array:
    width = max(len(t) for t in PHONE_TEMPLATES)
    mat = np.zeros((len(zone), width), dtype=np.uint8)
    lengths = np.zeros(len(zone), dtype=np.int64)
    for z, template in enumerate(PHONE_TEMPLATES):
        sel = np.flatnonzero(zone == z)
        tb = np.frombuffer(template.encode(), dtype=np.uint8)
        block = np.tile(tb, (len(sel), 1))
        pos = np.flatnonzero(tb == ord("D"))
        block[:, pos] = rng.integers(0, 10, size=(len(sel), len(pos)), dtype=np.uint8) + 48
        mat[sel, : len(tb)] = block
        lengths[sel] = len(tb)
    return T.from_matrix(mat, lengths)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread uint64 hash of each value (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _accounts(size: np.ndarray, pool_idx: np.ndarray, n: int, seed: int):
    """Account ids, names and VIP flags: pure functions of (size, pool index, seed), stable across months."""
    letter = np.array([b"S", b"M", b"E"])[size]
    width = T.digits_needed(3 * n + 100, 5)
    ids = pc.binary_join_element_wise(pa.array(np.char.decode(letter.astype("S1"))), T.ids("", pool_idx, width), "")
    account_id = pc.binary_join_element_wise("ACC-", ids, "")
    h = _mix(pool_idx.astype(np.uint64) * np.uint64(4) + size.astype(np.uint64) + np.uint64(seed) * np.uint64(1 << 40))
    vip_rate = np.array([0.002, 0.01, 0.14])[size]
    vip = ((h >> np.uint64(24)) % np.uint64(1_000_000)).astype(np.int64) / 1_000_000 < vip_rate
    h = h.astype(np.int64) & 0xFFFFFF
    name = pc.binary_join_element_wise(
        T.labels(h % len(WORD_A), WORD_A),
        T.labels(h // 32 % len(WORD_B), WORD_B),
        T.labels(h // 1024 % len(LEGAL), LEGAL),
        " ",
    )
    return account_id, name, vip


def make_leads(rng, n: int, start: int, end: int, tz: Offsets, seed: int) -> Leads:
    channel = rng.choice(3, size=n, p=M.CHANNEL_P).astype(np.int8)
    size = np.empty(n, dtype=np.int8)
    for ch, name in enumerate(M.CHANNELS):
        sel = channel == ch
        size[sel] = rng.choice(3, size=int(sel.sum()), p=M.SIZE_P[name])
    zone = rng.choice(len(ZONE_WEIGHTS), size=n, p=ZONE_WEIGHTS).astype(np.int8)
    created = _created(rng, n, channel, zone, start, end, tz)
    order = np.argsort(created, kind="stable")  # lead numbers follow creation time
    created, channel, size, zone = created[order], channel[order], size[order], zone[order]

    team = M.team_of(channel, size)
    first_rep = np.concatenate([[0], np.cumsum(M.TEAM_SIZES)[:-1]])
    rep = (first_rep[team] + (rng.random(n) * np.array(M.TEAM_SIZES)[team]).astype(int)).astype(np.int8)
    pools = np.array([max(100, 3 * n), max(50, n // 2), max(20, n // 25)])
    pool_idx = (rng.random(n) * pools[size]).astype(np.int64) + 1
    account_id, company, vip = _accounts(size, pool_idx, n, seed)

    fi = rng.integers(0, len(FIRST), n)
    li = rng.integers(0, len(LAST), n)
    contact = pc.binary_join_element_wise(T.labels(fi, FIRST), T.labels(li, LAST), " ")
    domain = T.labels((rng.random(n) < 0.3).astype(int), ("example.com", "example.org"))
    local_part = pc.binary_join_element_wise(
        T.labels(fi, [_slug(f) for f in FIRST]),
        ".",
        T.labels(li, [_slug(x) for x in LAST]),
        T.integers(np.arange(1, n + 1)),
        "",
    )
    email = pc.binary_join_element_wise(local_part, domain, "@")
    return Leads(
        n=n,
        created=created,
        zone=zone,
        channel=channel,
        size=size,
        seg=(channel * 3 + size).astype(np.int8),
        phase=rng.choice(3, size=n, p=M.PHASE_P).astype(np.int8),
        team=team,
        rep=rep,
        score=np.round(100 * rng.beta(2.0, 2.0, n)).astype(np.int16),
        vip=vip,
        dispute=(rng.random(n) < 0.01) & ~vip,
        account_id=account_id,
        company=company,
        contact=contact,
        email=email,
        phone=_phones(rng, zone),
    )
