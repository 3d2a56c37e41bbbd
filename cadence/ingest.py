"""Load one month of one source's extracts into DuckDB schema ``raw`` (pure logic, no Dagster).

A load replaces exactly one partition: inside one transaction per source, the month's rows of each raw
table are deleted and the month's files inserted, so a failure leaves every table as it was and other
months are never touched. Every row carries lineage (file, 1-based data row, file hash, load time, run).

Structurally broken CSV lines (wrong number of fields, unterminated quote) are skipped *and logged* in
``raw._load_rejects`` with file, line and error, up to ``max_reject_rate`` of the file; beyond that, and
for every problem that makes the whole file suspect (missing/unknown/duplicated column, undecodable
bytes, empty or header-only file, no file at all), the load fails with an :class:`IngestError` naming
the file, the line or column and what is wrong.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from cadence import ics
from cadence.contract import EXTRACT_INFO, LINEAGE_COLUMNS, Entity, entities_of, entity
from cadence.mapping import (
    EntityMapping,
    Expr,
    column_expressions,
    expr_sql,
    quote_ident,
    quote_literal,
    row_filter_sql,
)
from cadence.segments import DIMS
from cadence.untrusted import OutsideLanding, confined, excerpt


class IngestError(RuntimeError):
    """A clear, user-facing load error: which file, which line/column, what is wrong."""

    def __init__(self, file: Path | str, problem: str, *, line: int | None = None, column: str | None = None):
        self.file, self.problem, self.line, self.column = str(file), problem, line, column
        where = self.file + (f", line {line}" if line else "") + (f", column {excerpt(column)}" if column else "")
        super().__init__(f"{where}: {problem}")


@dataclass
class FileLoad:
    path: str
    sha256: str
    rows: int
    rejected: int
    previous_sha256: str | None = None  # the same file's hash at the month's previous load (None: new file)
    skipped: int = 0        # rows of the file that are not this entity's (rows.keep / rows.skip, .ics window)
    footer: int = 0         # lines of a report footer (csv.footer)

    @property
    def replaced(self) -> bool:
        """The file changed since the month was last loaded (a re-export replaced it)."""
        return self.previous_sha256 is not None and self.previous_sha256 != self.sha256


@dataclass
class EntityLoad:
    source: str
    entity: str
    table: str
    provided: bool = True   # False: an optional entity with no file this month (a recorded fact)
    rows: int = 0
    rejected: int = 0
    files: list[FileLoad] = field(default_factory=list)
    seconds: float = 0.0


RAW_SCHEMA_SQL = """
create schema if not exists raw;
create table if not exists raw._load_rejects (
    _partition_month varchar, source varchar, entity varchar, _source_file varchar,
    _source_row bigint, line bigint, column_name varchar, error_type varchar, error_message varchar,
    csv_line varchar, _run_id varchar, _loaded_at timestamp
);
create table if not exists raw._loads (
    _partition_month varchar, source varchar, entity varchar, _source_file varchar, _file_hash varchar,
    rows_loaded bigint, rows_rejected bigint, _run_id varchar, _loaded_at timestamp
);
alter table raw._loads add column if not exists exported_at timestamp;
alter table raw._loads add column if not exists zone_rule varchar;
alter table raw._loads add column if not exists rows_skipped bigint;
alter table raw._loads add column if not exists footer_lines bigint;
alter table raw._loads add column if not exists skipped_detail varchar;
create table if not exists raw._provided (
    _partition_month varchar, source varchar, entity varchar, is_provided boolean, files integer,
    rows_loaded bigint, detail varchar, _run_id varchar, _loaded_at timestamp
);
"""


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create schema ``raw``, its bookkeeping tables and one table per contract entity."""
    con.execute(RAW_SCHEMA_SQL)
    from cadence.contract import ENTITIES

    for ent in ENTITIES:
        cols = [f"{quote_ident(c)} varchar" for c in ent.columns]
        cols += ["_partition_month varchar", "_source_file varchar", "_source_row bigint",
                 "_file_hash varchar", "_loaded_at timestamp", "_run_id varchar"]
        con.execute(f"create table if not exists raw.{quote_ident(ent.table)} ({', '.join(cols)})")


