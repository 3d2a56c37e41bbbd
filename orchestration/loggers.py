"""The command line's Dagster logger: every record goes to the run's log file, and the events that matter
(steps started, done or failed, failed asset checks, warnings) feed the month's progress display
(cadence/console.py)."""

from __future__ import annotations

import logging
import sys

import dagster as dg

from cadence import console


def root_error(error) -> tuple[str, str]:
    """(class name, message) of the innermost cause of a Dagster SerializableErrorInfo: the user's exception
    rather than Dagster's 'Error occurred while executing op' wrapper."""
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return "", ""
    return error.cls_name or "", error.message or ""


def _text(metadata: dict) -> str:
    """A failed check without description: its metadata, briefly."""
    return ", ".join(f"{k}={getattr(v, 'value', v)}" for k, v in metadata.items() if k != "month")[:300]


def forward(record: logging.LogRecord, watch: console.MonthWatch) -> None:
    meta = getattr(record, "dagster_meta", None) or {}
    event = meta.get("dagster_event")
    step = meta.get("step_key") or ""
    watch.log.write(f"{record.levelname:<7} {step or '-'} | {record.getMessage()}")
    if event is None:
        if record.levelno >= logging.WARNING:
            watch.warned(step, meta.get("orig_message") or record.getMessage())
        return
    kind = event.event_type_value
    if kind == "STEP_START":
        watch.step_started(step)
    elif kind == "STEP_SUCCESS":
        watch.step_succeeded(step)
    elif kind == "ASSET_MATERIALIZATION":
        watch.materialised(step)
    elif kind == "STEP_FAILURE":
        data = event.step_failure_data
        cls, message = root_error(data.error if data else None)
        told = data.user_failure_data.description if data and data.user_failure_data else None
        # a step's own failure description (e.g. which dbt test failed, on which file, row and value) beats
        # the exception's message
        watch.step_failed(step, cls, told or message)
    elif kind == "ASSET_CHECK_EVALUATION":
        data = event.event_specific_data
        if not data.passed:
            report = data.metadata.get("report_json")
            watch.check_failed(console.FailedCheck(
                step=step, asset=data.asset_key.to_user_string(), check=data.check_name,
                blocking=data.severity == dg.AssetCheckSeverity.ERROR,
                description=data.description or _text(data.metadata),
                report=str(getattr(report, "value", report)) if report is not None else None))


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        watch = console.active()
        if watch is not None:
            forward(record, watch)
        elif record.levelno >= logging.WARNING:  # outside the command line's RunLog: warnings only
            print(f"  ! {record.getMessage()}", file=sys.stderr, flush=True)


@dg.logger(description="Feeds the cadence command line's progress display and log file (cadence/console.py).")
def progress_logger(_init_context) -> logging.Logger:
    log = logging.Logger("cadence_progress", level=logging.DEBUG)
    log.addHandler(_ProgressHandler())
    return log
