"""The experiments file (config/experiments.yml; CADENCE_EXPERIMENTS_CONFIG overrides the path).

``defaults`` holds the statistical settings every experiment inherits; each entry of ``experiments``
declares one A/B test (hypothesis, segment, arms and their cadence, success KPI, guardrails, dates, MDE)
and may override any default. Every problem raises ``ExperimentConfigError`` naming the key.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from cadence.experiments.spec import (
    CADENCE_KEYS,
    EARLY_STOPPING,
    GUARDRAIL_KPIS,
    LEAD_FLAGS,
    SEGMENT_VALUES,
    SUCCESS_KPIS,
    Arm,
    Experiment,
    ExperimentConfigError,
    Guardrail,
)
from cadence.settings import CONFIG_DIR

__all__ = [
    "CADENCE_KEYS",
    "Arm",
    "Experiment",
    "ExperimentConfigError",
    "Guardrail",
    "config_path",
    "load_experiments",
    "parse_experiment",
    "parse_experiments",
]

DEFAULTS: dict[str, Any] = {
    "alpha": 0.05,
    "power": 0.80,
    "srm_alpha": 0.001,
    "rule_of_thumb_leads_per_arm": 200,
    "baseline_lookback_months": 3,
    "baseline_cr": None,
    "early_stopping": "obrien_fleming",
    "exclude_flags": ["is_vip", "is_dispute"],
    "complete_windows_only": True,
    "guardrail_ceiling_alpha": 0.05,
    "guardrail_alpha": 0.001,
    "guardrails": {"complaint_rate": {"max": 0.002}, "unsubscribe_rate": {"max": 0.005}},
}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _fail(key: str, problem: str, value: Any = ...) -> None:
    got = "" if value is ... else f" (got {value!r})"
    raise ExperimentConfigError(f"experiments config: {key}: {problem}{got}")


def _number(key: str, value: Any, low: float, high: float, integer: bool = False) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if not ok or (integer and int(value) != value):
        _fail(key, f"must be {'an integer' if integer else 'a number'} in [{low}, {high}]", value)
    return int(value) if integer else float(value)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail(key, "must be a non-empty text", value)
    return value.strip()


def _keys(key: str, given: Any, allowed: tuple[str, ...] | set[str], required: tuple[str, ...] = ()) -> dict:
    if not isinstance(given, dict):
        _fail(key, "must be a mapping", given)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        _fail(f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
    for req in required:
        if given.get(req) is None:
            _fail(f"{key}.{req}", "is required")
    return given


def _segment(key: str, value: Any) -> dict[str, tuple[str, ...]]:
    out = {}
    for col, picked in _keys(key, value, tuple(SEGMENT_VALUES)).items():
        picked = [picked] if isinstance(picked, str) else picked
        if not isinstance(picked, list) or not picked or any(v not in SEGMENT_VALUES[col] for v in picked):
            _fail(f"{key}.{col}", f"must be one or a list of {', '.join(SEGMENT_VALUES[col])}", picked)
        out[col] = tuple(dict.fromkeys(picked))
    return out


def _arms(key: str, value: Any) -> tuple[Arm, ...]:
    if not isinstance(value, list) or len(value) < 2:
        _fail(key, "must be a list of at least two arms (the control first)", value)
    arms = []
    for i, raw in enumerate(value):
        where = f"{key}[{i}]"
        _keys(where, raw, ("name", "weight", "cadence"), ("name", "weight"))
        name = _text(f"{where}.name", raw["name"])
        if not _NAME.match(name):
            _fail(f"{where}.name", "must be lowercase letters, digits and _, starting with a letter", name)
        cadence = dict(_keys(f"{where}.cadence", raw.get("cadence") or {}, (*CADENCE_KEYS, "description")))
        for ckey, kind in CADENCE_KEYS.items():
            if ckey in cadence:
                cadence[ckey] = _number(f"{where}.cadence.{ckey}", cadence[ckey], 0, 10_000, integer=kind is int)
        if "description" in cadence:
            cadence["description"] = _text(f"{where}.cadence.description", cadence["description"])
        arms.append(Arm(name, _number(f"{where}.weight", raw["weight"], 0.01, 0.99), cadence))
    if len({a.name for a in arms}) != len(arms):
        _fail(key, "arm names must be unique", [a.name for a in arms])
    if abs(sum(a.weight for a in arms) - 1) > 1e-9:
        _fail(key, "arm weights must add up to 1", [a.weight for a in arms])
    return tuple(arms)


def _guardrails(key: str, value: Any, base: dict) -> tuple[Guardrail, ...]:
    merged = {k: dict(v or {}) for k, v in base.items()}
    for kpi, spec in _keys(key, value or {}, GUARDRAIL_KPIS).items():
        merged[kpi] = {**merged.get(kpi, {}), **_keys(f"{key}.{kpi}", spec or {}, ("max", "max_ratio_to_control"))}
    out = []
    for kpi, spec in merged.items():
        if spec.get("max") is None:
            _fail(f"{key}.{kpi}.max", "is required")
        out.append(
            Guardrail(
                kpi,
                _number(f"{key}.{kpi}.max", spec["max"], 0, 1),
                _number(f"{key}.{kpi}.max_ratio_to_control", spec.get("max_ratio_to_control", 1.25), 1, 100),
            )
        )
    return tuple(out)


def _date(key: str, value: Any) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            _fail(key, "must be a date YYYY-MM-DD", value)
    if not isinstance(value, date):
        _fail(key, "must be a date YYYY-MM-DD", value)
    return value


def _settings(key: str, raw: dict) -> dict[str, Any]:
    """The statistical settings (defaults or an experiment's overrides), validated."""
    out = {}
    for name, value in raw.items():
        where = f"{key}.{name}"
        if name in ("alpha", "guardrail_alpha"):
            out[name] = _number(where, value, 1e-6, 0.5)
        elif name == "power":
            out[name] = _number(where, value, 0.5, 0.999)
        elif name == "srm_alpha":
            out[name] = _number(where, value, 1e-9, 0.1)
        elif name == "guardrail_ceiling_alpha":
            out[name] = _number(where, value, 1e-6, 1)
        elif name == "rule_of_thumb_leads_per_arm":
            out[name] = _number(where, value, 1, 10**9, integer=True)
        elif name == "baseline_lookback_months":
            out[name] = _number(where, value, 1, 36, integer=True)
        elif name == "baseline_cr":
            out[name] = None if value is None else _number(where, value, 1e-4, 0.9999)
        elif name == "early_stopping":
            if value not in EARLY_STOPPING:
                _fail(where, f"must be one of {', '.join(EARLY_STOPPING)}", value)
            out[name] = value
        elif name == "exclude_flags":
            if not isinstance(value, list) or any(v not in LEAD_FLAGS for v in value):
                _fail(where, f"must be a list among {', '.join(LEAD_FLAGS)}", value)
            out[name] = list(dict.fromkeys(value))
        elif name == "complete_windows_only":
            if not isinstance(value, bool):
                _fail(where, "must be true or false", value)
            out[name] = value
        elif name == "guardrails":
            out[name] = value
    return out


def parse_experiment(raw: Any, where: str = "experiments[0]", defaults: dict | None = None) -> Experiment:
    """One experiment entry (a dict as in the YAML file), over ``defaults`` (validated settings)."""
    base = {**DEFAULTS, **(defaults or {})}
    own = (
        "name",
        "hypothesis",
        "segment",
        "arms",
        "success_kpi",
        "guardrails",
        "start_date",
        "duration_days",
        "minimum_detectable_effect_points",
        "salt",
    )
    raw = _keys(
        where,
        raw,
        (*own, *DEFAULTS),
        ("name", "hypothesis", "segment", "arms", "start_date", "duration_days", "minimum_detectable_effect_points"),
    )
    name = _text(f"{where}.name", raw["name"])
    if not _NAME.match(name):
        _fail(f"{where}.name", "must be lowercase letters, digits and _, starting with a letter", name)
    kpi = raw.get("success_kpi", "conversion_rate")
    if kpi not in SUCCESS_KPIS:
        _fail(f"{where}.success_kpi", f"must be one of {', '.join(SUCCESS_KPIS)}", kpi)
    settings = {**base, **_settings(where, {k: v for k, v in raw.items() if k in DEFAULTS and k != "guardrails"})}
    return Experiment(
        name=name,
        hypothesis=_text(f"{where}.hypothesis", raw["hypothesis"]),
        segment=_segment(f"{where}.segment", raw["segment"]),
        arms=_arms(f"{where}.arms", raw["arms"]),
        success_kpi=kpi,
        guardrails=_guardrails(f"{where}.guardrails", raw.get("guardrails"), base["guardrails"]),
        start_date=_date(f"{where}.start_date", raw["start_date"]),
        duration_days=_number(f"{where}.duration_days", raw["duration_days"], 14, 28, integer=True),
        mde_points=_number(
            f"{where}.minimum_detectable_effect_points", raw["minimum_detectable_effect_points"], 0.01, 50
        ),
        salt=_text(f"{where}.salt", raw.get("salt", name)),
        **{k: settings[k] for k in DEFAULTS if k != "guardrails" and k != "exclude_flags"},
        exclude_flags=tuple(settings["exclude_flags"]),
    )


def parse_experiments(data: Any) -> tuple[Experiment, ...]:
    """The whole file: ``{defaults: {...}, experiments: [...]}`` (both optional)."""
    data = _keys("<file>", data if data is not None else {}, ("defaults", "experiments"))
    defaults = _settings("defaults", _keys("defaults", data.get("defaults") or {}, tuple(DEFAULTS)))
    if "guardrails" in defaults:
        _guardrails("defaults.guardrails", defaults["guardrails"], {})
    entries = data.get("experiments") or []
    if not isinstance(entries, list):
        _fail("experiments", "must be a list", entries)
    out = tuple(parse_experiment(e, f"experiments[{i}]", defaults) for i, e in enumerate(entries))
    names = [e.name for e in out]
    if len(set(names)) != len(names):
        _fail("experiments", "experiment names must be unique", names)
    return out


def config_path() -> Path:
    """CADENCE_EXPERIMENTS_CONFIG, else the checkout's config/experiments.yml."""
    value = os.environ.get("CADENCE_EXPERIMENTS_CONFIG")
    return Path(value).expanduser().resolve() if value else CONFIG_DIR / "experiments.yml"


def load_experiments(path: str | Path | None = None) -> tuple[Experiment, ...]:
    """Read and validate the experiments file (``config_path()`` when ``path`` is None)."""
    path = Path(path) if path else config_path()
    if not path.exists():
        raise ExperimentConfigError(f"experiments config: file not found: {path} (CADENCE_EXPERIMENTS_CONFIG)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ExperimentConfigError(f"experiments config: {path} is not valid YAML: {exc}") from exc
    return parse_experiments(data)
