"""How the pipeline calls dbt, kept cheap: one parse, constant vars, the month in a run-context table.

- The manifest is parsed once (about 5 s) and reused until a file of the dbt project or the scoping note
  changes, or another dbt command rewrote the partial-parse file (`ensure_manifest`).
- Every `dbt build` gets the same vars (the scoping note's, `invocation_vars`), so dbt's partial parsing
  stays valid across months. The month being built is written to `main._cadence_run_context` just before
  the build (`write_run_context`) and read by the models' partition macros (macros/partition.sql).
- dbt unit tests are run by the test suite (tests/test_dbt_unit.py), not by every monthly build.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from cadence import settings as cadence_settings
from cadence.scoping import dbt_vars, load_scoping_note


def invocation_vars(scoping_note: Path | None = None) -> dict[str, Any]:
    """The vars of every dbt invocation: the scoping note's (validated: a bad note fails here, early)."""
    path = scoping_note or cadence_settings.load().scoping_note
    return dbt_vars(load_scoping_note(path))


def build_args(scoping_note: Path | None = None) -> list[str]:
    """Arguments of the monthly `dbt build` (after the command)."""
    return ["--vars", json.dumps(invocation_vars(scoping_note), sort_keys=True),
            "--exclude-resource-type", "unit_test"]


#: Above this many raw rows in the month, dbt runs one node at a time.
SMALL_MONTH_ROWS = 1_000_000


def dbt_threads_for(raw_rows: int, configured: int | None = None) -> int:
    """dbt threads for a month of ``raw_rows`` raw rows (``configured``: CADENCE_DBT_THREADS, wins).

    Small months: 2 threads, since a node is then mostly dbt's own Python work, which a second thread
    overlaps with the previous node's query (-20 % dbt time at 10 k leads). Large months: 1 thread, since
    each DuckDB query already uses every core and two heavy models side by side share one memory limit
    and spill (dbt at 1 M leads: 178 s with one thread, 219 s with two, measured)."""
    if configured:
        return configured
    return 2 if raw_rows < SMALL_MONTH_ROWS else 1


def write_run_context(con, partition_vars: dict[str, str], run_id: str) -> None:
    """Tell the dbt models which month they build (read by macros/partition.sql)."""
    con.execute(
        "create or replace table main._cadence_run_context as select ?::varchar as partition_month, "
        "?::date as min_date, ?::date as max_date, ?::varchar as run_id, now()::timestamp as written_at",
        [partition_vars["partition_month"], partition_vars["min_date"], partition_vars["max_date"], run_id],
    )


def _newest_source_mtime(project_dir: Path, scoping_note: Path) -> float:
    newest = scoping_note.stat().st_mtime if scoping_note.exists() else 0.0
    for folder in ("models", "macros", "tests", "seeds", "snapshots"):
        root = project_dir / folder
        if root.exists():
            for path in root.rglob("*"):
                if path.is_file():
                    newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml", "packages.yml"):
        path = project_dir / name
        if path.exists():
            newest = max(newest, path.stat().st_mtime)
    return newest


def _stamp(project_dir: Path) -> Path:
    return project_dir / "target" / "cadence_parse_vars.json"


def _stamp_text(project_dir: Path, scoping_note: Path) -> str:
    """What our last parse left: the note it read and the partial-parse file it wrote (size, mtime). Any
    other dbt command run in the project with other vars (a `dbt docs generate`, a manual `dbt build`)
    rewrites that file, and every monthly build, which starts from it, would parse the whole project again."""
    partial = project_dir / "target" / "partial_parse.msgpack"
    st = partial.stat() if partial.exists() else None
    return json.dumps({"scoping_note": str(scoping_note),
                       "partial_parse": [st.st_size, st.st_mtime_ns] if st else None}, sort_keys=True)


def manifest_is_stale(project_dir: Path, scoping_note: Path) -> bool:
    manifest = project_dir / "target" / "manifest.json"
    if not manifest.exists() or not _stamp(project_dir).exists():
        return True
    if _stamp(project_dir).read_text() != _stamp_text(project_dir, scoping_note):
        return True
    return manifest.stat().st_mtime < _newest_source_mtime(project_dir, scoping_note)


def ensure_manifest(project_dir: Path = cadence_settings.DBT_PROJECT_DIR) -> Path:
    """Run `dbt parse` in-process (with the monthly build's vars, so its partial-parse file is reused by
    every build) when the manifest is missing or older than the project's files or the scoping note."""
    s = cadence_settings.apply()
    manifest = project_dir / "target" / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    # One check-and-parse at a time across processes: two commands (or the webserver and the daemon)
    # starting together would both parse, and one would read the other's half-written manifest.json.
    with open(project_dir / "target" / ".cadence_parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest_is_stale(project_dir, s.scoping_note):
            _parse(project_dir, s.scoping_note)
    return manifest


def _parse(project_dir: Path, scoping_note: Path) -> None:
    from dbt.cli.main import dbtRunner

    args = ["parse", "--quiet", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--vars", json.dumps(invocation_vars(scoping_note), sort_keys=True)]
    cwd = os.getcwd()
    try:
        os.chdir(project_dir)
        result = dbtRunner().invoke(args)
    finally:
        os.chdir(cwd)
    if not result.success:
        raise RuntimeError(f"dbt parse failed in {project_dir}: {result.exception}")
    _stamp(project_dir).write_text(_stamp_text(project_dir, scoping_note))
