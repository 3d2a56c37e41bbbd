"""Field mapping (``config/sources.yml``): how a source's real export maps onto the extract contract.

Pure functions: load and validate the YAML (vendor presets merged in, see :mod:`cadence.presets`), and turn
one entity's mapping plus a file's header into the SQL expressions that produce the canonical text
columns. Every transformation is SQL run by DuckDB at ingestion. Errors name the config file and the key.

A canonical column is mapped (``columns``) to an export header, or to a small expression over the export's
columns (docs/extract_contract.md, "Computed columns")::

    "Header"                                   the column as is
    null                                       absent by design
    {column: "Header"}  /  {value: "text"}     a column / one literal for every row
    {first_of: [A, B]}                         the first non-empty of A, B
    {join: [A, B], sep: " "}                   the non-empty values of A, B joined by sep
    {cases: [{when: COND, then: V}, ...], else: V}   V: a literal, or an expression ({column: X}, ...)
    {between: [START, END]}                    the time from START to END (timestamps of the file), in the
                                               column's unit (duration_seconds: seconds, ..._minutes: minutes)
    {lead_by: {email: "Header"}, split: ";", last_digits: 9}
                                               lead_id only: the month's lead whose email (phone, any
                                               canonical lead column, or a header of the leads export)
                                               equals this row's value (ingest.LeadIndex)

A condition (``COND``, also in ``rows: {keep: COND, skip: COND}``) is a mapping {header: match} (all must
hold) or a list of conditions (any holds); a match is a value ("" = empty), a list of values, or
{not: m} / {contains: v|[v..]} / {starts_with: v|[v..]} / {below: n} / {at_least: n}.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from cadence.contract import ENTITIES, Column, Entity

#: Units a number column of the export may be in (`units: {duration_seconds: milliseconds}`): seconds each.
UNITS = {"seconds": 1.0, "milliseconds": 0.001, "minutes": 60.0, "hours": 3600.0}
CLOCK_UNITS = ("hh:mm", "hh:mm:ss")
EPOCH_FORMATS = {"epoch_seconds": 1.0, "epoch_milliseconds": 0.001}
#: A timestamp text that carries its offset (or Z).
OFFSET_RE = r"(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$"


class MappingError(ValueError):
    """The field-mapping configuration is invalid."""


# --- expressions and conditions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cond:
    """A row condition over export columns: all/any of sub-conditions, or one column's match."""

    kind: str                            # all | any | not | eq | contains | starts_with | below | at_least
    items: tuple[Cond, ...] = ()
    column: str | None = None
    values: tuple[str, ...] = ()
    number: float | None = None

    def headers(self) -> set[str]:
        found = {self.column} if self.column else set()
        for item in self.items:
            found |= item.headers()
        return found


@dataclass(frozen=True)
class Expr:
    """A canonical column computed from the export's columns (see the module docstring)."""

    kind: str                            # column | value | first_of | join | cases | between | lead_by
    column: str | None = None
    value: str | None = None
    items: tuple[Expr, ...] = ()
    sep: str = " "
    when: tuple[Cond, ...] = ()          # cases: one condition per item (items[i] is its result)
    otherwise: Expr | None = None        # cases: else
    lead_key: str | None = None          # lead_by: the leads' column compared
    split: str | None = None             # lead_by: the cell holds several values separated by this
    last_digits: int | None = None       # lead_by phone: compare the last N digits

    def headers(self) -> set[str]:
        found = {self.column} if self.column else set()
        for item in self.items:
            found |= item.headers()
        for cond in self.when:
            found |= cond.headers()
        if self.otherwise is not None:
            found |= self.otherwise.headers()
        return found


