"""Render frames to the contract's canonical text and write them as CSV or Parquet, in chunks.

Both formats hold the same text values (Parquet: every column a string; a missing value is an empty
field in CSV and a null in Parquet, which is what a CSV reader yields for an empty field anyway).
Files are written to a hidden temporary name and renamed, so a watcher never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import _model as M
from . import _text as T
from ._events import CLOSE_REASONS, DIRECTIONS, EVENT_TYPES, OUTCOMES, STAGES, STATUSES
from ._leads import Leads
from ._tz import ZONES, Offsets

CHUNK_ROWS = 500_000
BOOL = ("false", "true")


@dataclass
class Context:
    month: str
    leads: Leads
    tz: Offsets
    campaigns: tuple[str, ...]

    @property
    def ym(self) -> str:
        return self.month.replace("-", "")

    @property
    def lead_width(self) -> int:
        return T.digits_needed(2 * self.leads.n, 6)


def columns(entity: str, ctx: Context) -> list[tuple]:
    """(canonical column, render kind, frame column, argument) in contract order."""
    L, ym = ctx.leads, ctx.ym
    lead = ("lead_id", "lead", "lead", None)
    rep = ("rep_id", "label", "rep", M.REPS)
    if entity == "leads":
        return [
            ("lead_id", "lead", "lead", None),
            ("created_at", "ts", "created", None),
            ("lead_timezone", "label", "zone", ZONES),
            ("channel", "label", "channel", M.CHANNELS),
            ("company_size", "label", "size", M.SIZES),
            ("funnel_phase", "label", "phase", M.PHASES),
            ("team", "label", "team", M.TEAMS),
            rep,
            ("account_id", "take", "contact", L.account_id),
            ("company_name", "take", "contact", L.company),
            ("contact_name", "take", "contact", L.contact),
            ("email", "take", "contact", L.email),
            ("phone", "take", "contact", L.phone),
            ("lead_score", "int", "score", None),
            ("is_vip", "label", "vip", BOOL),
            ("is_dispute", "label", "dispute", BOOL),
            ("opted_out_at", "ts", "optout", None),
            ("sql_at", "ts", "sql", None),
        ]
    if entity == "opportunities":
        return [
            ("opportunity_id", "id", "num", f"O{ym}-"),
            lead,
            ("account_id", "take", "contact", L.account_id),
            rep,
            ("created_at", "ts", "created", None),
            ("stage", "label", "stage", STAGES),
            ("amount", "money", "amount", None),
            ("currency", "const", None, "EUR"),
            ("closed_at", "ts", "closed", None),
            ("close_reason", "label", "reason", CLOSE_REASONS),
        ]
    if entity == "calls":
        return [
            ("call_id", "id", "num", f"C{ym}-"),
            lead,
            rep,
            ("started_at", "ts", "started", None),
            ("direction", "label", "direction", DIRECTIONS),
            ("outcome", "label", "outcome", OUTCOMES),
            ("duration_seconds", "int", "duration", None),
            ("phone_number", "take", "contact", L.phone),
        ]
    if entity == "email_events":
        return [
            ("event_id", "id", "num", f"E{ym}-"),
            ("message_id", "id", "msg", f"M{ym}-"),
            lead,
            rep,
            ("campaign_id", "label", "campaign", ctx.campaigns),
            ("event_type", "label", "etype", EVENT_TYPES),
            ("event_at", "ts", "at", None),
            ("email_address", "take", "contact", L.email),
        ]
    if entity == "meetings":
        return [
            ("meeting_id", "id", "num", f"MTG{ym}-"),
            lead,
            rep,
            ("booked_at", "ts", "booked", None),
            ("scheduled_at", "ts", "scheduled", None),
            ("status", "label", "status", STATUSES),
            ("duration_minutes", "int", "duration", None),
        ]
    raise KeyError(entity)


def id_width(frame: dict, col: str, entity: str) -> int:
    """Digits of the numbered ids of a file (at least 6 for small entities, 8 for touches)."""
    small = entity in ("leads", "opportunities", "meetings")
    return T.digits_needed(frame[col].max() if len(frame[col]) else 0, 6 if small else 8)


def key_ids(frame: dict, entity: str, ctx: Context, rows: np.ndarray) -> list[str]:
    """The key (first column) of the given 0-based rows, as written."""
    _, kind, col, arg = columns(entity, ctx)[0]
    if kind == "lead":
        return T.ids(f"L{ctx.ym}-", frame[col][rows] + 1, ctx.lead_width).to_pylist()
    return T.ids(arg, frame[col][rows], id_width(frame, col, entity)).to_pylist()


def lead_ids(ctx: Context, lead: np.ndarray) -> list[str]:
    return T.ids(f"L{ctx.ym}-", lead + 1, ctx.lead_width, empty=lead < 0).to_pylist()


def render(frame: dict, entity: str, ctx: Context, a: int, b: int, widths: dict | None = None) -> pa.Table:
    out = {}
    widths = widths or {c: id_width(frame, c, entity) for _, kind, c, _ in columns(entity, ctx) if kind == "id"}
    for name, kind, col, arg in columns(entity, ctx):
        v = frame[col][a:b] if col else None
        if kind == "id":
            out[name] = T.ids(arg, v, widths[col])
        elif kind == "lead":
            out[name] = T.ids(f"L{ctx.ym}-", v + 1, ctx.lead_width, empty=v < 0)
        elif kind == "ts":
            valid = np.where(v == T.NAT, 0, v)
            off = ctx.tz.at(valid, frame["zone"][a:b]).astype(np.int64)
            written = off + frame[f"{col}__delta"][a:b] if f"{col}__delta" in frame else None
            naive = frame[f"{col}__naive"][a:b] if f"{col}__naive" in frame else None
            out[name] = T.timestamps(v, off, naive, written)
        elif kind == "label":
            out[name] = T.labels(v, arg)
        elif kind == "take":
            out[name] = T.take(arg, v)
        elif kind == "int":
            out[name] = T.integers(v)
        elif kind == "money":
            out[name] = T.money(v)
        else:
            out[name] = pa.array(np.full(b - a, arg, dtype=object), type=pa.string())
    return pa.table(out)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def write(path: Path, frame: dict, entity: str, ctx: Context, file_format: str) -> dict:
    """Write one entity file; returns {"rows", "sha256"}."""
    names = [c[0] for c in columns(entity, ctx)]
    schema = pa.schema([(n, pa.string()) for n in names])
    n = len(frame["lead"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    chunks = range(0, max(n, 1), CHUNK_ROWS)
    widths = {c: id_width(frame, c, entity) for _, kind, c, _ in columns(entity, ctx) if kind == "id"}
    if file_format == "csv":
        with pa.OSFile(str(tmp), "wb") as sink:
            sink.write((",".join(names) + "\n").encode())
            opts = pacsv.WriteOptions(include_header=False, quoting_style="none")
            with pacsv.CSVWriter(sink, schema, write_options=opts) as writer:
                for a in chunks:
                    if n:
                        writer.write_table(render(frame, entity, ctx, a, min(a + CHUNK_ROWS, n), widths))
    else:
        with pq.ParquetWriter(str(tmp), schema, compression="zstd") as writer:
            for a in chunks:
                table = render(frame, entity, ctx, a, min(a + CHUNK_ROWS, n), widths) if n else schema.empty_table()
                nulls = [pc.if_else(pc.equal(c, ""), pa.scalar(None, pa.string()), c) for c in table.columns]
                writer.write_table(pa.Table.from_arrays(nulls, schema=schema))
    digest = _sha256(tmp)
    os.replace(tmp, path)
    return {"rows": n, "sha256": digest}
