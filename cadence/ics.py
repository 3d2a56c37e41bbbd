"""Read an iCalendar (RFC 5545) file as a table: one row per event occurrence, for the field mapping.

Parsing is the maintained ``icalendar`` library's; recurring events are expanded by
``recurring-ical-events`` (RRULE, RDATE, EXDATE and RECURRENCE-ID overrides, in the event's own zone so a
weekly 09:00 stays 09:00 across a DST change; a calendar naming its zone in ``X-WR-TIMEZONE``, as Google and
Apple exports do, is read in that zone first). Hand-written RRULE expansion is where calendar bugs live.

Rules (docs/vendors.md, "ICS calendar files"):
- occurrences starting in the expansion window (the month's first day to the end of the next month, the
  attribution window's reach) are rows; the file's other events are counted, not loaded;
- a time with ``TZID`` or in UTC (``Z``) is an instant, written in UTC with ``Z``; a floating time (neither)
  is written as its wall clock without offset, read by the mapping's ``timestamps.timezone`` (the ics
  preset: each lead's zone); an all-day date is written ``YYYY-MM-DD`` and ``ALL_DAY`` is true;
- a series that cannot be expanded (a broken RRULE) stops the load with the file, the UID and what to do.

Each row keeps the line of its ``BEGIN:VEVENT`` (the override's for a moved occurrence) for lineage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

#: The columns of the table an .ics file becomes (the "header" a mapping maps).
COLUMNS = ("UID", "OCCURRENCE", "RECURRING", "DTSTART", "DTEND", "ALL_DAY", "STATUS", "TRANSP", "SUMMARY",
           "ORGANIZER", "ATTENDEES", "DECLINED", "CREATED", "LAST_MODIFIED", "DTSTAMP", "SEQUENCE")


class IcsError(ValueError):
    """An .ics file that cannot be read: message says what and what to do; ``line`` where known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass
class IcsTable:
    rows: list[tuple[str, ...]]       # in COLUMNS order
    lines: list[int]                  # the BEGIN:VEVENT line of each row
    events: int                       # VEVENT components in the file
    outside: int                      # VEVENT components with no occurrence in the window
    window: tuple[date, date]