def _text(value: Any) -> str:
    """A YAML scalar as the text an export would hold (booleans as true/false, None as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _scalars(where: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    for v in items:
        if isinstance(v, dict | list):
            raise MappingError(f"{where}: expected a value or a list of values, got {v!r}")
    return tuple(_text(v) for v in items)


MATCH_OPS = ("not", "contains", "starts_with", "below", "at_least")


def parse_cond(where: str, raw: Any) -> Cond:
    """A condition: {header: match, ...} (all) or [cond, ...] (any)."""
    if isinstance(raw, list):
        if not raw:
            raise MappingError(f"{where}: an empty list of conditions")
        return Cond("any", tuple(parse_cond(f"{where}[{i}]", c) for i, c in enumerate(raw)))
    if not isinstance(raw, dict) or not raw:
        raise MappingError(f"{where}: a condition is {{header: value}} (all must hold) or a list of them "
                           f"(any holds), got {raw!r}")
    return Cond("all", tuple(_parse_match(f"{where}.{h}", str(h), m) for h, m in raw.items()))


def _parse_match(where: str, column: str, raw: Any) -> Cond:
    if isinstance(raw, dict):
        if len(raw) != 1 or next(iter(raw)) not in MATCH_OPS:
            raise MappingError(f"{where}: {raw!r}: write a value, a list of values, or one of "
                               + ", ".join(f"{{{op}: ...}}" for op in MATCH_OPS))
        op, arg = next(iter(raw.items()))
        if op == "not":
            return Cond("not", (_parse_match(where, column, arg),))
        if op in ("below", "at_least"):
            if isinstance(arg, bool) or not isinstance(arg, int | float):
                raise MappingError(f"{where}.{op}: {arg!r} is not a number")
            return Cond(op, column=column, number=float(arg))
        return Cond(op, column=column, values=_scalars(f"{where}.{op}", arg))
    return Cond("eq", column=column, values=_scalars(where, raw))


EXPR_KEYS = {"column", "value", "first_of", "join", "cases", "between", "lead_by"}


def parse_expr(where: str, raw: Any, *, literal: bool = False, allow_lookup: bool = False) -> Expr:
    """An expression. A plain string is a header, or with ``literal`` (a `cases` result) a value."""
    if not isinstance(raw, dict):
        if isinstance(raw, list):
            raise MappingError(f"{where}: {raw!r}: a list is not a column; did you mean {{first_of: [...]}} "
                               "or {join: [...]}?")
        return Expr("value", value=_text(raw)) if literal else Expr("column", column=_text(raw))
    keys = set(raw) & EXPR_KEYS
    if len(keys) != 1:
        raise MappingError(f"{where}: {raw!r}: write exactly one of {sorted(EXPR_KEYS)}")
    kind = keys.pop()
    beside = {"join": {"sep"}, "cases": {"else"}, "lead_by": {"split", "last_digits"}}.get(kind, set())
    extra = set(raw) - {kind} - beside
    if extra:
        raise MappingError(f"{where}: unknown key(s) {sorted(extra)} beside {kind}")
    arg = raw[kind]
    if kind == "column":
        return Expr("column", column=_text(arg))
    if kind == "value":
        return Expr("value", value=_text(arg))
    if kind in ("first_of", "join", "between"):
        if not isinstance(arg, list) or len(arg) < (2 if kind == "between" else 1) or (
                kind == "between" and len(arg) != 2):
            need = "[START, END]" if kind == "between" else "a list of columns"
            raise MappingError(f"{where}.{kind}: expected {need}, got {arg!r}")
        items = tuple(parse_expr(f"{where}.{kind}[{i}]", a) for i, a in enumerate(arg))
        return Expr(kind, items=items, sep=_text(raw.get("sep", " ")))
    if kind == "cases":
        if not isinstance(arg, list) or not arg:
            raise MappingError(f"{where}.cases: expected a list of {{when: ..., then: ...}}")
        whens, thens = [], []
        for i, case in enumerate(arg):
            if not isinstance(case, dict) or set(case) != {"when", "then"}:
                raise MappingError(f"{where}.cases[{i}]: expected {{when: CONDITION, then: VALUE}}, got {case!r}")
            whens.append(parse_cond(f"{where}.cases[{i}].when", case["when"]))
            thens.append(parse_expr(f"{where}.cases[{i}].then", case["then"], literal=True))
        otherwise = parse_expr(f"{where}.else", raw["else"], literal=True) if "else" in raw else None
        return Expr("cases", items=tuple(thens), when=tuple(whens), otherwise=otherwise)
    # lead_by
    if not allow_lookup:
        raise MappingError(f"{where}: lead_by finds a lead_id; it maps only lead_id (not in leads)")
    if not isinstance(arg, dict) or len(arg) != 1:
        raise MappingError(f"{where}.lead_by: expected {{<leads column>: <this export's column>}}, e.g. "
                           "{email: \"Recipient\"}, got " + repr(arg))
    key, source = next(iter(arg.items()))
    digits = raw.get("last_digits")
    if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int) or digits < 4):
        raise MappingError(f"{where}.last_digits: expected a number of digits (>= 4), got {digits!r}")
    split = raw.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        raise MappingError(f"{where}.split: expected a separator such as \";\", got {split!r}")
    return Expr("lead_by", items=(parse_expr(f"{where}.lead_by.{key}", source),), lead_key=str(key),
                split=split, last_digits=digits)


# --- one entity's mapping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityMapping:
    files: tuple[str, ...]
    delimiter: str = ","
    encoding: str = "utf-8"
    quote: str = '"'
    columns: dict[str, Any] = field(default_factory=dict)   # canonical -> header | None | Expr
    ignore_columns: tuple[str, ...] = ()
    timestamp_formats: tuple[str, ...] = ()
    epoch_unit: float | None = None      # epoch_seconds (1) / epoch_milliseconds (0.001)
    timezone_column: str | None = None
    timezone: str | None = None          # a fixed IANA zone (or, with timezone_column, the default zone)
    timezone_from_lead: bool = False     # `timezone: {from: lead}`: naive times are in each lead's zone
    decimal: str = "."
    true_values: tuple[str, ...] = ("true", "1", "yes", "y", "t")
    false_values: tuple[str, ...] = ("false", "0", "no", "n", "f")
    max_reject_rate: float = 0.01
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    folder: str | None = None            # landing/<folder>/<month>/ holds the files (default: the source's)
    header_has: tuple[str, ...] = ()     # only the files whose header has these columns are this entity's
    footer: bool = False                 # csv.footer: trailing short lines are a report footer, skipped
    rows_keep: Cond | None = None
    rows_skip: Cond | None = None
    units: dict[str, str] = field(default_factory=dict)
    replace: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Lead attributes beyond the contract (e.g. origin, region, job), carried as text for the scoping
    #: note's segment dimensions: name -> the export's header. Only the CRM leads have them.
    attributes: dict[str, str] = field(default_factory=dict)
    preset: str | None = None            # the vendor preset this mapping came from (docs, messages)
    #: headers a preset maps to optional columns: an export without them loads those columns as NULL
    optional_headers: frozenset[str] = frozenset()

    @property
    def timestamp_format(self) -> str | None:
        """The first declared format (None: ISO 8601 texts)."""
        return self.timestamp_formats[0] if self.timestamp_formats else None

    def extend(self, entity: Entity) -> Entity:
        """The entity with this mapping's attributes as extra text columns (what a file loads into raw)."""
        if not self.attributes:
            return entity
        extra = tuple(a for a in self.attributes if a not in entity.columns)
        return dc_replace(entity, columns=entity.columns + extra, specs=entity.specs + tuple(
            Column(a, "text", "lead attribute (sources.yml)") for a in extra))

    @property
    def zone_rule(self) -> str | None:
        """In which zone staging reads this file's naive local times (recorded per file in raw._loads):
        'lead' (each row's lead's zone), an IANA zone, or None (the texts carry their offsets; a naive one is
        then a defect, read in the lead's zone and flagged). Epoch timestamps are instants: None."""
        if self.epoch_unit is not None:
            return None
        if self.timezone_from_lead or self.timezone_column:
            return "lead"
        return self.timezone

    @property
    def lookup(self) -> Expr | None:
        """The lead_by expression of lead_id, if the lead is found by another column."""
        spec = self.columns.get("lead_id")
        return spec if isinstance(spec, Expr) and spec.kind == "lead_by" else None

    def header_for(self, canonical: str) -> str | None:
        """The export's header for a canonical column mapped to a plain column (None: absent from this
        export by design, given by a constant, or computed by an expression)."""
        if canonical in self.constants:
            return None
        spec = self.columns.get(canonical, canonical)
        if isinstance(spec, Expr):
            return spec.column if spec.kind == "column" else None
        return spec

    def expression_headers(self) -> dict[str, str]:
        """Headers named by expressions, conditions and the row filter -> what needs them (they must be in
        the file)."""
        found: dict[str, str] = {}
        for canonical, spec in self.columns.items():
            if isinstance(spec, Expr) and spec.kind != "column" and canonical not in self.constants:
                for h in sorted(spec.headers()):
                    found.setdefault(h, canonical)
        for name, cond in (("rows.keep", self.rows_keep), ("rows.skip", self.rows_skip)):
            for h in sorted(cond.headers() if cond else ()):
                found.setdefault(h, name)
        return found