@dataclass
class FileScan:
    sha256: str
    lines: int              # physical lines (a last line without newline counts)
    nul_line: int | None    # first line holding a NUL byte


def scan_file(path: Path) -> FileScan:
    """One pass over the bytes: SHA-256, physical lines, and the first NUL byte (a binary or UTF-16 file
    read as text). Counting lines lets the load prove that every line is a row, a rejected line or a
    line inside a quoted field: nothing is dropped silently."""
    digest = hashlib.sha256()
    lines, nul_line, last = 0, None, b"\n"
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            if nul_line is None and b"\x00" in chunk:
                nul_line = lines + chunk[: chunk.index(b"\x00")].count(b"\n") + 1
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return FileScan(digest.hexdigest(), lines + (last != b"\n"), nul_line)


def sha256_of(path: Path) -> str:
    return scan_file(path).sha256


def find_files(month_dir: Path, patterns: tuple[str, ...], landing_dir: Path | None = None) -> list[Path]:
    """The files of the month's folder matching ``patterns`` (``files:`` globs, relative, without '..'), each
    confined to the landing folder (default: the month folder's grandparent): a symlink leading outside, or
    one that does not resolve, is an IngestError, and nothing of it is read (cadence.untrusted.confined)."""
    root = landing_dir or month_dir.parent.parent
    found: dict[Path, None] = {}
    for pattern in patterns:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise IngestError(month_dir, f"files pattern {excerpt(pattern)} must be relative to the month's folder, "
                              "without '..' (config/sources.yml: files)")
        for path in sorted(month_dir.glob(pattern)):
            if path.is_file() or path.is_symlink():
                try:
                    confined(path, root)
                except OutsideLanding as exc:
                    raise IngestError(path, exc.reason) from None
                found[path] = None
    return list(found)


def month_folder(landing: Path, ent: Entity, mapping: EntityMapping, month: str) -> Path:
    """Where an entity's files of a month are: landing/<source>/<month>/, or the folder the mapping names
    (`folder: crm`: one export folder for a vendor's reports)."""
    return Path(landing) / (mapping.folder or ent.source) / month


