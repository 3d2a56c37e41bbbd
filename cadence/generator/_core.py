"""``generate``: one month at a time, clean data first, then the optional defects, then the files."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from cadence.contract import EXTRACT_INFO

from . import _events as E
from . import _experiment as X
from . import _model as M
from . import _touches as TT
from ._defects import DEFECT_KINDS, plant
from ._leads import make_leads
from ._text import NAT
from ._tz import ZONES, Offsets, month_start
from ._write import Context, lead_ids, write

FILES = (
    ("crm", "leads"),
    ("crm", "opportunities"),
    ("voip", "calls"),
    ("emailing", "email_events"),
    ("calendar", "meetings"),
)
SPIKE_SEGMENT = ("outbound", "Mid")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _shift(month: str, k: int) -> str:
    y, m = (int(x) for x in month.split("-"))
    y, m = divmod(y * 12 + m - 1 + k, 12)
    return f"{y:04d}-{m + 1:02d}"


def _iso(utc: int) -> str:
    return datetime.fromtimestamp(utc, UTC).isoformat().replace("+00:00", "Z")


def _spike(rng, start: int, end: int) -> dict:
    """One ISO week lying wholly inside the month (weeks by the UTC date of the delivery)."""
    day0, day1 = start // 86_400, end // 86_400
    mondays = [d for d in range(day0, day1) if (d + 3) % 7 == 0 and d + 7 <= day1]
    monday = int(mondays[rng.integers(0, len(mondays))])
    y, w, _ = date.fromordinal(date(1970, 1, 1).toordinal() + monday).isocalendar()
    seg = M.CHANNELS.index(SPIKE_SEGMENT[0]) * 3 + M.SIZES.index(SPIKE_SEGMENT[1])
    return {"seg": seg, "start": monday * 86_400, "end": (monday + 7) * 86_400, "iso_week": f"{y}-W{w:02d}"}


def _kinds(defects: bool | Iterable[str]) -> tuple[str, ...]:
    if defects is True:
        return DEFECT_KINDS
    if not defects:
        return ()
    kinds = {defects} if isinstance(defects, str) else set(defects)
    unknown = kinds - set(DEFECT_KINDS)
    if unknown:
        raise ValueError(f"unknown defect kinds {sorted(unknown)}; known: {', '.join(DEFECT_KINDS)}")
    return tuple(k for k in DEFECT_KINDS if k in kinds)


def _realised(L, conv, alive) -> dict:
    out = {}
    for code, (ch, size) in enumerate(M.SEGMENT_KEYS):
        sel = (L.seg == code) & ~L.vip & alive
        fast = sel & (np.nan_to_num(conv.ttf_h, nan=np.inf) <= 2)
        out[f"{ch}/{size}"] = {
            "leads": int(sel.sum()),
            "converted": int(conv.converted[sel].sum()),
            "mean_touches": round(float(conv.touches[sel].mean()), 3) if sel.any() else None,
            "share_ttf_le_2h": round(float(fast.sum() / max(sel.sum(), 1)), 4),
        }
    vip = L.vip & alive
    out["vip"] = {
        "leads": int(vip.sum()),
        "converted": int(conv.converted[vip].sum()),
        "mean_touches": round(float(conv.touches[vip].mean()), 3) if vip.any() else None,
    }
    return out


def generate_month(
    landing_dir: Path,
    month: str,
    n: int,
    seed: int,
    kinds: tuple[str, ...],
    file_format: str,
    say: Callable[[str], None],
    experiments: list | None = None,
) -> dict:
    t_start = time.perf_counter()
    y, m = (int(x) for x in month.split("-"))
    rng = np.random.default_rng(np.random.SeedSequence([seed, y, m]))
    start, end, export_at = (month_start(_shift(month, k)) for k in (0, 1, 2))
    tz = Offsets(start)
    rep_mult = M.rep_multipliers(seed)

    L = make_leads(rng, n, start, end, tz, seed)
    planted, ids = [], []
    if experiments:  # arms from the pipeline's own assignment rule, on the ids the writer prints
        ids = lead_ids(Context(month, L, tz, ()), np.arange(n))
        planted = X.prepare(experiments, L, ids, seed, y, m)
    tt = TT.plan(rng, L, tz)
    tt = TT.opt_out(rng, L, tt)
    bounced, delivered = E.deliver(rng, tt, TT.BOUNCE_RATE)
    conv = TT.convert(rng, L, tt, delivered, rep_mult, p_shift=X.p_shift(planted))
    post = TT.post_conversion(rng, L, conv, tz)
    pb, pdl = E.deliver(rng, post, TT.BOUNCE_RATE)
    tt = TT.Touches.concat(tt, post)
    bounced, delivered = np.concatenate([bounced, pb]), np.concatenate([delivered, pdl])
    L.sql = TT.sql_reached(rng, L, conv)
    spike = _spike(rng, start, end)
    campaigns = tuple(f"CMP{month.replace('-', '')}-{k + 1:02d}" for k in range(len(E.CAMPAIGN_KINDS)))

    frames = {
        "leads": {
            "lead": np.arange(n),
            "contact": np.arange(n),
            "zone": L.zone,
            "created": L.created,
            "channel": L.channel,
            "size": L.size,
            "phase": L.phase,
            "team": L.team,
            "rep": L.rep,
            "score": L.score,
            "vip": L.vip.astype(np.int8),
            "dispute": L.dispute.astype(np.int8),
            "optout": L.optout,
            "sql": L.sql,
        },
        "opportunities": E.opportunities(rng, L, conv, export_at),
        "calls": E.calls(rng, L, tt, tz),
        "email_events": E.email_events(rng, L, tt, bounced, delivered, conv, spike, X.complaint_rates(planted)),
    }
    frames["meetings"] = E.meetings(rng, L, conv, frames["calls"], frames["email_events"], tz)
    keep = X.kept(planted)
    if keep is not None:  # a planted imbalance: the dropped leads leave every file
        frames = X.filter_frames(frames, keep)
    alive = np.ones(n, dtype=bool) if keep is None else keep
    say(f"{month}: simulated {n:,} leads, {len(tt.t):,} touches in {time.perf_counter() - t_start:.1f} s")

    calls_f = frames["calls"]
    tod = tz.local(calls_f["started"], calls_f["zone"]) % 86_400
    after_opt = (L.optout[tt.lead] != NAT) & (tt.t > L.optout[tt.lead]) & alive[tt.lead]
    clean_rows = {e: len(f["lead"]) for e, f in frames.items()}

    ctx = Context(month, L, tz, campaigns)
    records = {}
    if kinds:
        drng = np.random.default_rng(np.random.SeedSequence([seed, y, m, 1]))
        paths = {e: f"{s}/{month}/{e}.{file_format}" for s, e in FILES}
        records = plant(drng, kinds, frames, L, conv, tz, ctx, paths)
        say(f"{month}: planted {sum(r['count'] for r in records.values()):,} defect rows")
    files = {}
    for source, entity in FILES:
        rel = f"{source}/{month}/{entity}.{file_format}"
        other = landing_dir / source / month / f"{entity}.{'parquet' if file_format == 'csv' else 'csv'}"
        if other.exists():  # a previous run in the other format: two copies would load twice
            other.unlink()
        files[rel] = write(landing_dir / rel, frames[entity], entity, ctx, file_format)
        say(f"{month}: {entity} {files[rel]['rows']:,} rows")
    for source in dict.fromkeys(s for s, _ in FILES):  # when the simulated extract was taken
        (landing_dir / source / month / EXTRACT_INFO).write_text(f"exported_at: {_iso(export_at)}\n", encoding="utf-8")

    manifest = {
        "month": month,
        "seed": seed,
        "leads_per_month": n,
        "format": file_format,
        "window_days": M.WINDOW_DAYS,
        "extracted_at": _iso(export_at),
        "files": files,
        "clean_rows": clean_rows,
        "defects": records,
        "effects": {**M.effects_manifest(rep_mult), "realised": _realised(L, conv, alive)},
        "complaint_spike": {
            "segment": {"channel": SPIKE_SEGMENT[0], "company_size": SPIKE_SEGMENT[1]},
            "iso_week": spike["iso_week"],
            "week_start_utc": _iso(spike["start"]),
            "week_end_utc_exclusive": _iso(spike["end"]),
            "week_basis": "UTC date of the 'delivered' event",
            "complaint_rate": E.SPIKE_COMPLAINT_RATE,
            "base_complaint_rate": E.COMPLAINT_RATE,
            "rate_basis": "complained / delivered e-mails",
        },
        "best_time_to_call": {
            "p_connected_by_local_hour": {str(h): p for h, p in E.REACH_BY_HOUR.items()},
            "other_hours": 0.10,
            "size_factor": dict(zip(M.SIZES, E.REACH_SIZE, strict=True)),
        },
        "campaigns": dict(zip(campaigns, E.CAMPAIGN_KINDS, strict=True)),
        "timezones": list(ZONES),
        "leads_converted": int(conv.converted[alive].sum()),
        "post_conversion_touches": int((tt.post & alive[tt.lead]).sum()),
        "touches_after_opt_out": int(after_opt.sum()),
        "calls_outside_hours": int(((tod < 9 * 3600) | (tod >= 17 * 3600)).sum()),
        "counts_basis": "clean rows (before defects); touches = calls + sent e-mails; "
        "outside hours = lead-local time before 09:00 or from 17:00",
    }
    if planted:
        manifest["experiments"] = X.manifest(planted, conv, ids, keep)
    mpath = landing_dir / "_manifest" / f"{month}.json"
    mpath.parent.mkdir(parents=True, exist_ok=True)
    tmp = mpath.with_name(f".{mpath.name}.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, mpath)
    say(f"{month}: done in {time.perf_counter() - t_start:.1f} s")
    return manifest


def generate(
    landing_dir: Path,
    months: list[str],
    leads_per_month: int = 2000,
    seed: int = 42,
    defects: bool | Iterable[str] = False,
    file_format: str = "csv",
    progress: Callable[[str], None] | None = None,
    experiment: dict | list[dict] | None = None,
) -> dict:
    """Write the monthly cohort extracts of ``months`` under ``landing_dir``; return {month: manifest}.

    ``defects``: False (clean data), True (every kind of ``DEFECT_KINDS``) or a set of kind names.
    ``experiment``: an experiments.yml entry (or a list) plus what to plant (``_experiment``): its leads
    get the pipeline's arms, the planted lift / complaints / imbalance, and the manifest its truth.
    Same arguments give byte-identical files; a month's files do not depend on the other months asked.
    """
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet', not {file_format!r}")
    if int(leads_per_month) < 1:
        raise ValueError("leads_per_month must be at least 1")
    if int(seed) < 0:
        raise ValueError("seed must be a non-negative integer")
    months = list(months)
    for month in months:
        if not isinstance(month, str) or not _MONTH.match(month):
            raise ValueError(f"month {month!r} is not 'YYYY-MM'")
    kinds = _kinds(defects)
    experiments = X.parse(experiment) if experiment else None
    if experiments and kinds and any("imbalance" in raw for _, raw in experiments):
        raise ValueError("a planted imbalance drops leads, which defects may still reference: plant one or the other")
    say = progress or (lambda _msg: None)
    landing_dir = Path(landing_dir)
    return {
        month: generate_month(landing_dir, month, int(leads_per_month), int(seed), kinds, file_format, say, experiments)
        for month in months
    }