ENTITY_KEYS = {"files", "folder", "header_has", "csv", "columns", "ignore_columns", "timestamps", "decimal",
               "booleans", "max_reject_rate", "constants", "values", "rows", "units", "replace"}


def _entity_mapping(where: str, raw: dict[str, Any], entity: Entity, preset: str | None = None,
                    optional_headers: frozenset[str] = frozenset()) -> EntityMapping:
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: expected a mapping of keys, got {raw!r}")
    allowed = ENTITY_KEYS | ({"attributes"} if entity.name == "leads" else set())
    unknown = set(raw) - allowed
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    files = raw.get("files") or [f"{entity.name}*.csv", f"{entity.name}*.parquet"]
    if isinstance(files, str):
        files = [files]
    csv_opts = raw.get("csv") or {}
    bad_csv = set(csv_opts) - {"delimiter", "encoding", "quote", "footer"}
    if bad_csv:
        raise MappingError(f"{where}.csv: unknown key(s) {sorted(bad_csv)}; allowed: delimiter, encoding, "
                           "quote, footer")
    encoding = str(csv_opts.get("encoding", "utf-8"))
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise MappingError(f"{where}.csv.encoding: unknown encoding {encoding!r}") from exc
    delimiter = str(csv_opts.get("delimiter", ","))
    if len(delimiter) != 1:
        raise MappingError(f"{where}.csv.delimiter: must be one character, got {delimiter!r}")
    raw_columns = raw.get("columns") or {}
    bad = sorted(set(raw_columns) - set(entity.columns))
    if bad:
        raise MappingError(
            f"{where}.columns: {bad} are not columns of {entity.source}/{entity.name}; "
            f"canonical columns are {list(entity.columns)}"
        )
    attributes = _attributes(where, raw.get("attributes"), entity)
    columns: dict[str, Any] = {}
    for col, spec in raw_columns.items():
        if spec is None:
            if col in entity.required:
                raise MappingError(f"{where}.columns.{col}: a mandatory column cannot be mapped to null")
            columns[col] = None
        elif isinstance(spec, dict):
            expr = parse_expr(f"{where}.columns.{col}", spec,
                              allow_lookup=(col == "lead_id" and entity.name != "leads"))
            if expr.kind == "column":
                columns[col] = expr.column
                continue
            if expr.kind == "between" and not (col.endswith("_seconds") or col.endswith("_minutes")):
                raise MappingError(f"{where}.columns.{col}: between gives a duration; {col} is not one")
            columns[col] = expr
        else:
            columns[col] = _text(spec)
    constants = {str(k): _text(v) for k, v in (raw.get("constants") or {}).items()}
    # an empty cell is recoded by the key "" (or ~): e.g. `values: {channel: {"": unknown}}`
    values = {str(k): {_text(a).strip(): _text(b) for a, b in (v or {}).items()}
              for k, v in (raw.get("values") or {}).items()}
    replace = {str(k): {_text(a): _text(b) for a, b in (v or {}).items()}
               for k, v in (raw.get("replace") or {}).items()}
    units = {str(k): str(v) for k, v in (raw.get("units") or {}).items()}
    for key, block in (("constants", constants), ("values", values), ("replace", replace), ("units", units)):
        bad = sorted(set(block) - set(entity.columns))
        if bad:
            raise MappingError(f"{where}.{key}: {bad} are not columns of {entity.source}/{entity.name}")
    for col, unit in units.items():
        target = "seconds" if col.endswith("_seconds") else "minutes" if col.endswith("_minutes") else None
        if target is None:
            raise MappingError(f"{where}.units.{col}: units apply to durations (…_seconds, …_minutes)")
        if unit not in UNITS and unit not in CLOCK_UNITS:
            raise MappingError(f"{where}.units.{col}: {unit!r}; known units: {sorted(UNITS) + list(CLOCK_UNITS)}")
        if isinstance(columns.get(col), Expr) and columns[col].kind == "between":
            raise MappingError(f"{where}.units.{col}: between already gives {target}; drop the unit")
    ts = raw.get("timestamps") or {}
    bad_ts = set(ts) - {"format", "timezone", "timezone_column"}
    if bad_ts:
        raise MappingError(f"{where}.timestamps: unknown key(s) {sorted(bad_ts)}; allowed: format, timezone, "
                           "timezone_column")
    fmt = ts.get("format")
    formats = tuple(str(f) for f in (fmt if isinstance(fmt, list) else [fmt] if fmt else []))
    epoch = None
    if any(f in EPOCH_FORMATS for f in formats):
        if len(formats) != 1:
            raise MappingError(f"{where}.timestamps.format: {formats[0]!r} cannot be mixed with other formats")
        epoch = EPOCH_FORMATS[formats[0]]
        formats = ()
    for f in formats:
        if "%" not in f:
            raise MappingError(f"{where}.timestamps.format: {f!r} is not a strptime format (e.g. \"%d/%m/%Y %H:%M\"), "
                               f"nor one of {sorted(EPOCH_FORMATS)}")
    if ts.get("timezone_column") and ts["timezone_column"] not in entity.columns:
        raise MappingError(f"{where}.timestamps.timezone_column: {ts['timezone_column']!r} is not a "
                           f"canonical column of {entity.source}/{entity.name}")
    zone, from_lead = ts.get("timezone"), False
    if isinstance(zone, dict):
        if zone != {"from": "lead"}:
            raise MappingError(f"{where}.timestamps.timezone: {zone!r}: write an IANA zone (Europe/Paris) or "
                               "{from: lead} (each row's lead's zone)")
        zone, from_lead = None, True
    if zone is not None:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(f"{where}.timestamps.timezone: {zone!r} is not an IANA time zone "
                               "(e.g. Europe/Paris), nor {from: lead}") from None
        zone = str(zone)
    rows = raw.get("rows") or {}
    if set(rows) - {"keep", "skip"}:
        raise MappingError(f"{where}.rows: unknown key(s) {sorted(set(rows) - {'keep', 'skip'})}; allowed: "
                           "keep (only the rows matching), skip (not the rows matching)")
    folder = raw.get("folder")
    if folder is not None and folder not in {e.source for e in ENTITIES}:
        raise MappingError(f"{where}.folder: {folder!r} is not a source folder; known: "
                           f"{sorted({e.source for e in ENTITIES})}")
    booleans = raw.get("booleans") or {}
    kwargs: dict[str, Any] = {}
    if booleans:
        kwargs["true_values"] = tuple(_text(v).lower() for v in booleans.get(True, booleans.get("true", [])))
        kwargs["false_values"] = tuple(_text(v).lower() for v in booleans.get(False, booleans.get("false", [])))
    header_has = raw.get("header_has") or ()
    columns = {**columns, **attributes}
    return EntityMapping(
        files=tuple(files),
        delimiter=delimiter,
        encoding=encoding,
        quote=str(csv_opts.get("quote", '"')),
        footer=bool(csv_opts.get("footer", False)),
        columns=columns,
        ignore_columns=tuple(raw.get("ignore_columns") or ()),
        timestamp_formats=formats,
        epoch_unit=epoch,
        timezone_column=ts.get("timezone_column"),
        timezone=zone,
        timezone_from_lead=from_lead,
        decimal=str(raw.get("decimal", ".")),
        max_reject_rate=float(raw.get("max_reject_rate", 0.01)),
        constants=constants,
        values=values,
        attributes=attributes,
        folder=folder,
        header_has=tuple(str(h) for h in ([header_has] if isinstance(header_has, str) else header_has)),
        rows_keep=parse_cond(f"{where}.rows.keep", rows["keep"]) if "keep" in rows else None,
        rows_skip=parse_cond(f"{where}.rows.skip", rows["skip"]) if "skip" in rows else None,
        units=units,
        replace=replace,
        preset=preset,
        optional_headers=optional_headers,
        **kwargs,
    )


