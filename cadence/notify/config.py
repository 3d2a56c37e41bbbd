"""Alert settings, from environment variables (read at each sensor tick, so a change needs no restart).

| variable | default | meaning |
|---|---|---|
| ``CADENCE_ALERT_URLS`` | (none: alerts recorded, not sent) | apprise URLs, separated by spaces, newlines or commas |
| ``CADENCE_UI_BASE_URL`` | ``http://127.0.0.1:3000`` | the Dagster UI, for links to runs |
| ``CADENCE_ALERT_STATE`` | ``$DAGSTER_HOME/cadence_alerts.sqlite`` | the delivery ledger (what was sent where) |
| ``CADENCE_ALERT_RETRY_SECONDS`` | ``30`` | first retry delay after a failed delivery; doubles each time ... |
| ``CADENCE_ALERT_RETRY_MAX_SECONDS`` | ``3600`` | ... up to this |
| ``CADENCE_ALERT_BACKLOG_DAYS`` | ``7`` | a sensor's first tick only alerts breaches found in the last N days |

URLs hold secrets (webhook tokens, SMTP passwords): they are never printed or logged. A target is known
by a hash of its URL (``target_id``) and a label made of its scheme and host only.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"
STATE_FILE = "cadence_alerts.sqlite"
# A new URL starts where a scheme follows a separator: commas inside a URL (mailto's `to=a,b`) stay.
_SPLIT = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.\-]*://)")


class AlertConfigError(ValueError):
    """A setting that cannot be used; the message never contains a URL."""


@dataclass(frozen=True)
class Target:
    """One notification channel: its apprise URL (secret), a stable id and a printable label."""

    url: str
    target_id: str
    label: str

    @classmethod
    def of(cls, url: str) -> Target:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        if "." not in host and host != "localhost":  # e.g. slack://TokenA/...: the "host" is a token
            host = "***"
        label = f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")
        return cls(url=url, target_id=hashlib.sha256(url.encode("utf-8")).hexdigest()[:16], label=label)

    def __repr__(self) -> str:  # never the URL
        return f"Target({self.label}, id={self.target_id})"


def split_urls(value: str) -> list[str]:
    """``CADENCE_ALERT_URLS`` -> URLs (spaces, newlines or commas between them)."""
    return [u.strip().rstrip(",") for u in _SPLIT.split(value.strip()) if u.strip().rstrip(",")]


@dataclass(frozen=True)
class AlertSettings:
    targets: tuple[Target, ...]
    ui_base_url: str
    state_path: Path
    retry_base_seconds: float
    retry_max_seconds: float
    backlog_days: float = 7.0

    def run_url(self, run_id: str) -> str:
        return f"{self.ui_base_url.rstrip('/')}/runs/{run_id}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dagster_home: str | Path | None = None
                 ) -> AlertSettings:
        """Read the variables above. ``dagster_home`` (the instance's root) places the ledger when
        ``CADENCE_ALERT_STATE`` is unset; else ``DAGSTER_HOME``."""
        env = os.environ if environ is None else environ
        urls = split_urls(env.get("CADENCE_ALERT_URLS", ""))
        targets = []
        for i, url in enumerate(urls, start=1):
            if not _valid(url):
                scheme = urlsplit(url).scheme or "?"
                raise AlertConfigError(f"CADENCE_ALERT_URLS entry #{i} ({scheme}://...) is not a URL apprise "
                                       "can send to (see docs/alerts.md)")
            targets.append(Target.of(url))
        state = env.get("CADENCE_ALERT_STATE")
        home = dagster_home or env.get("DAGSTER_HOME")
        if not state and not home:
            raise AlertConfigError("set CADENCE_ALERT_STATE or DAGSTER_HOME: the alert ledger needs a place")
        try:
            base = float(env.get("CADENCE_ALERT_RETRY_SECONDS", "30"))
            cap = float(env.get("CADENCE_ALERT_RETRY_MAX_SECONDS", "3600"))
            backlog = float(env.get("CADENCE_ALERT_BACKLOG_DAYS", "7"))
        except ValueError as exc:
            raise AlertConfigError(f"CADENCE_ALERT_RETRY_SECONDS, _MAX_SECONDS, _BACKLOG_DAYS must be numbers: "
                                   f"{exc}") from None
        return cls(targets=tuple(targets), ui_base_url=env.get("CADENCE_UI_BASE_URL") or DEFAULT_UI_BASE_URL,
                   state_path=Path(state) if state else Path(home) / STATE_FILE,
                   retry_base_seconds=max(base, 0.0), retry_max_seconds=max(cap, base, 0.0), backlog_days=backlog)


def _valid(url: str) -> bool:
    import apprise

    from cadence.notify.channels import quiet_apprise

    with quiet_apprise():  # apprise would log the URL it cannot parse
        return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None
