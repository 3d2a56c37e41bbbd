"""Alerts with real receivers on 127.0.0.1 (an HTTP server and an SMTP server): channels, secrets, the
delivery ledger (exactly once, retries with backoff), and the three sensors called through
build_sensor_context / build_run_status_sensor_context on a test instance (no pipeline here: the
breaches are reported as materialisations of guardrails/breaches, as the asset does)."""

from __future__ import annotations

import logging

import dagster as dg
import pytest

from assets.guardrails import OUTBOX_METADATA_KEY
from cadence.notify.channels import redact, send
from cadence.notify.config import AlertConfigError, AlertSettings, Target, split_urls
from cadence.notify.dispatch import Round, deliver_due, enqueue_all
from cadence.notify.ledger import Ledger
from cadence.notify.messages import breach_notification
from cadence.notify.receivers import LocalSmtp, LocalWebhook
from orchestration.sensors import (
    BREACHES_KEY,
    complaint_rate_alert_sensor,
    guardrail_alert_sensor,
    run_failure_alert_sensor,
)

SECRET = "T0KEN5ECRET"


def breach(rule="complaint_rate", stream="complaint", month="2026-10", week="2026-W42",
           segment="channel=outbound | company_size=Mid", **extra) -> dict:
    from cadence.guardrails.breaches import breach_id

    return {"breach_id": breach_id(rule, month, week, segment), "stream": stream, "rule_id": rule, "family": "rate",
            "title": "Weekly complaint rate above threshold", "severity": "critical",
            "action": "Revise the content of the segment's sequences and lower the daily cap.",
            "partition_month": month, "iso_week": week, "segment_level": "channel+company_size",
            "segment_key": segment, "observed": 0.0154, "threshold": 0.002, "events": 15, "base": 973,
            "p_value": 2.5e-9, "leads": None,
            "comparison": "1.54 % (15 of 973 delivered e-mails) vs threshold 0.20 % (one-sided p = 2.5e-09)",
            "top_reps": [{"name": "R09", "count": 6}, {"name": "R08", "count": 3}],
            "top_campaigns": [{"name": "CMP202610-02", "count": 12}], "top_segments": [], "note_version": "v",
            **extra}


@pytest.fixture
def hook():
    server = LocalWebhook().start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = LocalSmtp().start()
    yield server
    server.stop()


def _urls(hook: LocalWebhook, smtp: LocalSmtp) -> dict[str, str]:
    return {
        "slack": f"mmost://127.0.0.1:{hook.port}/{SECRET}?image=no",  # a Slack-compatible incoming webhook
        "json": f"json://127.0.0.1:{hook.port}/generic",
        "mail": f"mailto://127.0.0.1:{smtp.port}?from=cadence@example.com&to=ops@example.com&mode=insecure",
    }


# --- settings, messages, channels -------------------------------------------------------------------


def test_settings_come_from_the_environment_and_never_show_a_url(tmp_path):
    env = {"CADENCE_ALERT_URLS": "json://h/a,json://h/b?x=1 \n mailto://h?to=a@x.org,b@x.org&from=c@x.org",
           "DAGSTER_HOME": str(tmp_path)}
    s = AlertSettings.from_env(env)
    assert [t.url for t in s.targets] == ["json://h/a", "json://h/b?x=1", "mailto://h?to=a@x.org,b@x.org&from=c@x.org"]
    assert s.ui_base_url == "http://127.0.0.1:3000" and s.state_path == tmp_path / "cadence_alerts.sqlite"
    assert s.run_url("abc") == "http://127.0.0.1:3000/runs/abc"
    target = Target.of(f"mmost://user:pa55word@chat.example.com/{SECRET}")
    assert SECRET not in repr(target) and "pa55word" not in target.label and target.label == "mmost://chat.example.com"
    assert Target.of("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlaz").label == "slack://***"  # Slack's "host" is a token
    with pytest.raises(AlertConfigError) as err:
        AlertSettings.from_env({"CADENCE_ALERT_URLS": f"nosuchscheme://{SECRET}@host/x", "DAGSTER_HOME": "/tmp"})
    assert SECRET not in str(err.value) and "entry #1" in str(err.value)
    assert split_urls("") == [] and AlertSettings.from_env({"DAGSTER_HOME": "/tmp"}).targets == ()