def _attributes(where: str, raw: Any, entity: Entity) -> dict[str, str]:
    """`attributes: [origin, region]` (same header) or `{job: "Métier"}`: lead columns for segments."""
    if raw is None:
        return {}
    items = {str(a): str(a) for a in raw} if isinstance(raw, list) else raw
    if not isinstance(items, dict):
        raise MappingError(f"{where}.attributes: a list of names, or a mapping name -> the export's header")
    out = {}
    for name, header in items.items():
        name = str(name)
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
            raise MappingError(f"{where}.attributes.{name}: a lower-case name (letters, digits, _), e.g. origin")
        if name in entity.columns:
            raise MappingError(f"{where}.attributes.{name}: already a contract column (map it under columns)")
        if header is None or not str(header).strip():
            raise MappingError(f"{where}.attributes.{name}: name the export's header")
        out[name] = str(header)
    return out


def load_mapping(path: Path) -> dict[tuple[str, str], EntityMapping]:
    """Read ``sources.yml``; every contract entity gets a mapping (defaults where the file is silent). A
    source naming a vendor preset (``preset: hubspot``) inherits its entity mappings, the file's own keys
    overriding them (cadence.presets)."""
    from cadence.presets import resolve_source

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise MappingError(f"{path}: field-mapping file not found") from exc
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from exc
    sources = doc.get("sources") or {}
    known_sources = {e.source for e in ENTITIES}
    unknown = set(sources) - known_sources
    if unknown:
        raise MappingError(f"{path}: unknown source(s) {sorted(unknown)}; known: {sorted(known_sources)}")
    result: dict[tuple[str, str], EntityMapping] = {}
    resolved = {name: resolve_source(Path(path), name, block or {}) for name, block in sources.items()}
    for entity in ENTITIES:
        ents, preset, optional = resolved.get(entity.source, ({}, None, {}))
        extra = set(ents) - {e.name for e in ENTITIES if e.source == entity.source}
        if extra:
            raise MappingError(f"{path}: sources.{entity.source}.entities: unknown entity {sorted(extra)}")
        where = f"{path}: sources.{entity.source}.entities.{entity.name}"
        if preset:
            where += f" (preset {preset})"
        result[(entity.source, entity.name)] = _entity_mapping(
            where, ents.get(entity.name) or {}, entity, preset if entity.name in ents else None,
            frozenset(optional.get(entity.name, ())))
    return result


