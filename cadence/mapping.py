"""Field mapping (``config/sources.yml``): how a source's real export maps onto the extract contract.

Pure functions: load and validate the YAML, and turn one entity's mapping plus a file's header into the
SQL expressions that produce the canonical text columns. Errors name the config file and the key.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from cadence.contract import ENTITIES, Column, Entity


class MappingError(ValueError):
    """The field-mapping configuration is invalid."""


@dataclass(frozen=True)
class EntityMapping:
    files: tuple[str, ...]
    delimiter: str = ","
    encoding: str = "utf-8"
    quote: str = '"'
    columns: dict[str, str | None] = field(default_factory=dict)
    ignore_columns: tuple[str, ...] = ()
    timestamp_format: str | None = None
    timezone_column: str | None = None
    timezone: str | None = None          # a fixed IANA zone (or, with timezone_column, the default zone)
    timezone_from_lead: bool = False     # `timezone: {from: lead}`: naive times are in each lead's zone
    decimal: str = "."
    true_values: tuple[str, ...] = ("true", "1", "yes", "y", "t")
    false_values: tuple[str, ...] = ("false", "0", "no", "n", "f")
    max_reject_rate: float = 0.01
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Lead attributes beyond the contract (e.g. origin, region, job), carried as text for the scoping
    #: note's segment dimensions: name -> the export's header. Only the CRM leads have them.
    attributes: dict[str, str] = field(default_factory=dict)

    def extend(self, entity: Entity) -> Entity:
        """The entity with this mapping's attributes as extra text columns (what a file loads into raw)."""
        if not self.attributes:
            return entity
        extra = tuple(a for a in self.attributes if a not in entity.columns)
        return replace(entity, columns=entity.columns + extra,
                       specs=entity.specs + tuple(Column(a, "text", "lead attribute (sources.yml)") for a in extra))

    @property
    def zone_rule(self) -> str | None:
        """In which zone staging reads this file's naive local times (recorded per file in raw._loads):
        'lead' (each row's lead's zone), an IANA zone, or None (the texts carry their offsets; a naive one is
        then a defect, read in the lead's zone and flagged)."""
        if not self.timestamp_format:
            return None
        if self.timezone_from_lead or self.timezone_column:
            return "lead"
        return self.timezone

    def header_for(self, canonical: str) -> str | None:
        """The export's header for a canonical column (None: absent from this export by design or
        given by a constant)."""
        if canonical in self.constants:
            return None
        return self.columns.get(canonical, canonical)


