"""The delivery ledger: which notification went to which target, and what is still to retry.

A small SQLite file under ``DAGSTER_HOME`` (never the DuckDB warehouse, which runs hold for writing).
- ``notifications``: one row per notification id (a breach id, or ``run-failure:<run id>``). Enqueueing an
  id that is already there does nothing: this is what makes a rerun or a second tick send nothing new.
- ``deliveries``: one row per notification and target, created when the notification is enqueued, for the
  targets configured then. ``pending`` until the target accepts it (``delivered``); a failure schedules the
  next attempt with exponential backoff (base, 2 x base, 4 x base ... up to a cap) and never gives up.
  A due delivery is *claimed* (moved a lease ahead) before it is sent, so two sensors never send it twice.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cadence.notify.config import Target
from cadence.notify.messages import Notification

_DDL = """
create table if not exists notifications (
    notification_id text primary key,
    stream text not null,
    partition_month text,
    severity text,
    title text not null,
    body text not null,
    run_id text,
    created_at real not null,
    withdrawn_at real
);
create table if not exists deliveries (
    notification_id text not null references notifications (notification_id),
    target_id text not null,
    target_label text not null,
    status text not null check (status in ('pending', 'delivered', 'withdrawn')),
    attempts integer not null default 0,
    next_attempt_at real not null,
    delivered_at real,
    last_error text,
    primary key (notification_id, target_id)
);
create index if not exists deliveries_due on deliveries (status, next_attempt_at);
"""


@dataclass(frozen=True)
class Claimed:
    notification: Notification
    target_id: str
    attempts: int  # before this one


class Ledger:
    def __init__(self, path: str | Path, lease_seconds: float = 300.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lease_seconds = lease_seconds
        self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._con.execute("pragma journal_mode = wal")
        self._con.executescript(_DDL)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def enqueue(self, n: Notification, targets: Sequence[Target], now: float | None = None) -> bool:
        """Record a notification and one pending delivery per target; False if the id is known already."""
        now = time.time() if now is None else now
        with self._con:
            self._con.execute("begin immediate")
            cur = self._con.execute(
                "insert or ignore into notifications values (?, ?, ?, ?, ?, ?, ?, ?, null)",
                [n.notification_id, n.stream, n.partition_month, n.severity, n.title, n.body, n.run_id, now])
            if cur.rowcount == 0:
                # known: nothing to do, unless a re-audit had withdrawn it and it is back (then send it)
                back = self._con.execute("update notifications set withdrawn_at = null where notification_id = ? "
                                         "and withdrawn_at is not null", [n.notification_id]).rowcount
                self._con.execute("update deliveries set status = 'pending', next_attempt_at = ? "
                                  "where notification_id = ? and status = 'withdrawn'", [now, n.notification_id])
                return bool(back)
            self._con.executemany(
                "insert into deliveries (notification_id, target_id, target_label, status, next_attempt_at) "
                "values (?, ?, ?, 'pending', ?)", [[n.notification_id, t.target_id, t.label, now] for t in targets])
            return True

    def withdraw_pending(self, stream: str, month: str, current_ids: Iterable[str], now: float | None = None,
                         *, experiment: bool = False) -> int:
        """A month was re-audited: its pending notifications that are no longer breaches are not sent.
        Only within the same source: experiment breaches (ids ``experiment:...``) or segment breaches."""
        now = time.time() if now is None else now
        keep = list(current_ids)
        marks = ", ".join("?" for _ in keep) or "null"
        with self._con:
            self._con.execute("begin immediate")
            ids = [r[0] for r in self._con.execute(
                f"select notification_id from notifications where stream = ? and partition_month = ? "
                f"and (notification_id like 'experiment:%') = ? "
                f"and withdrawn_at is null and notification_id not in ({marks})", [stream, month, experiment, *keep])]
            if not ids:
                return 0
            id_marks = ", ".join("?" for _ in ids)
            self._con.execute(f"update notifications set withdrawn_at = ? where notification_id in ({id_marks})",
                              [now, *ids])
            cur = self._con.execute(f"update deliveries set status = 'withdrawn' where status = 'pending' "
                                    f"and notification_id in ({id_marks})", ids)
            return cur.rowcount

    def claim_due(self, streams: Sequence[str], target_ids: Sequence[str], now: float | None = None,
                  limit: int = 50) -> list[Claimed]:
        """Pending deliveries due now, for configured targets, moved a lease ahead (claimed)."""
        now = time.time() if now is None else now
        if not streams or not target_ids:
            return []
        s_marks, t_marks = ", ".join("?" for _ in streams), ", ".join("?" for _ in target_ids)
        with self._con:
            self._con.execute("begin immediate")
            rows = self._con.execute(
                f"select d.notification_id, d.target_id, d.attempts from deliveries as d "
                f"join notifications as n on n.notification_id = d.notification_id "
                f"where d.status = 'pending' and d.next_attempt_at <= ? and n.stream in ({s_marks}) "
                f"and d.target_id in ({t_marks}) order by n.created_at, d.notification_id, d.target_id limit ?",
                [now, *streams, *target_ids, limit]).fetchall()
            self._con.executemany(
                "update deliveries set next_attempt_at = ? where notification_id = ? and target_id = ?",
                [[now + self.lease_seconds, nid, tid] for nid, tid, _ in rows])
        return [Claimed(self.notification(nid), tid, attempts) for nid, tid, attempts in rows]

    def record(self, claimed: Claimed, ok: bool, error: str = "", now: float | None = None,
               retry_base: float = 30.0, retry_max: float = 3600.0) -> float | None:
        """Store the outcome of one attempt; returns the delay before the next one (None if delivered)."""
        now = time.time() if now is None else now
        key = [claimed.notification.notification_id, claimed.target_id]
        if ok:
            self._con.execute("update deliveries set status = 'delivered', attempts = attempts + 1, "
                              "delivered_at = ?, last_error = null where notification_id = ? and target_id = ?",
                              [now, *key])
            return None
        delay = min(retry_base * 2 ** claimed.attempts, retry_max)
        self._con.execute("update deliveries set attempts = attempts + 1, next_attempt_at = ?, last_error = ? "
                          "where notification_id = ? and target_id = ?", [now + delay, error, *key])
        return delay

    def notification(self, notification_id: str) -> Notification:
        row = self._con.execute("select notification_id, stream, partition_month, severity, title, body, run_id "
                                "from notifications where notification_id = ?", [notification_id]).fetchone()
        return Notification(*row)

    def deliveries(self, notification_id: str | None = None) -> list[dict]:
        """Delivery rows (for tests, the CLI and troubleshooting): no URL is stored, only ids and labels."""
        where, args = ("where notification_id = ?", [notification_id]) if notification_id else ("", [])
        cur = self._con.execute(f"select * from deliveries {where} order by notification_id, target_id", args)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def pending(self, streams: Sequence[str]) -> int:
        marks = ", ".join("?" for _ in streams) or "null"
        return self._con.execute(
            f"select count(*) from deliveries as d join notifications as n using (notification_id) "
            f"where d.status = 'pending' and n.stream in ({marks})", list(streams)).fetchone()[0]
