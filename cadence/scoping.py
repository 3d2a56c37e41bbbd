"""The scoping note of an audit cycle: load and validate it, then turn it into dbt vars.

The note (``config/scoping_note.yml`` by default, or the file named by ``CADENCE_SCOPING_NOTE``) says what
is audited, what counts as a touch, an effective contact, a response and a conversion, the targets and
who owns the audit. Every key is optional (``DEFAULTS``); unknown keys and bad values fail with an error
naming the file and the key. The *resolved* note (defaults filled in) is what dbt stores with a month's
results, with its SHA-256 as the version: the same definitions always give the same version.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cadence.contract import ENTITIES

CHANNELS = ("inbound", "outbound", "partner")
COMPANY_SIZES = ("SMB", "Mid", "Enterprise")
FUNNEL_PHASES = ("MQL", "SQL", "opportunity")
TOUCH_CHANNELS = ("call", "email", "meeting", "other")
SEGMENT_COLUMNS = {"channel": CHANNELS, "company_size": COMPANY_SIZES, "funnel_phase": FUNNEL_PHASES}
#: Segment dimensions by default (the method's channel x company size); `segments.dimensions` replaces them.
DEFAULT_DIMENSIONS = ("channel", "company_size")
#: Contract lead columns a note may name as a dimension; any other name is a lead attribute the field
#: mapping declares (sources.yml: crm.entities.leads.attributes).
CONTRACT_DIMENSIONS = ("channel", "company_size", "team")
#: Names a dimension cannot take (columns the segment marts or fct_lead_cadence already use).
RESERVED_DIMENSIONS = ("funnel_phase", "partition_month", "segment_key", "segment_level", "lead_id", "rep_id",
                       "account_id", "all", "other", "unknown")
#: Thresholds a `segment_thresholds` entry may override.
SEGMENT_OVERRIDABLE = ("ttf_target_hours", "min_touches", "min_touches_days", "max_touches_per_day",
                       "max_emails_per_day")
#: Lead flags (fct_lead_cadence columns) the analytics may use for exceptions and cluster candidates.
LEAD_FLAGS = ("is_vip", "is_dispute", "is_hot_lead", "is_opted_out")
X_MEASURES = ("touches_in_window", "touches_before_conversion")


class ScopingNoteError(ValueError):
    """A scoping note that cannot be used; the message names the file and the key."""


Check = Callable[[Any, str], Any]


def _fail(key: str, problem: str, value: Any) -> None:
    raise ScopingNoteError(f"{key}: {problem} (got {value!r})")


def _text(value: Any, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
        _fail(key, "must be a non-empty text", value)
    return str(value).strip()


def _texts(value: Any, key: str) -> list[str]:
    if not isinstance(value, list):
        _fail(key, "must be a list of texts", value)
    return [_text(v, f"{key}[{i}]") for i, v in enumerate(value)]


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        _fail(key, "must be true or false", value)
    return value


def _number(low: float, high: float, integer: bool = False) -> Check:
    def check(value: Any, key: str) -> float | int:
        kind = int if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
            _fail(key, f"must be {'an integer' if integer else 'a number'} between {low} and {high}", value)
        return value
    return check


def _choice(*options: str) -> Check:
    def check(value: Any, key: str) -> str:
        if value not in options:
            _fail(key, f"must be one of {', '.join(options)}", value)
        return value
    return check


def _subset(options: tuple[str, ...]) -> Check:
    def check(value: Any, key: str) -> list[str]:
        if not isinstance(value, list) or not value or any(v not in options for v in value) \
                or len(set(value)) != len(value):
            _fail(key, f"must be a non-empty list of distinct values among {', '.join(options)}", value)
        return list(value)
    return check


def _dimensions(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= 3 or len(set(map(str, value))) != len(value):
        _fail(key, "must be a list of 1 to 3 distinct lead columns (e.g. [channel, company_size] or [origin])", value)
    for i, name in enumerate(value):
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
            _fail(f"{key}[{i}]", "must be a lower-case column name (letters, digits, _)", name)
        if name in RESERVED_DIMENSIONS:
            _fail(f"{key}[{i}]", f"is reserved ({', '.join(RESERVED_DIMENSIONS)}): funnel_phase is always crossed "
                  "with the dimensions; units (reps, accounts) have their own analyses", name)
    return list(value)


def _dimension_values(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        _fail(key, "must map a dimension to its audited values (a list) or any", value)
    out: dict[str, Any] = {}
    for dim, vals in value.items():
        if dim in ("channel", "company_size"):
            _fail(f"{key}.{dim}", f"the values of {dim} are the contract's: choose the audited ones in "
                  f"scope.{'channels' if dim == 'channel' else 'company_sizes'}", vals)
        out[str(dim)] = "any" if vals == "any" else _texts(vals, f"{key}.{dim}")
    return out


def _level(value: Any, key: str) -> str:
    """A segment level: all, cell (the crossing of the dimensions) or dimensions joined by '+'; checked
    against the note's dimensions once they are known."""
    return _text(value, key)