def peek_header(path: Path, mapping: EntityMapping) -> list[str]:
    """A file's column names, read leniently (to choose files by `header_has`, not to load them)."""
    suffix = path.suffix.lower()
    if suffix == ".ics":
        return list(ics.COLUMNS)
    if suffix == ".parquet":
        with duckdb.connect() as con:
            try:
                return [r[0] for r in con.execute(f"select name from parquet_schema({quote_literal(str(path))}) "
                                                  "where num_children is null").fetchall()]
            except duckdb.Error:
                return []
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    text = head.decode(mapping.encoding, errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text else ""
    return [h.strip() for h in next(csv.reader(io.StringIO(first), delimiter=mapping.delimiter,
                                               quotechar=mapping.quote), [])]


def select_files(landing: Path, ent: Entity, mapping: EntityMapping, month: str) -> tuple[list[Path], str]:
    """The month's files of an entity (globs, then `header_has`), and what was looked for (for messages)."""
    folder = month_folder(landing, ent, mapping, month)
    files = find_files(folder, mapping.files, landing)
    looked = f"{list(mapping.files)} in {mapping.folder or ent.source}/{month}/"
    if not mapping.header_has:
        return files, looked
    looked += f" whose header has {list(mapping.header_has)}"
    chosen = [p for p in files if set(mapping.header_has) <= set(peek_header(p, mapping))]
    if files and not chosen:
        looked += f" (seen: {', '.join(p.name for p in files[:5])}{', ...' if len(files) > 5 else ''}; none has them)"
    return chosen, looked


def to_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    """Return a UTF-8 (no BOM) version of ``path``: the file itself when it already is one, else a
    transcoded copy. Undecodable bytes raise an IngestError with the line number."""
    enc = codecs.lookup(encoding).name
    if enc == "utf-8":
        with open(path, "rb") as fh:
            if fh.read(3) != codecs.BOM_UTF8:
                return path  # DuckDB validates UTF-8 itself and reports the line
        enc = "utf-8-sig"
    out = workdir / (path.name + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    line, offset = 1, 0
    with open(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_line = line + chunk[: exc.start].count(b"\n")
                raise IngestError(path, f"bytes {chunk[exc.start:exc.end]!r} at byte {offset + exc.start} "
                                  f"are not valid {encoding} (declare the file's encoding in "
                                  f"config/sources.yml: csv.encoding)", line=bad_line) from None
            line += chunk.count(b"\n")
            offset += len(chunk)
            dst.write(text)
        dst.write(decoder.decode(b"", final=True))
    return out


def read_header(path: Path, mapping: EntityMapping) -> list[str]:
    """The header of a UTF-8 CSV; a single column holding another delimiter is a clear error."""
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise IngestError(path, "the file is empty or its first line is blank (expected a header)")
    if "\x00" in first:
        raise IngestError(path, "NUL bytes in the header line", line=1)
    header = next(csv.reader(io.StringIO(first), delimiter=mapping.delimiter, quotechar=mapping.quote))
    header = [h.strip() for h in header]
    if len(header) == 1 and mapping.delimiter not in first:
        for other in (";", ",", "\t", "|"):
            if other != mapping.delimiter and other in first:
                raise IngestError(path, f"the header has one column but contains {other!r}: wrong "
                                  f"delimiter? (expected {mapping.delimiter!r}; set csv.delimiter in "
                                  f"config/sources.yml)", line=1)
    return header


def required_columns(entity: Entity) -> tuple[str, ...]:
    """The entity's mandatory columns; for the leads, with the contract columns that are segment dimensions
    of the scoping note (channel and company_size by default)."""
    if entity.name != "leads":
        return entity.required
    return entity.required + tuple(d for d in DIMS if d in entity.columns and d not in entity.required)


def column_problems(header: list[str], entity: Entity, mapping: EntityMapping) -> list[tuple[str, str]]:
    """Every (column, problem) of a file's header against the entity's mapping: repeated, missing (a
    mandatory column, one the mapping names explicitly, or one an expression or filter reads) and unknown
    columns."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append((name, "the header repeats this column"))
        seen.add(name)
    expected = {mapping.header_for(c): c for c in entity.columns if mapping.header_for(c) is not None}
    required = required_columns(entity)
    for export_name, canonical in expected.items():
        # an optional column the export lacks needs no mapping line: it loads as NULL; a mandatory one, or
        # one the mapping names explicitly (not through a preset), must be there
        explicit = canonical in mapping.columns and export_name not in mapping.optional_headers
        if export_name not in seen and (canonical in required or explicit):
            hint = "" if export_name == canonical else f" (mapped from canonical {canonical!r})"
            # the header itself is the file's content: counted, not quoted (`cadence mapping check` shows it)
            problems.append((export_name, f"missing column{hint}; the header has {len(header)} column(s)"))
    used = mapping.expression_headers()
    for export_name, purpose in used.items():
        if export_name not in seen and export_name not in expected:
            problems.append((export_name, f"missing column (read by {purpose}); the header has {len(header)} "
                                          "column(s)"))
    for name in dict.fromkeys(header):
        if name not in expected and name not in used and name not in mapping.ignore_columns:
            problems.append((name, "unknown column: map it in config/sources.yml (columns) or list it in "
                                   "ignore_columns"))
    return problems


def check_columns(path: Path, header: list[str], entity: Entity, mapping: EntityMapping) -> None:
    """Missing, unknown or duplicated columns are errors naming the file and the column (the first one;
    `cadence mapping check` lists them all)."""
    for column, problem in column_problems(header, entity, mapping)[:1]:
        raise IngestError(path, problem, line=1 if "repeats" in problem else None, column=column)


def _parquet_types(con, path: Path) -> dict[str, str]:
    """Column -> DuckDB type of a Parquet file, in file order."""
    rows = con.execute(f"describe select * from read_parquet({quote_literal(str(path))})").fetchall()
    return {r[0]: r[1] for r in rows}


def _parquet_text(col: str, dtype: str) -> str:
    """A typed Parquet value as the text a CSV export would hold. An instant (TIMESTAMP WITH TIME ZONE) is
    written in UTC with `Z`, whatever this machine's zone (a plain cast would use the session's zone); a
    naive TIMESTAMP stays a wall clock without offset (then read in the lead's zone)."""
    if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"strftime(timezone('UTC', {col}), '%Y-%m-%dT%H:%M:%S') || 'Z'"
    if dtype.startswith("TIMESTAMP"):
        return f"strftime({col}, '%Y-%m-%dT%H:%M:%S')"
    return f"cast({col} as varchar)"


def _reader_sql(path: Path, header: list[str], mapping: EntityMapping, fmt: str) -> str:
    if fmt == "parquet":
        src = f"read_parquet({quote_literal(str(path))}, file_row_number=true)"
        return f"(select *, file_row_number + 1 as __row from {src})"
    cols = "{" + ", ".join(f"{quote_literal(h)}: 'VARCHAR'" for h in header) + "}"
    return (f"read_csv({quote_literal(str(path))}, auto_detect=false, header=true, "
            f"delim={quote_literal(mapping.delimiter)}, quote={quote_literal(mapping.quote)}, "
            f"escape={quote_literal(mapping.quote)}, columns={cols}, strict_mode=true, "
            f"store_rejects=true, rejects_table='__rejects', rejects_scan='__rejects_scan')")


@dataclass
class Export:
    """One file opened as a relation of text columns named by its header."""

    fmt: str                 # csv | parquet | ics
    sha256: str
    scan: FileScan | None
    readable: Path           # the UTF-8 CSV actually read (a transcoded copy, or the file)
    header: list[str]
    source: str              # SQL relation with the header's columns (all VARCHAR)
    row_expr: str            # SQL of the row's 1-based number in the file
    skipped: int = 0         # rows left out before the mapping (.ics: events outside the window)
    skipped_detail: str = ""


def open_export(con, path: Path, mapping: EntityMapping, month: str, workdir: Path) -> Export:
    """Open a CSV, Parquet or iCalendar file as a relation; raises IngestError naming the file."""
    suffix = path.suffix.lower()
    fmt = "parquet" if suffix == ".parquet" else "ics" if suffix == ".ics" else "csv"
    if path.stat().st_size == 0:
        raise IngestError(path, "the file is empty (0 bytes)")
    scan = scan_file(path)
    if fmt == "csv" and scan.nul_line is not None:
        raise IngestError(path, "NUL bytes: a binary file, or UTF-16 read as UTF-8? (declare the file's "
                          "encoding in config/sources.yml: csv.encoding)", line=scan.nul_line)
    if fmt == "parquet":
        try:
            header = [r[0] for r in con.execute(
                f"select name from parquet_schema({quote_literal(str(path))}) where num_children is null"
            ).fetchall()]
        except duckdb.Error as exc:
            raise IngestError(path, f"not a readable Parquet file: {exc}") from None
        # typed Parquet columns become text first, like CSV
        cast = ", ".join(f"{_parquet_text(quote_ident(h), t)} as {quote_ident(h)}"
                         for h, t in _parquet_types(con, path).items())
        return Export(fmt, scan.sha256, scan, path, header,
                      f"(select {cast}, __row from {_reader_sql(path, header, mapping, fmt)})", "__row")
    if fmt == "ics":
        return _open_ics(con, path, scan, month)
    readable = to_utf8(path, mapping.encoding, workdir)
    header = read_header(readable, mapping)
    return Export(fmt, scan.sha256, scan, readable, header, _reader_sql(readable, header, mapping, fmt),
                  "row_number() over ()")


def _open_ics(con, path: Path, scan: FileScan, month: str) -> Export:
    """An .ics file as a table (cadence.ics), bulk-inserted into a temp table; rows keep their VEVENT line."""
    try:
        table = ics.read_ics(path, month)
    except ics.IcsError as exc:
        raise IngestError(path, str(exc), line=exc.line) from None
    name = "__ics_" + hashlib.md5(str(path).encode()).hexdigest()[:12]
    cols = ", ".join(f"{quote_ident(c)} varchar" for c in ics.COLUMNS)
    con.execute(f"create or replace temp table {name} ({cols}, __row bigint)")
    if table.rows:
        import pandas as pd

        frame = pd.DataFrame(table.rows, columns=list(ics.COLUMNS))
        frame["__row"] = table.lines
        con.register("__ics_frame", frame)
        con.execute(f"insert into {name} select * from __ics_frame")
        con.unregister("__ics_frame")
    start, stop = table.window
    detail = (f"{table.outside} of {table.events} events have no occurrence from {start} to {stop} (the "
              "expansion window)") if table.outside else ""
    return Export("ics", scan.sha256, scan, path, list(ics.COLUMNS), name, "__row", table.outside, detail)


def load_file(con, path: Path, rel: str, entity: Entity, mapping: EntityMapping, month: str,
              run_id: str, loaded_at: datetime, workdir: Path, exported_at: datetime | None = None,
              leads: LeadIndex | None = None) -> FileLoad:
    """Load one file into raw.<table> (inside the caller's transaction), with its load log and rejects.
    Raises IngestError naming the file and the line or column. `cadence mapping check` runs it too, on an
    in-memory database, so what the check accepts is what a run loads. ``leads`` finds the month's leads
    when the mapping looks lead_id up (lead_by)."""
    entity = mapping.extend(entity)  # with the leads' declared attributes (segment dimensions)
    for extra in mapping.attributes:
        con.execute(f"alter table raw.{quote_ident(entity.table)} add column if not exists {quote_ident(extra)} "
                    "varchar")
    export = open_export(con, path, mapping, month, workdir)
    fmt, header, scan, readable, digest = export.fmt, export.header, export.scan, export.readable, export.sha256
    check_columns(path, header, entity, mapping)
    exprs = column_expressions(entity, mapping, header)
    lookup = mapping.lookup
    key_sql = expr_sql(lookup.items[0], mapping) if lookup is not None else "cast(null as varchar)"
    staged = f"__stage_{entity.table}"
    # newlines inside quoted fields, over every column of the export (ignored ones too): line accounting
    newlines = " + ".join(f"coalesce(length({quote_ident(h)}) - length(replace({quote_ident(h)}, chr(10), '')), 0)"
                          for h in header) if fmt == "csv" else "0"
    try:
        con.execute(f"create or replace temp table {quote_ident(staged)} as "
                    f"select {', '.join(exprs)}, {export.row_expr} as __k, {newlines} as __nl, "
                    f"{row_filter_sql(mapping)} as __keep, {key_sql} as __lk from {export.source}")
    except duckdb.Error as exc:
        msg = str(exc).split("\n\n")[0].replace("Invalid Input Error: ", "")
        raise IngestError(path, f"could not be read: {excerpt(msg, 160)}") from None
    rows = con.execute(f"select count(*) from {quote_ident(staged)}").fetchone()[0]
    rejected = footer = 0
    if fmt == "csv":
        rejects = con.execute(
            # DuckDB logs one reject per missing field of a short line: keep one per line.
            "select line, min(column_name), min(error_type), min(error_message), min(csv_line) "
            "from __rejects group by line order by line"
        ).fetchall()
        con.execute("delete from __rejects; delete from __rejects_scan")
        for line, _col, etype, _emsg, _raw in rejects:
            if "ENCODING" in str(etype).upper() or "UNICODE" in str(etype).upper():
                raise IngestError(path, f"bytes that are not valid {mapping.encoding} (declare the "
                                  f"file's encoding in config/sources.yml: csv.encoding)", line=line)
        if rows:
            blank = _blank_lines(con, staged, readable, mapping, scan, rows, len(rejects), path)
            rejects = sorted(rejects + [(line, None, "BLANK LINE", "an empty line: no field, skipped", "")
                                        for line in blank])
        if mapping.footer and rejects:
            # a report footer: the block of short or blank lines that ends the file (csv.footer)
            last = scan.lines
            while rejects and rejects[-1][0] == last:
                rejects.pop()
                footer += 1
                last -= 1
        rejected = len(rejects)
        if rejected and rows == 0:
            raise IngestError(path, f"no line could be parsed; first error: {excerpt(rejects[0][3], 160)}",
                              line=rejects[0][0])
        if rejected > max(1, mapping.max_reject_rate * (rows + rejected)):
            line, _c, _t, emsg, _r = rejects[0]
            raise IngestError(path, f"{rejected} of {rows + rejected} lines are malformed (more than "
                              f"max_reject_rate={mapping.max_reject_rate:.1%}); first: {excerpt(emsg, 160)}"
                              + ("" if mapping.footer else " (a report footer? csv: {footer: true})"), line=line)
        if rejects:
            con.executemany(
                "insert into raw._load_rejects values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(month, entity.source, entity.name, rel, line - 1, line, col, etype, emsg, raw_line,
                  run_id, loaded_at) for line, col, etype, emsg, raw_line in rejects],
            )
            # Accepted rows are numbered around the rejected lines: data row = k + rejects before it.
            con.execute(f"create or replace temp table __rej_rows as select row_number() over (order by line) as j, "
                        f"line from (values {', '.join(f'({r[0]})' for r in rejects)}) t(line)")
            con.execute(f"update {quote_ident(staged)} set __k = __k + (select count(*) from __rej_rows "
                        f"where __rej_rows.line - __rej_rows.j - 1 < {quote_ident(staged)}.__k)")
    kept = con.execute(f"select count(*) from {quote_ident(staged)} where __keep").fetchone()[0]
    if kept == 0 and not entity.optional:
        raise IngestError(path, "the file has a header but no data rows" if rows == 0 else
                          f"none of its {rows} rows is kept by the mapping's rows.keep / rows.skip")
    if lookup is not None:
        if leads is None:
            raise IngestError(path, "lead_id is found by lead_by, which needs the month's leads files")
        leads.resolve(con, staged, lookup, mapping, path)
    skipped = rows - kept + export.skipped
    details = [d for d in (export.skipped_detail,
                           f"{rows - kept} of {rows} rows left out by rows.keep / rows.skip" if rows - kept else "")
               if d]
    cols = ", ".join(quote_ident(c) for c in entity.columns)
    con.execute(
        f"insert into raw.{quote_ident(entity.table)} ({cols}, {', '.join(LINEAGE_COLUMNS)}) "
        f"select {cols}, ?, ?, __k, ?, ?, ? from {quote_ident(staged)} where __keep",
        [month, rel, digest, loaded_at, run_id],
    )
    con.execute(f"drop table {quote_ident(staged)}")
    con.execute("insert into raw._loads (_partition_month, source, entity, _source_file, _file_hash, rows_loaded, "
                "rows_rejected, _run_id, _loaded_at, exported_at, zone_rule, rows_skipped, footer_lines, "
                "skipped_detail) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [month, entity.source, entity.name, rel, digest, kept, rejected, run_id, loaded_at, exported_at,
                 mapping.zone_rule, skipped, footer, "; ".join(details) or None])
    return FileLoad(rel, digest, kept, rejected, skipped=skipped, footer=footer)


