"""Resources, built from the settings resolved in cadence.settings (one place for the environment)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from cadence import settings as cadence_settings
from orchestration.dbt_project import cadence_dbt_project

#: Every asset that writes the DuckDB file is in this pool; the instance limits it to 1 (DuckDB: one writer).
DUCKDB_POOL = "cadence_duckdb"


class ClosingDuckDBResource(DuckDBResource):
    """dagster-duckdb's resource, whose connection is also closed when the step fails inside
    ``with duckdb.get_connection()``: the original closes it only on success, so a failed step kept the
    file locked until garbage collection, and a `cadence status` (another process) then failed on the lock."""

    @contextmanager
    def get_connection(self):
        with super().get_connection() as conn:
            try:
                yield conn
            finally:
                conn.close()


class CadencePaths(dg.ConfigurableResource):
    """Where extracts land and how they are mapped (from CADENCE_* environment variables)."""

    landing_dir: str
    sources_config: str
    reports_dir: str
    publish_dir: str

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def reports(self) -> Path:
        return Path(self.reports_dir)

    @property
    def published(self) -> Path:
        return Path(self.publish_dir)


def build_resources() -> dict[str, object]:
    """Resources read the CADENCE_* variables when a run starts (dg.EnvVar), not at import: a run
    launched with other variables (tests, another environment) uses its own paths."""
    s = cadence_settings.apply()  # exports the defaults for every variable that is not set
    return {
        "duckdb": ClosingDuckDBResource(
            database=dg.EnvVar("CADENCE_DUCKDB_PATH"),
            connection_config={"memory_limit": s.duckdb_memory_limit, "threads": s.duckdb_threads,
},
        ),
        "dbt": DbtCliResource(project_dir=cadence_dbt_project, profiles_dir=str(cadence_dbt_project.profiles_dir)),
        "paths": CadencePaths(
            landing_dir=dg.EnvVar("CADENCE_LANDING_DIR"),
            sources_config=dg.EnvVar("CADENCE_SOURCES_CONFIG"),
            reports_dir=dg.EnvVar("CADENCE_REPORTS_DIR"),
            publish_dir=dg.EnvVar("CADENCE_PUBLISH_DIR"),
        ),
    }
