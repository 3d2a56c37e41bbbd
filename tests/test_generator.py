"""The sample-data generator, checked from the written files with an independent pandas reading.

Headers come from docs/extract_contract.md, offsets from zoneinfo/pandas, counts from the files
themselves: nothing here reuses the generator's own computations.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cadence.generator import DEFECT_KINDS, generate

MONTH = "2026-10"
DOC = Path(__file__).resolve().parents[1] / "docs" / "extract_contract.md"
FILES = {"leads": "crm", "opportunities": "crm", "calls": "voip", "email_events": "emailing", "meetings": "calendar"}
KEYS = {
    "leads": "lead_id",
    "opportunities": "opportunity_id",
    "calls": "call_id",
    "email_events": "event_id",
    "meetings": "meeting_id",
}
TS_COLUMNS = {
    "leads": ["created_at", "opted_out_at", "sql_at"],
    "opportunities": ["created_at", "closed_at"],
    "calls": ["started_at"],
    "email_events": ["event_at"],
    "meetings": ["booked_at", "scheduled_at"],
}
FULL_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
NAIVE_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def contract_columns() -> dict[str, list[str]]:
    """Column lists of the contract's tables, read from the markdown."""
    out, entity = {}, None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^### `(\w+)` / `(\w+)`", line)
        if m:
            entity = m.group(2)
            out[entity] = []
        elif line.startswith("## "):
            entity = None
        elif entity and line.startswith("| ") and not line.startswith(("| column", "|---")):
            out[entity].append(line.split("|")[1].strip())
    return out


def path_of(root: Path, entity: str, month: str = MONTH, ext: str = "csv") -> Path:
    return root / FILES[entity] / month / f"{entity}.{ext}"


def read(root: Path, entity: str, month: str = MONTH) -> pd.DataFrame:
    return pd.read_csv(path_of(root, entity, month), dtype=str, keep_default_na=False)


def instants(s: pd.Series) -> pd.Series:
    """Timestamps with an offset -> UTC; anything else -> NaT."""
    ok = s.str.match(FULL_TS.pattern)
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
    out[ok] = pd.to_datetime(s[ok], utc=True, format="ISO8601")
    return out


def written_offset_minutes(s: pd.Series) -> pd.Series:
    off = s.str[-6:]
    sign = np.where(off.str[0] == "-", -1, 1)
    return sign * (off.str[1:3].astype(int) * 60 + off.str[4:6].astype(int))


def zone_offset_minutes(inst: pd.Series, zones: pd.Series) -> pd.Series:
    """The real UTC offset of each zone at each instant (pandas/zoneinfo)."""
    out = pd.Series(np.nan, index=inst.index)
    naive_utc = inst.dt.tz_localize(None)
    for zone, idx in zones.groupby(zones).groups.items():
        local = inst[idx].dt.tz_convert(zone).dt.tz_localize(None)
        out[idx] = (local - naive_utc[idx]).dt.total_seconds() / 60
    return out


def touches(root: Path, month: str = MONTH) -> pd.DataFrame:
    calls, mails = read(root, "calls", month), read(root, "email_events", month)
    sent = mails[mails.event_type == "sent"]
    return pd.concat(
        [
            pd.DataFrame({"lead_id": calls.lead_id, "at": calls.started_at, "kind": "call"}),
            pd.DataFrame({"lead_id": sent.lead_id, "at": sent.event_at, "kind": "email"}),
        ],
        ignore_index=True,
    )