def _entity_mapping(where: str, raw: dict[str, Any], entity: Entity) -> EntityMapping:
    known = {"files", "csv", "columns", "ignore_columns", "timestamps", "decimal", "booleans",
             "max_reject_rate", "constants", "values"} | ({"attributes"} if entity.name == "leads" else set())
    unknown = set(raw) - known
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(known)}")
    files = raw.get("files") or [f"{entity.name}*.csv", f"{entity.name}*.parquet"]
    csv_opts = raw.get("csv") or {}
    encoding = str(csv_opts.get("encoding", "utf-8"))
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise MappingError(f"{where}.csv.encoding: unknown encoding {encoding!r}") from exc
    delimiter = str(csv_opts.get("delimiter", ","))
    if len(delimiter) != 1:
        raise MappingError(f"{where}.csv.delimiter: must be one character, got {delimiter!r}")
    columns = raw.get("columns") or {}
    bad = sorted(set(columns) - set(entity.columns))
    if bad:
        raise MappingError(
            f"{where}.columns: {bad} are not columns of {entity.source}/{entity.name}; "
            f"canonical columns are {list(entity.columns)}"
        )
    attributes = _attributes(where, raw.get("attributes"), entity)
    for col, header in columns.items():
        if header is None and col in entity.required:
            raise MappingError(f"{where}.columns.{col}: a mandatory column cannot be mapped to null")
    constants = {str(k): str(v) for k, v in (raw.get("constants") or {}).items()}
    # an empty cell is recoded by the key "" (or ~): e.g. `values: {channel: {"": unknown}}`
    values = {str(k): {("" if a is None else str(a)).strip(): str(b) for a, b in (v or {}).items()}
              for k, v in (raw.get("values") or {}).items()}
    for key, block in (("constants", constants), ("values", values)):
        bad = sorted(set(block) - set(entity.columns))
        if bad:
            raise MappingError(f"{where}.{key}: {bad} are not columns of {entity.source}/{entity.name}")
    ts = raw.get("timestamps") or {}
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
    booleans = raw.get("booleans") or {}
    kwargs: dict[str, Any] = {}
    if booleans:
        kwargs["true_values"] = tuple(str(v).lower() for v in booleans.get(True, booleans.get("true", [])))
        kwargs["false_values"] = tuple(str(v).lower() for v in booleans.get(False, booleans.get("false", [])))
    columns = {**columns, **attributes}
    return EntityMapping(
        files=tuple(files),
        delimiter=delimiter,
        encoding=encoding,
        quote=str(csv_opts.get("quote", '"')),
        columns=dict(columns),
        ignore_columns=tuple(raw.get("ignore_columns") or ()),
        timestamp_format=ts.get("format"),
        timezone_column=ts.get("timezone_column"),
        timezone=zone,
        timezone_from_lead=from_lead,
        decimal=str(raw.get("decimal", ".")),
        max_reject_rate=float(raw.get("max_reject_rate", 0.01)),
        constants=constants,
        values=values,
        attributes=attributes,
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
    """Read ``sources.yml``; every contract entity gets a mapping (defaults where the file is silent)."""
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
    for entity in ENTITIES:
        src = sources.get(entity.source) or {}
        ents = src.get("entities") or {}
        extra = set(ents) - {e.name for e in ENTITIES if e.source == entity.source}
        if extra:
            raise MappingError(f"{path}: sources.{entity.source}.entities: unknown entity {sorted(extra)}")
        where = f"{path}: sources.{entity.source}.entities.{entity.name}"
        result[(entity.source, entity.name)] = _entity_mapping(where, ents.get(entity.name) or {}, entity)
    return result


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def column_expressions(entity: Entity, mapping: EntityMapping, header: list[str] | None = None) -> list[str]:
    """SQL expressions (one per canonical column, aliased) over a relation whose columns are the
    export's headers (``header``), all VARCHAR. Values are trimmed; empty strings become NULL. A canonical
    column whose header the file lacks (optional, not mapped explicitly) is NULL."""
    exprs: list[str] = []
    present = set(header) if header is not None else None
    for col in entity.columns:
        header = mapping.header_for(col)
        if header is not None and present is not None and header not in present:
            header = None
        if col in mapping.constants:
            value = quote_literal(mapping.constants[col])
        elif header is None:
            exprs.append(f"cast(null as varchar) as {quote_ident(col)}")
            continue
        else:
            value = f"nullif(trim({quote_ident(header)}), '')"
        if col in mapping.values:
            # recoded before emptiness is decided, so an empty cell can be recoded too ("" -> unknown)
            text = f"coalesce(trim({quote_ident(header)}), '')" if header is not None else value
            cases = " ".join(f"when {quote_literal(a)} then {quote_literal(b)}" for a, b in mapping.values[col].items())
            value = f"nullif((case {text} {cases} else {text} end), '')"
        if col == mapping.timezone_column and mapping.timezone and col not in mapping.constants:
            value = f"coalesce({value}, {quote_literal(mapping.timezone)})"  # the declared default zone
        if col in entity.decimals and mapping.decimal != ".":
            value = f"replace({value}, {quote_literal(mapping.decimal)}, '.')"
        if col in entity.booleans:
            trues = ", ".join(quote_literal(v) for v in mapping.true_values) or "''"
            falses = ", ".join(quote_literal(v) for v in mapping.false_values) or "''"
            value = (f"case when lower({value}) in ({trues}) then 'true' "
                     f"when lower({value}) in ({falses}) then 'false' else {value} end")
        if col in entity.timestamps and mapping.timestamp_format:
            value = _timestamp_expr(value, entity, mapping, present)
        exprs.append(f"{value} as {quote_ident(col)}")
    return exprs


def _timestamp_expr(value: str, entity: Entity, mapping: EntityMapping, present: set[str] | None = None) -> str:
    """Local time in a custom format -> its ISO 8601 wall clock, without offset. The zone it is read in is
    recorded per file (``EntityMapping.zone_rule``, raw._loads) and applied in staging, by one rule for
    every source (DST gaps and overlaps resolved and flagged there, never shifted silently here).

    A value that does not parse is passed through unchanged, so staging logs it as a bad timestamp
    instead of the load silently turning it into NULL."""
    local = f"try_strptime({value}, {quote_literal(mapping.timestamp_format or '')})"
    return f"coalesce(strftime({local}, '%Y-%m-%dT%H:%M:%S'), {value})"
