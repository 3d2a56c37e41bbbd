"""The mapping assistant: `cadence mapping check` and `cadence mapping suggest`.

``check_month`` validates the field mapping against one month's files *before* a run and returns every
problem at once (file, column, sample values, what to write), where a run stops at the first. It reads
each file with ingestion's own code into an in-memory DuckDB, so what it accepts is what a run loads.

``suggest`` sniffs one export (encoding, delimiter, date formats, candidate columns by header and by
content) and drafts its mapping, to be reviewed by a person.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import available_timezones

import duckdb
import yaml

from cadence.contract import ENTITIES, Entity, entity
from cadence.ingest import (
    IngestError,
    LeadIndex,
    column_problems,
    ensure_raw_tables,
    load_file,
    read_header,
    required_columns,
    select_files,
    to_utf8,
)
from cadence.mapping import EntityMapping, quote_ident
from cadence.segments import DIMS

#: Allowed values of the coded columns (the extract contract's; the raw gates check the same sets).
VALUE_SETS = {(e.name, col): values for e in ENTITIES for col, values in e.value_sets.items()}
ISO_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$"
ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$"
#: Date formats tried on sample values, most specific first.
DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p",
                "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%d/%m/%Y",
                "%m/%d/%Y", "%Y-%m-%d", "%d-%m-%Y %H:%M")
SAMPLES = 3


@dataclass
class Problem:
    severity: str          # error (blocks or excludes rows) | warning (loads, but look) | note
    file: str
    column: str | None
    message: str
    samples: tuple[str, ...] = ()
    fix: str | None = None  # what to write

    def render(self) -> str:
        where = self.file + (f" · column {self.column}" if self.column else "")
        mark = {"error": "✗", "warning": "!", "note": "·"}[self.severity]
        text = f"{mark} {where}: {self.message}"
        if self.samples:
            text += "\n    e.g. " + ", ".join(repr(v) for v in self.samples)
        if self.fix:
            text += "\n    write: " + self.fix
        return text


def guess_format(values: list[str]) -> str | None:
    """The first DATE_FORMATS entry every sample parses with (None: none fits, or the values are ISO)."""
    values = [v.strip() for v in values if v and v.strip()]
    if not values:
        return None
    for fmt in DATE_FORMATS:
        try:
            for v in values:
                datetime.strptime(v, fmt)
            return fmt
        except ValueError:
            continue
    return None


def _severity(n: int, rows: int) -> str:
    """A few rows are row-level exclusions (a warning); more than 5 % of a file is a mapping problem."""
    return "error" if n > 0.05 * max(rows, 1) else "warning"


def _top(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _value_problems(con, ent: Entity, mapping: EntityMapping, rel: str) -> list[Problem]:
    """Value checks on one loaded file (raw text after the mapping) in the in-memory DuckDB."""
    out: list[Problem] = []
    table = f"raw.{quote_ident(ent.table)}"
    where_file = f"_source_file = '{rel.replace(chr(39), chr(39) * 2)}'"
    rows = con.execute(f"select count(*) from {table} where {where_file}").fetchone()[0]
    for col in required_columns(ent):
        empty = con.execute(f"select count(*), min(_source_row) from {table} where {where_file} and "
                            f"{quote_ident(col)} is null").fetchone()
        if empty[0]:
            out.append(Problem(_severity(empty[0], rows), rel, col,
                               f"{empty[0]:,} of {rows:,} rows have it empty (first: data row {empty[1]}); they "
                               "are excluded as missing_mandatory",
                               fix=f"map the right header (columns: {{{col}: \"<header>\"}}) or recode the "
                                   f"empty cell (values: {{{col}: {{\"\": <value>}}}})"))
    for col in ent.timestamps:
        c = quote_ident(col)
        bad = _top(con, f"select {c} from {table} where {where_file} and {c} is not null and not "
                        f"regexp_matches({c}, '{ISO_OFFSET}') and not regexp_matches({c}, '{ISO_NAIVE}') limit 50")
        if bad:
            n = con.execute(f"select count(*) from {table} where {where_file} and {c} is not null and not "
                            f"regexp_matches({c}, '{ISO_OFFSET}') and not regexp_matches({c}, '{ISO_NAIVE}')"
                            ).fetchone()[0]
            fmt = guess_format([r[0] for r in bad])
            fix = (f"timestamps: {{format: \"{fmt}\", "
                   + ("timezone_column: lead_timezone}" if ent.name == "leads" else "timezone: {from: lead}}")
                   if fmt else "timestamps.format (a strptime format, e.g. \"%d/%m/%Y %H:%M\")")
            out.append(Problem(_severity(n, rows), rel, col, f"{n:,} values are not ISO 8601 timestamps; they would be "
                               "excluded as bad_timestamp", tuple(r[0] for r in bad[:SAMPLES]), fix))
        naive = con.execute(f"select count(*), min({c}) from {table} where {where_file} and "
                            f"regexp_matches({c}, '{ISO_NAIVE}')").fetchone()
        if naive[0] and mapping.zone_rule is None:
            out.append(Problem("warning", rel, col, f"{naive[0]:,} local times without offset and no zone declared: "
                               "each is read in its lead's zone and flagged tz_repaired", (naive[1],),
                               "timestamps: {timezone: {from: lead}} (or a zone, e.g. timezone: Europe/Paris)"))
    for (name, col), allowed in VALUE_SETS.items():
        if name != ent.name:
            continue
        c = quote_ident(col)
        lowered = ", ".join("'" + v.lower() + "'" for v in allowed)
        unknown = _top(con, f"select {c}, count(*) as n from {table} where {where_file} and {c} is not null and "
                            f"lower(trim({c})) not in ({lowered}) group by 1 order by n desc, 1 limit 10")
        if unknown:
            pairs = ", ".join(f'"{v}": <{"|".join(allowed)}>' for v, _n in unknown[:5])
            # a lead's segment value outside the contract is kept as 'other' (flagged); a touch's is excluded
            segment = ent.name == "leads"
            out.append(Problem("warning" if segment else "error", rel, col,
                               f"{sum(n for _v, n in unknown):,} rows hold values outside "
                               f"{'/'.join(allowed)}: " + ", ".join(f"{v!r} ({n:,})" for v, n in unknown[:5])
                               + ("; kept as other and flagged unknown_value" if segment else
                                  "; excluded as unknown_value"),
                               fix=f"values: {{{col}: {{{pairs}}}}}"))
    for col in ent.decimals:
        c = quote_ident(col)
        bad = _top(con, f"select {c} from {table} where {where_file} and {c} is not null and "
                        f"try_cast({c} as double) is null limit {SAMPLES}")
        if bad:
            comma = any("," in r[0] for r in bad)
            out.append(Problem("error", rel, col, "values that are not numbers (excluded as bad_number)",
                               tuple(r[0] for r in bad), 'decimal: ","' if comma else None))
    if ent.name == "leads":
        zones = sorted(available_timezones())
        bad = [r[0] for r in _top(con, f"select distinct lead_timezone from {table} where {where_file} and "
                                       "lead_timezone is not null")
               if r[0] not in zones]
        if bad:
            out.append(Problem("error", rel, "lead_timezone", "not IANA time zones (leads excluded as "
                               "unknown_timezone)", tuple(bad[:SAMPLES]),
                               "values: {lead_timezone: {\"Paris\": Europe/Paris}} or a constant"))
    return out


def check_month(landing: Path, month: str, mappings: dict[tuple[str, str], EntityMapping]) -> list[Problem]:
    """Every problem of `month`'s files under `landing` against the mapping, without touching the warehouse."""
    problems: list[Problem] = []
    leads = mappings[("crm", "leads")]
    for dim in DIMS:  # the scoping note's segment dimensions must be lead columns
        if dim not in entity("crm", "leads").columns and dim not in leads.attributes:
            fix = f'crm.entities.leads.attributes: {{{dim}: "<the export\'s header>"}}'
            problems.append(Problem("error", "config/sources.yml", dim, f"segment dimension {dim!r} (scoping note "
                                    "segments.dimensions) is not a lead column", fix=fix))
    con = duckdb.connect()
    ensure_raw_tables(con)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    with tempfile.TemporaryDirectory(prefix="cadence-check-") as tmp:
        leads = LeadIndex(landing, month, mappings, Path(tmp))
        for ent in ENTITIES:
            mapping = mappings[(ent.source, ent.name)]
            try:
                files, looked = select_files(landing, ent, mapping, month)
            except IngestError as exc:  # a pattern or a file outside the landing folder: nothing is read
                problems.append(Problem("error", exc.file, None, exc.problem, fix=None))
                continue
            if not files:
                problems.append(Problem("note" if ent.optional else "error", f"{ent.source}/{month}", None,
                                        f"no {ent.name} file (looked for {looked})"
                                        + (": recorded as not provided" if ent.optional else ": the month cannot run"),
                                        fix=None if ent.optional else f"files: [\"<your {ent.name} file>*.csv\"]"))
                continue
            for path in files:
                rel = str(path.relative_to(landing))
                try:
                    if path.suffix.lower() not in (".parquet", ".ics"):
                        readable = to_utf8(path, mapping.encoding, Path(tmp))
                        header = read_header(readable, mapping)
                        issues = column_problems(header, mapping.extend(ent), mapping)
                        for column, message in issues:
                            problems.append(Problem("error", rel, column, message, fix=_column_fix(
                                column, message, ent, header)))
                        if issues:
                            continue
                    load_file(con, path, rel, ent, mapping, month, "check", loaded_at, Path(tmp), leads=leads)
                except IngestError as exc:
                    fix = _encoding_fix(path) if "not valid" in str(exc) else None
                    problems.append(Problem("error", rel, exc.column, str(exc).split(": ", 1)[-1], fix=fix))
                    continue
                problems += _value_problems(con, ent, mapping, rel)
    con.close()
    return problems


