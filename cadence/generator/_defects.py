"""Planted data defects, in exact counts, each listed by file, 1-based data row and id in the manifest.

Defects are drawn from their own random stream, so the clean rows are the same with or without them.
Kinds either *add* rows (inserted among the clean rows: a copy right after its original, anything with
a timestamp at its chronological place) or *modify* clean rows. Every defect uses its own rows: no row
carries two defects, and no duplicated row is modified afterwards, so each count can be re-found alone:

- ``exact_duplicates``: a whole row repeated (every file; an extra row right after the original).
- ``key_duplicates``: a stale version of a row (same key, another payload: leads: lead_score and contact
  details; calls: outcome and duration), placed *before* the current row in the file.
  For both kinds the listed row is the added one and ``duplicate_of_row`` names the clean original:
  dropping later exact copies and keeping the *last* row per key ("latest wins") recovers the clean data.
- ``orphan_touches``: calls and e-mail ``sent`` events whose lead_id is in no leads file.
- ``naive_timestamps``: ``started_at`` / ``event_at`` written without an offset (local wall time).
- ``wrong_offsets``: ``started_at`` / ``event_at`` with the local wall time and an offset one hour below the
  zone's real one (the instant read is one hour later; never near a DST change, so always detectable).
- ``touches_before_creation``: calls and e-mail ``sent`` events 10 minutes to 3 days before the lead exists.
- ``call_burst``: one lead with 400 calls in one local day (an absurd outlier: an auto-dialler loop).
- ``negative_durations``: connected calls with ``duration_seconds`` < 0.
- ``empty_mandatory``: empty calls.lead_id, calls.started_at, email_events.lead_id, email_events.event_at,
  leads.rep_id.
- ``extreme_real``: leads with about 60 extra *legitimate* touches (working hours, valid everything):
  an extreme-but-real case the cleaning must keep, listed here so it can be told apart from errors.
"""

from __future__ import annotations

import numpy as np

from ._text import NAT
from ._touches import snap
from ._write import Context, key_ids, lead_ids

DEFECT_KINDS: tuple[str, ...] = (
    "exact_duplicates",
    "key_duplicates",
    "orphan_touches",
    "naive_timestamps",
    "wrong_offsets",
    "touches_before_creation",
    "call_burst",
    "negative_durations",
    "empty_mandatory",
    "extreme_real",
)
ROWS_CAP = 500  # listed rows per defect kind and file (the counts stay exact)
H, D = 3600, 86_400
TIME_COL = {
    "leads": "created",
    "opportunities": "created",
    "calls": "started",
    "email_events": "at",
    "meetings": "booked",
}
BURST_CALLS = 400
EXTREME_TOUCHES = 60


def _count(rows: int, rate: float, minimum: int) -> int:
    return max(minimum, round(rows * rate)) if rows else 0