def _increasing(low: float, high: float) -> Check:
    def check(value: Any, key: str) -> list[float]:
        if not isinstance(value, list) or not value or any(
                isinstance(v, bool) or not isinstance(v, int | float) or not low < v <= high for v in value) \
                or sorted(set(value)) != value:
            _fail(key, f"must be a non-empty increasing list of numbers in ({low}, {high}]", value)
        return list(value)
    return check


#: Guardrail rules (issue #6; cadence.guardrails): default severity and corrective action of each rule.
GUARDRAIL_RULES = {
    "opt_out_contact": ("critical", "Stop every sequence for the lead now; remove it from call lists and campaigns "
                                    "and check that opt-outs sync between CRM, dialler and e-mailing tool."),
    "cool_down_breach": ("high", "Pause leads after the non-response limit for the whole cool-down; enforce the "
                                 "pause in the sequencing tool."),
    "email_daily_cap": ("medium", "Lower the daily e-mail cap of the sequence and spread e-mails over days."),
    "touch_daily_cap": ("medium", "Spread touches over days; respect the segment's daily cap."),
    "enterprise_48h_cap": ("medium", "Coordinate the account team: at most the allowed touches per 48 h per "
                                     "Enterprise account; plan multi-contact touches in the account plan."),
    "calling_hours": ("high", "Restrict the dialler to the allowed hours in the lead's time zone; check the "
                              "lead's time zone in the CRM."),
    "vip_dispute_channel": ("high", "Escalate to the manager; VIP and dispute leads get one validated channel "
                                    "only."),
    "complaint_rate": ("critical", "Revise the content of the segment's sequences and lower the daily cap."),
    "unsubscribe_rate": ("high", "Review targeting, frequency and content relevance for the segment; lower "
                                 "the cadence."),
    "bounce_rate": ("medium", "Clean the list: verify addresses, suppress hard bounces, check the sending "
                              "domain (SPF/DKIM)."),
    "conversion_rate_drop": ("high", "Review lead quality and qualification."),
    "average_order_value_drop": ("medium", "Launch upsell / cross-sell actions."),
}
SEVERITIES = ("critical", "high", "medium", "low", "off")


