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


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, RSS bytes) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[21]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


def _tree(root_pid: int) -> list[int]:
    """A process and all its descendants (dbt runs as a subprocess of the pipeline): one scan of /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            children.setdefault(stat[0], []).append(int(entry))
    found, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


PAGE = os.sysconf("SC_PAGE_SIZE")


class Sampler(threading.Thread):
    def __init__(self, every: float = 0.1):
        super().__init__(daemon=True)
        self.every, self.samples, self.stop = every, [], threading.Event()

    def run(self) -> None:
        # the process tree is rescanned every `rescan` samples (listing /proc costs ~20 ms, a share of a
        # 2-core machine the measured run would otherwise pay); in between only the known pids are read
        me, tick, rescan, pids = os.getpid(), 0, 10, []
        while not self.stop.is_set():
            if tick % rescan == 0:
                pids = _tree(me)
            self.samples.append((time.time(), sum(s[1] for p in pids if (s := _stat(p)) is not None)))
            tick += 1
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