def test_a_breach_alert_says_what_to_do():
    note = breach_notification(breach(), "run-42", "http://127.0.0.1:3000/runs/run-42")
    assert note.title == "[CRITICAL] Weekly complaint rate above threshold: outbound / Mid, 2026-W42"
    for text in ("Segment: channel=outbound | company_size=Mid", "Week: 2026-W42", "1.54 % (15 of 973",
                 "vs threshold 0.20 %", "Top reps: R09 (6), R08 (3)", "Top campaigns: CMP202610-02 (12)",
                 "Corrective action: Revise the content", "Run: http://127.0.0.1:3000/runs/run-42",
                 f"Breach id: {breach()['breach_id']}"):
        assert text in note.body, text


def test_channels_deliver_to_real_receivers_and_keep_secrets(hook, smtp, caplog):
    caplog.set_level(logging.DEBUG)
    urls = _urls(hook, smtp)
    for url in urls.values():
        assert send(url, "Title", "Body line 1\nBody line 2").ok
    slack, generic = hook.bodies(f"/hooks/{SECRET}"), hook.bodies("/generic")
    assert slack[0]["text"].startswith("Title") and "Body line 2" in slack[0]["text"]  # Slack's {"text": ...}
    assert generic[0]["title"] == "Title" and generic[0]["message"] == "Body line 1\nBody line 2"
    assert smtp.messages[0]["Subject"] == "Title" and "Body line 2" in LocalSmtp.text(smtp.messages[0])
    # a receiver that is down: a failure, with an error that names no secret
    down = f"mmost://127.0.0.1:1/{SECRET}"
    result = send(down, "t", "b")
    assert not result.ok and SECRET not in result.error
    assert SECRET not in caplog.text  # apprise's own log lines never reach the logs
    assert redact(f"POST http://h/hooks/{SECRET} failed", down) == "POST http://h/hooks/*** failed"


# --- the ledger: exactly once, retries with backoff --------------------------------------------------


def test_the_ledger_sends_once_per_target_and_backs_off(tmp_path):
    settings = AlertSettings.from_env({"CADENCE_ALERT_URLS": "json://127.0.0.1:9/a json://127.0.0.1:9/b",
                                       "DAGSTER_HOME": str(tmp_path), "CADENCE_ALERT_RETRY_SECONDS": "10",
                                       "CADENCE_ALERT_RETRY_MAX_SECONDS": "35"})
    note = breach_notification(breach(), "r", "u")
    clock = [1000.0]
    outcomes = {"a": [False, False, False, True], "b": [True]}
    calls = []

    def sender(url, _title, _body):
        calls.append((url[-1], clock[0]))
        from cadence.notify.channels import SendResult

        return SendResult(outcomes[url[-1]].pop(0), "refused")

    with Ledger(settings.state_path) as ledger:
        done = Round()
        enqueue_all(ledger, [note, note], settings, done, now=clock[0])
        assert done.enqueued == [note.notification_id] and done.already_known == 1
        for t in (1000, 1005, 1010, 1029, 1030, 1064, 1065, 1100):  # backoff 10, 20, then 40 capped to 35
            clock[0] = float(t)
            deliver_due(ledger, settings, ["complaint"], Round(), sender=sender, now=lambda: clock[0])
        assert sorted(calls) == [("a", 1000), ("a", 1010), ("a", 1030), ("a", 1065), ("b", 1000)]
        rows = {r["target_id"][:4]: r for r in ledger.deliveries(note.notification_id)}
        assert {r["status"] for r in rows.values()} == {"delivered"}
        assert sorted(r["attempts"] for r in rows.values()) == [1, 4]
        # once delivered, nothing is ever due again, and enqueueing the same id is a no-op
        assert not ledger.enqueue(note, settings.targets, now=2000)
        assert ledger.claim_due(["complaint"], [t.target_id for t in settings.targets], now=1e12) == []


