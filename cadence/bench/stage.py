"""One benchmark stage in its own process (so its wall time and peak memory are its own):

    python -m cadence.bench.stage pipeline|duckdb|pandas <root> <month>

Prints one JSON line: wall seconds, per-step seconds and peak RSS (pipeline), and writes the core numbers
to <root>/bench/<stage>.parquet for the agreement check.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

STARTED = time.perf_counter()


def _tree_rss_bytes(root_pid: int) -> int:
    """RSS of a process and all its descendants (dbt runs as a subprocess of the pipeline)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            pid = int(entry)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


class Sampler(threading.Thread):
    def __init__(self, every: float = 0.1):
        super().__init__(daemon=True)
        self.every, self.samples, self.stop = every, [], threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            self.samples.append((time.time(), _tree_rss_bytes(me)))
            time.sleep(self.every)


def run_pipeline(root: Path, month: str) -> dict:
    os.environ["CADENCE_DATA_DIR"] = str(root)
    sampler = Sampler()
    sampler.start()
    import dagster as dg

    from cadence import settings
    from orchestration.definitions import defs
    from orchestration.partitions import partition_key_of

    settings.apply()
    job = defs.resolve_job_def("monthly_audit")
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            partition_key=partition_key_of(month),
            instance=instance,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            raise_on_error=False,
        )
        entries = instance.all_logs(result.run_id, of_type=kinds)  # the run's own step events, timestamped
    sampler.stop.set()
    sampler.join()
    starts, steps = {}, {}
    for entry in entries:
        event = entry.dagster_event
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.step_key in starts:
            t0, t1 = starts[event.step_key], entry.timestamp
            peak = max((rss for t, rss in sampler.samples if t0 <= t <= t1), default=0)
            steps[event.step_key] = {
                "seconds": round(t1 - t0, 2),
                "peak_rss_mb": round(peak / 2**20),
                "ok": event.event_type_value == "STEP_SUCCESS",
            }
    import duckdb

    from cadence.bench.core import from_pipeline

    con = duckdb.connect(str(settings.load().duckdb_path), read_only=True)
    from_pipeline(con, month).to_parquet(root / "bench" / "pipeline.parquet")
    con.close()
    return {
        "ok": result.success,
        "steps": steps,
        "peak_rss_mb": round(max((r for _, r in sampler.samples), default=0) / 2**20),
    }


def main() -> None:
    stage, root, month = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    (root / "bench").mkdir(parents=True, exist_ok=True)
    landing = root / "landing"
    if stage == "pipeline":
        out = run_pipeline(root, month)
    else:
        from cadence.bench import core

        frame = core.plain_duckdb(landing, month) if stage == "duckdb" else core.plain_pandas(landing, month)
        frame.to_parquet(root / "bench" / f"{stage}.parquet")
        out = {"ok": True}
    out["wall_seconds"] = round(time.perf_counter() - STARTED, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
