"""The bad-input corpus: malformed extracts generated at test time, each with its expected outcome.

A *baseline* month is a small, valid, consistent extract of every source (leads in several zones, one
touch of each kind per lead, offsets computed from the IANA database). Each case changes it:

- ``FILE_CASES`` break one file of one source. Loaded alone, each must give a clear ``IngestError``
  (file, line or column, what is wrong) or load with its bad lines logged in raw._load_rejects; the other
  sources and the other month loaded before must not change.
- ``ROW_CASES`` add rows with bad values to one combined month. Ingestion keeps them as text; staging must
  exclude each with the expected rule (logged in cleaning.cleaning_log) or keep it when it is valid.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cadence.contract import ENTITIES, entity

MONTH, OTHER_MONTH = "2026-10", "2026-09"
ZONES = ("Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata")


def iso(local: str, zone: str) -> str:
    """'2026-10-06 10:00' in ``zone`` -> ISO 8601 with that zone's offset at that instant."""
    dt = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
    return dt.isoformat()


def _shift(local: str, days: int) -> str:
    return (datetime.strptime(local, "%Y-%m-%d %H:%M") + timedelta(days=days)).strftime("%Y-%m-%d %H:%M")


def lead_row(lead_id: str, zone: str, created_local: str, **over: str) -> dict:
    row = {"lead_id": lead_id, "created_at": iso(created_local, zone), "lead_timezone": zone, "channel": "inbound",
           "company_size": "SMB", "funnel_phase": "MQL", "team": "T1", "rep_id": "R1", "account_id": "A1",
           "company_name": "Acme", "contact_name": "Zoé", "email": f"{lead_id}@example.com", "phone": "+33 6 00",
           "lead_score": "50", "is_vip": "false", "is_dispute": "false", "opted_out_at": "", "sql_at": ""}
    return {**row, **over}


def call_row(call_id: str, lead_id: str, started: str, **over: str) -> dict:
    row = {"call_id": call_id, "lead_id": lead_id, "rep_id": "R1", "started_at": started, "direction": "outbound",
           "outcome": "connected", "duration_seconds": "120", "phone_number": "+33 6 00"}
    return {**row, **over}


def email_row(event_id: str, lead_id: str, at: str, **over: str) -> dict:
    row = {"event_id": event_id, "message_id": f"M-{event_id}", "lead_id": lead_id, "rep_id": "R1",
           "campaign_id": "CMP1", "event_type": "sent", "event_at": at, "email_address": "x@example.com"}
    return {**row, **over}


def baseline(month: str = MONTH) -> dict[str, list[dict]]:
    """A valid month: 8 leads (2 per zone) created on the 2nd, a call, an e-mail and for some a meeting
    and an opportunity in the days after; all in the lead's zone."""
    tag = month.replace("-", "")
    data: dict[str, list[dict]] = {e.name: [] for e in ENTITIES}
    for i in range(8):
        zone, lead = ZONES[i % len(ZONES)], f"L{tag}-{i}"
        created = f"{month}-02 09:{i:02d}"
        data["leads"].append(lead_row(lead, zone, created))
        data["calls"].append(call_row(f"C{tag}-{i}", lead, iso(_shift(created, 1), zone)))
        data["email_events"].append(email_row(f"E{tag}-{i}", lead, iso(_shift(created, 2), zone)))
        if i % 2 == 0:
            data["meetings"].append({"meeting_id": f"MTG{tag}-{i}", "lead_id": lead, "rep_id": "R1",
                                     "booked_at": iso(_shift(created, 3), zone),
                                     "scheduled_at": iso(_shift(created, 5), zone), "status": "held",
                                     "duration_minutes": "30"})
            data["opportunities"].append({"opportunity_id": f"O{tag}-{i}", "lead_id": lead, "account_id": "A1",
                                          "rep_id": "R1", "created_at": iso(_shift(created, 6), zone),
                                          "stage": "open", "amount": "1000.00", "currency": "EUR",
                                          "closed_at": "", "close_reason": ""})
    return data