class LeadIndex:
    """The month's leads, read from the leads files with their mapping, to find a touch's lead by e-mail,
    phone or another column (`lead_id: {lead_by: {email: "Recipient"}}`). Read from the files, not from the
    warehouse, so a source's load does not depend on the order sources are loaded in."""

    def __init__(self, landing: Path, month: str, mappings: dict[tuple[str, str], EntityMapping], workdir: Path):
        self.landing, self.month, self.mappings, self.workdir = Path(landing), month, mappings, Path(workdir)
        self.tables: dict[tuple[str, int | None], str] = {}

    @staticmethod
    def compare(key: str) -> str:
        return "email" if key == "email" else "phone" if key == "phone" else "exact"

    @staticmethod
    def normalise(text: str, compare: str, last_digits: int | None) -> str:
        if compare == "email":
            return f"nullif(lower(trim({text})), '')"
        if compare == "phone":
            digits = f"regexp_replace(regexp_replace({text}, '[^0-9]', '', 'g'), '^00', '')"
            return f"nullif({f'right({digits}, {last_digits})' if last_digits else digits}, '')"
        return f"nullif(trim({text}), '')"

    def table(self, con, key: str, last_digits: int | None, user: Path) -> str:
        """A temp table (key, lead_id) of the month's leads; built once per key."""
        if (key, last_digits) in self.tables:
            return self.tables[(key, last_digits)]
        ent, mapping = entity("crm", "leads"), self.mappings[("crm", "leads")]
        files, looked = select_files(self.landing, ent, mapping, self.month)
        if not files:
            raise IngestError(user, f"lead_id is found by lead_by {key}, but there is no leads file for "
                              f"{self.month} (looked for {looked})")
        name = f"__leads_by_{len(self.tables)}"
        con.execute(f"create or replace temp table {name} (key varchar, lead_id varchar)")
        compare = self.compare(key)
        for path in files:
            export = open_export(con, path, mapping, self.month, self.workdir)
            exprs = dict(zip(ent.columns, column_expressions(ent, mapping, export.header), strict=True))
            if key in ent.columns:
                key_text = exprs[key].rsplit(" as ", 1)[0]
            elif key in export.header:
                key_text = f"nullif(trim({quote_ident(key)}), '')"
            else:
                raise IngestError(user, f"lead_by {key!r} is neither a canonical lead column nor a column of the "
                                  f"leads export {path.name} (its header: {export.header})")
            lead_text = exprs["lead_id"].rsplit(" as ", 1)[0]
            try:
                con.execute(f"insert into {name} select distinct {self.normalise('k', compare, last_digits)}, l "
                            f"from (select {key_text} as k, {lead_text} as l from {export.source} "
                            f"where {row_filter_sql(mapping)}) where l is not null")
            except duckdb.Error as exc:
                raise IngestError(path, f"could not be read for the lead lookup: {str(exc).splitlines()[0]}") \
                    from None
            con.execute("delete from __rejects; delete from __rejects_scan") if export.fmt == "csv" else None
        con.execute(f"delete from {name} where key is null")
        self.tables[(key, last_digits)] = name
        return name

    def resolve(self, con, staged: str, lookup: Expr, mapping: EntityMapping, path: Path) -> None:
        """Set lead_id of the staged rows from their lookup value (__lk): the lead whose key equals it (the
        first listed value that matches, with `split`). No match: the value itself for a plain id, a note for
        an e-mail or phone (no personal data in lead_id); several leads: a note. Staging then excludes those
        rows as unknown_lead, with their file and line."""
        key, source = lookup.lead_key or "", lookup.items[0]
        table = self.table(con, key, lookup.last_digits, path)
        compare = self.compare(key)
        listed = f"string_split(__lk, {quote_literal(lookup.split)})" if lookup.split else "[__lk]"
        norm = self.normalise("p.v", compare, lookup.last_digits)
        what = source.column if source.kind == "column" else "lead_by value"
        stg = quote_ident(staged)
        con.execute(f"""
            create or replace temp table __lead_hits as
            with parts as (
                select __k, unnest({listed}) as v, generate_subscripts({listed}, 1) as pos
                from {stg} where __keep and __lk is not null
            ), hits as (
                select p.__k, p.pos, count(distinct l.lead_id) as n, min(l.lead_id) as lead_id
                from parts p join {table} l on l.key = {norm}
                group by p.__k, p.pos
            )
            select __k, arg_min(n, pos) as n, arg_min(lead_id, pos) as lead_id from hits group by __k""")
        several = f"'(' || h.n || ' leads of the month have this {what.replace(chr(39), chr(39) * 2)})'"
        con.execute(f"update {stg} set lead_id = case when h.n = 1 then h.lead_id else {several} end "
                    f"from __lead_hits h where {stg}.__k = h.__k")
        unmatched = ("__lk" if compare == "exact" else
                     quote_literal(f"(no lead of the month has this {what})"))
        con.execute(f"update {stg} set lead_id = {unmatched} where __keep and __lk is not null and lead_id is null")


