"""The environment, resolved in one place.

Every path is absolute. Defaults keep all state under the checkout's git-ignored ``data/`` folder; each
one can be overridden by an environment variable (the name is given next to it). ``apply()`` exports the
resolved values so that Dagster, dbt's ``profiles.yml`` and subprocesses all read the same ones.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
CONFIG_DIR = REPO_ROOT / "config"

#: First month of the partitions when neither CADENCE_FIRST_MONTH nor an earlier landing folder says otherwise.
PARTITIONS_START = "2025-01-01"
#: Paths derived from CADENCE_DATA_DIR unless set themselves (tests reset them when they move the data dir).
DERIVED_ENV = ("CADENCE_LANDING_DIR", "CADENCE_DUCKDB_PATH", "CADENCE_REPORTS_DIR", "CADENCE_PUBLISH_DIR",
               "DAGSTER_HOME")
#: The month the demo generates and materialises by default: the month before last, so that every lead of
#: its cohort has its whole attribution window behind it (what the final schedule audits).
DEFAULT_SAMPLE_MONTH = "2026-09"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    duckdb_path: Path
    reports_dir: Path
    publish_dir: Path
    dagster_home: Path
    sources_config: Path
    scoping_note: Path
    pii_salt: str
    duckdb_memory_limit: str
    duckdb_threads: int
    dbt_threads: int | None   # None: chosen per month from its size (cadence.dbt_manifest.dbt_threads_for)

    def as_env(self) -> dict[str, str]:
        return {
            "CADENCE_DATA_DIR": str(self.data_dir),
            "CADENCE_LANDING_DIR": str(self.landing_dir),
            "CADENCE_DUCKDB_PATH": str(self.duckdb_path),
            "CADENCE_REPORTS_DIR": str(self.reports_dir),
            "CADENCE_PUBLISH_DIR": str(self.publish_dir),
            "DAGSTER_HOME": str(self.dagster_home),
            "CADENCE_SOURCES_CONFIG": str(self.sources_config),
            "CADENCE_SCOPING_NOTE": str(self.scoping_note),
            "CADENCE_PII_SALT": self.pii_salt,
            "CADENCE_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "CADENCE_DUCKDB_THREADS": str(self.duckdb_threads),
            **({"CADENCE_DBT_THREADS": str(self.dbt_threads)} if self.dbt_threads else {}),
        }


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def load() -> Settings:
    """Read the environment (``CADENCE_*``, ``DAGSTER_HOME``) with the embedded defaults."""
    data_dir = _path("CADENCE_DATA_DIR", REPO_ROOT / "data")
    return Settings(
        data_dir=data_dir,
        landing_dir=_path("CADENCE_LANDING_DIR", data_dir / "landing"),
        duckdb_path=_path("CADENCE_DUCKDB_PATH", data_dir / "warehouse" / "cadence.duckdb"),
        reports_dir=_path("CADENCE_REPORTS_DIR", data_dir / "reports"),
        publish_dir=_path("CADENCE_PUBLISH_DIR", data_dir / "published"),
        dagster_home=_path("DAGSTER_HOME", data_dir / "dagster_home"),
        sources_config=_path("CADENCE_SOURCES_CONFIG", CONFIG_DIR / "sources.yml"),
        scoping_note=_path("CADENCE_SCOPING_NOTE", CONFIG_DIR / "scoping_note.yml"),
        # A demo-safe default; production sets its own secret salt.
        pii_salt=os.environ.get("CADENCE_PII_SALT", "cadence-demo-salt"),
        duckdb_memory_limit=os.environ.get("CADENCE_DUCKDB_MEMORY_LIMIT", "4GB"),
        duckdb_threads=int(os.environ.get("CADENCE_DUCKDB_THREADS", str(os.cpu_count() or 2))),
        dbt_threads=int(os.environ["CADENCE_DBT_THREADS"]) if os.environ.get("CADENCE_DBT_THREADS") else None,
    )


DAGSTER_YAML = """\
# Written by cadence (orchestration). Every asset that writes the DuckDB file declares the pool
# "cadence_duckdb"; DuckDB allows one writer per file, so the pool is limited to one step at a time
# across all runs (backfills, schedules, UI launches). nux: no newsletter pop-up over the UI's first page.
concurrency:
  pools:
    default_limit: 1
