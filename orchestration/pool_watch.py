"""The `cadence` command's watch over the run it executes in its own process (orchestration/run_health.py
says why dead runs need finding). Without it, a run waiting for the DuckDB pool waits silently and ignores
Ctrl-C: Dagster holds interrupts back until the next step starts, which never happens while another run
holds the slot."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import dagster as dg

from orchestration.resources import DUCKDB_POOL
from orchestration.run_health import pool_holders, reap_dead_runs


class PoolWatch:
    """Watches a run executed in this process (the ``cadence`` command) from a thread, every ``interval`` s:

    - fails the runs whose process is gone and frees their slots (``reap_dead_runs``), and says so;
    - while the run waits for the pool, says what holds it (once, again when it changes or every minute);
    - a Ctrl-C or SIGTERM while the run waits stops the command. Dagster holds interrupts back until the next
      step starts, which never happens while a slot is held: the watch marks the run canceled, withdraws its
      place in the pool's queue and exits with status 130. During a step, Dagster's own interrupt applies.
    """

    def __init__(self, instance: dg.DagsterInstance, run_id: str, say: Callable[[str], None],
                 interval: float = 2.0, pool: str = DUCKDB_POOL):
        self.instance, self.run_id, self.say, self.interval, self.pool = instance, run_id, say, interval, pool
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cadence-pool-watch", daemon=True)
        self._last_said, self._said_at, self._interrupted_since = "", 0.0, None

    def __enter__(self) -> PoolWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _waiting(self) -> bool:
        info = self.instance.event_log_storage.get_concurrency_info(self.pool)
        return any(p.run_id == self.run_id and p.assigned_timestamp is None for p in info.pending_steps)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # the watch never breaks the run it watches
                self.say(f"(pool watch: {type(exc).__name__}: {exc})")

    def check(self) -> None:
        from dagster._utils.interrupts import check_captured_interrupt  # Dagster's held-back Ctrl-C

        for reaped in reap_dead_runs(self.instance):
            self.say(f"dead run found: {reaped.describe()}")
        waiting = self._waiting()
        if waiting:
            holders = "; ".join(pool_holders(self.instance, self.pool, other_than=self.run_id)) or "another step"
            text = f"waiting for pool {self.pool} (one writer of the DuckDB file at a time), held by {holders}"
            if text != self._last_said or time.time() - self._said_at > 60:
                self.say(text + ". Ctrl-C stops waiting.")
                self._last_said, self._said_at = text, time.time()
        interrupted = check_captured_interrupt()
        self._interrupted_since = (self._interrupted_since or time.time()) if interrupted else None
        if waiting and interrupted and time.time() - self._interrupted_since >= self.interval / 2:
            self._cancel_and_exit()

    def _cancel_and_exit(self) -> None:
        run = self.instance.get_run_by_id(self.run_id)
        if run is not None and not run.is_finished:
            self.instance.report_run_canceled(run, f"Interrupted while waiting for pool {self.pool}.")
        self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        self.say(f"interrupted while waiting for pool {self.pool}: run {self.run_id} canceled, nothing written")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