# (check, default) per key; nested dicts are sections. The default file config/scoping_note.yml repeats these.
SCHEMA: dict[str, Any] = {
    "cycle": (_text, "default"),
    "decision": (_text, "Set cadence thresholds per segment (minimum touches, daily cap, TTF target)"),
    # `other`: a lead whose segment value is outside the contract (kept, flagged unknown_value in staging)
    "scope": {"channels": (_subset((*CHANNELS, "other")), [*CHANNELS, "other"]),
              "company_sizes": (_subset((*COMPANY_SIZES, "other")), [*COMPANY_SIZES, "other"]),
              "funnel_phases": (_subset((*FUNNEL_PHASES, "other")), [*FUNNEL_PHASES, "other"])},
    # The segment dimensions (1 to 3 lead columns, crossed with funnel_phase): see docs/scoping_note.md
    "segments": {"dimensions": (_dimensions, list(DEFAULT_DIMENSIONS)),
                 # per attribute dimension: its audited values (others -> 'other') or any (every value a segment)
                 "values": (_dimension_values, {})},
    "attribution_window_days": (_number(1, 365, integer=True), 30),
    "touches": {"channels": (_subset(TOUCH_CHANNELS), ["call", "email"]), "inbound_calls": (_flag, True),
                "meetings": (_choice("booked", "held"), "booked")},
    "contact": {"call": (_choice("attempted", "connected", "conversation"), "attempted"),
                "email": (_choice("sent", "delivered", "opened", "clicked", "replied"), "delivered"),
                "meeting": (_choice("booked", "held", "never"), "held")},
    "response": {"call": (_choice("connected", "conversation", "never"), "connected"),
                 "email": (_choice("opened", "clicked", "replied", "never"), "replied"),
                 "meeting": (_choice("booked", "held", "never"), "held")},
    "conversion": (_choice("sql", "opportunity", "won"), "opportunity"),
    # Cleaning rules with a choice (docs/quality.md): one source for dbt and the quality gates.
    "cleaning": {
        "time_zone_policy": (_choice("repair", "strict"), "repair"),
        "burst_calls_per_lead_day": (_number(1, 100_000, integer=True), 50),
        "before_creation_tolerance_minutes": (_number(0, 7 * 24 * 60, integer=True), 0),
        "outlier_min_score": (_number(1, 1000), 5),
    },
    "thresholds": {
        "ttf_target_hours": (_number(0, 24 * 365), 2),
        "min_touches": (_number(0, 1000, integer=True), 4),
        "min_touches_days": (_number(1, 365, integer=True), 10),
        "max_touches_per_day": (_number(1, 1000, integer=True), 3),
        "max_emails_per_day": (_number(1, 1000, integer=True), 2),
        "non_response_limit": (_number(1, 1000, integer=True), 5),
        "cool_down_days": (_number(0, 365, integer=True), 7),
        "conversation_min_seconds": (_number(0, 86_400, integer=True), 60),
        "calling_hours": {"start": (_number(0, 23, integer=True), 9), "end": (_number(1, 24, integer=True), 17)},
        "complaint_rate_max": (_number(0, 1), 0.002),
        "unsubscribe_rate_max": (_number(0, 1), 0.005),
        "bounce_rate_max": (_number(0, 1), 0.05),
    },
    "segment_thresholds": (None, [
        {"match": {"channel": "inbound", "company_size": "SMB"},
         "min_touches": 4, "min_touches_days": 10, "ttf_target_hours": 2, "max_emails_per_day": 2},
        {"match": {"channel": "outbound", "company_size": "Mid"},
         "min_touches": 6, "min_touches_days": 14, "ttf_target_hours": 24},
        {"match": {"company_size": "Enterprise"}, "min_touches": 8, "min_touches_days": 21, "ttf_target_hours": 24},
    ]),
    # Statistics and decision rules of the analytics (cadence.analytics; docs/analytics.md).
    "analysis": {
        "population": (_choice("standard", "all"), "standard"),
        "exception_flags": (_subset(LEAD_FLAGS), ["is_vip", "is_dispute"]),
        "x_measure": (_choice(*X_MEASURES), "touches_in_window"),
        "threshold_x_measure": (_choice(*X_MEASURES), "touches_before_conversion"),
        "complete_windows_only": (_flag, True),
        "confidence": (_number(0.5, 0.999), 0.95),
        "min_n": (_number(10, 10**9, integer=True), 100),
        "min_n_shape": (_number(10, 10**9, integer=True), 300),
        "min_bin_leads": (_number(1, 10**6, integer=True), 30),
        "shape_aic_margin": (_number(0, 100), 10.0),
        "trim_share": (_number(0, 0.5), 0.01),
        "r_green": (_number(0, 1), 0.25),
        "r_amber": (_number(0, 1), 0.10),
        "delta_cr_points_green": (_number(-100, 100), 2.0),
        "effect_min_points": (_number(0, 100), 0.5),
        # the experiment a verdict proposes (cadence.analytics.verdict): lift to detect, power, floor per arm,
        # and the longest test worth proposing at the segment's monthly volume
        "experiment_mde_points": (_number(0.1, 100), 3.0),
        "experiment_power": (_number(0.5, 0.99), 0.8),
        "experiment_min_per_arm": (_number(1, 10**7, integer=True), 200),
        "experiment_max_weeks": (_number(1, 52, integer=True), 4),
        "threshold_resamples": (_number(0, 10_000, integer=True), 100),
        "threshold_min_agreement": (_number(0, 1), 0.8),
        "threshold_tolerance_touches": (_number(0, 100, integer=True), 1),
        "complaint_rise_ratio": (_number(1, 100), 1.25),
        "ttf_band_edges_hours": (_increasing(0, 24 * 365), [1, 2, 24]),
        "ttf_min_gap_points": (_number(0, 100), 2.0),
        "quadrant_lookback_months": (_number(1, 36, integer=True), 6),
        "rep_min_leads": (_number(1, 10**6, integer=True), 30),
        "account_min_leads": (_number(1, 10**6, integer=True), 3),
        # the recurring Q3 / Q1 lists (coaching priority, models to imitate): evidence a unit needs to be listed
        "list_min_leads": (_number(1, 10**6, integer=True), 30),
        "list_min_months": (_number(1, 36, integer=True), 2),
        "cluster_attributes": (_subset(LEAD_FLAGS), ["is_vip", "is_dispute", "is_hot_lead"]),
        "cluster_min_leads": (_number(1, 10**6, integer=True), 30),
        "cluster_min_effect_size": (_number(0, 100), 0.8),
        "cluster_min_z": (_number(0, 100), 3.0),
    },
    "guardrails": {
        "rate_segment_level": (_level, "cell"),
        "significance": (_number(0.000001, 1), 0.05),
        "rate_min_base": (_number(0, 10**9, integer=True), 200),
        "rate_min_events": (_number(0, 10**9, integer=True), 3),
        "severity_by_evidence": (_flag, True),
        "enterprise_max_touches_per_48h": (_number(1, 1000, integer=True), 2),
        "validated_channel": (_choice("first", *TOUCH_CHANNELS), "first"),
        "kpi_segment_level": (_level, "all"),
        "conversion_rate_drop_max": (_number(0, 1), 0.10),
        "average_order_value_drop_max": (_number(0, 1), 0.05),
        "rules": {rule: {"severity": (_choice(*SEVERITIES), severity), "action": (_text, action)}
                  for rule, (severity, action) in GUARDRAIL_RULES.items()},
    },
    "owners": {"responsible": (_text, "Sales Ops / RevOps"), "accountable": (_text, "Head of Sales"),
               "consulted": (_texts, ["Data analyst", "Sales managers", "Support / Legal"]),
               "informed": (_texts, ["Sales teams", "Support"])},
}


