"""Alert sensors: complaint-rate breaches, the other guardrail breaches, and failed runs.

A failed asset check does not fail a run in open-source Dagster, so a run-failure sensor never sees a
breach: the breach sensors watch the results themselves, i.e. the materialisations of
``guardrails/breaches`` and ``experiments/guardrail_breaches`` (an experiment arm breaching a guardrail),
whose metadata carries the month's breaches (the alert outbox). They read
Dagster's event log, never the DuckDB file (runs hold it for writing), so they also see runs started from
the CLI (``execute_in_process``), which run-status sensors ignore. For the same reason the general sensor
also polls failed runs: a CLI run's failure is alerted too, and one the run-failure sensor already sent
is not sent again (same notification id).

Each tick: new outbox events since the cursor -> enqueue their breaches in the delivery ledger (a breach
id already there is skipped: reruns send nothing new) -> send what is due, retrying failed deliveries with
backoff (cadence.notify). The cursor moves only when the tick succeeds; enqueueing is idempotent.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import dagster as dg

from assets.guardrails import OUTBOX_METADATA_KEY
from assets.guardrails import key as guardrails_key
from cadence.guardrails.rules import COMPLAINT_STREAM, GUARDRAIL_STREAM
from cadence.notify.config import AlertSettings
from cadence.notify.dispatch import Round, deliver_due, enqueue_all
from cadence.notify.ledger import Ledger
from cadence.notify.messages import (
    RUN_FAILURE_STREAM,
    Notification,
    breach_notification,
    run_failure_notification,
)

BREACHES_KEY = guardrails_key("breaches")
EXPERIMENT_BREACHES_KEY = dg.AssetKey(["experiments", "guardrail_breaches"])
#: Each outbox asset, with its cursor's name and whether its ids are experiment ids (withdrawals stay
#: within their own source: re-auditing the segments never withdraws an experiment's pending alert).
OUTBOX_SOURCES = ((BREACHES_KEY, "outbox", False), (EXPERIMENT_BREACHES_KEY, "experiment_outbox", True))
TICK_SECONDS = 30


def alert_settings(instance: dg.DagsterInstance) -> AlertSettings:
    """Environment settings; the ledger lives in the instance's home unless CADENCE_ALERT_STATE says else."""
    return AlertSettings.from_env(dagster_home=getattr(instance, "root_directory", None))


def new_outboxes(instance: dg.DagsterInstance, cursor: str | None, not_before: float = 0.0,
                 key: dg.AssetKey = BREACHES_KEY) -> tuple[list[tuple[str, str, list]], str | None]:
    """(run id, partition, breaches) of every materialisation of the outbox asset ``key`` after ``cursor``
    (and not older than ``not_before``, a timestamp)."""
    found = []
    for _ in range(20):  # at most 2,000 events per tick; the rest next tick
        result = instance.fetch_materializations(key, limit=100, cursor=cursor, ascending=True)
        for record in result.records:
            if record.timestamp < not_before:
                continue
            outbox = record.asset_materialization.metadata.get(OUTBOX_METADATA_KEY)
            found.append((record.run_id, record.partition_key or "", list(outbox.value) if outbox else []))
        cursor = result.cursor if result.records else cursor
        if not result.has_more:
            break
    return found, cursor