def write_month(landing: Path, data: dict[str, list[dict]], month: str = MONTH) -> None:
    for ent in ENTITIES:
        path = landing / ent.source / month / f"{ent.name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(ent.columns), lineterminator="\n")
            writer.writeheader()
            writer.writerows(data[ent.name])


# --- file cases ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileCase:
    name: str
    source: str
    file: str                                   # the file changed, relative to landing/<source>/<month>/
    change: Callable[[Path], None]              # edits that file in place (or deletes it)
    error: str | None = None                    # expected IngestError text (None: the load succeeds)
    line: int | None = None                     # expected IngestError.line
    column: str | None = None                   # expected IngestError.column
    rejected_lines: tuple[int, ...] = ()        # expected lines in raw._load_rejects when it loads


def _lines(change: Callable[[list[bytes]], None]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        change(lines)
        path.write_bytes(b"\n".join(lines))
    return edit


def _set(index: int, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    return _lines(lambda ls: ls.__setitem__(index, fn(ls[index])))


def _header(fn: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[0] = ",".join(fn(lines[0].split(",")))
        path.write_text("\n".join(lines), encoding="utf-8")
    return edit


def _replace_field(line: int, old: str, new: bytes) -> Callable[[Path], None]:
    return _set(line - 1, lambda b: b.replace(old.encode(), new, 1))


LEADS_HEADER = ",".join(entity("crm", "leads").columns).encode()


def _another_month(path: Path) -> None:
    """October's folder holding September's leads (a re-exported or misfiled extract)."""
    tmp = path.parent / "_other"
    write_month(tmp, baseline(OTHER_MONTH), OTHER_MONTH)
    path.write_bytes((tmp / "crm" / OTHER_MONTH / "leads.csv").read_bytes())


def _replaced_between_runs(path: Path) -> None:
    text = path.read_text(encoding="utf-8").replace(",50,", ",75,")
    path.write_text(text, encoding="utf-8")


FILE_CASES: tuple[FileCase, ...] = (
    FileCase("truncated_file", "voip", "calls.csv", lambda p: p.write_bytes(p.read_bytes()[:-40]),
             rejected_lines=(9,)),
    FileCase("truncated_inside_quotes", "voip", "calls.csv",
             lambda p: p.write_bytes(p.read_bytes() + b'C-x,L-x,"R1 unterminated'), rejected_lines=(10,)),
    FileCase("wrong_delimiter", "crm", "leads.csv", lambda p: p.write_bytes(p.read_bytes().replace(b",", b";")),
             error="wrong delimiter", line=1),
    FileCase("cp1252_without_mapping", "crm", "leads.csv", _replace_field(3, "Zoé", "Zo\xe9".encode("cp1252")),
             error="not valid utf-8", line=3),
    FileCase("utf8_bom", "crm", "leads.csv", lambda p: p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())),
    FileCase("missing_column", "voip", "calls.csv", _header(lambda h: [c if c != "outcome" else "result" for c in h]),
             error="missing column", column="outcome"),
    FileCase("extra_column", "crm", "leads.csv", _header(lambda h: h + ["notes"]),
             error="unknown column", column="notes"),
    FileCase("duplicated_header", "emailing", "email_events.csv", _header(lambda h: h[:-1] + ["lead_id"]),
             error="repeats this column", column="lead_id"),
    FileCase("empty_file", "calendar", "meetings.csv", lambda p: p.write_bytes(b""), error="empty (0 bytes)"),
    FileCase("header_only_leads", "crm", "leads.csv",
             lambda p: p.write_bytes(p.read_bytes().split(b"\n")[0] + b"\n"), error="no data rows"),
    # an optional entity may be empty this month (no meeting booked): 0 rows, provided
    FileCase("header_only_optional", "calendar", "meetings.csv",
             lambda p: p.write_bytes(p.read_bytes().split(b"\n")[0] + b"\n")),
    FileCase("invalid_bytes", "emailing", "email_events.csv", _set(4, lambda b: b + b"\xff\xfe\xfa"),
             error="not valid utf-8", line=5),
    FileCase("nul_bytes", "voip", "calls.csv", _set(2, lambda b: b.replace(b"outbound", b"out\x00bound")),
             error="NUL bytes", line=3),
    FileCase("utf16_file", "calendar", "meetings.csv",
             lambda p: p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16")), error="utf-8"),
    FileCase("blank_line", "voip", "calls.csv", _lines(lambda ls: ls.insert(4, b"")), rejected_lines=(5,)),
    FileCase("short_line", "voip", "calls.csv", _lines(lambda ls: ls.insert(3, b"C-short,L-1")),
             rejected_lines=(4,)),
    FileCase("too_many_bad_lines", "voip", "calls.csv", _lines(lambda ls: ls.extend([b"a,b", b"c,d", b"e,f"])),
             error="lines are malformed", line=10),
    FileCase("crlf_line_endings", "emailing", "email_events.csv",
             lambda p: p.write_bytes(p.read_bytes().replace(b"\n", b"\r\n"))),
    FileCase("missing_leads_file", "crm", "leads.csv", lambda p: p.unlink(), error="no crm/leads file"),
    # an optional source not provided this month: loads nothing, recorded in raw._provided
    FileCase("missing_optional_file", "calendar", "meetings.csv", lambda p: p.unlink()),
    # loads (raw keeps what was received); the raw.crm__leads suite's blocking structure check then stops
    # the month (tests/test_bad_inputs.py) and staging excludes every lead as outside_month
    FileCase("another_months_data", "crm", "leads.csv", _another_month),
    FileCase("replaced_between_runs", "crm", "leads.csv", _replaced_between_runs),
    FileCase("quoted_newlines_in_file", "crm", "leads.csv",
             _replace_field(2, "Acme", b'"Acme\nHolding, ""Europe"""')),
)


# --- row cases ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowCase:
    name: str
    table: str                                  # contract entity name the rows go to
    rows: Callable[[], list[dict]]              # rows appended to the baseline file
    rule: str | None                            # expected exclusion rule of the case's rows (None: kept)
    keys: tuple[str, ...] = ()                  # the case's rows (key values) expected under `rule`
    kept_keys: tuple[str, ...] = ()             # rows of the case expected kept
    leads: list[dict] = field(default_factory=list)   # extra leads the case needs
    flags: dict[str, str] = field(default_factory=dict)   # kept key -> expected `flags` (others: none)
    values: dict[str, dict] = field(default_factory=dict)  # kept key -> {staging column: expected value}


P, NY, SYD = "Europe/Paris", "America/New_York", "Australia/Sydney"
#: The export times the row cases write in each source's `_extract.yml` (e-mailing: before the others)
EXPORTED_AT = {"crm": "2026-12-20T00:00:00Z", "voip": "2026-12-20T00:00:00Z", "calendar": "2026-12-20T00:00:00Z",
               "emailing": "2026-12-01T00:00:00Z"}


def utc(local: str, zone: str, fold: int = 0) -> datetime:
    """An independent reading of a wall clock in a zone (Python's zoneinfo, fold=0 unless said): the naive
    UTC instant staging must produce."""
    dt = datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone), fold=fold)
    return dt.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def opportunity_row(opportunity_id: str, lead_id: str, created: str, **over: str) -> dict:
    row = {"opportunity_id": opportunity_id, "lead_id": lead_id, "account_id": "A1", "rep_id": "R1",
           "created_at": created, "stage": "open", "amount": "1000.00", "currency": "EUR", "closed_at": "",
           "close_reason": ""}
    return {**row, **over}


def meeting_row(meeting_id: str, lead_id: str, booked: str, scheduled: str, **over: str) -> dict:
    row = {"meeting_id": meeting_id, "lead_id": lead_id, "rep_id": "R1", "booked_at": booked,
           "scheduled_at": scheduled, "status": "held", "duration_minutes": "30"}
    return {**row, **over}
LP = f"L{MONTH.replace('-', '')}-0"   # a baseline lead in Paris, created 2026-10-02 09:00 local
LNY = f"L{MONTH.replace('-', '')}-1"  # ... in New York


def _burst() -> list[dict]:
    return [call_row(f"C-burst-{i:03d}", LNY, iso(f"2026-10-07 08:{i % 60:02d}", NY)) for i in range(60)]


ROW_CASES: tuple[RowCase, ...] = (
    RowCase("garbage_timestamp", "calls", lambda: [call_row("C-garbage", LP, "yesterday at noon")],
            "bad_timestamp", ("C-garbage",)),
    # a missing or wrong offset: the wall clock is read in the lead's zone, kept and flagged (repair policy)
    RowCase("tz_naive_timestamp", "calls", lambda: [call_row("C-naive", LP, "2026-10-06T10:00:00")],
            None, kept_keys=("C-naive",), flags={"C-naive": "tz_repaired:started_at"},
            values={"C-naive": {"started_at": utc("2026-10-06 10:00", P)}}),
    RowCase("dst_gap_local_time", "calls",
            # Sydney skips 02:00-03:00 on 2026-10-04: 02:30 does not exist, whatever offset is written; it is
            # read with the offset before the change (fold=0), flagged
            lambda: [call_row("C-gap-std", "L-syd", "2026-10-04T02:30:00+10:00"),
                     call_row("C-gap-dst", "L-syd", "2026-10-04T02:30:00+11:00")],
            None, kept_keys=("C-gap-std", "C-gap-dst"),
            leads=[lead_row("L-syd", SYD, "2026-10-01 09:00")],
            flags={"C-gap-std": "tz_repaired:started_at", "C-gap-dst": "tz_repaired:started_at"},
            values={k: {"started_at": utc("2026-10-04 02:30", SYD)} for k in ("C-gap-std", "C-gap-dst")}),
    RowCase("dst_overlap_naive_local_time", "calls",
            # Paris lives 02:30 twice on 2026-10-25; without an offset the first occurrence (CEST) is taken
            lambda: [call_row("C-overlap-naive", LP, "2026-10-25T02:30:00")],
            None, kept_keys=("C-overlap-naive",), flags={"C-overlap-naive": "tz_repaired:started_at"},
            values={"C-overlap-naive": {"started_at": utc("2026-10-25 02:30", P, fold=0)}}),
    RowCase("dst_overlap_local_time", "calls",
            # Paris lives 02:30 twice on 2026-10-25: the written offset says which one; both are valid
            lambda: [call_row("C-overlap-1", LP, "2026-10-25T02:30:00+02:00"),
                     call_row("C-overlap-2", LP, "2026-10-25T02:30:00+01:00")],
            None, kept_keys=("C-overlap-1", "C-overlap-2")),
    RowCase("mixed_date_formats", "email_events",
            lambda: [email_row("E-ddmm", LP, "06/10/2026 11:00"), email_row("E-space", LP, "2026-10-06 11:00:00+02:00"),
                     email_row("E-zulu", LP, "2026-10-06T09:00:00Z")],
            "bad_timestamp", ("E-ddmm",), kept_keys=("E-space", "E-zulu")),
    RowCase("negative_duration", "calls", lambda: [call_row("C-neg", LP, iso("2026-10-06 10:30", P),
                                                            duration_seconds="-30")],
            # a connected call happened: only its duration is wrong, emptied
            None, kept_keys=("C-neg",), flags={"C-neg": "negative_duration:duration_seconds"},
            values={"C-neg": {"duration_seconds": None, "outcome": "connected"}}),
    RowCase("non_numeric_duration", "calls", lambda: [call_row("C-nan", LP, iso("2026-10-06 10:40", P),
                                                               duration_seconds="12a")],
            "bad_number", ("C-nan",)),
    RowCase("non_finite_durations", "calls",
            lambda: [call_row(f"C-{name}", LP, iso(f"2026-10-06 10:4{i}", P), duration_seconds=text)
                     for i, (name, text) in enumerate([("NaN", "NaN"), ("inf", "inf"), ("e308", "1e308"),
                                                        ("e309", "1e309")])],
            "bad_number", ("C-NaN", "C-inf", "C-e308", "C-e309")),
    RowCase("duplicate_key_other_payload", "calls",
            # a stale state first, the current one later: the later row is kept
            lambda: [call_row("C-dup", LP, iso("2026-10-06 11:00", P), outcome="voicemail", duration_seconds="0"),
                     call_row("C-dup", LP, iso("2026-10-06 11:00", P))],
            "duplicate_key", ("C-dup",), kept_keys=("C-dup",)),
    RowCase("duplicate_key_later_row_invalid", "calls",
            # the later row is unreadable: the last *valid* row wins, the broken one is logged for itself
            lambda: [call_row("C-dup2", LP, iso("2026-10-06 11:10", P)),
                     call_row("C-dup2", LP, "not a time", outcome="busy")],
            "bad_timestamp", ("C-dup2",), kept_keys=("C-dup2",)),
    RowCase("exact_duplicate", "email_events",
            lambda: [email_row("E-twice", LP, iso("2026-10-06 12:00", P))] * 2,
            "exact_duplicate", ("E-twice",), kept_keys=("E-twice",)),
    RowCase("orphan_touch", "calls", lambda: [call_row("C-orphan", "L-nobody", iso("2026-10-06 10:00", P))],
            "unknown_lead", ("C-orphan",)),
    RowCase("future_date", "email_events", lambda: [email_row("E-future", LP, "2027-06-01T10:00:00+02:00")],
            "future_timestamp", ("E-future",)),
    RowCase("after_the_export_before_the_load", "email_events",
            # the e-mailing extract says it was taken on 1 December: an event on the 3rd cannot be in it
            lambda: [email_row("E-after-export", LP, iso("2026-12-03 10:00", P))],
            "future_timestamp", ("E-after-export",)),
    RowCase("touch_after_the_window", "calls",
            # the window of a lead created on 2 October ends on 1 November: a call on 4 December, before the
            # export, is real (it only leaves the window's counts)
            lambda: [call_row("C-late", LP, iso("2026-12-04 10:00", P))],
            None, kept_keys=("C-late",)),
    RowCase("late_opt_out", "leads",
            # an opt-out after the window (and after the first day of M+2) keeps its lead in the cohort
            lambda: [lead_row("L-late-opt", P, "2026-10-03 10:00", opted_out_at=iso("2026-12-10 10:00", P))],
            None, kept_keys=("L-late-opt",),
            values={"L-late-opt": {"opted_out_at": utc("2026-12-10 10:00", P)}}),
    RowCase("opt_out_after_the_load", "leads",
            lambda: [lead_row("L-opt-2099", P, "2026-10-03 10:30", opted_out_at="2099-01-01T10:00:00+01:00")],
            None, kept_keys=("L-opt-2099",), flags={"L-opt-2099": "future_attribute:opted_out_at"},
            values={"L-opt-2099": {"opted_out_at": None}}),
    RowCase("lead_late_on_the_last_day_west_of_utc", "calls",
            # created 31 October 22:00 in New York = 1 November 02:00 UTC: October's lead, whole window kept
            lambda: [call_row("C-ny-late", "L-ny-late", iso("2026-11-30 20:00", NY))],
            None, kept_keys=("C-ny-late",), leads=[lead_row("L-ny-late", NY, "2026-10-31 22:00")]),
    RowCase("opportunity_before_lead_creation", "opportunities",
            # the deal existed before the lead record: a real conversion, counted and flagged
            lambda: [opportunity_row("O-early", LP, iso("2026-10-01 15:00", P))],
            None, kept_keys=("O-early",), flags={"O-early": "before_lead_creation:created_at"}),
    RowCase("meeting_before_creation_without_booking_time", "meetings",
            lambda: [meeting_row("MTG-early", LP, "", iso("2026-10-01 15:00", P))],
            "before_lead_creation", ("MTG-early",)),
    RowCase("touch_before_lead_creation", "calls",
            lambda: [call_row("C-early", LP, iso("2026-10-01 15:00", P))], "before_lead_creation", ("C-early",)),
    RowCase("wrong_offset", "calls", lambda: [call_row("C-offset", LP, "2026-10-06T10:00:00+01:00")],
            None, kept_keys=("C-offset",), flags={"C-offset": "tz_repaired:started_at"},
            values={"C-offset": {"started_at": utc("2026-10-06 10:00", P)}}),
    RowCase("empty_mandatory_field", "calls", lambda: [call_row("C-empty", LP, "")],
            "missing_mandatory", ("C-empty",)),
    RowCase("segment_value_outside_the_contract", "leads",
            # a real lead of an unknown segment: kept as 'other' and flagged, it never blocks the month
            lambda: [lead_row("L-web", P, "2026-10-03 10:00", channel="Web", company_size="startup")],
            None, kept_keys=("L-web",), flags={"L-web": "unknown_value:channel;unknown_value:company_size"},
            values={"L-web": {"channel": "other", "company_size": "other", "funnel_phase": "MQL"}}),
    RowCase("coded_value_outside_the_contract", "calls",
            # excluded with its reason, file and line (a dbt test used to fail every month for it)
            lambda: [call_row("C-weird", LP, iso("2026-10-06 15:00", P), outcome="voicemail from x")],
            "unknown_value", ("C-weird",)),
    RowCase("empty_time_zone", "leads", lambda: [lead_row("L-nozone", P, "2026-10-03 10:00", lead_timezone="")],
            "missing_timezone", ("L-nozone",)),
    RowCase("unknown_time_zone", "leads", lambda: [lead_row("L-mars", "UTC", "2026-10-03 10:00",
                                                            lead_timezone="Mars/Olympus_Mons")],
            "unknown_timezone", ("L-mars",)),
    RowCase("lead_from_another_month", "leads", lambda: [lead_row("L-sept", P, "2026-09-12 10:00")],
            "outside_month", ("L-sept",)),
    RowCase("touch_of_an_excluded_lead", "calls", lambda: [call_row("C-of-sept", "L-sept", iso("2026-10-06 10:00", P))],
            "lead_excluded", ("C-of-sept",)),
    RowCase("call_burst", "calls", _burst, "call_burst", tuple(f"C-burst-{i:03d}" for i in range(60))),
    RowCase("quoted_newlines", "leads", lambda: [lead_row("L-nl", P, "2026-10-03 11:00",
                                                          company_name="Acme\nHolding, \"Europe\"")],
            None, kept_keys=("L-nl",)),
    RowCase("one_mb_field", "leads", lambda: [lead_row("L-big", P, "2026-10-03 12:00", company_name="x" * 1_000_000)],
            None, kept_keys=("L-big",)),
    RowCase("padded_and_upper_case_values", "calls",
            lambda: [call_row("C-pad", LP, iso("2026-10-06 13:00", P), outcome=" Connected ", direction="OUTBOUND")],
            None, kept_keys=("C-pad",)),
)


#: The row cases whose outcome depends on the time-zone policy, and their outcome under `strict`.
STRICT_RULES = {"C-naive": "tz_naive", "C-gap-std": "wrong_offset", "C-gap-dst": "wrong_offset",
                "C-overlap-naive": "tz_naive", "C-offset": "wrong_offset"}


def write_row_cases(landing: Path) -> dict[str, list[dict]]:
    data = baseline()
    for case in ROW_CASES:
        data["leads"] += case.leads
        data[case.table] += case.rows()
    write_month(landing, data)
    for source, at in EXPORTED_AT.items():
        (landing / source / MONTH / "_extract.yml").write_text(f"exported_at: {at}\n")
    return data
