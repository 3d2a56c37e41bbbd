"""The expectation suites, named after the data they guard (quality/README.md lists them).

A suite = the rows it validates (one month of one table, as SQL run by DuckDB) + checks. A check has a
dimension (the Dagster asset check it is reported under) and a severity: ``error`` checks are blocking
(a failure stops downstream assets), ``warning`` checks report without blocking.

- ``raw.<table>``: the data as received. Defects the cleaning handles are *warnings* whose counts say
  exactly what is wrong; only structure (rows present, rows = load log) is an error.
- ``staging.stg_<table>``: the kept rows after cleaning. Everything is an *error*: a defect that
  survives the cleaning is a bug.
- ``cleaning.cleaning_accounting``: raw = kept + excluded, every exclusion logged, each source present.
- ``cleaning.outliers_top5``, ``marts.fct_lead_cadence``: the key outputs' shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import great_expectations.expectations as gxe

from cadence.contract import ENTITIES, Entity
from quality import raw_checks as R
from quality.sql import Thresholds, month_literal

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Check:
    name: str
    dimension: str
    severity: str
    build: Callable[[str, Thresholds], gxe.Expectation]
    description: str
    #: the failure in one sentence, from the outcome (a quality.validate.CheckOutcome) and the month; None:
    #: the generic sentence (`explain`)
    explain: Callable[[Any, str], str] | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    asset_key: tuple[str, ...]
    batch: Callable[[str], str]
    checks: tuple[Check, ...]
    reads: tuple[tuple[str, ...], ...] = ()
    index_columns: tuple[str, ...] = ("_source_file", "_source_row")   # identify a failing row in samples

    def expectations(self, month: str, t: Thresholds) -> list[gxe.Expectation]:
        out = []
        for c in self.checks:
            exp = c.build(month, t)
            exp.meta = {"check": c.name, "dimension": c.dimension, "severity": c.severity,
                        "description": c.description}
            exp.notes = f"[{c.severity}] {c.dimension}: {c.description}"
            out.append(exp)
        return out

    def explain(self, outcome: Any, month: str) -> str:
        """The failure of one check's outcome in a sentence ('' when it passed): the reason the console, the
        Dagster check and the suite's JSON give."""
        check = next((c for c in self.checks if c.name == outcome.check), None)
        return explain(check, outcome, month)

    @property
    def dimensions(self) -> dict[str, str]:
        """dimension -> severity (a dimension has one severity within a suite)."""
        found: dict[str, str] = {}
        for c in self.checks:
            if found.setdefault(c.dimension, c.severity) != c.severity:
                raise ValueError(f"{self.name}: dimension {c.dimension} mixes severities")
        return found


def _first_at(sample: list[dict]) -> str:
    row = sample[0] if sample else {}
    if row.get("_source_file") is None:
        return ""
    return f", first at {row['_source_file']}" + (f" row {row['_source_row']}" if row.get("_source_row") else "")


def explain(check: Check | None, outcome: Any, month: str) -> str:
    """One sentence saying why ``outcome`` (a CheckOutcome) failed, with its counts; '' when it passed."""
    if outcome.success:
        return ""
    if outcome.error:
        return f"the check could not run: {outcome.error}"
    if check is not None and check.explain is not None:
        try:
            return check.explain(outcome, month)
        except (KeyError, IndexError, TypeError, ValueError):
            pass  # an unexpected sample shape: the generic sentence below
    description = check.description if check is not None else outcome.check
    if outcome.unexpected is None:  # a table-level expectation: no rows to count
        return f"expected: {description}; observed: {outcome.observed}"
    return f"{outcome.unexpected:,} row(s) break the rule '{description}'{_first_at(outcome.sample)}"


def _another_month(o: Any, month: str) -> str:
    found = o.sample[0]
    return (f"{found['leads_outside_month']:,} of {found['leads']:,} leads were created outside {month}, mostly in "
            f"{found['mostly_created_in']}: this folder seems to hold another month's export")


