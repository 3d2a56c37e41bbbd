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

from cadence.contract import EXTRACT_INFO, LINEAGE_COLUMNS, Entity, entities_of
from cadence.mapping import EntityMapping, column_expressions, quote_ident, quote_literal
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


def column_problems(header: list[str], entity: Entity, mapping: EntityMapping) -> list[tuple[str, str]]:
    """Every (column, problem) of a file's header against the entity's mapping: repeated, missing (a
    mandatory column, or one the mapping names explicitly) and unknown columns."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append((name, "the header repeats this column"))
        seen.add(name)
    expected = {mapping.header_for(c): c for c in entity.columns if mapping.header_for(c) is not None}
    for export_name, canonical in expected.items():
        # an optional column the export lacks needs no mapping line: it loads as NULL; a mandatory one, or
        # one the mapping names explicitly, must be there
        if export_name not in seen and (canonical in entity.required or canonical in mapping.columns):
            hint = "" if export_name == canonical else f" (mapped from canonical {canonical!r})"
            # the header itself is the file's content: counted, not quoted (`cadence mapping check` shows it)
            problems.append((export_name, f"missing column{hint}; the header has {len(header)} column(s)"))
    for name in dict.fromkeys(header):
        if name not in expected and name not in mapping.ignore_columns:
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


def load_file(con, path: Path, rel: str, entity: Entity, mapping: EntityMapping, month: str,
              run_id: str, loaded_at: datetime, workdir: Path, exported_at: datetime | None = None) -> FileLoad:
    """Load one file into raw.<table> (inside the caller's transaction), with its load log and rejects.
    Raises IngestError naming the file and the line or column. `cadence mapping check` runs it too, on an
    in-memory database, so what the check accepts is what a run loads."""
    fmt = "parquet" if path.suffix.lower() == ".parquet" else "csv"
    scan = scan_file(path)
    digest = scan.sha256
    if path.stat().st_size == 0:
        raise IngestError(path, "the file is empty (0 bytes)")
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
        check_columns(path, header, entity, mapping)
        readable = path
    else:
        readable = to_utf8(path, mapping.encoding, workdir)
        header = read_header(readable, mapping)
        check_columns(path, header, entity, mapping)
    exprs = column_expressions(entity, mapping, header)
    if fmt == "parquet":  # typed Parquet columns become text first, like CSV
        cast = ", ".join(f"{_parquet_text(quote_ident(h), t)} as {quote_ident(h)}"
                         for h, t in _parquet_types(con, path).items())
        source = f"(select {cast}, __row from {_reader_sql(readable, header, mapping, fmt)})"
        row_expr = "__row"
    else:
        source = _reader_sql(readable, header, mapping, fmt)
        row_expr = "row_number() over ()"
    staged = f"__stage_{entity.table}"
    # newlines inside quoted fields, over every column of the export (ignored ones too): line accounting
    newlines = " + ".join(f"coalesce(length({quote_ident(h)}) - length(replace({quote_ident(h)}, chr(10), '')), 0)"
                          for h in header) if fmt == "csv" else "0"
    try:
        con.execute(f"create or replace temp table {quote_ident(staged)} as "
                    f"select {', '.join(exprs)}, {row_expr} as __k, {newlines} as __nl from {source}")
    except duckdb.Error as exc:
        msg = str(exc).split("\n\n")[0].replace("Invalid Input Error: ", "")
        raise IngestError(path, f"could not be read: {excerpt(msg, 160)}") from None
    rows = con.execute(f"select count(*) from {quote_ident(staged)}").fetchone()[0]
    rejected = 0
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
        rejected = len(rejects)
        if rejected and rows == 0:
            raise IngestError(path, f"no line could be parsed; first error: {excerpt(rejects[0][3], 160)}",
                              line=rejects[0][0])
        if rejected > max(1, mapping.max_reject_rate * (rows + rejected)):
            line, _c, _t, emsg, _r = rejects[0]
            raise IngestError(path, f"{rejected} of {rows + rejected} lines are malformed (more than "
                              f"max_reject_rate={mapping.max_reject_rate:.1%}); first: {excerpt(emsg, 160)}", line=line)
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
    if rows == 0 and not entity.optional:
        raise IngestError(path, "the file has a header but no data rows")
    cols = ", ".join(quote_ident(c) for c in entity.columns)
    con.execute(
        f"insert into raw.{quote_ident(entity.table)} ({cols}, {', '.join(LINEAGE_COLUMNS)}) "
        f"select {cols}, ?, ?, __k, ?, ?, ? from {quote_ident(staged)}",
        [month, rel, digest, loaded_at, run_id],
    )
    con.execute(f"drop table {quote_ident(staged)}")
    con.execute("insert into raw._loads (_partition_month, source, entity, _source_file, _file_hash, rows_loaded, "
                "rows_rejected, _run_id, _loaded_at, exported_at, zone_rule) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [month, entity.source, entity.name, rel, digest, rows, rejected, run_id, loaded_at, exported_at,
                 mapping.zone_rule])
    return FileLoad(rel, digest, rows, rejected)


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
    ``landing_dir/<source>/<month>/``, atomically. Raises IngestError; nothing is changed then."""
    ensure_raw_tables(con)
    month_dir = landing_dir / source / month
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    exported_at = read_export_time(month_dir)
    results: list[EntityLoad] = []
    con.execute("begin transaction")
    try:
        with tempfile.TemporaryDirectory(prefix="cadence-ingest-") as tmp:
            for ent in entities_of(source):
                mapping = mappings[(ent.source, ent.name)]
                started = time.perf_counter()
                files = find_files(month_dir, mapping.files, landing_dir)
                if not files and not ent.optional:
                    raise IngestError(month_dir, f"no {source}/{ent.name} file for month {month} "
                                      f"(looked for {list(mapping.files)})")
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
                                   exported_at)
                    f.previous_sha256 = previous.get(rel)
                    load.files.append(f)
                    load.rows += f.rows
                    load.rejected += f.rejected
                detail = (f"{len(files)} file(s), {load.rows:,} rows" if files else
                          f"not provided for {month}: no file matching {list(mapping.files)} in {source}/{month}/")
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
