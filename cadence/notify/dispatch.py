"""One delivery round: enqueue what is new, then send what is due, recording every outcome.

This is what a sensor tick does, without Dagster: ``enqueue_all`` then ``deliver_due``. Sending goes
through ``cadence.notify.channels.send`` unless a test passes another sender.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cadence.notify.channels import SendResult, send
from cadence.notify.config import AlertSettings
from cadence.notify.ledger import Ledger
from cadence.notify.messages import Notification

Sender = Callable[[str, str, str], SendResult]


@dataclass
class Round:
    """What one round did (for the sensor's log and skip message; labels only, never URLs)."""

    enqueued: list[str] = field(default_factory=list)
    already_known: int = 0
    withdrawn: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)  # (notification id, target label)
    failed: list[tuple[str, str, str, float]] = field(default_factory=list)  # (+ redacted error, retry in s)
    pending: int = 0

    def summary(self) -> str:
        return (f"{len(self.enqueued)} new alert(s), {self.already_known} already known, {self.withdrawn} withdrawn; "
                f"{len(self.sent)} delivery(ies) sent, {len(self.failed)} failed (will retry), "
                f"{self.pending} pending")


def enqueue_all(ledger: Ledger, notifications: Iterable[Notification], settings: AlertSettings,
                result: Round, now: float | None = None) -> None:
    for n in notifications:
        if ledger.enqueue(n, settings.targets, now=now):
            result.enqueued.append(n.notification_id)
        else:
            result.already_known += 1


def deliver_due(ledger: Ledger, settings: AlertSettings, streams: Sequence[str], result: Round,
                sender: Sender = send, now: Callable[[], float] = time.time, limit: int = 200) -> Round:
    """Send the pending deliveries of ``streams`` that are due (at most ``limit`` per round: the rest go
    next tick), to the targets configured now; each attempted once per round."""
    by_id = {t.target_id: t for t in settings.targets}
    for item in ledger.claim_due(streams, list(by_id), now=now(), limit=limit):
        target = by_id[item.target_id]
        outcome = sender(target.url, item.notification.title, item.notification.body)
        delay = ledger.record(item, outcome.ok, outcome.error, now=now(),
                              retry_base=settings.retry_base_seconds, retry_max=settings.retry_max_seconds)
        if outcome.ok:
            result.sent.append((item.notification.notification_id, target.label))
        else:
            result.failed.append((item.notification.notification_id, target.label, outcome.error, delay))
    result.pending = ledger.pending(streams)
    return result