def _load_log(o: Any, month: str) -> str:
    r = o.sample[0]
    if r.get("rows_loaded") is None:
        return f"{o.unexpected} file(s) have rows in the table but no load in raw._loads, first {r['_source_file']}"
    return (f"{o.unexpected} file(s) differ from their load in raw._loads, first {r['_source_file']}: "
            f"{r['rows_in_table']:,} rows in the table for {r['rows_loaded']:,} loaded, {r['rejects_logged']:,} "
            f"rejects logged for {r['rows_rejected']:,}")


def rows(sql: Callable[[str, Thresholds], str]) -> Callable[[str, Thresholds], gxe.Expectation]:
    """An UnexpectedRowsExpectation from a SQL builder over ``{batch}`` (DuckDB SQL, run in-database)."""
    # COMPLETE: the offending rows themselves (GE fetches at most 200), the sample the checks show
    return lambda m, t: gxe.UnexpectedRowsExpectation(unexpected_rows_query=sql(m, t), result_format="COMPLETE")


def raw_suite(ent: Entity) -> Suite:
    key = ent.key
    rules = R.TABLE_RULES[ent.name]
    # the leads must have rows; an optional entity may be absent or empty this month (a warning)
    checks = [
        Check("rows_present", "completeness" if ent.optional else "structure", WARNING if ent.optional else ERROR,
              lambda m, t: gxe.ExpectTableRowCountToBeBetween(min_value=1),
              "the month has rows" + (" (optional: it may be absent, see raw._provided)" if ent.optional else ""),
              lambda o, m: f"no {ent.name} rows for {m}: the month's {ent.name} files are missing or empty"),
        Check("rows_match_load_log", "structure", ERROR, rows(lambda m, t: R.load_log_mismatch(ent, m)),
              "every file's rows and rejected lines are exactly those the load logged", _load_log),
        Check("row_count_vs_previous_month", "completeness", WARNING,
              rows(lambda m, t: R.row_count_vs_previous(ent, m, t)),
              "rows within [min, max] x the previous month's"),
    ]
    checks += [Check(f"{c}_present", "completeness", WARNING, rows(lambda m, t, c=c: R.missing(key, c)),
                     f"mandatory {c} is filled") for c in ent.required]
    if ent.name == "leads":
        checks += [
            Check("leads_belong_to_the_month", "structure", ERROR, rows(lambda m, t: R.month_of_another_month(m)),
                  "most leads were created in the month (else: another month's export in this folder)",
                  _another_month),
            Check("created_at_in_month", "completeness", WARNING, rows(lambda m, t: R.leads_outside_month(m)),
                  "each lead was created in the month (UTC or local date)"),
        ]
    if rules.daily:
        checks.append(Check("every_day_represented", "completeness", WARNING,
                            rows(lambda m, t: R.missing_days(rules.daily, m)),
                            f"every day of the month has a {rules.daily}"))
    for c in ent.timestamps:
        checks += [
            Check(f"{c}_has_utc_offset", "time_zones", WARNING, rows(lambda m, t, c=c: R.tz_naive(key, c)),
                  f"{c} carries a UTC offset"),
            Check(f"{c}_is_a_timestamp", "time_zones", WARNING, rows(lambda m, t, c=c: R.not_a_timestamp(key, c)),
                  f"{c} parses as ISO 8601"),
            Check(f"{c}_offset_matches_lead_zone", "time_zones", WARNING,
                  rows(lambda m, t, c=c: R.wrong_offset(ent, c, m)),
                  f"{c}'s offset is the lead zone's offset at that instant (DST included)"),
        ]
    if ent.name == "leads":
        checks.append(Check("lead_timezone_is_iana", "time_zones", WARNING, rows(lambda m, t: R.unknown_zone()),
                            "lead_timezone is an IANA zone"))
    checks += [Check(f"{c}_not_in_future", "time_zones", WARNING, rows(lambda m, t, c=c: R.future(ent, c, m)),
                     f"{c} is not after the extract was taken") for c in rules.future]
    checks += [Check(f"{c}_not_before_lead_creation", "time_zones", WARNING,
                     rows(lambda m, t, c=c: R.before_creation(key, c, m)), f"{c} is not before the lead exists")
               for c in rules.before_creation]
    checks += [
        Check(f"{key}_unique", "key_uniqueness", WARNING, rows(lambda m, t: R.repeated_key(key)),
              f"no row repeats an earlier row's {key}"),
        Check("no_exact_duplicates", "key_uniqueness", WARNING, rows(lambda m, t: R.exact_duplicates(ent)),
              "no row repeats an earlier row entirely"),
    ]
    if ent.name != "leads":
        checks.append(Check("lead_id_known", "referential_integrity", WARNING,
                            rows(lambda m, t: R.unknown_lead(key, m)), "lead_id is a lead of the month"))
    checks += [Check(f"{c}_is_a_number", "ranges", WARNING, rows(lambda m, t, c=c: R.not_a_number(key, c)),
                     f"{c} is a number") for c in ent.decimals]
    checks += [Check(f"{c}_non_negative", "ranges", WARNING, rows(lambda m, t, c=c: R.negative(key, c)),
                     f"{c} >= 0") for c in rules.non_negative]
    checks += [Check(f"{c}_in_set", "ranges", WARNING, rows(lambda m, t, c=c, v=v: R.not_in_set(key, c, v)),
                     f"{c} in {', '.join(v)}") for c, v in rules.value_sets.items()]
    if rules.bounded:
        c, lo, hi = rules.bounded
        checks.append(Check(f"{c}_between_{lo}_and_{hi}", "ranges", WARNING,
                            rows(lambda m, t: R.out_of_bounds(key, c, lo, hi)), f"{lo} <= {c} <= {hi}"))
    if ent.name == "calls":
        checks.append(Check("calls_per_lead_day_plausible", "ranges", WARNING,
                            rows(lambda m, t: R.call_bursts(m, t)),
                            "at most burst_calls_per_lead_day calls to one lead in one local day"))
    reads = (("raw", "crm__leads"),) if ent.name != "leads" else ()
    return Suite(f"raw.{ent.table}", ("raw", ent.table), lambda m: R.raw_batch(ent.table, m), tuple(checks),
                 reads)