def _encoding_fix(path: Path) -> str | None:
    raw = path.read_bytes()[:1_000_000]
    for enc in ("utf-8", "cp1252", "utf-16"):
        try:
            raw.decode(enc)
            return f"csv: {{encoding: {enc}}}"
        except UnicodeDecodeError:
            continue
    return None


def _column_fix(column: str, message: str, ent: Entity, header: list[str]) -> str | None:
    if message.startswith("unknown column"):
        guess = _best_canonical(column, ent)
        return (f"columns: {{{guess}: \"{column}\"}}" if guess else "") + \
            (" — or " if guess else "") + f"ignore_columns: [\"{column}\"]"
    if message.startswith("missing column"):
        canonical = next((c for c in ent.columns if c == column), column)
        near = difflib.get_close_matches(column, header, n=1, cutoff=0.4)
        return f"columns: {{{canonical}: \"{near[0] if near else '<header in your export>'}\"}}"
    return None


# --- suggest -----------------------------------------------------------------------------------------

SYNONYMS = {
    "lead_id": ["id", "identifiant", "lead id", "contact id", "record id", "mql_id", "person id", "prospect"],
    "created_at": ["created", "create date", "date de création", "creation date", "created date",
                   "first_contact_date", "add time"],
    "lead_timezone": ["timezone", "time zone", "fuseau", "fuseau horaire", "tz"],
    "channel": ["source", "origin", "canal", "lead source", "original source"],
    "company_size": ["size", "taille", "employees", "company size", "segment"],
    "funnel_phase": ["phase", "lifecycle stage", "stage", "status", "lead status"],
    "rep_id": ["owner", "commercial", "sales agent", "lead owner", "contact owner", "user", "agent"],
    "email": ["e-mail", "email address", "courriel", "adresse"],
    "phone": ["phone number", "téléphone", "mobile", "numéro"],
    "started_at": ["started", "start", "début", "date", "call date", "started at", "timestamp"],
    "duration_seconds": ["duration", "durée", "talk time", "length"],
    "outcome": ["result", "résultat", "disposition", "status", "call outcome"],
    "direction": ["direction", "sens", "type"],
    "event_type": ["event", "événement", "type", "activity"],
    "event_at": ["date", "timestamp", "event date", "time"],
    "scheduled_at": ["start", "start time", "prévu le", "scheduled"],
    "booked_at": ["created", "booked", "pris le"],
    "stage": ["deal stage", "étape", "status", "deal_stage"],
    "amount": ["value", "montant", "close_value", "amount"],
}