def lead_table(root: Path, month: str = MONTH) -> pd.DataFrame:
    """Per lead: conversion (opportunity within 30 days), pre-conversion touches, TTF in hours."""
    leads = read(root, "leads", month).drop_duplicates("lead_id").set_index("lead_id")
    leads["created"] = instants(leads.created_at)
    opp = read(root, "opportunities", month)
    opp_at = instants(opp.created_at).set_axis(opp.lead_id).groupby(level=0).min()
    leads["opp_at"] = opp_at.reindex(leads.index)
    leads["converted"] = (leads.opp_at - leads.created) <= pd.Timedelta(days=30)
    t = touches(root, month)
    t["at"] = instants(t["at"])
    t = t.join(leads[["opp_at"]], on="lead_id")
    pre = t[t.opp_at.isna() | (t["at"] < t.opp_at)]
    leads["touches"] = pre.groupby("lead_id").size().reindex(leads.index).fillna(0).astype(int)
    calls, mails = read(root, "calls", month), read(root, "email_events", month)
    delivered = mails[mails.event_type == "delivered"]
    effective = pd.concat(
        [instants(calls.started_at).set_axis(calls.lead_id), instants(delivered.event_at).set_axis(delivered.lead_id)]
    )
    first = effective.groupby(level=0).min().reindex(leads.index)
    leads["ttf_h"] = (first - leads.created).dt.total_seconds() / 3600
    return leads


def detect(root: Path, month: str = MONTH) -> dict[str, dict[str, int]]:
    """Every defect kind, found from the files alone: {kind: {file: rows}}."""
    df = {e: read(root, e, month) for e in FILES}
    rel = {e: path_of(Path(""), e, month).as_posix() for e in FILES}
    found: dict[str, dict[str, int]] = {k: {} for k in DEFECT_KINDS}

    def put(kind: str, entity: str, n: int) -> None:
        if n:
            found[kind][rel[entity]] = int(n)

    lead_ids = set(df["leads"].lead_id) - {""}
    leads = df["leads"].drop_duplicates("lead_id").set_index("lead_id")
    created = instants(leads.created_at)
    for e, d in df.items():
        put("exact_duplicates", e, d.duplicated().sum())
        put("key_duplicates", e, d.drop_duplicates().duplicated(subset=KEYS[e]).sum())
    for e, col in (("calls", "started_at"), ("email_events", "event_at")):
        d = df[e]
        put("orphan_touches", e, ((d.lead_id != "") & ~d.lead_id.isin(lead_ids)).sum())
        put("naive_timestamps", e, d[col].str.match(NAIVE_TS.pattern).sum())
        known = d[d[col].str.match(FULL_TS.pattern) & d.lead_id.isin(lead_ids)]
        inst = instants(known[col])
        zones = known.lead_id.map(leads.lead_timezone)
        put("wrong_offsets", e, (written_offset_minutes(known[col]) != zone_offset_minutes(inst, zones)).sum())
        put("touches_before_creation", e, (inst < known.lead_id.map(created)).sum())
        put("empty_mandatory", e, (d.lead_id == "").sum() + (d[col] == "").sum())
    put("empty_mandatory", "leads", (df["leads"].rep_id == "").sum())
    calls = df["calls"]
    put("negative_durations", "calls", (pd.to_numeric(calls.duration_seconds, errors="coerce") < 0).sum())
    per_day = calls[calls.started_at != ""].groupby([calls.lead_id, calls.started_at.str[:10]]).size()
    put("call_burst", "calls", per_day[per_day >= 300].sum())
    return found


def counts_from_manifest(manifest: dict) -> dict[str, dict[str, int]]:
    return {k: manifest["defects"].get(k, {}).get("by_file", {}) for k in DEFECT_KINDS}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("clean")
    return root, generate(root, [MONTH], leads_per_month=2000, seed=7)[MONTH]


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[Path, dict, pd.DataFrame]:
    """Large enough for the planted effects to be read from the raw files."""
    root = tmp_path_factory.mktemp("big")
    manifest = generate(root, [MONTH], leads_per_month=40_000, seed=11)[MONTH]
    return root, manifest, lead_table(root)


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("dirty")
    return root, generate(root, [MONTH], leads_per_month=3000, seed=7, defects=True)[MONTH]


# --- structure -------------------------------------------------------------------------------------


