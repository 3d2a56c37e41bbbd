"""The dbt project, alone in its module so `dagster-dbt project prepare-and-package` can load it."""

from dagster_dbt import DbtProject

from cadence.dbt_manifest import ensure_manifest
from cadence.settings import DBT_PROJECT_DIR

cadence_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Parse once when missing or stale (not at every load): @dbt_assets reads the manifest at import.
ensure_manifest(DBT_PROJECT_DIR)
