"""Killed runs never block the DuckDB pool (issue 16 item 1), with real processes and a real Dagster instance.

The sequence: a real run holds the pool's only slot; a `cadence run` started meanwhile says what it waits
for and stops on Ctrl-C; the holder is killed with `kill -9`; a second `cadence run` finds it dead, fails it,
frees its slot and goes on; that run is in turn killed with `kill -9` during dbt, and the daemon's
dead_run_sensor fails it, stops its orphaned dbt process and frees its slot; the run-failure alerts of both
dead runs reach a real webhook. On the old code the waiting commands never start a step and ignore Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from cadence.notify.receivers import LocalWebhook
from orchestration.run_health import DBT_PID_TAG, process_alive, process_started_at, run_worker

pytestmark = pytest.mark.integration

MONTH = "2026-10"
REPO = Path(__file__).resolve().parents[1]

# A real Dagster run in its own process whose one step sits in the pool until the process is killed.
HOLDER = r"""
import sys, time, pathlib
import dagster as dg

@dg.asset(pool="cadence_duckdb")
def pool_holder():
    pathlib.Path(sys.argv[1]).touch()
    while True:
        time.sleep(0.2)

with dg.DagsterInstance.get() as instance:
    dg.materialize([pool_holder], instance=instance)
"""


def test_a_process_is_alive_only_while_it_runs_and_only_as_itself():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        seen = time.time() + 0.5
        assert process_alive(proc.pid, seen)
        assert not process_alive(proc.pid, seen - 3600)  # this pid seen an hour ago was another process
    finally:
        proc.kill()
        proc.wait()
    assert process_started_at(proc.pid) is None and not process_alive(proc.pid, time.time())


class Cli:
    """`cadence run` in its own process, its output collected in a file."""

    def __init__(self, tmp: Path, name: str, month: str = MONTH):
        self.log = tmp / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "cadence.cli", "run", "--month", month],
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=REPO)

    @property
    def text(self) -> str:
        """What the command printed, then its run log (dbt's and Dagster's lines: the terminal shows a
        progress display only, cadence/console.py); the log's path is the command's first line."""
        out = self.log.read_text()
        first = out.splitlines()[0] if out else ""
        run_log = Path(first[len("Log: "):]) if first.startswith("Log: ") else None
        return out + (run_log.read_text() if run_log and run_log.exists() else "")

    def wait_for(self, needle: str, timeout: float = 120.0) -> str:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.text:
                return self.text
            assert self.proc.poll() is None, f"exited {self.proc.returncode} before {needle!r}:\n{self.text[-3000:]}"
            time.sleep(0.2)
        raise AssertionError(f"no {needle!r} after {timeout:.0f} s:\n{self.text[-3000:]}")


def _run_of_pid(instance: dg.DagsterInstance, pid: int) -> dg.DagsterRun:
    for record in instance.get_run_records():
        worker = run_worker(instance, record.dagster_run.run_id)
        if worker and worker.pid == pid:
            return record.dagster_run
    raise AssertionError(f"no run of process {pid}")


def _slots(instance: dg.DagsterInstance) -> list[tuple[str, str]]:
    info = instance.event_log_storage.get_concurrency_info("cadence_duckdb")
    return [(s.run_id, s.step_key) for s in info.claimed_slots]


@pytest.fixture
def alerting(data_dir, tmp_path, monkeypatch):
    from cadence.cli import main

    assert main(["generate", "--month", MONTH, "--leads", "60", "--seed", "5"]) == 0
    hook = LocalWebhook().start()
    monkeypatch.setenv("CADENCE_ALERT_URLS", f"json://127.0.0.1:{hook.port}/alerts")
    monkeypatch.setenv("CADENCE_ALERT_STATE", str(tmp_path / "ledger.sqlite"))
    monkeypatch.setenv("CADENCE_ALERT_RETRY_SECONDS", "0")
    yield hook
    hook.stop()


def test_a_killed_run_is_failed_its_slot_freed_and_alerted_and_a_waiting_run_says_why(alerting, data_dir, tmp_path):
    from orchestration.run_health import dead_run_sensor
    from orchestration.sensors import guardrail_alert_sensor

    hook = alerting
    ready = tmp_path / "holder.ready"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ready)], env=os.environ.copy())
    deadline = time.time() + 60
    while not ready.exists():
        assert holder.poll() is None and time.time() < deadline, "the holder run never started"
        time.sleep(0.1)
    first, second = Cli(tmp_path, "first"), Cli(tmp_path, "second")
    try:
        with dg.DagsterInstance.get() as instance:
            # the daemon's alert sensor was ticking before (its first tick alerts nothing older)
            cursor = guardrail_alert_sensor(dg.build_sensor_context(instance=instance)).cursor
            holder_run = _run_of_pid(instance, holder.pid)
            assert _slots(instance) == [(holder_run.run_id, "pool_holder")]

            # a waiting command says for what, and Ctrl-C stops it (Dagster alone ignores it while waiting)
            text = first.wait_for("waiting for pool cadence_duckdb")
            assert f"held by run {holder_run.run_id}" in text and f"process {holder.pid} alive" in text
            first.proc.send_signal(signal.SIGINT)
            assert first.proc.wait(timeout=20) == 130
            waited = _run_of_pid(instance, first.proc.pid)
            assert instance.get_run_by_id(waited.run_id).status == dg.DagsterRunStatus.CANCELED
            second.wait_for("waiting for pool cadence_duckdb")

            # kill -9 the holder: the waiting command finds it dead, fails it, frees the slot and goes on
            holder.kill()
            holder.wait()
            text = second.wait_for("freed its slot(s)", timeout=60)
            assert f"dead run found: run {holder_run.run_id}" in text
            assert "freed its slot(s) cadence_duckdb/pool_holder" in text
            assert instance.get_run_by_id(holder_run.run_id).status == dg.DagsterRunStatus.FAILURE

            # kill -9 the second command during dbt: its dbt keeps running, orphaned, until the monitor stops it
            second.wait_for(" START sql incremental model", timeout=120)
            victim = _run_of_pid(instance, second.proc.pid)
            second.proc.kill()
            second.proc.wait()
            dbt_pid = int(instance.get_run_by_id(victim.run_id).tags[DBT_PID_TAG].split(":")[0])
            assert process_started_at(dbt_pid) is not None, "dbt died with its parent: nothing to test"
            assert _slots(instance) == [(victim.run_id, "cadence_dbt_models")]
            assert instance.get_run_by_id(victim.run_id).status == dg.DagsterRunStatus.STARTED

            result = dead_run_sensor(dg.build_sensor_context(instance=instance))
            assert victim.run_id in result.skip_message
            after = instance.get_run_by_id(victim.run_id)
            assert after.status == dg.DagsterRunStatus.FAILURE and _slots(instance) == []
            assert process_started_at(dbt_pid) is None
            assert dead_run_sensor(dg.build_sensor_context(instance=instance)).skip_message == "no dead run"

            # both dead runs are alerted once, with what happened (the general sensor also covers CLI runs)
            guardrail_alert_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
            alerts = {b["title"]: b["message"] for b in hook.bodies("/alerts")}
            for run_id, pid in ((holder_run.run_id, holder.pid), (victim.run_id, second.proc.pid)):
                body = next(m for m in alerts.values() if run_id in m)
                assert f"process {pid} is gone" in body and "Marked failed by cadence's run monitor" in body
            assert any(f"Cadence run failed: monthly_audit ({MONTH}-01)" in title for title in alerts)
            assert len(hook.bodies("/alerts")) == 2
    finally:
        for proc in (holder, first.proc, second.proc):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_the_instance_runs_with_run_monitoring_and_an_older_cadence_file_is_brought_up_to_date(data_dir):
    from cadence import settings

    home = data_dir / "dagster_home"
    older = "# Written by cadence (orchestration).\nconcurrency:\n  pools:\n    default_limit: 1\n"
    (home / "dagster.yaml").write_text(older)
    settings.apply()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert instance.event_log_storage.get_pool_config().default_pool_limit == 1
    mine = "concurrency:\n  pools:\n    default_limit: 1\n"  # a file the user wrote is theirs
    (home / "dagster.yaml").write_text(mine)
    settings.apply()
    assert (home / "dagster.yaml").read_text() == mine


def test_the_slot_of_a_deleted_run_is_freed(data_dir):
    from orchestration.run_health import reap_dead_runs

    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("cadence_duckdb", 1)
        claim = storage.claim_concurrency_slot("cadence_duckdb", "gone-run-id", "cadence_dbt_models")
        assert claim.is_claimed and _slots(instance) == [("gone-run-id", "cadence_dbt_models")]
        reaped = reap_dead_runs(instance)
        assert [r.describe() for r in reaped] == [
            "run gone-run-id: no longer in the instance (deleted); freed its slot(s) cadence_duckdb/cadence_dbt_models"]
        assert _slots(instance) == []
