"""Shared fixtures. Every test keeps its state in a temporary folder: the CADENCE_* variables are
pointed there before anything reads them, so no test touches the checkout's data/ folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before any cadence/orchestration import: resources resolve CADENCE_* when a run starts.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="cadence-tests-"))
os.environ["CADENCE_DATA_DIR"] = str(_SESSION_DIR)
for _var in ("CADENCE_LANDING_DIR", "CADENCE_DUCKDB_PATH", "CADENCE_REPORTS_DIR", "DAGSTER_HOME"):
    os.environ.pop(_var, None)
os.environ.setdefault("CADENCE_DUCKDB_THREADS", "2")

SHARED = Path(__file__).resolve().parents[2] / "shared"
REALDATA = SHARED / "realdata"


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A private data folder for one test (landing, warehouse, reports, Dagster home)."""
    monkeypatch.setenv("CADENCE_DATA_DIR", str(tmp_path))
    for var in ("CADENCE_LANDING_DIR", "CADENCE_DUCKDB_PATH", "CADENCE_REPORTS_DIR", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    from cadence import settings

    settings.apply()
    return tmp_path


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"../shared/realdata/{name} is not here (real datasets are test-only, never committed)")
    return path
