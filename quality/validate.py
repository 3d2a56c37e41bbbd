"""Run one suite on one month of the DuckDB warehouse, in-database, and keep the results.

``validate`` returns a :class:`SuiteOutcome` (per check: passed, count of offending rows, a sample of
them) and, given a report folder, keeps GE's validation result as JSON and renders GE's Data Docs:
``<reports>/quality/<month>/validations/`` and ``<reports>/quality/<month>/data_docs/index.html``,
plus ``<reports>/quality/<month>/<suite>.json``, the compact outcome the Dagster checks show.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier

from quality.data_docs import make_offline
from quality.gx_duckdb import add_duckdb_datasource, close_datasource, make_context
from quality.sql import Thresholds, month_literal
from quality.suites import Suite

SAMPLE_SIZE = 10


@dataclass
class CheckOutcome:
    check: str
    dimension: str
    severity: str
    success: bool
    unexpected: int | None      # offending rows (None for table-level checks)
    observed: Any               # GE's observed value (e.g. the row count)
    sample: list[dict] = field(default_factory=list)
    error: str | None = None    # the check itself failed to run
    message: str = ""           # why it failed, in one sentence (quality.suites.explain); '' when it passed


@dataclass
class SuiteOutcome:
    suite: str
    month: str
    checks: list[CheckOutcome]
    seconds: float
    report: str | None = None
    data_docs: str | None = None

    @property
    def success(self) -> bool:
        return all(c.success for c in self.checks)

    def dimension(self, name: str) -> list[CheckOutcome]:
        return [c for c in self.checks if c.dimension == name]

    def counts(self) -> dict[str, int]:
        """check -> offending rows (0 when it passed), for every row-level check."""
        return {c.check: (c.unexpected or 0) for c in self.checks if c.unexpected is not None}


def report_dir_for(reports_root: Path, month: str) -> Path:
    month_literal(month)
    return Path(reports_root) / "quality" / month


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _error_of(info: dict) -> str | None:
    """GE reports an exception either flat or keyed by metric: find the first message."""
    if info.get("raised_exception"):
        return str(info.get("exception_message"))[:500]
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))[:500]
    return None


def _outcome(result, sample_size: int) -> CheckOutcome:
    meta = result.expectation_config.meta or {}
    res = result.result or {}
    error = _error_of(result.exception_info or {})
    observed = res.get("observed_value")
    if result.expectation_config.type == "unexpected_rows_expectation":
        unexpected = int(observed) if observed is not None else None
        rows = (res.get("details") or {}).get("unexpected_rows") or []
        sample = [_plain(dict(r._mapping) if hasattr(r, "_mapping") else dict(r)) for r in rows[:sample_size]]
    else:
        unexpected = res.get("unexpected_count")
        idx = res.get("partial_unexpected_index_list") or []
        values = res.get("partial_unexpected_list") or []
        sample = [_plain(r) for r in idx[:sample_size]] or [{"value": _plain(v)} for v in values[:sample_size]]
    return CheckOutcome(meta.get("check", result.expectation_config.type), meta.get("dimension", "other"),
                        meta.get("severity", "error"), bool(result.success) and error is None,
                        unexpected, _plain(observed), sample, error)


def validate(suite: Suite, month: str, database: Path, report_dir: Path | None = None,
             thresholds: Thresholds | None = None, sample_size: int = SAMPLE_SIZE) -> SuiteOutcome:
    """Validate ``suite`` on ``month`` of the DuckDB file ``database`` (opened read-only, then released)."""
    return validate_suites([suite], month, database, report_dir, thresholds, sample_size)[0]


def validate_suites(suites: list[Suite], month: str, database: Path, report_dir: Path | None = None,
                    thresholds: Thresholds | None = None, sample_size: int = SAMPLE_SIZE) -> list[SuiteOutcome]:
    """Validate several suites on ``month`` with one GE context and one read-only connection, then render
    their Data Docs once (a site build per suite cost more than most validations at small sizes)."""
    t = thresholds or Thresholds()
    ctx = make_context(report_dir)
    datasource = add_duckdb_datasource(ctx, database)
    outcomes, run_ids = [], []
    # COMPLETE: unexpected-rows checks return their rows (GE fetches at most 200); column checks are
    # only used where failures are few (cleaned data, small tables)
    stamp = datetime.now(UTC)
    try:
        for suite in suites:
            started = time.perf_counter()
            asset = datasource.add_query_asset(name=suite.name.replace(".", "__"), query=suite.batch(month))
            batch = asset.add_batch_definition_whole_table("month")
            gx_suite = ctx.suites.add(gx.ExpectationSuite(name=suite.name, expectations=suite.expectations(month, t)))
            definition = ctx.validation_definitions.add(
                gx.ValidationDefinition(name=f"{suite.name} {month}", data=batch, suite=gx_suite))
            result_format = {"result_format": "COMPLETE", "partial_unexpected_count": sample_size}
            if suite.index_columns:
                result_format["unexpected_index_column_names"] = list(suite.index_columns)
            run_id = RunIdentifier(run_name=f"{month} {suite.name}", run_time=stamp)
            run_ids.append(run_id)
            result = definition.run(result_format=result_format, run_id=run_id)
            checks = [_outcome(r, sample_size) for r in result.results]
            for check in checks:
                check.message = suite.explain(check, month)
            outcomes.append(SuiteOutcome(suite.name, month, checks, round(time.perf_counter() - started, 3)))
        if report_dir is not None:
            names = {r.run_name for r in run_ids}
            # this call's results only: the month's folder also keeps the earlier runs' results
            keys = [k for k in ctx.validation_results_store.list_keys()
                    if k.run_id.run_name in names and k.run_id.run_time == stamp]
            ctx.build_data_docs(site_names=["cadence"], resource_identifiers=keys)
            make_offline(Path(report_dir) / "data_docs")  # GE's pages load their CSS and scripts from CDNs
    finally:
        close_datasource(datasource)
    if report_dir is not None:
        Path(report_dir).mkdir(parents=True, exist_ok=True)
        for outcome in outcomes:
            path = Path(report_dir) / f"{outcome.suite}.json"
            outcome.report = str(path)
            outcome.data_docs = str(Path(report_dir) / "data_docs" / "index.html")
            path.write_text(json.dumps(asdict(outcome), indent=2, default=str) + "\n", encoding="utf-8")
    return outcomes
