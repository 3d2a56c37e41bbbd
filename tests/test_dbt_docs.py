"""`cadence docs` leaves the monthly build's dbt parse alone (issue 17 item 6): the docs are generated with
the build's vars into their own target folder, and a partial-parse file rewritten by any other dbt command
makes the pipeline parse again once, instead of every build parsing the whole project from then on.

A one-model dbt project stands in for dbt_project/ (the same calls, real dbt, a few seconds)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from cadence import cli
from cadence import settings as cadence_settings
from cadence.dbt_manifest import ensure_manifest, manifest_is_stale

DBT = Path(sys.executable).with_name("dbt")


@pytest.fixture
def tiny_project(data_dir, tmp_path, monkeypatch) -> Path:
    project = tmp_path / "dbt"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0'\nconfig-version: 2\nprofile: tiny\nmodel-paths: [models]\n"
        "vars: {attribution_window_days: 30}\n")  # a default, as in dbt_project/: dbt runs without --vars too
    (project / "profiles.yml").write_text(
        "tiny:\n  target: local\n  outputs:\n    local:\n      type: duckdb\n"
        "      path: \"{{ env_var('CADENCE_DUCKDB_PATH') }}\"\n")
    (project / "models" / "window.sql").write_text("select {{ var('attribution_window_days') }} as days\n")
    monkeypatch.chdir(tmp_path)  # cmd_docs changes into the project; come back afterwards
    return project


def _partial_parse(project: Path) -> tuple[str, int]:
    path = project / "target" / "partial_parse.msgpack"
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_docs_leave_the_builds_parse_alone(tiny_project, monkeypatch):
    ensure_manifest(tiny_project)
    before = _partial_parse(tiny_project)
    monkeypatch.setattr(cadence_settings, "DBT_PROJECT_DIR", tiny_project)
    assert cli.main(["docs", "--no-serve"]) == 0
    assert _partial_parse(tiny_project) == before
    assert (tiny_project / "target" / "docs" / "catalog.json").exists()
    assert not manifest_is_stale(tiny_project, cadence_settings.load().scoping_note)


def test_a_parse_by_another_dbt_command_is_noticed(tiny_project):
    note = cadence_settings.load().scoping_note
    ensure_manifest(tiny_project)
    assert not manifest_is_stale(tiny_project, note)
    # e.g. a `dbt parse` / `dbt docs generate` by hand, without the pipeline's vars, in the default target
    subprocess.run([str(DBT), "parse", "--quiet", "--project-dir", str(tiny_project), "--profiles-dir",
                    str(tiny_project), "--vars", "{attribution_window_days: 7}"], cwd=tiny_project, check=True)
    assert manifest_is_stale(tiny_project, note)
    ensure_manifest(tiny_project)
    assert not manifest_is_stale(tiny_project, note)