def _best_canonical(header: str, ent: Entity) -> str | None:
    h = header.strip().lower()
    scored = []
    for col in ent.columns:
        names = [col, col.replace("_", " ")] + SYNONYMS.get(col, [])
        score = max(difflib.SequenceMatcher(None, h, n.lower()).ratio() for n in names)
        scored.append((score, col))
    score, col = max(scored)
    return col if score >= 0.72 else None


def sniff(path: Path) -> dict:
    """Encoding, delimiter, header and up to 200 sample rows of a CSV export."""
    raw = path.read_bytes()[:2_000_000]
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "cp1252", raw.decode("cp1252", errors="replace")
    first = text.splitlines()[0] if text else ""
    delimiter = max((",", ";", "\t", "|"), key=first.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [h.strip() for h in rows[0]] if rows else []
    body = [r for r in rows[1:201] if len(r) == len(header)]
    return {"encoding": "utf-8" if encoding == "utf-8-sig" else encoding, "delimiter": delimiter,
            "header": header, "rows": body, "crlf": b"\r\n" in raw[:10_000]}


def _column_kind(values: list[str]) -> str:
    values = [v.strip() for v in values if v.strip()]
    if not values:
        return "empty"
    if all(re.match(ISO_OFFSET, v) for v in values):
        return "iso_instant"
    if all(re.match(ISO_NAIVE, v) for v in values) or guess_format(values):
        return "local_time"
    zones = available_timezones()
    if all(v in zones for v in values):
        return "zone"
    if all("@" in v for v in values):
        return "email"
    if all(re.match(r"^-?\d+([.,]\d+)?$", v) for v in values):
        return "number"
    return "text"


def suggest(path: Path) -> tuple[str, str]:
    """(entity guessed, a draft sources.yml block for `path`)."""
    info = sniff(path)
    header, rows = info["header"], info["rows"]
    columns = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    kinds = {h: _column_kind(v) for h, v in columns.items()}

    def fit(ent: Entity) -> tuple[float, dict]:
        chosen: dict[str, str] = {}
        for h in header:
            col = _best_canonical(h, ent)
            if col and col not in chosen:
                if col in ent.timestamps and kinds[h] not in ("iso_instant", "local_time", "empty"):
                    continue
                chosen[col] = h
        for col in ent.timestamps:  # by content: a time column the names did not find
            if col not in chosen:
                free = [h for h in header if kinds[h] in ("iso_instant", "local_time") and h not in chosen.values()]
                if free and col in ent.required:
                    chosen[col] = free[0]
        score = sum(c in chosen for c in ent.required) / len(ent.required) + 0.1 * len(chosen) / len(ent.columns)
        return score, chosen

    ent, chosen = max(((e, fit(e)[1]) for e in ENTITIES), key=lambda pair: fit(pair[0])[0])
    spec: dict = {"files": [path.name]}
    csv_opts = {k: v for k, v in (("delimiter", info["delimiter"]), ("encoding", info["encoding"]))
                if (k, v) not in (("delimiter", ","), ("encoding", "utf-8"))}
    if csv_opts:
        spec["csv"] = csv_opts
    spec["columns"] = {c: h for c, h in chosen.items() if c != h}
    times = [h for c, h in chosen.items() if c in ent.timestamps]
    local = [h for h in times if kinds[h] == "local_time"]
    if local:
        fmt = guess_format(sum((columns[h] for h in local), []))
        zone_col = next((h for h in header if kinds[h] == "zone"), None)
        spec["timestamps"] = {"format": fmt or "<strptime format>"}
        if ent.name == "leads":
            spec["timestamps"]["timezone_column"] = "lead_timezone"
            if zone_col and chosen.get("lead_timezone") is None:
                spec["columns"]["lead_timezone"] = zone_col
        else:
            spec["timestamps"]["timezone"] = {"from": "lead"}
    numbers = [h for c, h in chosen.items() if c in ent.decimals and any("," in v for v in columns[h])]
    if numbers:
        spec["decimal"] = ","
    ignored = [h for h in header if h not in chosen.values()]
    if ignored:
        spec["ignore_columns"] = ignored
    missing = [c for c in ent.required if c not in chosen]
    block = yaml.safe_dump({"sources": {ent.source: {"entities": {ent.name: spec}}}}, allow_unicode=True,
                           sort_keys=False)
    head = (f"# Draft mapping for {path.name}: looks like {ent.source}/{ent.name} "
            f"({info['encoding']}, delimiter {info['delimiter']!r}{', CRLF' if info['crlf'] else ''}).\n"
            "# Review every line; then `cadence mapping check --month YYYY-MM`.\n")
    if missing:
        head += (f"# Not found, mandatory: {', '.join(missing)} -> map a header (columns) or give a constant "
                 "(constants: {col: value}).\n")
    coded = [(c, VALUE_SETS[(ent.name, c)]) for c in chosen if (ent.name, c) in VALUE_SETS]
    for col, allowed in coded:
        seen = sorted({v.strip() for v in columns[chosen[col]] if v.strip()} - set(allowed))[:8]
        if seen:
            head += f"# {col}: recode {seen} to {'/'.join(allowed)} (values: {{{col}: {{...}}}}).\n"
    return f"{ent.source}/{ent.name}", head + block