# --- SQL ------------------------------------------------------------------------------------------------


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def cond_sql(cond: Cond, decimal: str = ".") -> str:
    """SQL boolean (never NULL) for a condition over the export's text columns."""
    if cond.kind in ("all", "any"):
        joiner = " and " if cond.kind == "all" else " or "
        return "(" + joiner.join(cond_sql(c, decimal) for c in cond.items) + ")"
    if cond.kind == "not":
        return f"(not {cond_sql(cond.items[0], decimal)})"
    cell = f"coalesce(trim({quote_ident(cond.column or '')}), '')"
    if cond.kind in ("eq", "contains", "starts_with") and not cond.values:
        return "false"  # an empty list of values (e.g. a preset setting left empty) matches nothing
    if cond.kind == "eq":
        return f"({cell} in ({', '.join(quote_literal(v) for v in cond.values)}))"
    if cond.kind in ("contains", "starts_with"):
        return "(" + " or ".join(f"{cond.kind}({cell}, {quote_literal(v)})" for v in cond.values) + ")"
    number = f"try_cast(replace({cell}, {quote_literal(decimal)}, '.') as double)"
    op = "<" if cond.kind == "below" else ">="
    return f"coalesce({number} {op} {cond.number!r}, false)"


def expr_sql(expr: Expr, mapping: EntityMapping, target: str | None = None) -> str:
    """SQL text (NULL when empty) of an expression over the export's columns. ``target`` is the canonical
    column (its unit for `between`)."""
    if expr.kind == "column":
        return f"nullif(trim({quote_ident(expr.column or '')}), '')"
    if expr.kind == "value":
        return f"nullif({quote_literal(expr.value or '')}, '')"
    if expr.kind == "first_of":
        return "coalesce(" + ", ".join(expr_sql(e, mapping, target) for e in expr.items) + ")"
    if expr.kind == "join":
        parts = ", ".join(expr_sql(e, mapping, target) for e in expr.items)
        return f"nullif(concat_ws({quote_literal(expr.sep)}, {parts}), '')"
    if expr.kind == "cases":
        whens = " ".join(f"when {cond_sql(c, mapping.decimal)} then {expr_sql(e, mapping, target)}"
                         for c, e in zip(expr.when, expr.items, strict=True))
        otherwise = expr_sql(expr.otherwise, mapping, target) if expr.otherwise is not None else "null"
        return f"(case {whens} else {otherwise} end)"
    if expr.kind == "between":
        start, end = (epoch_seconds_sql(expr_sql(e, mapping), mapping) for e in expr.items)
        per = 60.0 if (target or "").endswith("_minutes") else 1.0
        return f"cast(cast(round(({end} - {start}) / {per!r}) as bigint) as varchar)"
    raise MappingError(f"{expr.kind} is computed at ingestion (lead_by), not as a column expression")