def test_every_file_has_exactly_the_contract_header(clean):
    root, manifest = clean
    expected = contract_columns()
    assert set(expected) == set(FILES)
    for entity in FILES:
        with open(path_of(root, entity), encoding="utf-8") as f:
            assert f.readline().rstrip("\n").split(",") == expected[entity], entity
    assert (root / "_manifest" / f"{MONTH}.json").exists()
    assert set(manifest["files"]) == {f"{FILES[e]}/{MONTH}/{e}.csv" for e in FILES}


def test_manifest_rows_and_hashes_match_the_files(clean):
    root, manifest = clean
    on_disk = json.loads((root / "_manifest" / f"{MONTH}.json").read_text(encoding="utf-8"))
    assert on_disk == manifest
    for rel, info in manifest["files"].items():
        data = (root / rel).read_bytes()
        assert data.count(b"\n") - 1 == info["rows"], rel
        assert hashlib.sha256(data).hexdigest() == info["sha256"], rel
    assert manifest["clean_rows"] == {e: manifest["files"][f"{FILES[e]}/{MONTH}/{e}.csv"]["rows"] for e in FILES}
    assert manifest["defects"] == {}


def test_keys_unique_and_references_resolve_without_defects(clean):
    root, _ = clean
    df = {e: read(root, e) for e in FILES}
    for e, d in df.items():
        assert d[KEYS[e]].is_unique, e
        assert (d[KEYS[e]] != "").all() and (d.lead_id != "").all(), e
    leads = set(df["leads"].lead_id)
    for e in ("opportunities", "calls", "email_events", "meetings"):
        assert df[e].lead_id.isin(leads).all(), e
    assert detect(root) == {k: {} for k in DEFECT_KINDS}


def test_values_use_the_canonical_forms(clean):
    root, _ = clean
    leads, calls, mails = read(root, "leads"), read(root, "calls"), read(root, "email_events")
    assert set(leads.is_vip) == {"true", "false"} and set(leads.is_dispute) <= {"true", "false"}
    assert set(leads.channel) == {"inbound", "outbound", "partner"}
    assert set(leads.company_size) == {"SMB", "Mid", "Enterprise"}
    assert set(leads.funnel_phase) == {"MQL", "SQL", "opportunity"}
    assert leads.lead_score.astype(int).between(0, 100).all()
    assert leads.email.str.match(r"^[a-z.]+\d+@example\.(com|org)$").all()
    assert leads.lead_timezone.nunique() >= 6
    assert leads.rep_id.nunique() >= 15 and leads.groupby("rep_id").team.nunique().max() == 1
    assert leads.account_id.nunique() < len(leads)  # accounts are shared, Enterprise above all
    assert set(calls.outcome) == {"connected", "voicemail", "no_answer", "wrong_number", "busy"}
    dur = calls.duration_seconds.astype(int)
    assert (dur[calls.outcome != "connected"] == 0).all() and (dur[calls.outcome == "connected"] > 0).all()
    assert 0.28 < (calls.outcome == "connected").mean() < 0.45
    assert (calls.direction == "outbound").mean() > 0.85
    assert set(mails.event_type) >= {"sent", "delivered", "opened", "clicked", "replied", "bounced"}
    opp = read(root, "opportunities")
    assert opp.amount.str.match(r"^\d+\.\d\d$").all() and (opp.currency == "EUR").all()
    closed = opp.stage != "open"
    assert (opp.closed_at[closed] != "").all() and (opp.closed_at[~closed] == "").all()
    assert (opp.close_reason[closed] != "").all()
    amount = opp.amount.astype(float).groupby(opp.lead_id.map(leads.set_index("lead_id").company_size)).median()
    assert amount["Enterprise"] > 5 * amount["SMB"]