def staging_suite(ent: Entity) -> Suite:
    rules = R.TABLE_RULES[ent.name]
    model = f"stg_{ent.table}"
    typed_required = [c for c in ent.required]
    checks = [Check(f"{c}_present", "clean_rows", ERROR, lambda m, t, c=c: gxe.ExpectColumnValuesToNotBeNull(column=c),
                    f"kept rows have {c}") for c in typed_required]
    checks.append(Check(f"{ent.key}_unique", "clean_rows", ERROR,
                        lambda m, t: gxe.ExpectColumnValuesToBeUnique(column=ent.key), f"kept {ent.key} is unique"))
    if ent.name != "leads":
        checks.append(Check("lead_is_kept", "clean_rows", ERROR, rows(lambda m, t: R.clean_unknown_lead(m)),
                            "every kept row's lead is a kept lead of the month"))
    # an opportunity dated before its lead is kept on purpose (a real conversion, flagged): not checked here
    checks += [Check(f"{c}_not_before_lead_creation", "clean_rows", ERROR,
                     rows(lambda m, t, c=c: R.clean_before_creation(ent.key, c, m)), f"kept {c} >= lead creation")
               for c in rules.before_creation if ent.name != "opportunities"]
    checks += [Check(f"{c}_non_negative", "clean_rows", ERROR,
                     lambda m, t, c=c: gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0), f"kept {c} >= 0")
               for c in rules.non_negative if c != "amount"]
    if ent.name == "calls":
        checks.append(Check("calls_per_lead_day_plausible", "clean_rows", ERROR,
                            rows(lambda m, t: R.clean_call_bursts(m, t)), "no burst survives the cleaning"))
    batch = lambda m: (f"select * from staging.{model} where partition_month = {month_literal(m)} "  # noqa: E731
                       f"and is_kept")
    reads = (("staging", "stg_crm__leads"),) if ent.name != "leads" else ()
    return Suite(f"staging.{model}", ("staging", model), batch, tuple(checks), reads)


