"""Sending one notification to one target through apprise (Slack, Mattermost, JSON webhooks, SMTP, ...).

One fresh apprise object per send: apprise throttles repeated sends on the same object (5.5 s for
e-mail), and a target's outcome must be known on its own (exactly-once is tracked per target). apprise's
own log lines can hold the URL's secrets (a webhook path, a password): while sending, its logger is kept
from propagating, its warnings are captured, and whatever is kept is redacted first.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

_LOGGERS = ("apprise", "urllib3", "requests")
#: Query values short or common enough to be no secret (kept readable in errors).
_HARMLESS = {"yes", "no", "true", "false", "post", "get", "text", "html", "markdown", "insecure", "ssl",
             "starttls"}


@contextlib.contextmanager
def quiet_apprise() -> Iterator[io.StringIO]:
    """apprise and the HTTP client under it (whose debug lines show request paths, i.e. webhook tokens)
    log nothing outside this block's buffer, which keeps warnings and above."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.WARNING)
    saved = []
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate, logger.level))
        logger.propagate = False
        logger.setLevel(logging.WARNING)
        logger.addHandler(handler)
    try:
        yield buffer
    finally:
        for logger, propagate, level in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
            logger.setLevel(level)


def secrets_of(url: str) -> list[str]:
    """The parts of a URL that may be secret: user, password, path segments, query values."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1].split(":")[0]  # as written (hostname is lower-cased)
    token_host = host if host and "." not in host else None  # slack://TokenA/...: the "host" is a token
    found = [parts.username, parts.password, token_host, *(unquote(seg) for seg in parts.path.split("/"))]
    found += [value for _key, value in parse_qsl(parts.query) if value.lower() not in _HARMLESS]
    return sorted({s for s in found if s and len(s) >= 3}, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    for secret in secrets_of(url):
        text = text.replace(secret, "***")
    return text


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""  # redacted


def send(url: str, title: str, body: str, timeout_seconds: float = 10.0) -> SendResult:
    """Send once, no retry (the ledger retries with backoff). Never raises for a delivery problem."""
    with quiet_apprise() as log:
        try:
            asset = apprise.AppriseAsset(storage_mode="memory")
            client = apprise.Apprise(asset=asset)
            if not client.add(url):
                return SendResult(False, "the URL is not one apprise can send to")
            for service in client:  # bound waiting on a dead receiver
                service.socket_connect_timeout = service.socket_read_timeout = timeout_seconds
            ok = bool(client.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
        except Exception as exc:  # a plugin bug must not kill the sensor; the ledger retries
            ok, log = False, io.StringIO(f"{type(exc).__name__}: {exc}")
    if ok:
        return SendResult(True)
    lines = [line for line in log.getvalue().splitlines() if line.strip()]
    return SendResult(False, redact(" | ".join(lines[-3:]) or "delivery failed", url)[:500])