def test_every_offset_is_the_zone_offset_at_that_instant(clean):
    root, _ = clean
    leads = read(root, "leads").set_index("lead_id")
    rng = np.random.default_rng(0)
    for entity, cols in TS_COLUMNS.items():
        d = read(root, entity)
        zone = d.lead_id.map(leads.lead_timezone) if entity != "leads" else d.lead_timezone
        for col in cols:
            present = d[col] != ""
            assert d[col][present].str.match(FULL_TS.pattern).all(), (entity, col)
            s, z = d[col][present], zone[present]
            # every row, through pandas
            assert (written_offset_minutes(s) == zone_offset_minutes(instants(s), z)).all(), (entity, col)
            # a sample, through zoneinfo directly
            for i in rng.choice(len(s), size=min(150, len(s)), replace=False):
                stamp = datetime.fromisoformat(s.iloc[i])
                assert stamp.utcoffset() == stamp.astimezone(ZoneInfo(z.iloc[i])).utcoffset(), s.iloc[i]


def test_both_dst_offsets_appear_in_an_october_extract(clean):
    root, _ = clean
    calls = read(root, "calls").merge(read(root, "leads")[["lead_id", "lead_timezone"]], on="lead_id")
    paris = calls[calls.lead_timezone == "Europe/Paris"].started_at.str[-6:]
    assert set(paris) == {"+02:00", "+01:00"}  # summer time ends on 2026-10-25


def test_leads_fill_the_month_and_touches_stay_in_the_window(clean):
    root, _ = clean
    leads = read(root, "leads").set_index("lead_id")
    created = instants(leads.created_at)
    local_day = leads.created_at.str[:10]
    assert local_day.str[:7].eq(MONTH).all() and local_day.nunique() == 31
    assert created.dt.strftime("%Y-%m").eq(MONTH).all()  # inside the month in UTC too
    hour = leads.created_at.str[11:13].astype(int)
    assert hour.between(7, 23).all() and hour.between(8, 18).mean() > 0.75
    window = pd.Timedelta(days=30)
    for entity, cols in (
        ("calls", ["started_at"]),
        ("email_events", ["event_at"]),
        ("meetings", ["booked_at", "scheduled_at"]),
        ("opportunities", ["created_at"]),
    ):
        d = read(root, entity)
        start = d.lead_id.map(created)
        for col in cols:
            at = instants(d[col])
            assert (at >= start).all() and (at < start + window).all(), (entity, col)
    meetings = read(root, "meetings")
    assert (instants(meetings.booked_at) < instants(meetings.scheduled_at)).all()
    mails = read(root, "email_events").assign(at=lambda d: instants(d.event_at))
    sent_at = mails[mails.event_type == "sent"].set_index("message_id")["at"]
    first_at = mails.groupby("message_id")["at"].min()
    assert sent_at.index.is_unique and (first_at == sent_at.reindex(first_at.index)).all()  # sent comes first


def test_manifest_counts_of_clean_data(clean):
    root, manifest = clean
    leads = read(root, "leads").set_index("lead_id")
    calls = read(root, "calls")
    local = calls.started_at.str[11:19]
    assert manifest["calls_outside_hours"] == ((local < "09:00:00") | (local >= "17:00:00")).sum() > 0
    t = touches(root)
    at = instants(t["at"])
    opt = instants(t.lead_id.map(leads.opted_out_at).fillna(""))
    assert manifest["touches_after_opt_out"] == (at > opt).sum() > 0
    violators = t.lead_id[at > opt].nunique()
    assert violators <= 0.25 * (leads.opted_out_at != "").sum()  # a planted few, not the rule
    opp = read(root, "opportunities").set_index("lead_id")
    opp_at = instants(t.lead_id.map(opp.created_at).fillna(""))
    assert manifest["post_conversion_touches"] == (at > opp_at).sum() > 0
    assert 0.02 < (leads.opted_out_at != "").mean() < 0.04
    vip = leads.is_vip == "true"
    assert 0.015 < vip.mean() < 0.05 and (leads.company_size[vip] == "Enterprise").mean() > 0.6
    assert set(manifest["timezones"]) == set(leads.lead_timezone)
    assert manifest["leads_converted"] == read(root, "opportunities").lead_id.nunique()