def epoch_seconds_sql(text: str, mapping: EntityMapping) -> str:
    """Seconds since 1970 of a timestamp text of this file (its declared format; a naive wall clock counts
    as if UTC, which is right for a difference of two times of the same row)."""
    if mapping.epoch_unit is not None:
        return f"(try_cast({text} as double) * {mapping.epoch_unit!r})"
    iso = (f"(case when regexp_matches({text}, '{OFFSET_RE}') then epoch(try_cast({text} as timestamptz)) "
           f"else epoch(try_cast({text} as timestamp)) end)")
    if not mapping.timestamp_formats:
        return iso
    return f"coalesce(epoch(try_strptime({text}, {_formats_sql(mapping)})), {iso})"


def _formats_sql(mapping: EntityMapping) -> str:
    return "[" + ", ".join(quote_literal(f) for f in mapping.timestamp_formats) + "]"


def _source_sql(col: str, entity: Entity, mapping: EntityMapping, present: set[str] | None) -> str | None:
    """The SQL text of a canonical column before recoding (None: absent)."""
    if col in mapping.constants:
        return quote_literal(mapping.constants[col])
    spec = mapping.columns.get(col, col)
    if isinstance(spec, Expr):
        if spec.kind == "lead_by":
            return None  # filled in by ingestion's lead lookup
        return expr_sql(spec, mapping, col)
    if spec is None or (present is not None and spec not in present):
        return None
    return f"nullif(trim({quote_ident(spec)}), '')"


