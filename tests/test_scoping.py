"""The scoping note: loading, validation errors that name the key, defaults, dbt vars, version hash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cadence.scoping import (
    SCHEMA,
    ScopingNoteError,
    dbt_vars,
    load_scoping_note,
    parse_scoping_note,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTE = ROOT / "config" / "scoping_note.yml"


def _leaf_keys(schema: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, spec in schema.items():
        keys += _leaf_keys(spec, f"{prefix}{key}.") if isinstance(spec, dict) else [f"{prefix}{key}"]
    return keys


def test_the_default_file_is_the_documented_default():
    note = load_scoping_note(DEFAULT_NOTE)
    assert note.values == parse_scoping_note({}).values
    assert note["attribution_window_days"] == 30 and note["conversion"] == "opportunity"


def test_dbt_project_var_defaults_equal_the_default_note():
    """dbt run without the note (e.g. by hand) computes with the same definitions as the default note."""
    project_vars = yaml.safe_load((ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    note_vars = dbt_vars(load_scoping_note(DEFAULT_NOTE))
    for key, value in note_vars.items():
        if key not in ("scoping_note_json", "scoping_note_version"):
            assert project_vars[key] == value, key
    assert set(note_vars) <= set(project_vars)


def test_dbt_vars_are_json_and_carry_the_whole_note():
    note = parse_scoping_note({"attribution_window_days": 14, "conversion": "won"})
    v = json.loads(json.dumps(dbt_vars(note)))
    assert v["attribution_window_days"] == 14 and v["conversion_stage"] == "won"
    assert json.loads(v["scoping_note_json"]) == note.values
    assert v["scoping_note_version"] == note.version and len(note.version) == 64


def test_a_partial_note_overrides_only_its_keys(tmp_path):
    path = tmp_path / "cycle.yml"
    path.write_text("attribution_window_days: 14\nthresholds:\n  calling_hours: {start: 8}\n")
    note = load_scoping_note(path)
    default = parse_scoping_note({})
    assert note["attribution_window_days"] == 14
    assert note["thresholds"]["calling_hours"] == {"start": 8, "end": 17}
    assert note["thresholds"]["ttf_target_hours"] == default["thresholds"]["ttf_target_hours"]
    assert note["contact"] == default["contact"]


def test_the_version_changes_with_a_definition_and_only_then():
    base = parse_scoping_note({})
    assert parse_scoping_note({"cycle": "default"}).version == base.version
    assert parse_scoping_note({"contact": {"call": "connected"}}).version != base.version


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ({"attribution_window_days": 0}, "attribution_window_days: must be an integer between 1 and 365"),
        ({"attribution_window_days": "30"}, "attribution_window_days: must be an integer"),
        ({"contact": {"call": "dialled"}}, "contact.call: must be one of attempted, connected, conversation"),
        ({"conversion": "meeting"}, "conversion: must be one of sql, opportunity, won"),
        ({"scope": {"channels": ["inbound", "web"]}}, "scope.channels: must be a non-empty list"),
        ({"scope": {"channels": []}}, "scope.channels: must be a non-empty list"),
        ({"touches": {"inbound_calls": "yes"}}, "touches.inbound_calls: must be true or false"),
        ({"thresholds": {"complaint_rate_max": 2}}, "thresholds.complaint_rate_max: must be a number between 0 and 1"),
        ({"thresholds": {"calling_hours": {"start": 18}}}, "thresholds.calling_hours: start must be before end"),
        ({"thresholds": {"ttf_target": 2}}, "thresholds.ttf_target: unknown key"),
        ({"windows": 3}, "windows: unknown key"),
        ({"segment_thresholds": [{"match": {"size": "SMB"}, "min_touches": 3}]},
         "segment_thresholds[0].match.size: is not a segment dimension"),
        ({"segment_thresholds": [{"match": {"company_size": "XL"}, "min_touches": 3}]},
         "segment_thresholds[0].match.company_size: must be one of SMB, Mid, Enterprise"),
        ({"segment_thresholds": [{"match": {"channel": "inbound"}, "cool_down_days": 3}]},
         "segment_thresholds[0].cool_down_days: not overridable per segment"),
        ({"segment_thresholds": [{"min_touches": 3}]}, "segment_thresholds[0].match: each entry needs"),
        ({"owners": {"consulted": "Legal"}}, "owners.consulted: must be a list of texts"),
        (["not", "a", "mapping"], "the note: must be a mapping"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, note, message):
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(note))
    with pytest.raises(ScopingNoteError) as err:
        load_scoping_note(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_missing_file_and_broken_yaml_are_clear(tmp_path):
    with pytest.raises(ScopingNoteError, match="scoping note not found"):
        load_scoping_note(tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("contact: [call\n")
    with pytest.raises(ScopingNoteError, match="not valid YAML"):
        load_scoping_note(broken)


def test_segment_thresholds_keep_only_what_they_override():
    note = parse_scoping_note({"segment_thresholds": [{"match": {"channel": "partner"}, "ttf_target_hours": 8}]})
    assert note["segment_thresholds"] == [{"match": {"channel": "partner"}, "ttf_target_hours": 8}]
    assert dbt_vars(note)["segment_thresholds"] == note["segment_thresholds"]


def test_every_key_is_documented():
    """Each key of the note is explained in the docs (docs/scoping_note.md, or the doc of the part using it)."""
    docs = "\n".join(path.read_text() for path in (ROOT / "docs").glob("*.md"))
    undocumented = [key for key in _leaf_keys(SCHEMA) if f"`{key}`" not in docs]
    assert not undocumented
