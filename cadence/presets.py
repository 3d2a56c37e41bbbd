"""Vendor presets: ready-made entity mappings a source names in ``config/sources.yml`` (configuration, not
code)::

    sources:
      crm: {preset: hubspot, settings: {timezone: Europe/Paris}}
      voip:
        preset: aircall
        entities:
          calls: {values: {outcome: {...}}}      # the user's keys override the preset's

A preset is a YAML file, ``config/presets/<name>.yml`` (or a path ending in .yml, relative to
sources.yml), shaped like sources.yml: ``sources.<source>.entities.<entity>`` blocks, plus ``settings``
(parameters a block uses as ``${name}``: each with a description and a default, or required) and, per
entity, ``about`` (what to export, what is assumed, what is lost: docs/vendors.md is generated from it).

Merging: the user's entity keys override the preset's. ``columns``, ``constants``, ``csv``,
``timestamps``, ``units``, ``booleans`` and ``rows`` merge key by key; ``values`` and ``replace`` merge
code by code; ``ignore_columns`` adds up; other keys replace. Every header the preset reads counts as
ignorable, so overriding a column with a constant leaves no "unknown column" behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cadence.contract import ENTITIES, entity, rewrite_generated
from cadence.mapping import EntityMapping, Expr, MappingError, _entity_mapping

PRESETS_DIR = Path(__file__).resolve().parents[1] / "config" / "presets"
SOURCE_KEYS = {"preset", "settings", "entities"}
PRESET_KEYS = {"preset", "title", "summary", "docs", "settings", "sources"}
ABOUT_KEYS = {"export", "assumed", "lost"}
MERGE_DEPTH = {"columns": 1, "constants": 1, "csv": 1, "timestamps": 1, "units": 1, "booleans": 1, "rows": 1,
               "values": 2, "replace": 2}
SETTING = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Setting:
    name: str
    description: str
    required: bool
    default: Any = None
    example: Any = None


@dataclass
class Preset:
    name: str
    path: Path
    title: str
    summary: str
    docs: list[str]
    settings: dict[str, Setting]
    sources: dict[str, dict[str, dict]]          # source -> entity -> raw block (with ``about``)
    about: dict[tuple[str, str], dict] = field(default_factory=dict)


def available() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yml"))


def preset_path(config: Path, ref: str) -> Path:
    """A preset name (config/presets/<name>.yml) or a .yml path relative to the sources file."""
    if ref.endswith((".yml", ".yaml")):
        path = Path(ref)
        return path if path.is_absolute() else Path(config).parent / path
    return PRESETS_DIR / f"{ref}.yml"


def load_preset(path: Path, where: str = "") -> Preset:
    where = where or str(path)
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise MappingError(f"{where}: no preset file {path}; presets: {', '.join(available())}") from None
    except yaml.YAMLError as exc:
        raise MappingError(f"{path}: not valid YAML: {exc}") from None
    unknown = set(doc) - PRESET_KEYS
    if unknown:
        raise MappingError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(PRESET_KEYS)}")
    settings = {}
    for name, spec in (doc.get("settings") or {}).items():
        spec = spec or {}
        if set(spec) - {"description", "default", "example"}:
            raise MappingError(f"{path}: settings.{name}: allowed keys are description, default, example")
        settings[name] = Setting(name, str(spec.get("description", "")), "default" not in spec,
                                 spec.get("default"), spec.get("example"))
    sources: dict[str, dict[str, dict]] = {}
    about: dict[tuple[str, str], dict] = {}
    for source, block in (doc.get("sources") or {}).items():
        if source not in {e.source for e in ENTITIES}:
            raise MappingError(f"{path}: sources.{source} is not a source")
        if set(block or {}) - {"entities"}:
            raise MappingError(f"{path}: sources.{source}: only `entities` is allowed")
        for name, ent in ((block or {}).get("entities") or {}).items():
            try:
                entity(source, name)
            except KeyError:
                raise MappingError(f"{path}: sources.{source}.entities.{name} is not an entity") from None
            ent = dict(ent or {})
            info = ent.pop("about", None) or {}
            if set(info) - ABOUT_KEYS:
                raise MappingError(f"{path}: sources.{source}.entities.{name}.about: allowed keys are "
                                   f"{sorted(ABOUT_KEYS)}")
            about[(source, name)] = info
            sources.setdefault(source, {})[name] = ent
            for ref in SETTING.findall(yaml.safe_dump(ent, allow_unicode=True)):
                if ref not in settings:
                    raise MappingError(f"{path}: sources.{source}.entities.{name} uses ${{{ref}}}, which is not "
                                       f"declared under settings")
    return Preset(str(doc.get("preset") or Path(path).stem), Path(path), str(doc.get("title") or Path(path).stem),
                  str(doc.get("summary") or ""), list(doc.get("docs") or []), settings, sources, about)


def _substitute(value: Any, settings: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, settings) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, settings) for v in value]
    if isinstance(value, str):
        whole = SETTING.fullmatch(value)
        if whole:
            return settings[whole.group(1)]
        return SETTING.sub(lambda m: str(settings[m.group(1)]), value)
    return value


def _merge(base: Any, over: Any, depth: int) -> Any:
    if depth <= 0 or not isinstance(base, dict) or not isinstance(over, dict):
        return over
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(base[key], value, depth - 1) if key in base else value
    return out


def merge_entity(preset_block: dict, user_block: dict) -> dict:
    """The user's entity keys over the preset's (see the module docstring)."""
    out = dict(preset_block)
    for key, value in (user_block or {}).items():
        if key == "ignore_columns":
            out[key] = list(dict.fromkeys(list(out.get(key) or []) + list(value or [])))
        elif key in out:
            out[key] = _merge(out[key], value, MERGE_DEPTH.get(key, 0))
        else:
            out[key] = value
    return out


def headers_read(mapping: EntityMapping) -> list[str]:
    """Every export header a mapping reads (plain columns, expressions, filters, ignored)."""
    found = [spec for spec in mapping.columns.values() if isinstance(spec, str)]
    found += list(mapping.expression_headers())
    for spec in mapping.columns.values():
        if isinstance(spec, Expr) and spec.kind == "lead_by":
            found += sorted(spec.headers())
    return list(dict.fromkeys(found + list(mapping.ignore_columns)))


def settings_values(preset: Preset, given: dict, where: str) -> dict[str, Any]:
    unknown = set(given) - set(preset.settings)
    if unknown:
        raise MappingError(f"{where}.settings: unknown setting(s) {sorted(unknown)}; preset {preset.name} has "
                           f"{sorted(preset.settings) or 'none'}")
    values = {}
    for name, spec in preset.settings.items():
        if name in given:
            values[name] = given[name]
        elif spec.required:
            example = f", e.g. {spec.example}" if spec.example is not None else ""
            raise MappingError(f"{where}: preset {preset.name} needs settings.{name}: {spec.description}{example} "
                               f"(write `settings: {{{name}: ...}}` beside `preset: {preset.name}`)")
        else:
            values[name] = spec.default
    return values


def resolve_source(config: Path, source: str, block: dict
                   ) -> tuple[dict[str, dict], str | None, dict[str, set[str]]]:
    """A source block of sources.yml -> (entity name -> mapping block, preset name or None, entity name ->
    headers the preset maps to optional columns, which an export may lack)."""
    where = f"{config}: sources.{source}"
    if not isinstance(block, dict):
        raise MappingError(f"{where}: expected a mapping with entities (or preset), got {block!r}")
    unknown = set(block) - SOURCE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(SOURCE_KEYS)}")
    user = block.get("entities") or {}
    if not block.get("preset"):
        if block.get("settings"):
            raise MappingError(f"{where}.settings: settings go with a preset (preset: <name>)")
        return user, None, {}
    preset = load_preset(preset_path(config, str(block["preset"])), f"{where}.preset")
    if source not in preset.sources:
        covered = ", ".join(sorted(preset.sources)) or "nothing"
        raise MappingError(f"{where}: preset {preset.name} has no mapping for source {source} (it covers "
                           f"{covered}); presets: {', '.join(available())}")
    values = settings_values(preset, block.get("settings") or {}, where)
    merged: dict[str, dict] = {}
    optional: dict[str, set[str]] = {}
    for name, raw in preset.sources[source].items():
        pre = _substitute(raw, values)
        ent = entity(source, name)
        base = _entity_mapping(f"{preset.path}: sources.{source}.entities.{name}", pre, ent)  # validates it
        mine = user.get(name) or {}
        out = merge_entity(pre, mine)
        out["ignore_columns"] = list(dict.fromkeys(list(out.get("ignore_columns") or []) + headers_read(base)))
        merged[name] = out
        overridden = set(mine.get("columns") or {}) | set(mine.get("constants") or {})
        optional[name] = {spec for col, spec in base.columns.items()
                          if isinstance(spec, str) and col not in ent.required and col not in overridden}
    for name, raw in user.items():
        merged.setdefault(name, raw)
    return merged, preset.name, optional


# --- docs/vendors.md ------------------------------------------------------------------------------------

DOC_BEGIN = "<!-- presets:begin (generated by `python -m cadence.presets`) -->"
DOC_END = "<!-- presets:end -->"


def _flow(value: Any) -> str:
    """A YAML value on one line, as it is written in a preset."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000, sort_keys=False)
    return text.strip().removesuffix("...").strip().replace("|", "\\|")