# --- determinism -----------------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, clean):
    _, manifest = clean
    a = generate(tmp_path / "a", [MONTH, "2026-11"], leads_per_month=2000, seed=7)
    b = generate(tmp_path / "b", ["2026-11"], leads_per_month=2000, seed=7)
    assert a[MONTH] == manifest  # months generated together or alone: identical
    assert a["2026-11"] == b["2026-11"]
    months = [read(tmp_path / "a", "leads", m) for m in (MONTH, "2026-11")]
    scores = [sorted(m.lead_score.astype(int)) for m in months]
    assert scores[0] != scores[1]  # each month draws its own leads (not the same draws reshuffled)
    c = generate(tmp_path / "c", [MONTH], leads_per_month=2000, seed=8)
    for rel, info in manifest["files"].items():
        assert c[MONTH]["files"][rel]["sha256"] != info["sha256"]
    # ids never collide across months; reps are the same people every month
    for e, key in KEYS.items():
        assert not set(read(tmp_path / "a", e)[key]) & set(read(tmp_path / "a", e, "2026-11")[key])
    reps = [read(tmp_path / "a", "leads", m)[["rep_id", "team"]].drop_duplicates() for m in (MONTH, "2026-11")]
    assert reps[0].sort_values("rep_id").values.tolist() == reps[1].sort_values("rep_id").values.tolist()


# --- planted effects -------------------------------------------------------------------------------


def test_inbound_smb_fast_first_contact_converts_more(big):
    _, _, leads = big
    seg = leads[(leads.channel == "inbound") & (leads.company_size == "SMB") & (leads.is_vip == "false")]
    fast, slow = seg[seg.ttf_h <= 2], seg[seg.ttf_h > 24]
    assert len(fast) > 1000 and len(slow) > 500
    assert fast.converted.mean() > 1.5 * slow.converted.mean()


def test_inbound_smb_touches_rise_then_plateau(big):
    _, _, leads = big
    seg = leads[(leads.channel == "inbound") & (leads.company_size == "SMB") & (leads.is_vip == "false")]
    cr = seg.groupby(pd.cut(seg.touches, [-1, 2, 5, 8, 100])).converted.mean().to_numpy()
    assert cr[1] - cr[0] > 0.06 and cr[2] - cr[1] > 0.04  # rising up to ~6 touches
    assert abs(cr[3] - cr[2]) < 0.04  # then flat


def test_outbound_enterprise_is_s_shaped(big):
    _, _, leads = big
    seg = leads[(leads.channel == "outbound") & (leads.company_size == "Enterprise") & (leads.is_vip == "false")]
    cr = seg.groupby(pd.cut(seg.touches, [-1, 4, 7, 10, 13, 100])).converted.mean().to_numpy()
    steps = np.diff(cr)
    assert cr[0] < 0.06 and cr[-1] > 0.25
    assert steps[1] > steps[0] and steps[1] > steps[-1] and abs(steps[-1]) < 0.06  # steep middle, flat ends


def test_vip_cluster_few_touches_high_conversion(big):
    _, manifest, leads = big
    vip, other = leads[leads.is_vip == "true"], leads[leads.is_vip == "false"]
    assert vip.touches.mean() < 3 < other.touches.mean()
    assert vip.converted.mean() > 0.4 > 2 * other.converted.mean()
    assert manifest["effects"]["vip_cluster"]["p"] > 0.4


