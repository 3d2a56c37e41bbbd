"""What the command line shows while months run, and the log file that keeps everything else.

- `RunLog`: while it is open, the process's stdout and stderr (file descriptors 1 and 2: dbt's lines,
  Dagster's and the libraries' logging, warnings, subprocesses) go to a log file under
  ``<data dir>/logs/``; only what `RunLog.say` writes reaches the terminal (and the log).
- `MonthWatch`: one progress display per month, fed by the Dagster logger `cadence_progress`
  (orchestration/loggers.py): steps done / total, elapsed time and the running step, on one line rewritten in
  place on a terminal; when the output is redirected, nothing until the month's result line.
- `MonthOutcome` and the `*_lines` functions (pure, unit-tested): the month's result line, one line per
  warned step, and for a failed step one summary: the failed asset, the reason in a sentence, what to do and
  where the report and the log are.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

#: Log files kept in the logs folder (older ones are deleted when a new one starts).
KEPT_LOGS = 30
#: Longest text of one warning line on the terminal (the log keeps the whole message).
WARNING_WIDTH = 160

_ACTIVE: MonthWatch | None = None


def active() -> MonthWatch | None:
    """The month being watched, if a `RunLog` is running one (read by the Dagster logger)."""
    return _ACTIVE


def duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def log_path(logs_dir: Path, verb: str, months: list[str]) -> Path:
    span = months[0] if len(months) == 1 else f"{months[0]}_{months[-1]}"
    return Path(logs_dir) / f"{datetime.now():%Y%m%d-%H%M%S}-{verb}-{span}.log"


def prune_logs(logs_dir: Path, keep: int = KEPT_LOGS) -> list[Path]:
    logs = sorted(Path(logs_dir).glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in logs[keep:]:
        old.unlink(missing_ok=True)
    return logs[keep:]


class RunLog:
    """Send file descriptors 1 and 2 to ``path`` while open; `say` writes to the real terminal (and the log).

    Descriptors, not `sys.stdout`: dbt's lines (re-emitted by dagster-dbt), the `tail` processes Dagster
    starts to capture step output, and C libraries write to the descriptors."""

    def __init__(self, path: Path, tty: bool | None = None):
        self.path = Path(path)
        self._tty = tty
        self._live = ""            # the progress line shown (terminal only), redrawn after each `say`
        self._lock = threading.RLock()

    def __enter__(self) -> RunLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        prune_logs(self.path.parent, KEPT_LOGS - 1)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (closed in __exit__)
        self._saved = (os.dup(1), os.dup(2))
        self.terminal = os.fdopen(os.dup(self._saved[0]), "w", encoding="utf-8", buffering=1)
        self.tty = self.terminal.isatty() if self._tty is None else self._tty
        os.dup2(self._file.fileno(), 1)
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        global _ACTIVE
        if _ACTIVE is not None:  # interrupted mid-month: stop its ticker before the terminal closes
            _ACTIVE.stop()
        _ACTIVE = None
        if exc_type is not None and not issubclass(exc_type, KeyboardInterrupt):
            self.write("".join(traceback.format_exception(exc_type, exc, tb)))
        self.live("")
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        self._file.close()
        self.terminal.close()

    def write(self, text: str) -> None:
        """To the log only."""
        with self._lock:
            self._file.write(text if text.endswith("\n") else text + "\n")

    def say(self, text: str = "") -> None:
        """To the terminal and the log (above the progress line, which is redrawn)."""
        with self._lock:
            self.write(text)
            if self.tty and self._live:
                self.terminal.write("\r\x1b[2K")
            self.terminal.write(text + "\n")
            if self.tty and self._live:
                self.terminal.write(self._live)
            self.terminal.flush()

    def live(self, text: str) -> None:
        """Show ``text`` as the progress line on a terminal (replacing the previous one); nothing otherwise."""
        if not self.tty:
            return
        with self._lock:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            self._live = text[:width]
            self.terminal.write("\r\x1b[2K" + self._live)
            self.terminal.flush()

    def watch(self, month: str, total: int, step_assets: dict[str, list[str]]) -> MonthWatch:
        global _ACTIVE
        _ACTIVE = MonthWatch(self, month, total, step_assets)
        return _ACTIVE


@dataclass
class FailedCheck:
    step: str
    asset: str
    check: str
    blocking: bool
    description: str
    report: str | None = None


@dataclass
class StepFailure:
    step: str
    error: str          # class name of the root cause
    message: str        # its message (the first lines)
    assets: list[str] = field(default_factory=list)


@dataclass
class MonthOutcome:
    month: str
    ok: bool
    seconds: float
    done: int
    total: int
    started: int
    failures: list[StepFailure] = field(default_factory=list)
    checks: list[FailedCheck] = field(default_factory=list)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    run_id: str = ""

    @property
    def interrupted(self) -> bool:
        return any(f.error == INTERRUPTED for f in self.failures)

    @property
    def not_run(self) -> int:
        return max(self.total - self.started, 0)


class MonthWatch:
    """The state of one month's run, updated by the Dagster logger as events arrive."""

    def __init__(self, log: RunLog, month: str, total: int, step_assets: dict[str, list[str]]):
        self.log, self.month, self.total, self.step_assets = log, month, total, step_assets
        self.started_at = time.monotonic()
        self.started: list[str] = []
        self.done: set[str] = set()
        self.failures: list[StepFailure] = []
        self.checks: list[FailedCheck] = []
        self.warnings: dict[str, list[str]] = {}
        self.assets: dict[str, int] = {}   # assets materialised so far, per step (dbt's models one by one)
        self._stop = threading.Event()
        self._ticker = None
        if log.tty:  # the elapsed time moves on a terminal even while a long step runs
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        self.redraw()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self.redraw()

    def redraw(self) -> None:
        failed = {f.step for f in self.failures}
        running = [s + (f" ({self.assets[s]} assets)" if self.assets.get(s) else "")
                   for s in self.started if s not in self.done and s not in failed]
        self.log.live(f"Month {self.month}  {len(self.done)}/{self.total} steps  "
                      f"{duration(time.monotonic() - self.started_at)}  "
                      + (", ".join(running) if self.started else "starting the run"))

    # --- fed by orchestration/loggers.py -----------------------------------------------------------------
    def step_started(self, step: str) -> None:
        if step not in self.started:
            self.started.append(step)
        self.redraw()

    def step_succeeded(self, step: str) -> None:
        self.done.add(step)
        self.redraw()

    def materialised(self, step: str) -> None:
        self.assets[step] = self.assets.get(step, 0) + 1
        self.redraw()

    def step_failed(self, step: str, error: str, message: str) -> None:
        self.failures.append(StepFailure(step, error, message, self.step_assets.get(step, [])))
        self.redraw()

    def check_failed(self, check: FailedCheck) -> None:
        self.checks.append(check)

    def warned(self, step: str, message: str) -> None:
        """A warning logged by a step that ran (Dagster's own errors about steps it did not run aside)."""
        if step in self.started:
            self.warnings.setdefault(step, []).append(message)

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()

    def finish(self, ok: bool, run_id: str = "") -> MonthOutcome:
        self.stop()
        self.log.live("")
        global _ACTIVE
        _ACTIVE = None
        return MonthOutcome(self.month, ok, time.monotonic() - self.started_at, len(self.done), self.total,
                            len(self.started), self.failures, self.checks, self.warnings, run_id)