def _entity_markdown(source: str, name: str, block: dict, about: dict) -> list[str]:
    ent = entity(source, name)
    folder = block.get("folder") or source
    files = ", ".join(f"`{f}`" for f in block.get("files") or [])
    has = ", ".join(f"`{h}`" for h in block.get("header_has") or [])
    out = [f"#### `{source}` / `{name}`", ""]
    if about.get("export"):
        out += [f"**Export:** {about['export']}", ""]
    out += [f"**Files:** {files} in `{folder}/<YYYY-MM>/`" + (f" whose header has {has}" if has else "")
            + (" (a report footer is skipped)" if (block.get("csv") or {}).get("footer") else "") + ".", ""]
    rows = block.get("rows") or {}
    if rows:
        parts = [f"{k} {_flow(v)}" for k, v in rows.items()]
        out += [f"**Rows:** {'; '.join(parts)}.", ""]
    ts = block.get("timestamps") or {}
    if ts:
        out += [f"**Timestamps:** {_flow(ts)}.", ""]
    out += ["| column | from the export | recoded |", "|---|---|---|"]
    columns, constants = block.get("columns") or {}, block.get("constants") or {}
    values, units = block.get("values") or {}, block.get("units") or {}
    for col in ent.columns:
        if col in constants:
            src = f"constant `{constants[col]}`"
        elif col in columns:
            spec = columns[col]
            src = "— (not in the export)" if spec is None else f"`{spec}`" if isinstance(spec, str) else \
                f"`{_flow(spec)}`"
        else:
            continue
        if col in units:
            src += f" (in {units[col]})"
        recode = ", ".join(f"{k or '(empty)'} → {v}" for k, v in (values.get(col) or {}).items())
        replace = (block.get("replace") or {}).get(col)
        if replace:
            recode = ", ".join(f"`{a}` → `{b}`" for a, b in replace.items()) + ("; " + recode if recode else "")
        out.append(f"| {col} | {src} | {recode} |")
    out.append("")
    for label, key in (("Assumed", "assumed"), ("Lost", "lost")):
        items = about.get(key) or []
        if items:
            out += [f"**{label}:**", *[f"- {item}" for item in items], ""]
    return out