def test_other_segments_rise_mildly_and_reps_differ(big):
    _, manifest, leads = big
    seg = leads[(leads.channel == "outbound") & (leads.company_size == "Mid") & (leads.is_vip == "false")]
    slope = np.polyfit(seg.touches, seg.converted.astype(float), 1)[0]
    planted = manifest["effects"]["segments"]["outbound/Mid"]["m"]
    assert 0.4 * planted < slope < 2 * planted
    team = leads[leads.team == "Inbound Desk"]
    by_rep = team.groupby("rep_id").converted.mean()
    mult = manifest["effects"]["multipliers"]["rep"]
    best, worst = max(by_rep.index, key=mult.get), min(by_rep.index, key=mult.get)
    assert by_rep[best] > by_rep[worst]


def test_complaint_spike_week(big):
    root, manifest, leads = big
    spike = manifest["complaint_spike"]
    mails = read(root, "email_events")
    mails = mails[mails.event_type.isin(["delivered", "complained"])]
    seg = mails.lead_id.map(leads.channel + "/" + leads.company_size)
    mails = mails[seg == f"{spike['segment']['channel']}/{spike['segment']['company_size']}"]
    delivered = mails[mails.event_type == "delivered"].set_index("message_id")
    week = instants(delivered.event_at).dt.isocalendar()
    delivered_week = week.year.astype(str) + "-W" + week.week.astype(str).str.zfill(2)
    complained = mails[mails.event_type == "complained"].message_id.map(delivered_week)
    in_week = delivered_week == spike["iso_week"]
    spike_rate = (complained == spike["iso_week"]).sum() / in_week.sum()
    other_rate = (complained != spike["iso_week"]).sum() / (~in_week).sum()
    assert spike_rate > 0.006 and spike_rate > 5 * other_rate


def test_best_time_to_call_exists(big):
    root, _, _ = big
    calls = read(root, "calls")
    hour = calls.started_at.str[11:13].astype(int)
    reach = (calls.outcome == "connected").groupby(hour).mean()
    assert reach[16] > reach[12] + 0.1 and reach[10] > reach[8] + 0.05


# --- defects ---------------------------------------------------------------------------------------


def test_defect_counts_are_what_the_files_show(dirty):
    root, manifest = dirty
    assert set(manifest["defects"]) == set(DEFECT_KINDS)
    expected = counts_from_manifest(manifest)
    found = detect(root)
    for kind in DEFECT_KINDS:
        if kind == "extreme_real":
            continue
        assert found[kind] == expected[kind], kind
        assert manifest["defects"][kind]["count"] == sum(expected[kind].values()) > 0, kind
    clean_total = sum(manifest["clean_rows"].values())
    added = sum(
        manifest["defects"][k]["count"]
        for k in (
            "exact_duplicates",
            "key_duplicates",
            "orphan_touches",
            "touches_before_creation",
            "call_burst",
            "extreme_real",
        )
    )
    assert sum(f["rows"] for f in manifest["files"].values()) == clean_total + added


def test_listed_defect_rows_point_at_the_right_rows(dirty):
    root, manifest = dirty
    files = {rel: pd.read_csv(root / rel, dtype=str, keep_default_na=False) for rel in manifest["files"]}
    for kind, rec in manifest["defects"].items():
        assert len(rec["rows"]) == rec["count"] and not rec["rows_truncated"], kind
        for r in rec["rows"]:
            df = files[r["file"]]
            assert df.iloc[r["row"] - 1, 0] == r["id"], (kind, r)
    for kind in ("exact_duplicates", "key_duplicates"):
        for r in manifest["defects"][kind]["rows"]:
            df = files[r["file"]]
            # exact copies come after the original; stale same-key versions before it ("latest wins")
            assert (r["duplicate_of_row"] < r["row"]) == (kind == "exact_duplicates"), r
            assert df.iloc[r["duplicate_of_row"] - 1, 0] == r["id"]
            same = df.iloc[r["duplicate_of_row"] - 1].equals(df.iloc[r["row"] - 1])
            assert same == (kind == "exact_duplicates"), r
    burst = manifest["defects"]["call_burst"]
    calls = files[f"voip/{MONTH}/calls.csv"]
    assert calls.iloc[[r["row"] - 1 for r in burst["rows"]]].lead_id.eq(burst["lead_ids"][0]).all()