def test_a_claimed_delivery_is_not_sent_twice_and_a_withdrawn_one_not_at_all(tmp_path):
    targets = (Target.of("json://127.0.0.1:9/a"),)
    with Ledger(tmp_path / "l.sqlite") as one, Ledger(tmp_path / "l.sqlite") as two:
        old, kept = (breach_notification(breach(week=w), "r", "u") for w in ("2026-W41", "2026-W42"))
        for n in (old, kept):
            one.enqueue(n, targets, now=0)
        assert len(one.claim_due(["complaint"], [targets[0].target_id], now=1)) == 2
        assert two.claim_due(["complaint"], [targets[0].target_id], now=2) == []  # leased by the first
        # a re-audit of the month no longer finds W41: its pending delivery is withdrawn; if it comes back, it is due
        assert one.withdraw_pending("complaint", "2026-10", [kept.notification_id], now=3) == 1
        assert {r["notification_id"]: r["status"] for r in one.deliveries()}[old.notification_id] == "withdrawn"
        assert one.enqueue(old, targets, now=4)
        assert [c.notification.notification_id for c in one.claim_due(["complaint"], [targets[0].target_id], now=5)] \
            == [old.notification_id]


# --- the sensors, on a test instance ------------------------------------------------------------------


@pytest.fixture
def alert_env(tmp_path, monkeypatch, hook, smtp):
    urls = _urls(hook, smtp)
    monkeypatch.setenv("CADENCE_ALERT_URLS", " ".join(urls.values()))
    monkeypatch.setenv("CADENCE_ALERT_STATE", str(tmp_path / "alerts.sqlite"))
    monkeypatch.setenv("CADENCE_ALERT_RETRY_SECONDS", "0")
    monkeypatch.setenv("CADENCE_UI_BASE_URL", "http://127.0.0.1:3999")
    with dg.instance_for_test() as instance:
        yield instance


def _report(instance, month: str, breaches: list[dict]) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key=BREACHES_KEY, partition=f"{month}-01",
        metadata={OUTBOX_METADATA_KEY: dg.MetadataValue.json(breaches)}))


def _tick(sensor, instance, cursor):
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    return result.cursor


def test_breach_sensors_send_each_breach_once_to_every_channel(alert_env, hook, smtp):
    instance = alert_env
    complaint = breach()
    other = breach(rule="opt_out_contact", stream="guardrail", week=None, segment="all",
                   title="Touch after the lead opted out", comparison="20 violating touches on 20 leads")
    _report(instance, "2026-10", [complaint, other])
    c_cursor = _tick(complaint_rate_alert_sensor, instance, None)
    assert [b["title"] for b in hook.bodies("/generic")] == [
        "[CRITICAL] Weekly complaint rate above threshold: outbound / Mid, 2026-W42"]
    assert len(hook.bodies(f"/hooks/{SECRET}")) == 1 and len(smtp.messages) == 1
    g_cursor = _tick(guardrail_alert_sensor, instance, None)
    assert [b["title"] for b in hook.bodies("/generic")][1].startswith("[CRITICAL] Touch after the lead opted out")
    assert len(smtp.messages) == 2

    # more ticks and a rerun (same breaches materialised again) send nothing new
    _report(instance, "2026-10", [complaint, other])
    for _ in range(2):
        c_cursor = _tick(complaint_rate_alert_sensor, instance, c_cursor)
        g_cursor = _tick(guardrail_alert_sensor, instance, g_cursor)
    assert len(hook.received) == 4 and len(smtp.messages) == 2
    # a new breach (another week) goes out, once
    _report(instance, "2026-10", [complaint, breach(week="2026-W43"), other])
    c_cursor = _tick(complaint_rate_alert_sensor, instance, c_cursor)
    _tick(complaint_rate_alert_sensor, instance, c_cursor)
    titles = [b["title"] for b in hook.bodies("/generic")]
    assert len(titles) == 3 and titles[2].endswith("outbound / Mid, 2026-W43")
    assert len(smtp.messages) == 3
    assert "http://127.0.0.1:3999/runs/" in hook.bodies("/generic")[0]["message"]