def render_markdown() -> str:
    """The per-vendor part of docs/vendors.md, from config/presets/*.yml."""
    out: list[str] = []
    for name in available():
        preset = load_preset(PRESETS_DIR / f"{name}.yml")
        out += [f"### {preset.title} (`preset: {preset.name}`)", "", preset.summary, ""]
        sources = ", ".join(f"`{s}`" for s in preset.sources)
        out += [f"Sources: {sources}. Vendor documentation: " + ", ".join(preset.docs) + ".", ""]
        if preset.settings:
            out += ["| setting | default | meaning |", "|---|---|---|"]
            for s in preset.settings.values():
                default = "**required**" + (f" (e.g. `{s.example}`)" if s.example is not None else "") if s.required \
                    else f"`{_flow(s.default)}`"
                out.append(f"| `{s.name}` | {default} | {s.description} |")
            out.append("")
        for source, ents in preset.sources.items():
            for ent_name, block in ents.items():
                out += _entity_markdown(source, ent_name, block, preset.about.get((source, ent_name), {}))
    return "\n".join(out).rstrip() + "\n"


def write_docs(path: Path | str) -> bool:
    """Rewrite the generated part of docs/vendors.md; True when it changed."""
    return rewrite_generated(path, DOC_BEGIN, DOC_END, render_markdown())


if __name__ == "__main__":
    doc = Path(__file__).resolve().parents[1] / "docs" / "vendors.md"
    print(f"{doc}: {'rewritten' if write_docs(doc) else 'up to date'}")