# Run monitoring (the daemon): runs stuck STARTING or CANCELING are failed / canceled, and the slots of
# finished runs are freed. A run whose process was killed (kill -9, out of memory) is found by cadence's
# dead_run_sensor and by the cadence command (orchestration/run_health.py): the default run launcher has no
# worker health check. Resuming a crashed run is off: the default launcher cannot resume.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 60
telemetry:
  enabled: false
nux:
  enabled: false
"""
#: dagster.yaml files earlier versions of cadence wrote: replaced by DAGSTER_YAML when found unchanged (one
#: edited by hand is left alone).
PREVIOUS_DAGSTER_YAMLS = (
    """\
# Written by cadence (orchestration). Every asset that writes the DuckDB file declares the pool
# "cadence_duckdb"; DuckDB allows one writer per file, so the pool is limited to one step at a time
# across all runs (backfills, schedules, UI launches).
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
""",
    """\
# Written by cadence (orchestration). Every asset that writes the DuckDB file declares the pool
# "cadence_duckdb"; DuckDB allows one writer per file, so the pool is limited to one step at a time
# across all runs (backfills, schedules, UI launches).
concurrency:
  pools:
    default_limit: 1
# Run monitoring (the daemon): runs stuck STARTING or CANCELING are failed / canceled, and the slots of
# finished runs are freed. A run whose process was killed (kill -9, out of memory) is found by cadence's
# dead_run_sensor and by the cadence command (orchestration/run_health.py): the default run launcher has no
# worker health check. Resuming a crashed run is off: the default launcher cannot resume.
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 30
  free_slots_after_run_end_seconds: 60
telemetry:
  enabled: false
""",
    """\
# Written by cadence (orchestration). Every asset that writes the DuckDB file declares the pool
# "cadence_duckdb"; DuckDB allows one writer per file, so the pool is limited to one step at a time
# across all runs (backfills, schedules, UI launches). nux: no newsletter pop-up over the UI's first page.
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
nux:
  enabled: false
""",
)


def _written_by_cadence(text: str) -> bool:
    """An instance file an earlier cadence wrote and nobody edited: one of PREVIOUS_DAGSTER_YAMLS, or a file
    with cadence's first line holding only the sections cadence writes, with cadence's pool limit. A file a
    user wrote or extended (another first line, another section, another limit) is theirs."""
    if text == DAGSTER_YAML:
        return False
    if text in PREVIOUS_DAGSTER_YAMLS:
        return True
    if not text.startswith("# Written by cadence"):
        return False
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return False
    return (isinstance(doc, dict) and set(doc) <= {"concurrency", "telemetry", "nux", "run_monitoring"}
            and doc.get("concurrency") == {"pools": {"default_limit": 1}})


def apply(settings: Settings | None = None) -> Settings:
    """Export the resolved settings to ``os.environ`` and create the state folders."""
    s = settings or load()
    for key, value in s.as_env().items():
        os.environ[key] = value
    for folder in (s.data_dir, s.landing_dir, s.duckdb_path.parent, s.reports_dir, s.publish_dir,
                   s.dagster_home):
        folder.mkdir(parents=True, exist_ok=True)
    dagster_yaml = s.dagster_home / "dagster.yaml"
    current = dagster_yaml.read_text() if dagster_yaml.exists() else None
    if current is None or _written_by_cadence(current):
        tmp = dagster_yaml.with_name(f".dagster.yaml.{os.getpid()}.tmp")  # never a half-written file
        tmp.write_text(DAGSTER_YAML)
        os.replace(tmp, dagster_yaml)
    return s


_MONTH_DIR = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def partitions_start(settings: Settings | None = None) -> str:
    """The first monthly partition ('YYYY-MM-01'): CADENCE_FIRST_MONTH (YYYY-MM) when set, else the earliest
    month folder in the landing folder (``<source>/<YYYY-MM>/``) when it is before PARTITIONS_START, else
    PARTITIONS_START. So a 2018 extract dropped in the landing folder is a partition, with no code change."""
    first = os.environ.get("CADENCE_FIRST_MONTH")
    if first:
        if not _MONTH_DIR.match(first):
            raise ValueError(f"CADENCE_FIRST_MONTH={first!r}: must be a month, YYYY-MM")
        return f"{first}-01"
    landing = (settings or load()).landing_dir
    months = [d.name for d in landing.glob("*/*") if d.is_dir() and _MONTH_DIR.match(d.name)] \
        if landing.is_dir() else []
    return min([f"{m}-01" for m in months] + [PARTITIONS_START])
