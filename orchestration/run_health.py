"""Dead runs and the DuckDB pool: find runs whose process is gone, fail them, free their pool slots.

Why this exists: a run killed with ``kill -9`` (or by the out-of-memory killer) writes no failure event, so it
stays STARTED and keeps its slot in the pool ``cadence_duckdb`` (limit 1): every later run waits for it,
silently, forever. Marking it failed by hand does not free the slot either. Dagster's run monitoring
(enabled in the instance's dagster.yaml) cannot see such a death here: its worker health checks exist only
for the Docker and Kubernetes launchers, not for the default launcher nor for runs executed inside the
``cadence`` command (``execute_in_process`` has no launcher at all).

So every run names its process: Dagster's own "Executing steps in process (pid: N)" engine event, and the
dbt step tags the run with its dbt subprocess (``cadence/dbt_pid``), which outlives a killed parent and keeps
writing the DuckDB file. A run is dead when that process is gone, or when the pid now belongs to a process
started after the run (pid reuse). ``reap_dead_runs`` then stops the orphaned dbt, marks the run failed (the
run-failure alert follows, see orchestration/sensors.py) and frees its slots; it runs in the daemon
(``dead_run_sensor``) and in every ``cadence run``/``backfill`` (orchestration/pool_watch.py), so a user
without the daemon is never stuck behind a dead run either. Runs execute on this machine (the DuckDB file is local).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.resources import DUCKDB_POOL

#: Run tag naming the dbt subprocess of the run (set by assets/dbt.py), "pid:start time".
DBT_PID_TAG = "cadence/dbt_pid"
LIVE_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_started_at(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), or None when there is no such live process (a zombie
    counts as gone). Linux reads /proc; elsewhere a process that exists reports 0.0 (start unknown)."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return None
        if fields[0] in ("Z", "X"):
            return None
        boot = next(float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return 0.0


def process_alive(pid: int, seen_at: float) -> bool:
    """Process ``pid`` is alive and is the one seen at ``seen_at`` (it started no later than that)."""
    started = process_started_at(pid)
    return started is not None and started <= seen_at + 1.0


@dataclass(frozen=True)
class Worker:
    """The process that executes a run's steps, as its engine event recorded it."""

    pid: int
    seen_at: float

    @property
    def alive(self) -> bool:
        return process_alive(self.pid, self.seen_at)


def run_worker(instance: dg.DagsterInstance, run_id: str) -> Worker | None:
    """The run's step process: the newest run-level engine event carrying a pid (None before it starts)."""
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT,
                                               ascending=False, limit=200).records:
        entry = record.event_log_entry
        event = entry.dagster_event
        data = event.engine_event_data if event and not entry.step_key else None
        pid = data.metadata.get("pid") if data and data.metadata else None
        if pid is not None and str(pid.value).isdigit():
            return Worker(int(pid.value), entry.timestamp)
    return None


def _stop_dbt(run: dg.DagsterRun) -> int | None:
    """Stop the dead run's dbt subprocess when it still runs (it writes the DuckDB file); its pid or None."""
    pid_text, _, seen = run.tags.get(DBT_PID_TAG, "").partition(":")
    if not pid_text.isdigit() or not process_alive(int(pid_text), float(seen or 0) or time.time()):
        return None
    pid = int(pid_text)
    for sig, wait in ((signal.SIGINT, 5.0), (signal.SIGKILL, 5.0)):  # dbt cancels its queries on SIGINT
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return pid
        deadline = time.time() + wait
        while time.time() < deadline and process_started_at(pid) is not None:
            time.sleep(0.1)
        if process_started_at(pid) is None:
            return pid
    return pid