def test_a_first_tick_does_not_replay_an_old_history(alert_env, hook, monkeypatch):
    instance = alert_env
    _report(instance, "2026-09", [breach(month="2026-09")])  # found before alerts were switched on
    monkeypatch.setenv("CADENCE_ALERT_BACKLOG_DAYS", "0")
    cursor = _tick(complaint_rate_alert_sensor, instance, None)
    assert hook.received == []
    _report(instance, "2026-10", [breach()])
    _tick(complaint_rate_alert_sensor, instance, cursor)  # after the first tick, everything new goes out
    assert [b["title"][-8:] for b in hook.bodies("/generic")] == ["2026-W42"]


def test_a_receiver_down_at_first_still_gets_the_alert_once(alert_env, hook, smtp, monkeypatch):
    instance = alert_env
    flaky = LocalWebhook(fail_first=2).start()
    try:
        monkeypatch.setenv("CADENCE_ALERT_URLS", f"json://127.0.0.1:{flaky.port}/flaky")
        _report(instance, "2026-10", [breach()])
        cursor = None
        for _ in range(4):
            cursor = _tick(complaint_rate_alert_sensor, instance, cursor)
        assert flaky.refused == 2 and len(flaky.bodies("/flaky")) == 1
    finally:
        flaky.stop()


def test_the_smtp_server_down_then_up(alert_env, hook, monkeypatch):
    instance = alert_env
    later = LocalSmtp()  # not started: connection refused
    monkeypatch.setenv("CADENCE_ALERT_URLS", f"mailto://127.0.0.1:{later.port}?from=c@example.com&to=o@example.com"
                                             "&mode=insecure")
    _report(instance, "2026-10", [breach()])
    cursor = _tick(complaint_rate_alert_sensor, instance, None)
    later.start()
    try:
        cursor = _tick(complaint_rate_alert_sensor, instance, cursor)
        _tick(complaint_rate_alert_sensor, instance, cursor)
        assert len(later.messages) == 1 and "2026-W42" in later.messages[0]["Subject"]
    finally:
        later.stop()


@dg.op
def _boom():
    raise RuntimeError("the warehouse is on fire")


@dg.job
def _failing_job():
    _boom()


def _run_failure_sensor(instance, result):
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert_sensor", dagster_event=failure, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id)).for_run_failure()
    run_failure_alert_sensor(context)


def test_a_failed_run_is_alerted_once_by_whichever_sensor_sees_it_first(alert_env, hook, smtp):
    instance = alert_env
    cursor = _tick(guardrail_alert_sensor, instance, None)  # watches failures from its first tick on
    first = _failing_job.execute_in_process(instance=instance, raise_on_error=False)
    _run_failure_sensor(instance, first)  # a run the daemon launched: the run-failure sensor sees it
    cursor = _tick(guardrail_alert_sensor, instance, cursor)  # ... and the general sensor finds it sent
    second = _failing_job.execute_in_process(instance=instance, raise_on_error=False)
    cursor = _tick(guardrail_alert_sensor, instance, cursor)  # a CLI run: only the general sensor sees it
    _run_failure_sensor(instance, second)
    _tick(guardrail_alert_sensor, instance, cursor)

    bodies = hook.bodies("/generic")
    assert len(bodies) == 2 and len(smtp.messages) == 2
    for body, result in zip(bodies, (first, second), strict=True):
        assert body["title"] == "[HIGH] Cadence run failed: _failing_job"
        assert "_boom: RuntimeError: the warehouse is on fire" in body["message"]
        assert f"http://127.0.0.1:3999/runs/{result.run_id}" in body["message"]