def _root_cause(error) -> str:
    """The innermost error message (Dagster wraps the op's exception in its own)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def failure_notification(instance: dg.DagsterInstance, run: dg.DagsterRun, settings: AlertSettings,
                         fallback: str = "") -> Notification:
    """The alert of a failed run: its failed steps and their root errors, else the run's failure message
    (a run whose process died has no failed step: the run monitor's message says what happened)."""
    steps = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    errors = [f"{e.step_key}: {_root_cause(e.dagster_event.event_specific_data.error)}" for e in steps
              if e.dagster_event and e.dagster_event.event_specific_data and e.dagster_event.event_specific_data.error]
    if not errors and not fallback:
        failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        fallback = (failures[-1].dagster_event.message or "") if failures and failures[-1].dagster_event else ""
    return run_failure_notification(run.job_name, run.run_id, run.tags.get("dagster/partition"),
                                    "\n".join(errors) or fallback, settings.run_url(run.run_id))


def failed_runs(instance: dg.DagsterInstance, settings: AlertSettings,
                since: float) -> tuple[list[Notification], float]:
    """Alerts for the runs that failed after ``since`` (a timestamp), and the new ``since``."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=datetime.fromtimestamp(since, UTC)),
        order_by="update_timestamp", ascending=True, limit=100)
    notes = [failure_notification(instance, r.dagster_run, settings) for r in records]
    return notes, max([since, *(r.update_timestamp.timestamp() for r in records)])


def _log(log, settings: AlertSettings, done: Round) -> None:
    if not settings.targets and done.enqueued:
        log.warning(f"CADENCE_ALERT_URLS is empty: {len(done.enqueued)} alert(s) recorded, none sent")
    for nid, label in done.sent:
        log.info(f"alert {nid} delivered to {label}")
    for nid, label, error, delay in done.failed:
        log.warning(f"alert {nid} to {label} failed ({error}); next attempt in {delay:.0f} s")


def breach_tick(context: dg.SensorEvaluationContext, stream: str, flush: tuple[str, ...],
                watch_failed_runs: bool = False) -> dg.SensorResult:
    """One tick of a breach sensor: enqueue the new breaches of ``stream`` (and failed runs), deliver what
    is due in ``flush``. Cursor: JSON {"outbox": event-log cursor, "failed_since": timestamp}."""
    settings = alert_settings(context.instance)
    first_tick = not context.cursor
    cursor = json.loads(context.cursor) if context.cursor else {"outbox": None, "failed_since": time.time()}
    # a sensor switched on in an instance with a history alerts the recent breaches, not years of them
    not_before = time.time() - settings.backlog_days * 86_400 if first_tick else 0.0
    outboxes = []
    for key, name, is_experiment in OUTBOX_SOURCES:
        found, cursor[name] = new_outboxes(context.instance, cursor.get(name), not_before, key)
        outboxes += [(is_experiment, *item) for item in found]
    done = Round()
    with Ledger(settings.state_path) as ledger:
        for is_experiment, run_id, partition, breaches in outboxes:
            mine = [b for b in breaches if b["stream"] == stream]
            # the month was re-audited: what is no longer a breach and not yet sent is withdrawn
            done.withdrawn += ledger.withdraw_pending(stream, partition[:7], [b["breach_id"] for b in mine],
                                                      experiment=is_experiment)
            enqueue_all(ledger, [breach_notification(b, run_id, settings.run_url(run_id)) for b in mine],
                        settings, done)
        if watch_failed_runs:
            notes, cursor["failed_since"] = failed_runs(context.instance, settings, cursor["failed_since"])
            enqueue_all(ledger, notes, settings, done)
        deliver_due(ledger, settings, flush, done)
    _log(context.log, settings, done)
    return dg.SensorResult(skip_reason=done.summary(), cursor=json.dumps(cursor))


@dg.sensor(name="complaint_rate_alert_sensor", minimum_interval_seconds=TICK_SECONDS,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Sends each weekly complaint-rate breach (segment, week, rate vs threshold, top reps and "
                       "campaigns, corrective action, run link) once to CADENCE_ALERT_URLS; retries until delivered.")
def complaint_rate_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    return breach_tick(context, COMPLAINT_STREAM, (COMPLAINT_STREAM,))


@dg.sensor(name="guardrail_alert_sensor", minimum_interval_seconds=TICK_SECONDS,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Sends each other guardrail breach (compliance rules, unsubscribe and bounce rates, KPI "
                       "drops) once to CADENCE_ALERT_URLS; also alerts failed runs the run-failure sensor cannot "
                       "see (CLI runs) and retries undelivered run-failure alerts.")
def guardrail_alert_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    return breach_tick(context, GUARDRAIL_STREAM, (GUARDRAIL_STREAM, RUN_FAILURE_STREAM), watch_failed_runs=True)


@dg.run_failure_sensor(name="run_failure_alert_sensor", minimum_interval_seconds=TICK_SECONDS,
                       default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Sends one alert per failed run (job, partition, failed steps and errors, "
                                   "run link).")
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    settings = alert_settings(context.instance)
    note = failure_notification(context.instance, context.dagster_run, settings,
                                fallback=context.failure_event.message or "")
    done = Round()
    with Ledger(settings.state_path) as ledger:
        enqueue_all(ledger, [note], settings, done)
        deliver_due(ledger, settings, (RUN_FAILURE_STREAM,), done)
    _log(context.log, settings, done)


alert_sensors = [complaint_rate_alert_sensor, guardrail_alert_sensor, run_failure_alert_sensor]