def window_of(month: str) -> tuple[date, date]:
    """[first day of the month, first day of the month after next)."""
    year, mon = (int(p) for p in month.split("-"))
    start = date(year, mon, 1)
    nxt = mon + 2
    return start, date(year + (nxt - 1) // 12, (nxt - 1) % 12 + 1, 1)


def _when(value) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%dT%H:%M:%S")          # floating: a wall clock
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return ""


def _address(value) -> str:
    text = str(value or "").strip()
    return (text[7:] if text.lower().startswith("mailto:") else text).strip().lower()


def _listed(component, name: str) -> list:
    value = component.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _decoded(component, name: str):
    try:
        return component.decoded(name) if name in component else None
    except (KeyError, ValueError, TypeError):
        return None


def _libraries():
    try:
        import icalendar
        import recurring_ical_events
    except ImportError as exc:
        raise IcsError(f"reading .ics files needs the icalendar and recurring-ical-events packages ({exc.name} "
                       "is missing): install them (`uv sync` installs the project's dependencies)") from None
    return icalendar, recurring_ical_events


def read_ics(path: Path, month: str) -> IcsTable:
    icalendar, rie = _libraries()
    raw = Path(path).read_bytes()
    begin_lines = [i + 1 for i, line in enumerate(raw.decode("utf-8", errors="replace").splitlines())
                   if line.strip().upper() == "BEGIN:VEVENT"]
    try:
        cal = icalendar.Calendar.from_ical(raw)
    except ValueError as exc:
        raise IcsError(f"not a readable iCalendar file: {exc}") from None
    components = list(cal.walk("VEVENT"))
    if len(components) != len(begin_lines):
        raise IcsError(f"{len(begin_lines)} BEGIN:VEVENT lines but {len(components)} events parsed: a broken "
                       "calendar (export it again)")
    line_of: dict[tuple[str, str | None], int] = {}
    series: set[str] = set()
    for comp, line in zip(components, begin_lines, strict=True):
        uid = str(comp.get("UID") or "").strip()
        if not uid:
            raise IcsError("an event without UID (RFC 5545 requires one): export the calendar again", line)
        rid = _decoded(comp, "RECURRENCE-ID")
        line_of.setdefault((uid, _when(rid) if rid is not None else None), line)
        if rid is not None or "RRULE" in comp or "RDATE" in comp:
            series.add(uid)
    start, stop = window_of(month)
    try:
        occurrences = list(rie.of(cal).between(start, stop))
    except Exception:  # noqa: BLE001 - find the series at fault, then say which
        _raise_for_bad_series(cal, components, begin_lines, rie, icalendar, start, stop)
        raise
    rows, lines, seen = [], [], set()
    for occ in occurrences:
        uid = str(occ.get("UID") or "").strip()
        begin = _decoded(occ, "DTSTART")
        end = _decoded(occ, "DTEND")
        if end is None:
            try:
                end = occ.end
            except (AttributeError, KeyError, ValueError, TypeError):
                end = None
        rid = _decoded(occ, "RECURRENCE-ID")
        rid_text = _when(rid) if rid is not None else None
        line = line_of.get((uid, rid_text)) or line_of.get((uid, None)) or 0
        seen.add(line)
        attendees = _listed(occ, "ATTENDEE")
        declined = [a for a in attendees if str(getattr(a, "params", {}).get("PARTSTAT", "")).upper() == "DECLINED"]
        all_day = isinstance(begin, date) and not isinstance(begin, datetime)
        rows.append((
            uid,
            rid_text or "" if uid in series else "",
            "true" if uid in series else "false",
            _when(begin),
            _when(end),
            "true" if all_day else "false",
            str(occ.get("STATUS") or "").strip().upper(),
            str(occ.get("TRANSP") or "").strip().upper(),
            str(occ.get("SUMMARY") or "").strip(),
            _address(occ.get("ORGANIZER")),
            ";".join(_address(a) for a in attendees),
            ";".join(_address(a) for a in declined),
            _when(_decoded(occ, "CREATED")),
            _when(_decoded(occ, "LAST-MODIFIED")),
            _when(_decoded(occ, "DTSTAMP")),
            str(occ.get("SEQUENCE") or "0").strip(),
        ))
        lines.append(line)
    outside = sum(1 for line in begin_lines if line not in seen)
    return IcsTable(rows, lines, len(components), outside, (start, stop))


def _raise_for_bad_series(cal, components, begin_lines, rie, icalendar, start, stop) -> None:
    """Expand each UID alone; the first that fails is named with its line and what to do."""
    zones = list(cal.walk("VTIMEZONE"))
    by_uid: dict[str, list] = {}
    for comp, line in zip(components, begin_lines, strict=True):
        by_uid.setdefault(str(comp.get("UID")), []).append((comp, line))
    for uid, items in by_uid.items():
        one = icalendar.Calendar()
        for key in ("VERSION", "PRODID", "X-WR-TIMEZONE"):
            if key in cal:
                one.add(key, cal[key])
        for zone in zones:
            one.add_component(zone)
        for comp, _line in items:
            one.add_component(comp)
        try:
            list(rie.of(one).between(start, stop))
        except Exception as exc:  # noqa: BLE001
            rule = str(items[0][0].get("RRULE").to_ical().decode() if items[0][0].get("RRULE") else "")
            raise IcsError(f"the recurring event UID {uid} cannot be expanded ({type(exc).__name__}: {exc}; "
                           f"RRULE {rule or '-'}): fix or remove its RRULE/EXDATE/RECURRENCE-ID in the calendar, "
                           "or export the calendar with its occurrences expanded", items[0][1]) from None
