"""`cadence`: the command line of the pipeline.

Verbs: generate (sample extracts), run (one month end to end), backfill (several months), demo
(generate + run the sample month + show where results are), ui (Dagster webserver + daemon),
status (what the warehouse holds), docs (dbt docs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from cadence import console
from cadence import settings as cadence_settings


def _months(start: str, end: str | None) -> list[str]:
    from orchestration.partitions import partition_key_of

    partition_key_of(start)
    months, (y, m) = [], map(int, start.split("-"))
    end = end or start
    partition_key_of(end)
    while f"{y:04d}-{m:02d}" <= end:
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if not months:
        raise SystemExit(f"error: --to {end} is before {start}")
    return months


def cmd_generate(args: argparse.Namespace) -> int:
    s = cadence_settings.apply()
    from cadence.contract import EXTRACT_INFO
    from cadence.generator import DEFECT_KINDS, generate

    defects: bool | set[str] = False
    if args.defects is not None:
        defects = True if args.defects in ("", "all") else set(args.defects.split(","))
        if isinstance(defects, set) and not defects <= set(DEFECT_KINDS):
            raise SystemExit(f"error: unknown defect kind(s) {sorted(defects - set(DEFECT_KINDS))}; "
                             f"known: {', '.join(DEFECT_KINDS)}")
    landing = Path(args.landing).resolve() if args.landing else s.landing_dir
    months = _months(args.month, args.to)
    before = existing_extracts(landing, months)
    if before and not args.force:
        shown = "\n".join(f"  {p.relative_to(landing)}" for p in before[:8])
        more = f"\n  ... and {len(before) - 8} more" if len(before) > 8 else ""
        raise SystemExit(
            f"error: {landing} already holds {len(before)} file(s) for {', '.join(months)}:\n{shown}{more}\n"
            "generate would overwrite them. Pick another --month or --landing (or CADENCE_DATA_DIR), or pass "
            "--force to replace the generated files (any other file there stays).")
    started = time.perf_counter()
    quiet = getattr(args, "quiet", False)  # the demo: one line, not one per file
    manifests = generate(landing, months, leads_per_month=args.leads, seed=args.seed, defects=defects,
                         file_format=args.format,
                         progress=None if quiet else (lambda msg: print(f"  {msg}", flush=True)))
    print(f"Generated {len(months)} month(s) x {args.leads:,} leads of sample extracts in "
          f"{time.perf_counter() - started:.1f}s -> {landing}", flush=True)
    written = {landing / rel for m in manifests.values() for rel in m["files"]}
    others = [p for p in before if p not in written and p.name != EXTRACT_INFO and p.parent.name != "_manifest"]
    if others:
        print(f"Note: {len(others)} file(s) that were already there are not the generator's and were left in "
              "place; the month loads them too if config/sources.yml's patterns match them:")
        for path in others:
            print(f"  {path.relative_to(landing)}")
    return 0


def existing_extracts(landing: Path, months: list[str]) -> list[Path]:
    """Files already in ``landing`` for these months: every source's month folder and the generator's
    manifest (hidden files, such as a writer's temporary file, aside)."""
    found = []
    for month in months:
        found += [p for p in landing.glob(f"*/{month}/**/*") if p.is_file() and not p.name.startswith(".")]
        manifest = landing / "_manifest" / f"{month}.json"
        if manifest.is_file():
            found.append(manifest)
    return sorted(found)


def run_months(months: list[str]) -> bool:
    """Materialise the whole asset graph for each month, one after the other, in this process."""
    return all(o.ok for o in materialise(months))


def materialise(months: list[str], verb: str = "run") -> list[console.MonthOutcome]:
    """Run each month; the terminal shows one progress display per month, one line per failed or warned
    step and a summary of a failure; everything else (dbt, Dagster, libraries) goes to the log file."""
    s = cadence_settings.apply()
    outcomes = []
    with console.RunLog(console.log_path(s.data_dir / "logs", verb, months)) as log:
        log.say(f"Log: {log.path}")
        log.live("Loading the pipeline definitions ...")
        import uuid

        import dagster as dg

        from orchestration.definitions import defs
        from orchestration.partitions import partition_key_of
        from orchestration.pool_watch import PoolWatch

        job = defs.resolve_job_def("monthly_audit")
        step_assets: dict[str, list[str]] = {node.name: [] for node in job.graph.nodes}  # a step per op
        for assets in defs.assets or []:
            if isinstance(assets, dg.AssetsDefinition) and assets.node_def.name in step_assets:
                step_assets[assets.node_def.name] = sorted(k.to_user_string() for k in assets.keys)
        with dg.DagsterInstance.get() as instance:
            for month in months:
                watch = log.watch(month, len(step_assets), step_assets)
                run_id = str(uuid.uuid4())
                # fails dead runs and frees their slots, says what a waiting run waits for, lets Ctrl-C stop a wait
                with PoolWatch(instance, run_id, say=lambda text: log.say(f"  {text}")):
                    result = job.execute_in_process(
                        partition_key=partition_key_of(month),
                        instance=instance,
                        run_config={"loggers": {"cadence_progress": {}}},
                        raise_on_error=False,
                        run_id=run_id,
                    )
                outcome = watch.finish(result.success, result.run_id)
                outcomes.append(outcome)
                log.write(console.log_details(outcome))
                log.say(console.month_line(outcome))
                for line in console.warning_lines(outcome):
                    log.say(line)
                if not outcome.ok:
                    for line in console.failure_lines(outcome, s.landing_dir, log.path):
                        log.say(line)
                if outcome.interrupted:  # Ctrl-C stops a backfill, not only its current month
                    break
    return outcomes


def print_status_fresh(compact: bool = True) -> None:
    """print_status in a new process: a run may leave DuckDB instances cached in this one (GE keeps its
    own), and DuckDB refuses a second configuration of an open file in one process."""
    import subprocess

    subprocess.run([sys.executable, "-m", "cadence.cli", "status", *(["--compact"] if compact else [])],
                   check=False)


def report_paths(month: str) -> list[Path]:
    folder = cadence_settings.load().reports_dir / month
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []


def cmd_run(args: argparse.Namespace) -> int:
    ok = run_months([args.month])
    if not ok:  # the summary above says why; the warehouse and reports are those of an earlier run
        return 1
    print_status_fresh()
    for path in report_paths(args.month):
        print(f"  report: {path}")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    months = _months(args.start, args.to)
    print(f"Backfilling {len(months)} month(s): {months[0]} .. {months[-1]}", flush=True)
    outcomes = materialise(months, verb="backfill")
    print(f"\nBackfill {months[0]} .. {months[-1]}: {sum(o.ok for o in outcomes)} of {len(months)} month(s) done")
    for o in outcomes:
        if o.ok:
            names = ", ".join(p.name for p in report_paths(o.month))
            print(f"  {o.month}  done in {console.duration(o.seconds):<12} "
                  f"{cadence_settings.load().reports_dir / o.month}/  ({names or 'no report'})")
        else:
            print(f"  {o.month}  FAILED at {', '.join(f.step for f in o.failures) or 'the run'} "
                  "(its summary is above)")
    for month in months[len(outcomes):]:
        print(f"  {month}  not run (the backfill was interrupted)")
    return 0 if len(outcomes) == len(months) and all(o.ok for o in outcomes) else 1


_SCHEMAS = ("raw", "staging", "intermediate", "marts", "analytics", "guardrails")


def warehouse_rows(con) -> list[tuple[str, str, dict[str, int] | None, int]]:
    """(schema, table, rows per month or None when the table has no month column, total rows) of every
    table of the pipeline's schemas."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in "
        f"({', '.join(repr(x) for x in _SCHEMAS)}) and not table_name like '\\_%' escape '\\' order by 1, 2"
    ).fetchall()
    cols = {}
    for schema, table, column in con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where column_name in ('_partition_month', 'partition_month')").fetchall():
        cols.setdefault((schema, table), set()).add(column)
    out = []
    for schema, table in tables:
        found = cols.get((schema, table), set())
        month_col = "_partition_month" if "_partition_month" in found else (
            "partition_month" if "partition_month" in found else None)
        if month_col:
            per = dict(con.execute(f'select {month_col}, count(*) from {schema}."{table}" group by 1 order by 1'
                                   ).fetchall())
            out.append((schema, table, per, sum(per.values())))
        else:
            out.append((schema, table, None, con.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]))
    return out


def print_status(compact: bool = False) -> int:
    """The warehouse's tables with rows per month (compact: one line per schema). 1 when it cannot be read."""
    s = cadence_settings.apply()
    import duckdb

    if not s.duckdb_path.exists():
        print(f"No warehouse yet at {s.duckdb_path}")
        return 0
    try:
        con = duckdb.connect(str(s.duckdb_path), read_only=True)
    except duckdb.IOException as exc:  # a run (or the UI's daemon) writing it: say so, without a traceback
        import re

        held = re.search(r"Conflicting lock is held in (.+?) \((PID \d+)\)", str(exc))
        who = f" ({held.group(2)}: {held.group(1)})" if held else ""
        print(f"The warehouse {s.duckdb_path} is open for writing by another process{who}; "
              "`status` can read it once that run ends.")
        return 1
    try:
        rows = warehouse_rows(con)
    finally:
        con.close()
    if compact:
        print(f"Warehouse: {s.duckdb_path} ({len(rows)} tables; `./run.sh status` lists them)")
        for schema in _SCHEMAS:
            mine = [r for r in rows if r[0] == schema]
            if not mine:
                continue
            months = sorted({m for r in mine for m in (r[2] or {})})
            span = "" if not months else (f" in {months[0]}" if len(months) == 1 else
                                          f" over {len(months)} months ({months[0]} .. {months[-1]})")
            print(f"  {schema:<13} {len(mine):>3} tables {sum(r[3] for r in mine):>12,} rows{span}")
        return 0
    print(f"\nWarehouse: {s.duckdb_path}")
    for schema, table, per, total in rows:
        detail = (", ".join(f"{m}: {n:,}" for m, n in per.items()) or "empty") if per is not None else f"{total:,} rows"
        print(f"  {schema + '.' + table:<44} {detail}")
    return 0


def demo_months(month: str, count: int) -> list[str]:
    """The `count` consecutive months ending at `month`, oldest first."""
    from orchestration.partitions import partition_key_of

    if count < 1:
        raise SystemExit("error: --months must be at least 1")
    y, m = map(int, partition_key_of(month).split("-")[:2])
    first = (y * 12 + m - 1) - (count - 1)
    return _months(f"{first // 12:04d}-{first % 12 + 1:02d}", month)


def cmd_status(args: argparse.Namespace) -> int:
    return print_status(compact=getattr(args, "compact", False))


def cmd_demo(args: argparse.Namespace) -> int:
    s = cadence_settings.apply()
    month = args.month
    months = demo_months(month, args.months)
    # every month is checked before any is generated: a refusal leaves the landing folder as it was
    missing = []
    for m in months:
        manifest = s.landing_dir / "_manifest" / f"{m}.json"
        if manifest.exists():
            leads = json.loads(manifest.read_text(encoding="utf-8")).get("leads_per_month")
            size = f" ({leads:,} leads)" if isinstance(leads, int) else ""
            print(f"Using the sample extracts already generated for {m}{size} in {s.landing_dir}")
        elif existing_extracts(s.landing_dir, [m]):
            raise SystemExit(
                f"error: {s.landing_dir} already holds extracts for {m} that the demo did not generate; it "
                f"leaves them alone. Run that month as it is with `./run.sh run --month {m}`, or run the demo "
                "on another month (--month, --months) or in another data folder (CADENCE_DATA_DIR).")
        else:
            missing.append(m)
    for m in missing:
        print(f"Generating sample extracts for {m} ({args.leads:,} leads) into {s.landing_dir}")
        gen = argparse.Namespace(month=m, to=None, leads=args.leads, seed=42, defects=None,
                                 format="csv", landing=None, force=False, quiet=True)
        cmd_generate(gen)
    if not run_months(months):  # in order: each month has the one before it for its changes and trends
        return 1  # the summary above says why and what to do
    print_status_fresh()
    reports = "\n".join(f"  {p.name:<19}: {p}" for p in report_paths(month))
    earlier = f" (after {', '.join(months[:-1])}, whose reports are beside it)" if len(months) > 1 else ""
    print(f"""Next
  Query            : ./run.sh status   (or any DuckDB client, read-only: duckdb -readonly {s.duckdb_path})
  Dagster UI       : ./run.sh ui   (then open http://127.0.0.1:3000)
  dbt docs         : ./run.sh docs (then open http://127.0.0.1:8080)
Results of {month}{earlier}
{reports}
  BI (read-only)   : {s.publish_dir / 'cadence_bi.duckdb'}  (+ Parquet in {s.publish_dir / 'parquet'})
  DuckDB warehouse : {s.duckdb_path}
  Landing extracts : {s.landing_dir}
  Reports          : {s.reports_dir}
  Dagster home     : {s.dagster_home}""")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    cadence_settings.apply()
    from cadence.dbt_manifest import ensure_manifest

    ensure_manifest()
    exe = Path(sys.executable).with_name("dagster")
    cmd = [str(exe), "dev", "-w", str(cadence_settings.REPO_ROOT / "workspace.yaml"), "-h", args.host,
           "-p", str(args.port)]
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C to stop)", flush=True)
    os.chdir(cadence_settings.REPO_ROOT)
    # `dagster dev` warns at every start that `dg dev` (another package, dagster-dg-cli, with its own project
    # layout) supersedes it; it is the supported command of the dagster we pin, so that one warning is noise
    quiet = "ignore:Function `dev_command` is superseded:FutureWarning"
    env = {**os.environ, "PYTHONWARNINGS": ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), quiet]))}
    os.execve(cmd[0], cmd, env)
    return 0


