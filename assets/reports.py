"""Report assets of the month: what managers read (cadence.reports).

- `serving/dashboard`: the one-page dashboard, `<reports dir>/<YYYY-MM>/dashboard.html` (static, offline);
- `serving/audit_note`: the one-page audit note, `audit_note.md` and `audit_note.html`;
- `serving/audit_workbook`: the Excel workbook, `audit_workbook.xlsx` (lead points, scatter with trendline).

They only read the warehouse, through the run's `duckdb` resource (a run's steps share one process with
the writers) and in the DuckDB pool like every other step. One step gathers the month once and writes the
files selected; the paths are in each materialisation's metadata.
"""

from collections.abc import Sequence

import dagster as dg
from dagster_duckdb import DuckDBResource

from cadence.reports.build import write_reports
from orchestration.partitions import month_of, monthly_partitions
from orchestration.resources import DUCKDB_POOL, CadencePaths

#: Groups of the tables the reports read (their assets are the reports' upstream).
READ_GROUPS = ("marts", "analytics", "guardrails", "cleaning", "experiments")
REPORTS = {
    "dashboard": "The one-page dashboard of the month (HTML, self-contained): KPI tiles with month-over-month "
    "change, scatter plots per segment, conversion curve, traffic light, guardrails, lists, meta.",
    "audit_note": "The monthly audit note (Markdown and HTML): changes, three lessons, decisions per segment with "
    "evidence, experiments to run, express diagnostic.",
    "audit_workbook": "The audit workbook (xlsx): lead points, native scatter chart with linear trendline (equation, "
    "R²), mean lines, quadrant counts, KPIs, fits, guardrails, lists.",
}


def build_report_assets(upstream: Sequence[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    deps = [
        key
        for assets_def in upstream
        for key in assets_def.keys
        if assets_def.group_names_by_key.get(key) in READ_GROUPS
    ]
    specs = [
        dg.AssetSpec(
            dg.AssetKey(["serving", name]),
            group_name="serving",
            description=text,
            deps=deps,
            kinds={"html"} if name == "dashboard" else {"markdown"} if name == "audit_note" else {"excel"},
        )
        for name, text in REPORTS.items()
    ]

    @dg.multi_asset(
        name="audit_reports",
        specs=specs,
        can_subset=True,
        partitions_def=monthly_partitions,
        pool=DUCKDB_POOL,
        backfill_policy=dg.BackfillPolicy.multi_run(1),
    )
    def audit_reports(context: dg.AssetExecutionContext, duckdb: DuckDBResource, paths: CadencePaths):
        """Not a table: files, one set per month. Reads the month's marts, analytics, guardrails and experiments
        tables and writes the selected reports under CADENCE_REPORTS_DIR/<YYYY-MM>/ (a missing table shows as
        'not available' in the reports and in the metadata, never fails the step)."""
        month = month_of(context.partition_key)
        selected = {key.path[-1] for key in context.selected_asset_keys}
        with duckdb.get_connection() as con:
            out = write_reports(con, month, paths.reports, selected)
        for name, text in out.unavailable.items():
            context.log.warning(f"reports of {month}: {name} not available ({text})")
        common = {"month": month, "not_available": dg.MetadataValue.json(out.unavailable)}
        for name in REPORTS:
            if name not in selected:
                continue
            files = {k: p for k, p in out.paths.items() if k.startswith(name)}  # audit_note: .md and _html
            meta = {
                **common,
                "path": dg.MetadataValue.path(str(files[name])),
                **{
                    f"path_{k.removeprefix(name + '_')}": dg.MetadataValue.path(str(p))
                    for k, p in files.items()
                    if k != name
                },
                "bytes": dg.MetadataValue.int(sum(p.stat().st_size for p in files.values())),
            }
            if name == "audit_workbook":
                meta["lead_rows"] = dg.MetadataValue.int(out.workbook_rows)
                meta["population_leads"] = dg.MetadataValue.int(out.population_leads)
            yield dg.MaterializeResult(asset_key=dg.AssetKey(["serving", name]), metadata=meta)

    return audit_reports