class _Plan:
    """The defects of one file: clean rows reserved, rows added (with where they go), rows modified."""

    def __init__(self, frame: dict, entity: str):
        self.frame, self.entity = frame, entity
        self.n = len(frame["lead"])
        self.taken = np.zeros(self.n, dtype=bool)
        self.added: list[tuple[str, dict, np.ndarray, str | None]] = []
        self.modified: list[tuple[str, np.ndarray, str | None]] = []
        self.next = {c: int(frame[c].max()) + 1 for c in ("num", "msg") if c in frame and self.n}

    def pick(self, rng, k: int, ok: np.ndarray | None = None) -> np.ndarray:
        cand = np.flatnonzero(~self.taken if ok is None else ~self.taken & ok)
        idx = np.sort(rng.choice(cand, size=min(k, len(cand)), replace=False))
        self.taken[idx] = True
        return idx

    def copy(self, idx: np.ndarray) -> dict:
        return {c: a[idx].copy() for c, a in self.frame.items()}

    def renumber(self, rows: dict, cols=("num", "msg")) -> None:
        for c in cols:
            if c in rows:
                k = len(rows[c])
                rows[c] = np.arange(self.next[c], self.next[c] + k)
                self.next[c] += k

    def add(self, kind: str, rows: dict, after: np.ndarray | None = None, source: np.ndarray | None = None) -> None:
        """Insert ``rows`` after clean rows ``after`` (default: by time); ``source``: the rows they copy."""
        if after is None:  # chronological place
            after = np.searchsorted(self.frame[TIME_COL[self.entity]], rows[TIME_COL[self.entity]], "right") - 1
        self.added.append((kind, rows, after, source))

    def finish(self) -> tuple[dict, list[tuple]]:
        """The final frame and, per defect, (kind, 0-based final rows, column, final rows of the originals)."""
        blocks = [rows for _, rows, _, _ in self.added]
        keys = np.concatenate([2 * np.arange(self.n)] + [2 * after + 1 for _, _, after, _ in self.added])
        order = np.argsort(keys, kind="stable")
        frame = {c: np.concatenate([a] + [b[c] for b in blocks])[order] for c, a in self.frame.items()}
        where = np.empty(len(order), dtype=np.int64)
        where[order] = np.arange(len(order))
        found = [(kind, where[rows], note, None) for kind, rows, note in self.modified]
        start = self.n
        for kind, rows, _, source in self.added:
            k = len(rows["lead"])
            found.append((kind, where[start : start + k], None, None if source is None else where[source]))
            start += k
        return frame, found


def _touch_rows(rng, P: _Plan, lead: np.ndarray, t: np.ndarray, L) -> dict:
    """Fresh call rows / e-mail 'sent' rows for ``lead`` at ``t`` (modelled on random clean rows)."""
    rows = P.copy(rng.integers(0, P.n, len(lead)))
    rows.update(lead=lead, contact=lead, zone=L.zone[lead], rep=L.rep[lead], post=np.zeros(len(lead), bool))
    for c in rows:  # a fresh row carries no other defect
        if c.endswith(("__naive", "__delta")):
            rows[c] = np.zeros_like(rows[c])
    rows[TIME_COL[P.entity]] = t
    if P.entity == "email_events":
        rows["etype"] = np.zeros(len(lead), np.int8)
    P.renumber(rows)
    return rows