def _resolve(schema: Mapping[str, Any], given: Any, prefix: str) -> dict[str, Any]:
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        _fail(prefix.rstrip(".") or "the note", "must be a mapping of keys to values", given)
    unknown = sorted(set(given) - set(schema))
    if unknown:
        _fail(f"{prefix}{unknown[0]}", f"unknown key; known keys here: {', '.join(schema)}", given[unknown[0]])
    out = {}
    for key, spec in schema.items():
        path = f"{prefix}{key}"
        if isinstance(spec, dict):
            out[key] = _resolve(spec, given.get(key), f"{path}.")
        elif key not in given:
            out[key] = copy.deepcopy(spec[1])
        elif key == "segment_thresholds":
            out[key] = _segment_thresholds(given[key], path)
        else:
            out[key] = spec[0](given[key], path)
    return out


def _segment_thresholds(value: Any, path: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        _fail(path, "must be a list of {match: {...}, <threshold>: value} entries", value)
    checks = SCHEMA["thresholds"]
    entries = []
    for i, entry in enumerate(value):
        where = f"{path}[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("match"), Mapping) or not entry["match"]:
            _fail(f"{where}.match", "each entry needs a non-empty match on segment dimensions / funnel_phase",
                  entry)
        match = {}
        for col, val in entry["match"].items():
            if col in SEGMENT_COLUMNS:
                match[col] = _choice(*SEGMENT_COLUMNS[col], "other")(val, f"{where}.match.{col}")
            else:  # an attribute dimension (checked against segments.dimensions once they are known)
                match[str(col)] = _text(val, f"{where}.match.{col}")
        overrides = {k: v for k, v in entry.items() if k != "match"}
        for key, val in overrides.items():
            if key not in SEGMENT_OVERRIDABLE:
                _fail(f"{where}.{key}", f"not overridable per segment; use {', '.join(SEGMENT_OVERRIDABLE)}", val)
            overrides[key] = checks[key][0](val, f"{where}.{key}")
        entries.append({"match": match, **overrides})
    return entries


@dataclass(frozen=True)
class ScopingNote:
    """A validated, resolved scoping note (every key present)."""

    values: dict[str, Any]
    source: str = "<defaults>"

    @property
    def json(self) -> str:
        """Canonical JSON (sorted keys): what is stored and hashed."""
        return json.dumps(self.values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @property
    def version(self) -> str:
        return hashlib.sha256(self.json.encode("utf-8")).hexdigest()

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def parse_scoping_note(data: Any, source: str = "<dict>") -> ScopingNote:
    """Validate a note given as a mapping (e.g. parsed YAML) and fill in the defaults."""
    try:
        values = _resolve(SCHEMA, data, "")
        _default_thresholds_for(values, data)
        hours = values["thresholds"]["calling_hours"]
        if hours["start"] >= hours["end"]:
            _fail("thresholds.calling_hours", "start must be before end", hours)
        if values["analysis"]["r_amber"] >= values["analysis"]["r_green"]:
            _fail("analysis.r_amber", "must be below analysis.r_green", values["analysis"]["r_amber"])
        _check_segments(values)
    except ScopingNoteError as exc:
        raise ScopingNoteError(f"{source}: {exc}") from None
    return ScopingNote(values=values, source=source)


def _default_thresholds_for(values: dict[str, Any], given: Any) -> None:
    """The default per-segment thresholds match channel / company_size: with other dimensions and no
    `segment_thresholds` of the note's own, there are none (the note's `thresholds` apply to every segment)."""
    given_keys = given if isinstance(given, Mapping) else {}
    if "segment_thresholds" not in given_keys and list(values["segments"]["dimensions"]) != list(DEFAULT_DIMENSIONS):
        values["segment_thresholds"] = []


def segment_levels(dimensions: list[str] | tuple[str, ...]) -> list[str]:
    """Every level of the segment marts: 'all', then each subset of dimensions + funnel_phase joined by '+',
    smaller first, in declaration order (the order of the marts' grouping sets)."""
    cols = [*dimensions, "funnel_phase"]
    subsets = sorted((m for m in range(1, 2 ** len(cols))), key=lambda m: (bin(m).count("1"), m))
    return ["all"] + ["+".join(c for i, c in enumerate(cols) if m >> i & 1) for m in subsets]


def _check_segments(values: dict[str, Any]) -> None:
    """Cross-key rules of the segments: levels and segment_thresholds name declared dimensions."""
    dims = values["segments"]["dimensions"]
    extra = sorted(set(values["segments"]["values"]) - set(dims))
    if extra:
        _fail(f"segments.values.{extra[0]}", f"is not a dimension; dimensions are {', '.join(dims)}",
              values["segments"]["values"][extra[0]])
    levels = segment_levels(dims)
    for key in ("rate_segment_level", "kpi_segment_level"):
        level = values["guardrails"][key]
        if level == "cell":
            values["guardrails"][key] = level = "+".join(dims)
        if level not in levels:
            _fail(f"guardrails.{key}", f"must be cell, all or one of {', '.join(levels[1:])}", level)
    allowed = {**{d: None for d in dims}, "funnel_phase": FUNNEL_PHASES}
    for i, entry in enumerate(values["segment_thresholds"]):
        for col, val in entry["match"].items():
            if col not in allowed:
                _fail(f"segment_thresholds[{i}].match.{col}", f"is not a segment dimension ({', '.join(allowed)})",
                      val)


def load_scoping_note(path: str | Path) -> ScopingNote:
    """Read and validate a scoping note YAML file."""
    path = Path(path)
    if not path.is_file():
        raise ScopingNoteError(f"{path}: scoping note not found (set CADENCE_SCOPING_NOTE to an existing file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScopingNoteError(f"{path}: not valid YAML: {exc}") from None
    return parse_scoping_note(data, str(path))


def dbt_vars(note: ScopingNote) -> dict[str, Any]:
    """The dbt vars of a note (flat, JSON-serialisable; defaults in dbt_project.yml `vars:`)."""
    v, t = note.values, note.values["thresholds"]
    return {
        "scoping_note_json": note.json,
        "scoping_note_version": note.version,
        "audited_channels": v["scope"]["channels"],
        "audited_company_sizes": v["scope"]["company_sizes"],
        "audited_funnel_phases": v["scope"]["funnel_phases"],
        "segment_dimensions": v["segments"]["dimensions"],
        # attribute dimensions with a list of values (others -> 'other'); 'any' ones are not listed
        "segment_values": {d: vals for d, vals in v["segments"]["values"].items() if vals != "any"},
        "attribution_window_days": v["attribution_window_days"],
        "touch_channels": v["touches"]["channels"],
        "count_inbound_calls": v["touches"]["inbound_calls"],
        "touch_meetings": v["touches"]["meetings"],
        **v["cleaning"],
        **{f"contact_{k}": val for k, val in v["contact"].items()},
        **{f"response_{k}": val for k, val in v["response"].items()},
        "conversion_stage": v["conversion"],
        **{k: val for k, val in t.items() if k != "calling_hours"},
        "calling_hours_start": t["calling_hours"]["start"],
        "calling_hours_end": t["calling_hours"]["end"],
        "segment_thresholds": v["segment_thresholds"],
        # the extract contract's coded values (cadence/contract.py), one constant var: staging's checks
        "contract_value_sets": {e.name: {c: list(vals) for c, vals in e.value_sets.items()} for e in ENTITIES},
    }