def accounting_suite() -> Suite:
    checks = (
        Check("every_source_present", "row_accounting", ERROR,
              lambda m, t: gxe.ExpectTableRowCountToEqual(value=len(ENTITIES)), "one row per raw table"),
        Check("sources_loaded", "row_accounting", ERROR, rows(lambda m, t: R.accounting_missing()),
              "the leads have files and rows for the month (the other tables may be absent: raw._provided)"),
        Check("rows_balanced", "row_accounting", ERROR, rows(lambda m, t: R.accounting_unbalanced()),
              "file lines = loaded + rejected; raw = kept + excluded; every exclusion and reject logged"),
    )
    batch = lambda m: f"select * from cleaning.cleaning_accounting where partition_month = {month_literal(m)}"  # noqa: E731
    return Suite("cleaning.cleaning_accounting", ("cleaning", "cleaning_accounting"), batch, checks,
                 index_columns=("table_name",))


def outliers_suite() -> Suite:
    classes = ["error", "exceptional", "opportunity", "risk"]
    checks = (
        Check("at_most_five", "outlier_box", WARNING,
              lambda m, t: gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=t.max_top_outliers),
              "the box holds at most 5 outliers"),
        Check("class_known", "outlier_box", WARNING,
              lambda m, t: gxe.ExpectColumnValuesToBeInSet(column="outlier_class", value_set=classes),
              "every outlier is classified"),
        Check("errors_not_kept", "outlier_box", WARNING,
              rows(lambda m, t: "select * from {batch} where (outlier_class = 'error') = is_kept"),
              "errors are excluded, every other class is kept"),
    )
    batch = lambda m: f"select * from cleaning.outliers_top5 where partition_month = {month_literal(m)}"  # noqa: E731
    return Suite("cleaning.outliers_top5", ("cleaning", "outliers_top5"), batch, checks,
                 index_columns=("entity_id",))


def mart_suite() -> Suite:
    checks = (
        Check("lead_id_present", "grain", ERROR, lambda m, t: gxe.ExpectColumnValuesToNotBeNull(column="lead_id"),
              "every row has a lead"),
        Check("lead_id_unique", "grain", ERROR, lambda m, t: gxe.ExpectColumnValuesToBeUnique(column="lead_id"),
              "one row per lead"),
        Check("one_row_per_kept_lead", "grain", ERROR, rows(lambda m, t: R.mart_fan_out(m)),
              "the mart's leads are exactly the month's kept leads"),
    )
    batch = lambda m: f"select * from marts.fct_lead_cadence where partition_month = {month_literal(m)}"  # noqa: E731
    return Suite("marts.fct_lead_cadence", ("marts", "fct_lead_cadence"), batch, checks,
                 (("staging", "stg_crm__leads"),), index_columns=("lead_id",))


RAW_SUITES: tuple[Suite, ...] = tuple(raw_suite(e) for e in ENTITIES)
STAGING_SUITES: tuple[Suite, ...] = tuple(staging_suite(e) for e in ENTITIES)
SUITES: tuple[Suite, ...] = (*RAW_SUITES, *STAGING_SUITES, accounting_suite(), outliers_suite(), mart_suite())


def suite(name: str) -> Suite:
    for s in SUITES:
        if s.name == name:
            return s
    raise KeyError(f"unknown suite {name!r}; known: {', '.join(s.name for s in SUITES)}")