def docs_command(project: Path) -> tuple[list[str], Path]:
    """The `dbt docs generate` arguments (after the executable) and the folder it writes.

    The docs get their own target folder and the monthly build's vars: a `dbt docs generate` with other vars
    (none) in dbt's default target would overwrite the partial-parse file every monthly build starts from,
    and each later build would parse the whole project again (+3.5 s a run, measured)."""
    from cadence.dbt_manifest import invocation_vars

    target = project / "target" / "docs"
    return ["docs", "generate", "--project-dir", str(project), "--profiles-dir", str(project),
            "--target-path", str(target), "--vars", json.dumps(invocation_vars(), sort_keys=True)], target


def cmd_docs(args: argparse.Namespace) -> int:
    cadence_settings.apply()
    import shutil
    import subprocess

    from cadence.dbt_manifest import ensure_manifest

    project = cadence_settings.DBT_PROJECT_DIR
    exe = str(Path(sys.executable).with_name("dbt"))
    ensure_manifest(project)  # the build's parse, current: the docs start from its partial-parse file
    generate_args, target = docs_command(project)
    target.mkdir(parents=True, exist_ok=True)
    if (project / "target" / "partial_parse.msgpack").exists():
        shutil.copy2(project / "target" / "partial_parse.msgpack", target / "partial_parse.msgpack")
    os.chdir(project)
    if subprocess.call([exe, *generate_args]) != 0:
        return 1
    print(f"dbt docs written to {target}")
    if args.no_serve:
        return 0
    os.execv(exe, [exe, "docs", "serve", "--project-dir", str(project), "--profiles-dir", str(project),
                   "--target-path", str(target), "--host", args.host, "--port", str(args.port), "--no-browser"])
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    s = cadence_settings.apply()
    from cadence.bench.harness import machine_facts, render, run_bench

    sizes = [int(x.replace("_", "")) for x in args.sizes.split(",")]
    workdir = Path(args.workdir).resolve() if args.workdir else s.data_dir / "bench"
    rows = run_bench(sizes, args.month, workdir, args.memory_limit, progress=lambda m: print(m, flush=True))
    command = f"./run.sh bench --sizes {args.sizes} --memory-limit {args.memory_limit}"
    report = render(rows, machine_facts(), command, args.memory_limit)
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)
    print(f"Written to {out}")
    return 0 if all(not r["disagreements"] and r["pipeline"]["ok"] for r in rows) else 1