def plant(rng, kinds: tuple[str, ...], frames: dict, L, conv, tz, ctx: Context, paths: dict) -> dict:
    """Plant ``kinds`` into ``frames`` (replaced by their final versions); returns the manifest records."""
    for ent, cols in (
        ("leads", ("rep",)),
        ("calls", ("lead", "started", "duration")),
        ("email_events", ("lead", "at")),
    ):
        for c in cols:  # modified in place below: stop sharing memory with the leads or other columns
            frames[ent][c] = frames[ent][c].copy()
    for ent, col in (("calls", "started"), ("email_events", "at")):
        frames[ent][f"{col}__naive"] = np.zeros(len(frames[ent]["lead"]), dtype=bool)
        frames[ent][f"{col}__delta"] = np.zeros(len(frames[ent]["lead"]), dtype=np.int16)
    P = {e: _Plan(f, e) for e, f in frames.items()}
    calls, mails = P["calls"], P["email_events"]
    extra: dict[str, dict] = {}

    # extreme-but-real first: its lead must not be touched by any other defect
    spare = ~conv.converted & (L.optout == NAT) & ~L.vip & ~L.dispute
    n_extreme = max(1, L.n // 25_000) if "extreme_real" in kinds else 0
    n_burst = 1 if "call_burst" in kinds else 0
    extreme = np.sort(rng.choice(np.flatnonzero(spare), size=min(n_extreme, int(spare.sum())), replace=False))
    spare[extreme] = False
    quiet = spare.copy()  # the burst lead has no other call: its 400 calls are exactly the burst
    quiet[calls.frame["lead"]] = False
    pool = np.flatnonzero(quiet if quiet.any() else spare)
    burst = rng.choice(pool, size=min(n_burst, len(pool)), replace=False)
    chosen = np.concatenate([extreme, burst])
    for p in (calls, mails):  # keep their clean touches out of the other defects
        p.taken |= np.isin(p.frame["lead"], chosen)

    if "exact_duplicates" in kinds:
        for e, p in P.items():
            idx = p.pick(
                rng, _count(p.n, 0.002 if e == "leads" else 0.003, 2 if e in ("leads", "calls", "email_events") else 1)
            )
            p.add("exact_duplicates", p.copy(idx), after=idx, source=idx)
    if "key_duplicates" in kinds:
        leads = P["leads"]
        idx = leads.pick(rng, _count(leads.n, 0.001, 2))
        rows = leads.copy(idx)
        rows["score"] = (rows["score"] + rng.integers(5, 40, len(idx))) % 101
        rows["contact"] = (rows["contact"] + rng.integers(1, max(leads.n, 2), len(idx))) % leads.n
        leads.add("key_duplicates", rows, after=np.maximum(idx - rng.integers(1, 500, len(idx)), -1), source=idx)
        idx = calls.pick(rng, _count(calls.n, 0.002, 3))
        rows = calls.copy(idx)
        rows["outcome"] = ((rows["outcome"] + rng.integers(1, 5, len(idx))) % 5).astype(np.int8)
        rows["duration"] = np.where(rows["outcome"] == 0, rng.integers(30, 900, len(idx)), 0)
        calls.add("key_duplicates", rows, after=np.maximum(idx - rng.integers(1, 5000, len(idx)), -1), source=idx)
    if "orphan_touches" in kinds:
        next_lead = L.n
        for p in (calls, mails):
            k = _count(p.n, 0.001, 2)
            src = p.pick(rng, k, None if p is calls else p.frame["etype"] == 0)
            rows = p.copy(src)
            rows["lead"] = np.arange(next_lead, next_lead + len(src))  # lead numbers no file has
            next_lead += len(src)
            p.renumber(rows)
            p.add("orphan_touches", rows)
    for kind, col_of in (("naive_timestamps", "__naive"), ("wrong_offsets", "__delta")):
        if kind not in kinds:
            continue
        for p, col in ((calls, "started"), (mails, "at")):
            t = p.frame[col]
            ok = t != NAT
            if kind == "wrong_offsets":  # no offset change within 3 h: the shifted reading stays wrong
                z = p.frame["zone"]
                ok &= tz.at(np.where(ok, t, 0), z) == tz.at(np.where(ok, t, 0) + 3 * H, z)
            idx = p.pick(rng, _count(p.n, 0.001, 2), ok)
            if kind == "naive_timestamps":
                p.frame[col + col_of][idx] = True
            else:
                p.frame[col + col_of][idx] = -60
            p.modified.append((kind, idx, None))
    if "touches_before_creation" in kinds:
        for p in (calls, mails):
            k = _count(p.n, 0.0005, 2)
            lead = rng.integers(0, L.n, k)
            lead = lead[np.isin(lead, chosen, invert=True)]
            t = L.created[lead] - rng.integers(600, 3 * D, len(lead))
            p.add("touches_before_creation", _touch_rows(rng, p, lead, t, L))
    if "call_burst" in kinds and len(burst):
        b = burst[0]
        lead = np.full(BURST_CALLS, b)
        day = tz.local(L.created[b : b + 1], L.zone[b : b + 1])[0] // D + 2
        wall = day * D + 8 * H + np.arange(BURST_CALLS) * 90 + rng.integers(0, 30, BURST_CALLS)
        rows = _touch_rows(rng, calls, lead, tz.to_utc(wall, L.zone[lead]), L)
        rows.update(
            direction=np.zeros(BURST_CALLS, np.int8),
            duration=np.zeros(BURST_CALLS, np.int64),
            outcome=rng.choice(np.array([2, 4, 1], np.int8), BURST_CALLS, p=[0.7, 0.2, 0.1]),
        )
        calls.add("call_burst", rows)
        extra["call_burst"] = {"lead_ids": lead_ids(ctx, burst[:1]), "calls_per_lead": BURST_CALLS}
    if "negative_durations" in kinds:
        idx = calls.pick(rng, _count(calls.n, 0.0005, 2), calls.frame["outcome"] == 0)
        calls.frame["duration"][idx] = -np.maximum(calls.frame["duration"][idx], 1)
        calls.modified.append(("negative_durations", idx, None))
    if "empty_mandatory" in kinds:
        for p, col, note in (
            (calls, "lead", "lead_id"),
            (calls, "started", "started_at"),
            (mails, "lead", "lead_id"),
            (mails, "at", "event_at"),
            (P["leads"], "rep", "rep_id"),
        ):
            idx = p.pick(rng, _count(p.n, 0.0003, 1))
            p.frame[col][idx] = NAT if col in ("started", "at") else -1
            p.modified.append(("empty_mandatory", idx, note))
    if "extreme_real" in kinds and len(extreme):
        _extreme(rng, extreme, L, tz, calls, mails)
        extra["extreme_real"] = {
            "lead_ids": lead_ids(ctx, extreme),
            "touches_per_lead": EXTREME_TOUCHES,
            "note": "legitimate: keep for the analysis, report as an outlier",
        }

    records: dict[str, dict] = {k: {"count": 0, "by_file": {}, "rows": []} for k in kinds}
    for e, p in P.items():
        frames[e], found = p.finish()
        for kind, rows, note, source in found:
            if not len(rows):
                continue
            rec = records[kind]
            rec["count"] += len(rows)
            rec["by_file"][paths[e]] = rec["by_file"].get(paths[e], 0) + len(rows)
            order = np.argsort(rows, kind="stable")[:ROWS_CAP]
            ids = key_ids(frames[e], e, ctx, rows[order])
            for j, (r, i) in enumerate(zip(rows[order], ids, strict=True)):
                entry = {"file": paths[e], "row": int(r) + 1, "id": i}
                if note:
                    entry["column"] = note
                if source is not None:  # the clean row this one duplicates
                    entry["duplicate_of_row"] = int(source[order[j]]) + 1
                rec["rows"].append(entry)
    for kind, rec in records.items():
        rec["rows"].sort(key=lambda r: (r["file"], r["row"]))
        rec["rows_truncated"] = rec["count"] > len(rec["rows"])
        rec.update(extra.get(kind, {}))
    return records


def _extreme(rng, leads: np.ndarray, L, tz, calls: _Plan, mails: _Plan) -> None:
    """About 60 more touches for each lead, spread over 25 days in working hours, all valid."""
    lead = np.repeat(leads, EXTREME_TOUCHES)
    m = len(lead)
    call = rng.random(m) < 0.6
    t = L.created[lead] + H + (rng.random(m) * 24 * D).astype(np.int64)
    t = snap(rng, tz, t, L.zone[lead], call, L.created[lead] + 600, L.created[lead] + 26 * D)
    c = np.flatnonzero(call)
    c = c[np.argsort(t[c], kind="stable")]
    rows = _touch_rows(rng, calls, lead[c], t[c], L)
    connected = rng.random(len(c)) < 0.35
    rows.update(
        direction=np.zeros(len(c), np.int8),
        outcome=np.where(connected, 0, 2).astype(np.int8),
        duration=np.where(connected, rng.integers(60, 900, len(c)), 0),
    )
    calls.add("extreme_real", rows)
    e = np.flatnonzero(~call)
    e = e[np.argsort(t[e], kind="stable")]
    sent = _touch_rows(rng, mails, lead[e], t[e], L)
    sent["campaign"] = np.where(L.size[lead[e]] == 2, 3, L.channel[lead[e]]).astype(np.int8)
    delivered = {c: a.copy() for c, a in sent.items()}
    delivered.update(etype=np.ones(len(e), np.int8), at=t[e] + rng.integers(1, 121, len(e)))
    mails.renumber(delivered, ("num",))
    mails.add("extreme_real", sent)
    mails.add("extreme_real", delivered)
