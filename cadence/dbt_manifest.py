"""Keep dbt's manifest current without paying a `dbt parse` at every load or step.

The manifest is parsed once (about 5 s) and reused until a file of the dbt project changes.
"""

from __future__ import annotations

import os
from pathlib import Path

from cadence import settings as cadence_settings


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
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


def manifest_is_stale(project_dir: Path) -> bool:
    manifest = project_dir / "target" / "manifest.json"
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project_dir)


def ensure_manifest(project_dir: Path = cadence_settings.DBT_PROJECT_DIR) -> Path:
    """Run `dbt parse` in-process when the manifest is missing or older than the project's files."""
    manifest = project_dir / "target" / "manifest.json"
    if manifest_is_stale(project_dir):
        cadence_settings.apply()
        from dbt.cli.main import dbtRunner

        cwd = os.getcwd()
        try:
            os.chdir(project_dir)
            result = dbtRunner().invoke(["parse", "--quiet", "--project-dir", str(project_dir),
                                         "--profiles-dir", str(project_dir)])
        finally:
            os.chdir(cwd)
        if not result.success:
            raise RuntimeError(f"dbt parse failed in {project_dir}: {result.exception}")
    return manifest