def test_extreme_real_leads_are_legitimate(dirty):
    root, manifest = dirty
    rec = manifest["defects"]["extreme_real"]
    t = touches(root)
    per_lead = t.groupby("lead_id").size()
    for lead in rec["lead_ids"]:
        assert per_lead[lead] >= 55
    burst = manifest["defects"]["call_burst"]["lead_ids"]
    assert set(per_lead[per_lead > 45].index) == set(rec["lead_ids"]) | set(burst)
    calls = read(root, "calls")
    mine = calls[calls.call_id.isin({r["id"] for r in rec["rows"]})]
    assert mine.started_at.str.match(FULL_TS.pattern).all() and (mine.duration_seconds.astype(int) >= 0).all()
    assert mine.started_at.str[:10].value_counts().max() <= 8


def test_defect_kinds_can_be_picked_and_leave_clean_rows_alone(tmp_path, clean):
    root, manifest = clean
    picked = generate(tmp_path, [MONTH], leads_per_month=2000, seed=7, defects={"orphan_touches", "call_burst"})[MONTH]
    assert set(picked["defects"]) == {"orphan_touches", "call_burst"}
    assert picked["clean_rows"] == manifest["clean_rows"]
    for entity in ("calls", "email_events"):
        dirty_rows = read(tmp_path, entity)
        listed = {
            r["row"] - 1 for k in picked["defects"].values() for r in k["rows"] if r["file"].endswith(f"/{entity}.csv")
        }
        kept = dirty_rows.drop(index=sorted(listed)).reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, read(root, entity))
    with pytest.raises(ValueError, match="unknown defect"):
        generate(tmp_path, [MONTH], defects={"typo"})


# --- formats, arguments, speed ---------------------------------------------------------------------


def test_parquet_holds_the_same_rows_as_csv(tmp_path, clean):
    root, manifest = clean
    pm = generate(tmp_path, [MONTH], leads_per_month=2000, seed=7, file_format="parquet")[MONTH]
    for entity in FILES:
        table = pq.read_table(path_of(tmp_path, entity, ext="parquet")).to_pandas()
        table = table.astype(object).where(table.notna(), "").astype(str)
        pd.testing.assert_frame_equal(table, read(root, entity), check_dtype=False)
        rel = f"{FILES[entity]}/{MONTH}/{entity}.parquet"
        assert pm["files"][rel]["rows"] == len(table)
    assert pm["effects"] == manifest["effects"]


def test_bad_arguments_are_refused(tmp_path):
    for kwargs in (
        {"months": ["2026-13"]},
        {"months": ["2026/10"]},
        {"months": [MONTH], "file_format": "xlsx"},
        {"months": [MONTH], "leads_per_month": 0},
    ):
        with pytest.raises(ValueError):
            generate(tmp_path, **kwargs)


def test_small_month_is_fast_and_reports_progress(tmp_path):
    messages: list[str] = []
    t0 = time.perf_counter()
    generate(tmp_path, ["2027-03"], leads_per_month=2000, seed=1, progress=messages.append)
    assert time.perf_counter() - t0 < 2.0
    assert any(m.startswith("2027-03: calls ") and m.endswith(" rows") for m in messages)
    # March 2027: summer time starts in the US on the 14th and in Europe on the 28th
    leads = read(tmp_path, "leads", "2027-03").set_index("lead_id")
    calls = read(tmp_path, "calls", "2027-03")
    zone = calls.lead_id.map(leads.lead_timezone)
    assert set(calls.started_at[zone == "America/New_York"].str[-6:]) == {"-05:00", "-04:00"}
    assert set(calls.started_at[zone == "Europe/London"].str[-6:]) == {"+00:00", "+01:00"}