# --- what is printed (pure functions) ---------------------------------------------------------------------

def month_line(o: MonthOutcome) -> str:
    if o.ok:
        return f"Month {o.month}: {o.done}/{o.total} steps done in {duration(o.seconds)}"
    failed = ", ".join(f.step for f in o.failures) or "the run"
    return (f"Month {o.month}: FAILED at {failed} after {duration(o.seconds)} "
            f"({o.done}/{o.total} steps done, {o.not_run} not run)")


def _clip(text: str, width: int = WARNING_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def warning_lines(o: MonthOutcome) -> list[str]:
    """One line per step that ran with warnings: its warnings logged and its failed non-blocking checks."""
    per_step: dict[str, list[str]] = {step: list(msgs) for step, msgs in o.warnings.items()}
    for c in o.checks:
        if not c.blocking:
            per_step.setdefault(c.step, []).append(f"{c.asset} {c.check}: {c.description}")
    lines = []
    for step, messages in per_step.items():
        more = f" (+{len(messages) - 1} more in the log)" if len(messages) > 1 else ""
        lines.append(f"  warning {step}: {_clip(messages[0])}{more}")
    return lines


def _first_line(text: str) -> str:
    """The useful first line of an error message, without its 'module.Class: ' prefix."""
    marker = "Errors parsed from dbt logs:"
    if marker in text:  # dagster-dbt: the dbt error itself, not the 'process failed' wrapper
        text = text.split(marker, 1)[1]
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    head, sep, rest = line.partition(": ")
    if sep and "." in head and " " not in head:
        line = rest
    return line


def _source_of(asset: str) -> str | None:
    """'raw/crm__leads' -> 'crm' (the landing folder of a raw table)."""
    parts = asset.split("/")
    return parts[1].split("__")[0] if len(parts) == 2 and parts[0] == "raw" and "__" in parts[1] else None


INTERRUPTED = "DagsterExecutionInterruptedError"


def what_to_do(error: str, message: str, month: str, landing: Path, asset: str | None = None) -> str:
    again = f"then run `./run.sh run --month {month}` again"
    if error == INTERRUPTED:
        return f"Run `./run.sh run --month {month}` when you want the month: it is rebuilt whole."
    if error in ("IngestError", "MappingError"):
        return (f"Correct that file, or its mapping in config/sources.yml (`./run.sh mapping check --month "
                f"{month}` lists every problem of the month's files at once), {again}.")
    if error == "ScopingNoteError":
        return f"Correct the scoping note (config/scoping_note.yml or CADENCE_SCOPING_NOTE), {again}."
    if "Could not set lock" in message or "Conflicting lock" in message:
        return f"Another process has the warehouse open (its PID is above): let it finish or stop it, {again}."
    if error == "DagsterAssetCheckFailedError" and asset:
        source = _source_of(asset)
        if source:
            return (f"Look at the rows the report names and correct or replace the {source} export in "
                    f"{Path(landing) / source / month}/, {again}.")
        return ("The report names the rows at fault: a required source without rows means a missing export in "
                f"{Path(landing)}/<source>/{month}/; anything else is a defect the cleaning should have handled, "
                "to report with the log.")
    if "dbt" in error.lower() or "dbt" in message.split(":")[0].lower():
        return f"The dbt error above names the model; the log has dbt's whole output. Fix the cause, {again}."
    return (f"An unexpected error: the log has the full traceback. Fix the cause if it is in the month's files "
            f"or the settings, else report it with the log; {again}.")


def failure_lines(o: MonthOutcome, landing: Path, log: Path | None) -> list[str]:
    """The summary of a failed month: per failed step, the failed asset, the reason in a sentence, what to
    do and the report; then the log."""
    lines: list[str] = []
    for f in o.failures:
        blocking = [c for c in o.checks if c.blocking and c.step == f.step]
        if blocking:
            for c in blocking:
                lines += [f"  Failed    : {c.asset}, blocking check {c.check!r} (step {f.step})",
                          f"  Reason    : {c.description}",
                          f"  What to do: {what_to_do(f.error, f.message, o.month, landing, c.asset)}"]
                if c.report:
                    lines.append(f"  Report    : {c.report}")
        else:
            shown = ", ".join(f.assets[:3]) + (f" and {len(f.assets) - 3} more" if len(f.assets) > 3 else "")
            lines += [f"  Failed    : {f.step}" + (f" ({shown})" if shown else ""),
                      "  Reason    : " + ("interrupted (Ctrl-C or a stop request)" if f.error == INTERRUPTED
                                              else _first_line(f.message) or f.error),
                      f"  What to do: {what_to_do(f.error, f.message, o.month, landing)}"]
    if not o.failures:
        lines.append("  Failed    : the run stopped before its steps (see the log)")
    if log is not None:
        lines.append(f"  Log       : {log}")
    return lines


def log_details(o: MonthOutcome) -> str:
    """Everything the terminal summarises, in full (written to the log)."""
    out = [f"== {month_line(o)} (run {o.run_id})"]
    out += [f"   failed step {f.step} ({f.error}): {f.message}" for f in o.failures]
    out += [f"   {'blocking' if c.blocking else 'warning'} check {c.asset} {c.check} ({c.step}): {c.description}"
            + (f" [{c.report}]" if c.report else "") for c in o.checks]
    out += [f"   warning {step}: {m}" for step, msgs in o.warnings.items() for m in msgs]
    return "\n".join(out)
