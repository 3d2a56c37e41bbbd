"""Time zones: the UTC offset of each lead zone at any instant, as a vectorised table lookup.

Offsets are sampled every 15 minutes (every transition of the zones used falls on a quarter hour in UTC)
over a span around the generated month, from the IANA database through pandas/zoneinfo.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

ZONES: tuple[str, ...] = (
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Singapore",
    "Australia/Sydney",
    "Asia/Kolkata",
)
ZONE_WEIGHTS = np.array([0.30, 0.15, 0.15, 0.08, 0.10, 0.08, 0.07, 0.07])
#: Phone number templates per zone (D = a random digit): fictional / drama ranges where they exist.
PHONE_TEMPLATES: tuple[str, ...] = (
    "+33 6 DD DD DD DD",
    "+44 7700 900DDD",
    "+1 212 555 01DD",
    "+1 312 555 01DD",
    "+1 213 555 01DD",
    "+65 8DDD DDDD",
    "+61 491 570 DDD",
    "+91 98DDD DDDDD",
)

_STEP = 900


def month_start(month: str) -> int:
    """Epoch seconds of ``YYYY-MM-01T00:00:00Z``."""
    year, mon = (int(x) for x in month.split("-"))
    return int(datetime(year, mon, 1, tzinfo=UTC).timestamp())


class Offsets:
    """UTC offsets (minutes) of every zone in ``ZONES`` from 60 days before to 240 days after ``start``."""

    def __init__(self, start: int):
        self.begin = start - 60 * 86_400
        n = (300 * 86_400) // _STEP
        grid = pd.DatetimeIndex(pd.to_datetime(self.begin + np.arange(n, dtype=np.int64) * _STEP, unit="s", utc=True))
        naive_utc = grid.tz_localize(None)
        rows = []
        for zone in ZONES:
            local = grid.tz_convert(zone).tz_localize(None)
            rows.append(((local - naive_utc).total_seconds() // 60).to_numpy().astype(np.int16))
        self.table = np.stack(rows)

    def at(self, utc: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Offset in minutes of ``zone`` (codes into ``ZONES``) at epoch seconds ``utc``."""
        idx = np.clip((utc - self.begin) // _STEP, 0, self.table.shape[1] - 1)
        return self.table[zone, idx]

    def to_utc(self, wall: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Local wall-clock epoch seconds -> UTC epoch seconds (standard offset in a DST overlap)."""
        off = self.at(wall, zone).astype(np.int64)
        off = self.at(wall - off * 60, zone).astype(np.int64)
        return wall - off * 60

    def local(self, utc: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """UTC epoch seconds -> local wall-clock epoch seconds."""
        return utc + self.at(utc, zone).astype(np.int64) * 60