def held_slots(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The steps of ``run_id`` holding a slot of any pool ("pool/step")."""
    storage = instance.event_log_storage
    return [f"{key}/{slot.step_key}" for key in storage.get_concurrency_keys()
            for slot in storage.get_concurrency_info(key).claimed_slots if slot.run_id == run_id]


@dataclass(frozen=True)
class Reaped:
    run_id: str
    partition: str | None
    pid: int
    slots: list[str]
    dbt_pid: int | None
    failed: bool  # False: the run had already finished; only its slots were freed

    def describe(self) -> str:
        month = f" (partition {self.partition[:7]})" if self.partition else ""
        what = "marked failed" if self.failed else "already finished"
        freed = f"freed its slot(s) {', '.join(self.slots)}" if self.slots else "it held no slot"
        dbt = f"; stopped its dbt process {self.dbt_pid}" if self.dbt_pid else ""
        if not self.pid:
            return f"run {self.run_id}: no longer in the instance (deleted); {freed}"
        return f"run {self.run_id}{month}: its process {self.pid} is gone; {what}, {freed}{dbt}"


def reap_dead_runs(instance: dg.DagsterInstance) -> list[Reaped]:
    """Fail every unfinished run whose process is gone, and free the pool slots of dead runs (unfinished,
    or finished but still holding a slot: marking a dead run failed does not free it)."""
    reaped = []
    storage = instance.event_log_storage
    holding = storage.get_concurrency_run_ids() if storage.supports_global_concurrency_limits else set()
    live = {r.dagster_run.run_id: r.dagster_run
            for r in instance.get_run_records(filters=dg.RunsFilter(statuses=LIVE_STATUSES))}
    for run_id in sorted(set(live) | set(holding)):
        run = live.get(run_id) or instance.get_run_by_id(run_id)
        if run is None:  # a deleted run cannot be running: its slots are nobody's
            slots = held_slots(instance, run_id)
            storage.free_concurrency_slots_for_run(run_id)
            reaped.append(Reaped(run_id, None, 0, slots, None, False))
            continue
        worker = run_worker(instance, run_id)
        if worker is None or worker.alive:
            continue
        dbt_pid = _stop_dbt(run)
        slots = held_slots(instance, run_id)
        unfinished = run_id in live
        if unfinished:
            instance.report_run_failed(run, (
                f"The run's process {worker.pid} is gone (killed: kill -9, out of memory, machine restart) while "
                f"the run was {run.status.value}. Marked failed by cadence's run monitor"
                + (f"; its slot(s) {', '.join(slots)} freed" if slots else "")
                + (f"; its dbt process {dbt_pid} stopped" if dbt_pid else "")
                + ". Rerun the month: it replaces the month's partitions."))
        if run_id in holding:
            storage.free_concurrency_slots_for_run(run_id)
        reaped.append(Reaped(run_id, run.tags.get("dagster/partition"), worker.pid, slots, dbt_pid, unfinished))
    return reaped


def pool_holders(instance: dg.DagsterInstance, pool: str = DUCKDB_POOL, other_than: str | None = None) -> list[str]:
    """What holds the pool's slots, in words: run, partition, step, process and whether it is alive."""
    out = []
    for slot in instance.event_log_storage.get_concurrency_info(pool).claimed_slots:
        if slot.run_id == other_than:
            continue
        run = instance.get_run_by_id(slot.run_id)
        worker = run_worker(instance, slot.run_id)
        month = (run.tags.get("dagster/partition") or "")[:7] if run else ""
        status = run.status.value if run else "unknown run"
        since = datetime.fromtimestamp(worker.seen_at, UTC).strftime("%H:%M:%S UTC") if worker else "?"
        process = (f"process {worker.pid} {'alive' if worker.alive else 'gone'}, since {since}" if worker
                   else "process unknown")
        out.append(f"run {slot.run_id}" + (f" ({month})" if month else "") + f", step {slot.step_key}, {status}, "
                   + process)
    return out


@dg.sensor(name="dead_run_sensor", minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Fails the runs whose process is gone (kill -9, out of memory) and frees their slots in the "
                       "DuckDB pool; the run-failure alert follows. Dagster's run monitoring cannot see these deaths "
                       "with the default run launcher nor for runs of the cadence command.")
def dead_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    reaped = reap_dead_runs(context.instance)
    for item in reaped:
        context.log.warning(item.describe())
    return dg.SkipReason("; ".join(r.describe() for r in reaped) or "no dead run")
