"""The suites as Dagster asset checks: one check per suite dimension, per monthly partition, in two ops.

A dimension made of ``error`` checks is a *blocking* check (its failure stops the downstream assets);
a ``warning`` dimension reports without blocking. Every result carries the count of offending rows per
check, a sample of them (file and row), and where GE's JSON and Data Docs are for that month.
"""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence import settings
from cadence.scoping import load_scoping_note
from orchestration.partitions import month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL, CadencePaths
from quality.sql import Thresholds
from quality.suites import ERROR, RAW_SUITES, SUITES, Suite
from quality.validate import CheckOutcome, SuiteOutcome, report_dir_for, validate_suites

SAMPLE_ROWS = 10


def _key(parts: Iterable[str]) -> dg.AssetKey:
    return dg.AssetKey(list(parts))


def _table(rows: list[dict]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")).replace("|", "\\|")[:80] for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def check_result(suite: Suite, outcome: SuiteOutcome, dimension: str) -> dg.AssetCheckResult:
    """One Dagster check result for one dimension of a suite's outcome (pure: unit-tested directly)."""
    checks: list[CheckOutcome] = outcome.dimension(dimension)
    failed = [c for c in checks if not c.success]
    severity = suite.dimensions[dimension]
    summary = _table([{"check": c.check, "passed": c.success, "rows": "" if c.unexpected is None else c.unexpected,
                       "observed": "" if c.unexpected is not None else c.observed, "error": c.error or ""}
                      for c in checks])
    sample = [{"check": c.check, **row} for c in failed for row in c.sample][:SAMPLE_ROWS]
    metadata: dict[str, dg.MetadataValue] = {
        "month": dg.MetadataValue.text(outcome.month),
        "suite": dg.MetadataValue.text(suite.name),
        "failed_checks": dg.MetadataValue.int(len(failed)),
        "offending_rows": dg.MetadataValue.int(sum(c.unexpected or 0 for c in failed)),
        "checks": dg.MetadataValue.md(summary),
        "sample": dg.MetadataValue.md(_table(sample) if sample else "no failing row"),
        "seconds": dg.MetadataValue.float(outcome.seconds),
    }
    metadata.update({f"rows.{c.check}": dg.MetadataValue.int(c.unexpected) for c in checks if c.unexpected is not None})
    if outcome.report:
        metadata["report_json"] = dg.MetadataValue.path(outcome.report)
        metadata["data_docs"] = dg.MetadataValue.url(Path(outcome.data_docs).as_uri())
    return dg.AssetCheckResult(
        check_name=dimension,
        asset_key=_key(suite.asset_key),
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if severity == ERROR else dg.AssetCheckSeverity.WARN,
        description=(f"{len(failed)} of {len(checks)} checks failed: "
                     + "; ".join(f"{c.check}: {c.message}" if c.message else c.check for c in failed))
        if failed else f"all {len(checks)} checks passed",
        metadata=metadata,
    )


def build_suites_checks(name: str, suites: tuple[Suite, ...], description: str) -> dg.AssetChecksDefinition:
    """One op validating ``suites`` (one GE context, one Data Docs build), one check per suite dimension."""
    specs = [
        dg.AssetCheckSpec(
            name=dimension,
            asset=_key(suite.asset_key),
            additional_deps=[_key(k) for k in suite.reads],
            blocking=severity == ERROR,
            partitions_def=monthly_partitions,
            description=f"{'Blocking' if severity == ERROR else 'Warning'} ({suite.name}): "
                        + "; ".join(c.description for c in suite.checks if c.dimension == dimension),
        )
        for suite in suites
        for dimension, severity in suite.dimensions.items()
    ]

    @dg.multi_asset_check(specs=specs, name=name, pool=DUCKDB_POOL, description=description)
    def _suite_checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, paths: CadencePaths):
        month = month_of(context.partition_key)
        # the cleaning thresholds come from the cycle's scoping note, as dbt's do (one source)
        thresholds = Thresholds.from_note(load_scoping_note(settings.load().scoping_note))
        outcomes = validate_suites(list(suites), month, Path(duckdb.database),
                                   report_dir_for(Path(paths.reports_dir), month), thresholds)
        for suite, outcome in zip(suites, outcomes, strict=True):
            context.log.info(f"{suite.name} {month}: {sum(not c.success for c in outcome.checks)} failed checks "
                             f"in {outcome.seconds:.2f}s")
            for dimension in suite.dimensions:
                yield check_result(suite, outcome, dimension)

    return _suite_checks


# Two ops rather than one per suite: the raw suites once the four sources are loaded, the others once dbt
# has built staging, cleaning and marts (a step costs ~0.3 s of Dagster and GE set-up at any size).
quality_checks: list[dg.AssetChecksDefinition] = [
    build_suites_checks("quality__raw", RAW_SUITES,
                        "Great Expectations suites on the month's raw tables, run in DuckDB (warnings, "
                        "except structure)."),
    build_suites_checks("quality__built", tuple(s for s in SUITES if s not in RAW_SUITES),
                        "Great Expectations suites on the month's cleaned rows, cleaning accounting, outlier box "
                        "and lead mart (blocking, except the outlier box)."),
]
