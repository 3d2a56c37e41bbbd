"""A concise progress logger for the command line: one line per step start/finish and materialisation."""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg

_SHOWN = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "ASSET_MATERIALIZATION", "RUN_FAILURE"}


class _ProgressHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.ERROR:
                print(f"  ! {record.getMessage()}", file=sys.stderr, flush=True)
            return
        kind = event.event_type_value
        if kind not in _SHOWN:
            return
        step = meta.get("step_key") or ""
        stamp = time.strftime("%H:%M:%S")
        if kind == "ASSET_MATERIALIZATION":
            key = event.asset_key.to_user_string() if event.asset_key else ""
            print(f"  {stamp}   materialised {key}", flush=True)
        elif kind == "STEP_START":
            print(f"  {stamp} > {step}", flush=True)
        elif kind == "STEP_SUCCESS":
            print(f"  {stamp} ok {step}", flush=True)
        else:  # a step's own failure description (e.g. which dbt test failed, on which row) beats Dagster's
            data = event.event_specific_data if kind == "STEP_FAILURE" else None
            told = data.user_failure_data.description if data and getattr(data, "user_failure_data", None) else None
            print(f"  {stamp} FAILED {step}: {told or event.message or record.getMessage()}", file=sys.stderr,
                  flush=True)


@dg.logger(description="One line per step and materialisation (used by the cadence CLI).")
def progress_logger(_init_context) -> logging.Logger:
    log = logging.Logger("cadence_progress", level=logging.DEBUG)
    log.addHandler(_ProgressHandler())
    return log
