"""Great Expectations over DuckDB: the context, the datasource, and the workaround that makes it work.

GE 1.24's SQL datasource reads results after the pooled connection is closed; over DuckDB (duckdb-engine)
every expectation then fails with ``list index out of range`` (GE issues #11579, #10738). GE keeps one
persisted connection for the dialects named in a private tuple (SQLite, SQL Server, ...); adding "duckdb"
to it makes expectations run in-database. This touches a private name, so GE is pinned exactly
(pyproject) and tests/test_quality_gx.py fails as soon as the workaround stops working.
"""

from __future__ import annotations

import atexit
import importlib.util
import sys
from pathlib import Path

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import sqlalchemy_execution_engine as _sa_engine

#: The GE version the workaround was verified on (the pin in pyproject.toml).
VERIFIED_GE_VERSION = "1.24.1"
DUCKDB_ENGINE_HINT = ("the SQLAlchemy dialect for DuckDB is missing: add `duckdb-engine==0.17.0` to the project's "
                      "dependencies (quality/README.md explains why GE needs it)")


class QualitySetupError(RuntimeError):
    """The quality gates cannot run (missing dialect, unexpected GE version)."""


class _Dialect(str):
    """A dialect name GE can compare like its own enum members (it reads ``.value``)."""

    @property
    def value(self) -> str:
        return str(self)


def _drop_duckdb_type_constants() -> None:
    """At exit only: once GE's SQLAlchemy layer has used duckdb-engine, DuckDB's module-level type
    constants outlive the extension's teardown and nanobind prints ~40 "leaked instance" lines after
    every run (and after pytest's summary). Dropping those constants when the process ends silences it."""
    for name, module in list(sys.modules.items()):
        if module is not None and name.startswith(("duckdb", "_duckdb")):
            for attr, value in list(vars(module).items()):
                if type(value).__name__ == "DuckDBPyType":
                    delattr(module, attr)


atexit.register(_drop_duckdb_type_constants)


def enable_duckdb_persisted_connection() -> None:
    """Make GE keep one connection per DuckDB engine, as it does for SQLite (idempotent)."""
    if gx.__version__ != VERIFIED_GE_VERSION:
        raise QualitySetupError(f"great_expectations {gx.__version__} is not the verified {VERIFIED_GE_VERSION}: "
                                "re-check the DuckDB workaround (quality/README.md) before moving the pin")
    dialects = getattr(_sa_engine, "_PERSISTED_CONNECTION_DIALECTS", None)
    if dialects is None:
        raise QualitySetupError("great_expectations no longer has _PERSISTED_CONNECTION_DIALECTS: the DuckDB "
                                "workaround must be redone (quality/README.md)")
    if "duckdb" not in [getattr(d, "value", d) for d in dialects]:
        _sa_engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _Dialect("duckdb"))


def require_duckdb_engine() -> None:
    if importlib.util.find_spec("duckdb_engine") is None:
        raise QualitySetupError(DUCKDB_ENGINE_HINT)


def make_context(report_dir: Path | None = None) -> gx.data_context.AbstractDataContext:
    """An in-memory GE context with progress bars off. With ``report_dir``, validation results are kept
    as JSON under ``report_dir/validations`` and rendered as Data Docs under ``report_dir/data_docs``."""
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    if report_dir is not None:
        report_dir = Path(report_dir)
        ctx.add_store("cadence_validation_results", {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(report_dir / "validations")},
        })
        ctx.variables.validation_results_store_name = "cadence_validation_results"
        ctx.add_data_docs_site(site_name="cadence", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(report_dir / "data_docs")},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return ctx


def add_duckdb_datasource(ctx, database: Path, name: str = "warehouse"):
    """A GE SQL datasource on the DuckDB file, read-only, with the persisted-connection workaround."""
    require_duckdb_engine()
    enable_duckdb_persisted_connection()
    return ctx.data_sources.add_sql(
        name=name,
        connection_string=f"duckdb:///{Path(database).resolve()}",
        kwargs={"connect_args": {"read_only": True}},
    )


def close_datasource(datasource) -> None:
    """Release the DuckDB file. GE's ``close()`` disposes the engine but leaves the persisted connection
    open, and the datasource keeps a second engine for its connection test: either would keep the file
    locked and lock out the next writer (dbt runs in a subprocess)."""
    engine = datasource.get_execution_engine()
    connection = getattr(engine, "_connection", None)
    if connection is not None:
        connection.close()
        engine._connection = None
    for sa_engine in (engine.engine, getattr(datasource, "_engine", None)):
        if sa_engine is not None:
            sa_engine.dispose()
            # cached result metadata holds DuckDB type objects that nanobind reports as leaks at exit
            if getattr(sa_engine, "_compiled_cache", None) is not None:
                sa_engine._compiled_cache.clear()