def column_expressions(entity: Entity, mapping: EntityMapping, header: list[str] | None = None) -> list[str]:
    """SQL expressions (one per canonical column, aliased) over a relation whose columns are the
    export's headers (``header``), all VARCHAR. Values are trimmed; empty strings become NULL. A canonical
    column whose header the file lacks (optional, not mapped explicitly) is NULL."""
    exprs: list[str] = []
    present = set(header) if header is not None else None
    for col in entity.columns:
        value = _source_sql(col, entity, mapping, present)
        if value is None:
            exprs.append(f"cast(null as varchar) as {quote_ident(col)}")
            continue
        for old, new in mapping.replace.get(col, {}).items():
            value = f"replace({value}, {quote_literal(old)}, {quote_literal(new)})"
        if col in mapping.values:
            # recoded before emptiness is decided, so an empty cell can be recoded too ("" -> unknown)
            text = f"coalesce({value}, '')"
            cases = " ".join(f"when {quote_literal(a)} then {quote_literal(b)}" for a, b in mapping.values[col].items())
            value = f"nullif((case {text} {cases} else {text} end), '')"
        if entity.name == "leads" and col == "lead_timezone":
            # an IANA name in another case (europe/paris) is that zone
            value = (f"coalesce((select min(name) from pg_timezone_names() where lower(name) = lower({value})), "
                     f"{value})")
        if col == mapping.timezone_column and mapping.timezone and col not in mapping.constants:
            value = f"coalesce({value}, {quote_literal(mapping.timezone)})"  # the declared default zone
        if col in entity.decimals and mapping.decimal != ".":
            value = f"replace({value}, {quote_literal(mapping.decimal)}, '.')"
        if col in mapping.units:
            value = _unit_expr(value, col, mapping.units[col])
        if col in entity.booleans:
            trues = ", ".join(quote_literal(v) for v in mapping.true_values) or "''"
            falses = ", ".join(quote_literal(v) for v in mapping.false_values) or "''"
            value = (f"case when lower({value}) in ({trues}) then 'true' "
                     f"when lower({value}) in ({falses}) then 'false' else {value} end")
        if col in entity.timestamps and (mapping.timestamp_formats or mapping.epoch_unit is not None):
            value = _timestamp_expr(value, entity, mapping, present)
        exprs.append(f"{value} as {quote_ident(col)}")
    return exprs