def cmd_mapping_check(args) -> int:
    from cadence.mapping import MappingError, load_mapping
    from cadence.mapping_assistant import check_month
    from orchestration.partitions import partition_key_of

    partition_key_of(args.month)  # a ValueError names a bad month
    s = cadence_settings.load()
    config = Path(args.config).resolve() if args.config else s.sources_config
    landing = Path(args.landing).resolve() if args.landing else s.landing_dir
    try:
        mappings = load_mapping(config)
    except MappingError as exc:
        print(f"✗ {exc}")
        return 1
    problems = check_month(landing, args.month, mappings)
    for p in problems:
        print(p.render())
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    print(f"{args.month}: {errors} error(s), {warnings} warning(s) in {landing} against {config}"
          + ("" if errors else " — ready to run"))
    return 1 if errors else 0


def cmd_mapping_suggest(args) -> int:
    from cadence.mapping_assistant import suggest

    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    _entity, draft = suggest(path)
    print(draft, end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cadence", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="verb", required=True)

    g = sub.add_parser("generate", help="write sample extracts for one or more months")
    g.add_argument("--month", default=cadence_settings.DEFAULT_SAMPLE_MONTH, help="first month YYYY-MM")
    g.add_argument("--to", help="last month YYYY-MM (default: --month)")
    g.add_argument("--leads", type=int, default=2000, help="leads per month (default 2000)")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--defects", nargs="?", const="all", default=None,
                   help="plant defects: all (default when given) or a comma list of kinds")
    g.add_argument("--format", choices=["csv", "parquet"], default="csv")
    g.add_argument("--landing", help="landing folder (default: CADENCE_LANDING_DIR)")
    g.add_argument("--force", action="store_true",
                   help="overwrite the files of months that already have extracts (refused otherwise)")
    g.set_defaults(func=cmd_generate)

    r = sub.add_parser("run", help="materialise the whole asset graph for one month")
    r.add_argument("--month", default=cadence_settings.DEFAULT_SAMPLE_MONTH)
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("backfill", help="materialise several months, one after the other")
    b.add_argument("--from", dest="start", required=True, help="first month YYYY-MM")
    b.add_argument("--to", required=True, help="last month YYYY-MM")
    b.set_defaults(func=cmd_backfill)

    d = sub.add_parser("demo", help="generate the sample months (if missing), run them in order and show the "
                       "results of the last one")
    d.add_argument("--month", default=cadence_settings.DEFAULT_SAMPLE_MONTH, help="the last month (YYYY-MM)")
    d.add_argument("--months", type=int, default=3,
                   help="consecutive months ending at --month (default 3: the dashboard has trends)")
    d.add_argument("--leads", type=int, default=2000, help="leads per month (default 2000)")
    d.set_defaults(func=cmd_demo)

    u = sub.add_parser("ui", help="start the Dagster webserver and daemon on 127.0.0.1")
    u.add_argument("--host", default="127.0.0.1")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=cmd_ui)

    s = sub.add_parser("status", help="list the warehouse tables with rows per month")
    s.add_argument("--compact", action="store_true", help="one line per schema")
    s.set_defaults(func=cmd_status)

    k = sub.add_parser("bench", help="time the pipeline against plain DuckDB and pandas scripts at several sizes")
    k.add_argument("--sizes", default="10000,100000,1000000", help="leads per month, comma-separated")
    k.add_argument("--month", default=cadence_settings.DEFAULT_SAMPLE_MONTH)
    k.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit of the pipeline (spills beyond)")
    k.add_argument("--workdir", help="where the generated data and warehouses go (default: data/bench)")
    k.add_argument("--out", default=str(cadence_settings.REPO_ROOT / "docs" / "benchmarks.md"))
    k.set_defaults(func=cmd_bench)

    m = sub.add_parser("mapping", help="check the field mapping against a month's files, or draft one")
    msub = m.add_subparsers(dest="action", required=True)
    mc = msub.add_parser("check", help="every problem of a month's files against config/sources.yml, before a run")
    mc.add_argument("--month", required=True, help="YYYY-MM")
    mc.add_argument("--config", help="the field mapping (default: CADENCE_SOURCES_CONFIG)")
    mc.add_argument("--landing", help="landing folder (default: CADENCE_LANDING_DIR)")
    mc.set_defaults(func=cmd_mapping_check)
    ms = msub.add_parser("suggest", help="sniff one export file and print a draft mapping")
    ms.add_argument("file")
    ms.set_defaults(func=cmd_mapping_suggest)

    o = sub.add_parser("docs", help="generate (and serve) the dbt docs")
    o.add_argument("--host", default="127.0.0.1")
    o.add_argument("--port", type=int, default=8080)
    o.add_argument("--no-serve", action="store_true")
    o.set_defaults(func=cmd_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
