"""The segments of the audit, for the Python side: the scoping note's dimensions (``segments.dimensions``,
default channel x company_size), crossed with funnel_phase. dbt gets the same as the var
``segment_dimensions`` (macros/kpis.sql builds the grouping sets from it).

Like a settings module, the active segments are read once per process from the note the pipeline uses
(``CADENCE_SCOPING_NOTE``, else config/scoping_note.yml): ``DIMS``, ``CUBE`` and ``CELL_LEVEL`` below.
Every table of a run is written with them; ``check_note`` refuses a run whose note declares other
dimensions than the process started with (restart the code location after changing them).

A segment key reads ``channel=inbound | company_size=SMB`` (the marts' ``segment_key``); a cell is a
segment at ``CELL_LEVEL``, the crossing of all dimensions: the unit of the verdicts and the dashboard.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cadence.scoping import CHANNELS, COMPANY_SIZES, DEFAULT_DIMENSIONS, ScopingNote, load_scoping_note


@dataclass(frozen=True)
class Segments:
    dims: tuple[str, ...] = DEFAULT_DIMENSIONS
    #: each dimension's values in display order, when declared (channel / company_size: the contract's)
    orders: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_note(cls, note: ScopingNote | Mapping[str, Any]) -> Segments:
        values = note.values if isinstance(note, ScopingNote) else note
        seg = values.get("segments") or {"dimensions": list(DEFAULT_DIMENSIONS), "values": {}}
        orders: dict[str, tuple[str, ...]] = {"channel": CHANNELS, "company_size": COMPANY_SIZES}
        for dim, vals in (seg.get("values") or {}).items():
            if vals != "any":
                orders[dim] = tuple(vals)
        return cls(tuple(seg["dimensions"]), orders)

    @property
    def cube(self) -> tuple[str, ...]:
        """The columns of the segment marts: the dimensions, then funnel_phase."""
        return (*self.dims, "funnel_phase")

    @property
    def cell_level(self) -> str:
        """'channel+company_size' by default: the crossing of every dimension."""
        return "+".join(self.dims)

    def key(self, row: Mapping[str, Any]) -> str:
        """A cell's segment key from a row holding the dimension columns."""
        return " | ".join(f"{d}={row[d]}" for d in self.dims)

    def key_sql(self, prefix: str = "") -> str:
        """SQL expression of a cell's segment key."""
        p = f"{prefix}." if prefix else ""
        return " || ' | ' || ".join(f"'{d}=' || coalesce(cast({p}{d} as varchar), 'unknown')" for d in self.dims)

    @staticmethod
    def parse(key: str) -> dict[str, str]:
        """'channel=inbound | company_size=SMB' -> {'channel': 'inbound', 'company_size': 'SMB'}."""
        if key == "all":
            return {}
        return dict(part.split("=", 1) for part in key.split(" | ") if "=" in part)

    @staticmethod
    def label(key: str) -> str:
        """'channel=inbound | company_size=SMB' -> 'Inbound · SMB'; 'all' -> 'All in-scope leads'."""
        if not key or key == "all":
            return "All in-scope leads"
        return " · ".join(v[:1].upper() + v[1:] for v in Segments.parse(key).values())

    def slug(self, key: str) -> str:
        """'channel=inbound | company_size=SMB' -> 'inbound-SMB' (ids and anchors)."""
        return "-".join(self.parse(key).values()) or "all"

    def sort_key(self, key: str) -> tuple:
        """Declared value order per dimension ('all' first, unknown values after, alphabetically)."""
        parts = self.parse(key)
        out: list[Any] = []
        for d in self.cube:
            v = parts.get(d)
            order = self.orders.get(d, ())
            out += [0 if v is None else (order.index(v) + 1 if v in order else len(order) + 1), v or ""]
        return tuple(out)

    def declared_cells(self) -> list[str] | None:
        """Every cell key when each dimension has declared values (the dashboard's grid), else None."""
        if any(d not in self.orders for d in self.dims):
            return None
        keys = [""]
        for d in self.dims:
            keys = [f"{k} | {d}={v}" if k else f"{d}={v}" for k in keys for v in self.orders[d]]
        return keys


def _active() -> Segments:
    path = Path(os.environ.get("CADENCE_SCOPING_NOTE")
                or Path(__file__).resolve().parents[1] / "config" / "scoping_note.yml")
    try:
        return Segments.from_note(load_scoping_note(path))
    except Exception:  # noqa: BLE001 - a broken note is reported by the run that reads it, with its key
        return Segments()


ACTIVE = _active()
DIMS = ACTIVE.dims
CUBE = ACTIVE.cube
CELL_LEVEL = ACTIVE.cell_level


def check_note(note: ScopingNote) -> None:
    """Refuse a note whose dimensions differ from the ones this process started with."""
    dims = Segments.from_note(note).dims
    if dims != DIMS:
        raise RuntimeError(f"{note.source}: segments.dimensions is {list(dims)} but this process started with "
                           f"{list(DIMS)}: restart the Dagster code location (or the command) after changing "
                           "the segment dimensions")