def _unit_expr(value: str, col: str, unit: str) -> str:
    """A duration in the export's unit -> the canonical column's (seconds or minutes), rounded. A value
    that does not parse is passed through (staging logs it as bad_number)."""
    per = 60.0 if col.endswith("_minutes") else 1.0
    if unit in CLOCK_UNITS:
        pattern = r"^([0-9]+):([0-9]{2})$" if unit == "hh:mm" else r"^([0-9]+):([0-9]{2}):([0-9]{2})$"
        secs = (f"(cast(regexp_extract({value}, '{pattern}', 1) as double) * 3600 + "
                f"cast(regexp_extract({value}, '{pattern}', 2) as double) * 60"
                + (f" + cast(regexp_extract({value}, '{pattern}', 3) as double))" if unit == "hh:mm:ss" else ")"))
        parsed = f"case when regexp_matches({value}, '{pattern}') then {secs} end"
    else:
        parsed = f"try_cast({value} as double) * {UNITS[unit]!r}"
    return f"coalesce(cast(cast(round(({parsed}) / {per!r}) as bigint) as varchar), {value})"


def _timestamp_expr(value: str, entity: Entity, mapping: EntityMapping, present: set[str] | None = None) -> str:
    """A timestamp in the declared format -> ISO 8601 text. Epoch seconds/milliseconds are instants: UTC
    with `Z`. A local time in a custom format becomes its ISO wall clock, without offset: the zone it is
    read in is recorded per file (``EntityMapping.zone_rule``, raw._loads) and applied in staging, by one
    rule for every source (DST gaps and overlaps resolved and flagged there, never shifted silently here).
    A text that already is ISO 8601 is kept as is.

    A value that does not parse is passed through unchanged, so staging logs it as a bad timestamp
    instead of the load silently turning it into NULL."""
    if mapping.epoch_unit is not None:
        micros = f"cast(round(try_cast({value} as double) * {mapping.epoch_unit * 1_000_000!r}) as bigint)"
        return f"coalesce(strftime(make_timestamp({micros}), '%Y-%m-%dT%H:%M:%S') || 'Z', {value})"
    local = f"try_strptime({value}, {_formats_sql(mapping)})"
    return f"coalesce(strftime({local}, '%Y-%m-%dT%H:%M:%S'), {value})"


def row_filter_sql(mapping: EntityMapping) -> str:
    """SQL boolean: the row belongs to this entity (rows.keep and not rows.skip)."""
    parts = []
    if mapping.rows_keep is not None:
        parts.append(cond_sql(mapping.rows_keep, mapping.decimal))
    if mapping.rows_skip is not None:
        parts.append(f"not {cond_sql(mapping.rows_skip, mapping.decimal)}")
    return " and ".join(parts) if parts else "true"
