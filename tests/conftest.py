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
_DERIVED = ("CADENCE_LANDING_DIR", "CADENCE_DUCKDB_PATH", "CADENCE_REPORTS_DIR", "CADENCE_PUBLISH_DIR",
            "DAGSTER_HOME")  # = cadence.settings.DERIVED_ENV (not imported here: nothing may read env first)
for _var in _DERIVED:
    os.environ.pop(_var, None)
os.environ.setdefault("CADENCE_DUCKDB_THREADS", "2")

SHARED = Path(__file__).resolve().parents[2] / "shared"
REALDATA = SHARED / "realdata"


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A private data folder for one test (landing, warehouse, reports, Dagster home)."""
    monkeypatch.setenv("CADENCE_DATA_DIR", str(tmp_path))
    for var in _DERIVED:
        monkeypatch.delenv(var, raising=False)
    from cadence import settings

    settings.apply()
    return tmp_path


@pytest.fixture(scope="module")
def module_data_dir(tmp_path_factory):
    """A private data folder shared by one test module (for tests that run the pipeline once)."""
    root = tmp_path_factory.mktemp("data")
    saved = {k: os.environ.get(k) for k in ("CADENCE_DATA_DIR", *_DERIVED)}
    os.environ["CADENCE_DATA_DIR"] = str(root)
    for var in _DERIVED:
        os.environ.pop(var, None)
    from cadence import settings

    settings.apply()
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def realdata(name: str) -> Path:
    path = REALDATA / name
    if not path.exists():
        pytest.skip(f"../shared/realdata/{name} is not here (real datasets are test-only, never committed)")
    return path