def _blank_lines(con, staged: str, readable: Path, mapping: EntityMapping, scan: FileScan, rows: int,
                 rejected: int, path: Path) -> list[int]:
    """Every physical line after the header must be a loaded row, a line inside a quoted field of one, or
    a rejected line. DuckDB skips empty lines without a word: find them (they are logged as rejects);
    anything else unaccounted for fails the load. Returns the blank lines' numbers."""
    embedded = con.execute(f"select coalesce(sum(__nl), 0) from {quote_ident(staged)}").fetchone()[0]
    missing = scan.lines - 1 - rows - int(embedded) - rejected
    if missing <= 0:
        return []
    blank = []
    with open(readable, encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=mapping.delimiter, quotechar=mapping.quote)
        for record in reader:
            if not record:
                blank.append(reader.line_num)
    if len(blank) != missing:
        raise IngestError(path, f"{missing} line(s) are neither loaded rows nor logged rejects "
                          f"({len(blank)} of them blank): the file cannot be accounted for line by line")
    return blank


def read_export_time(month_dir: Path) -> datetime | None:
    """The instant the month's extract was taken (naive UTC), from ``_extract.yml`` in its folder; None
    when the file is absent (the load time then serves)."""
    path = month_dir / EXTRACT_INFO
    if not path.is_file():
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise IngestError(path, f"not valid YAML ({type(exc).__name__}); write "
                          "`exported_at: 2026-12-01T06:00:00Z`") from None
    value = doc.get("exported_at") if isinstance(doc, dict) else None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise IngestError(path, "exported_at must be an ISO 8601 instant with its offset, e.g. "
                          "`exported_at: 2026-12-01T06:00:00Z` (a time without offset is ambiguous)")
    return value.astimezone(UTC).replace(tzinfo=None)


def load_source_month(con: duckdb.DuckDBPyConnection, source: str, month: str, landing_dir: Path,
                      mappings: dict[tuple[str, str], EntityMapping], run_id: str = "manual",
                      ) -> list[EntityLoad]:
    """Replace month ``month`` of every raw table of ``source`` with the files under
    ``landing_dir/<source>/<month>/`` (or the folder an entity's mapping names), atomically. Raises
    IngestError; nothing is changed then."""
    ensure_raw_tables(con)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    results: list[EntityLoad] = []
    con.execute("begin transaction")
    try:
        with tempfile.TemporaryDirectory(prefix="cadence-ingest-") as tmp:
            leads = LeadIndex(landing_dir, month, mappings, Path(tmp))
            for ent in entities_of(source):
                mapping = mappings[(ent.source, ent.name)]
                started = time.perf_counter()
                folder = month_folder(landing_dir, ent, mapping, month)
                exported_at = read_export_time(folder)
                files, looked = select_files(landing_dir, ent, mapping, month)
                if not files and not ent.optional:
                    raise IngestError(folder, f"no {source}/{ent.name} file for month {month} (looked for {looked})")
                previous = dict(con.execute(
                    "select _source_file, _file_hash from raw._loads where _partition_month = ? and source = ? "
                    "and entity = ?", [month, ent.source, ent.name]).fetchall())
                con.execute(f"delete from raw.{quote_ident(ent.table)} where _partition_month = ?", [month])
                for table in ("raw._load_rejects", "raw._loads", "raw._provided"):
                    con.execute(f"delete from {table} where _partition_month = ? and source = ? and entity = ?",
                                [month, ent.source, ent.name])
                load = EntityLoad(source, ent.name, f"raw.{ent.table}", provided=bool(files))
                for path in files:
                    rel = str(path.relative_to(landing_dir))
                    f = load_file(con, path, rel, ent, mapping, month, run_id, loaded_at, Path(tmp),
                                  exported_at, leads)
                    f.previous_sha256 = previous.get(rel)
                    load.files.append(f)
                    load.rows += f.rows
                    load.rejected += f.rejected
                detail = (f"{len(files)} file(s), {load.rows:,} rows" if files else
                          f"not provided for {month}: no file matching {looked}")
                con.execute("insert into raw._provided values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            [month, ent.source, ent.name, bool(files), len(files), load.rows, detail, run_id,
                             loaded_at])
                load.seconds = time.perf_counter() - started
                results.append(load)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return results
