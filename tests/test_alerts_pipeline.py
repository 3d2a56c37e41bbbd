"""End to end: a generated month with a planted complaint spike goes through the pipeline (ingestion ->
dbt -> guardrails) in a real DuckDB file and Dagster instance; the sensors then deliver to a real HTTP
server and a real SMTP server on 127.0.0.1.

Checked: the violation tables against the generator's manifest; the weekly rates against a recount from
the raw extract files; exactly the planted complaint breach reaches the webhook and the SMTP server (which
is down at first), with segment, week, rate vs threshold, top reps and campaigns, corrective action and
run link; every other breach arrives once; a rerun of the month sends nothing new.

10,000 leads: the planted spike (1 % complaints in one segment-week, ~1,000 delivered e-mails) must be
tellable from the base rate (0.05 %); at 3,000 leads it is ~3 complaints, not distinguishable from noise.
"""

from __future__ import annotations

import json
import os

import dagster as dg
import duckdb
import pytest
from scipy.stats import binom

from cadence.generator import generate
from cadence.notify.receivers import LocalSmtp, LocalWebhook
from orchestration.sensors import complaint_rate_alert_sensor, guardrail_alert_sensor

pytestmark = pytest.mark.integration

MONTH, LEADS, SEED = "2026-10", 10_000, 42
TOKEN = "hookT0KEN"


def _materialise(instance, selection: dg.AssetSelection) -> str:
    """Materialise ``selection`` for the month in this process. Without checks: the dbt tests and the data
    quality gates are other tests' business, and this keeps the module fast."""
    from assets.dbt import cadence_dbt_models
    from assets.guardrails import guardrails_assets
    from assets.ingestion import ingestion_assets
    from orchestration.resources import build_resources

    result = dg.materialize([*ingestion_assets, cadence_dbt_models, *guardrails_assets], instance=instance,
                            partition_key=f"{MONTH}-01", resources=build_resources(),
                            selection=selection.without_checks())
    assert result.success
    return result.run_id


@pytest.fixture(scope="module")
def pipeline(module_data_dir):
    manifest = generate(module_data_dir / "landing", [MONTH], leads_per_month=LEADS, seed=SEED)[MONTH]
    with dg.DagsterInstance.get() as instance:
        run_id = _materialise(instance, dg.AssetSelection.groups("guardrails").upstream())
        yield instance, module_data_dir, manifest, run_id


def _db(root):
    return duckdb.connect(str(root / "warehouse" / "cadence.duckdb"), read_only=True)


def test_violation_tables_match_the_planted_counts(pipeline):
    _instance, root, manifest, _ = pipeline
    with _db(root) as con:
        count = dict(con.execute("select rule_id, count(*) from guardrails.touch_violations "
                                 "where partition_month = ? group by 1", [MONTH]).fetchall())
        # the manifest counts every call, the lead's own included; a call the lead placed breaks no rule
        inbound_after_opt_out, inbound_outside_hours = con.execute(
            "select count(*) filter (where is_after_opt_out), count(*) filter (where touch_local_hour < 9 "
            "or touch_local_hour >= 17) from intermediate.int_touches_unioned "
            "where partition_month = ? and touch_channel = 'call' and direction = 'inbound' and is_touch",
            [MONTH]).fetchone()
        assert count["opt_out_contact"] + inbound_after_opt_out == manifest["touches_after_opt_out"] > 0
        assert count["calling_hours"] + inbound_outside_hours == manifest["calls_outside_hours"] > 0
        # the same numbers as the marts' per-lead compliance counters
        lead = con.execute("select sum(cool_down_breaches), sum(touches_after_opt_out) from marts.fct_lead_cadence "
                           "where partition_month = ?", [MONTH]).fetchone()
        assert count["cool_down_breach"] == lead[0] and count["opt_out_contact"] + inbound_after_opt_out == lead[1]
        # roll-ups per lead and per rep/segment/week add up to the touch table
        for table in ("lead_violations", "violation_counts"):
            assert dict(con.execute(f"select rule_id, sum(violations) from guardrails.{table} "
                                    f"where partition_month = ? group by 1", [MONTH]).fetchall()) == count


def _recount(root) -> dict[tuple[str, str, str], tuple[int, int, int, int, int]]:
    """Per (ISO week, channel, company size): sent, delivered, complaints, unsubscribes, bounces, straight from
    the extract files (week of the delivery, else of the sending, in UTC)."""
    landing = root / "landing"
    rows = duckdb.sql(f"""
        with events as (select * from read_csv('{landing}/emailing/{MONTH}/email_events.csv')),
        leads as (select lead_id, channel, company_size from read_csv('{landing}/crm/{MONTH}/leads.csv')),
        messages as (
            select message_id, lead_id,
                min(event_at) filter (where event_type = 'delivered') as delivered_at,
                coalesce(min(event_at) filter (where event_type = 'sent'), min(event_at)) as sent_at,
                bool_or(event_type = 'complained') as complained, bool_or(event_type = 'unsubscribed') as unsub,
                bool_or(event_type = 'bounced') as bounced
            from events group by all)
        select strftime(timezone('UTC', coalesce(delivered_at, sent_at)), '%G-W%V'), channel, company_size,
            count(*), count(delivered_at), count(*) filter (where complained),
            count(*) filter (where unsub), count(*) filter (where bounced)
        from messages join leads using (lead_id) group by all""").fetchall()
    return {r[:3]: r[3:] for r in rows}


def test_weekly_rates_match_a_recount_from_the_extracts_and_flag_the_planted_spike(pipeline):
    _instance, root, manifest, _ = pipeline
    recount = _recount(root)
    with _db(root) as con:
        rates = con.execute("select iso_week, channel, company_size, rule_id, events, base, is_breach "
                            "from guardrails.weekly_rates where partition_month = ?", [MONTH]).fetchall()
    column = {"complaint_rate": (2, 1, 0.002), "unsubscribe_rate": (3, 1, 0.005), "bounce_rate": (4, 0, 0.05)}
    expected_breaches = set()
    for week, channel, size, rule, events, base, _ in rates:
        e_col, b_col, threshold = column[rule]
        counts = recount[(week, channel, size)]
        assert (events, base) == (counts[e_col], counts[b_col]), (week, channel, size, rule)
        # the note's evidence rule: rate above threshold, >= 200 e-mails, >= 3 events, one-sided p < 0.05
        if base >= 200 and events >= 3 and events / base > threshold and binom.sf(events - 1, base, threshold) < 0.05:
            expected_breaches.add((rule, week, channel, size))
    assert {(r[3], r[0], r[1], r[2]) for r in rates if r[6]} == expected_breaches
    spike = manifest["complaint_spike"]
    assert {b[1:] for b in expected_breaches if b[0] == "complaint_rate"} == {
        (spike["iso_week"], spike["segment"]["channel"], spike["segment"]["company_size"])}


@pytest.fixture(scope="module")
def receivers(pipeline, tmp_path_factory):
    hook = LocalWebhook().start()
    smtp = LocalSmtp()  # created, not started: the mail server is down at first
    urls = [f"mmost://127.0.0.1:{hook.port}/{TOKEN}?image=no", f"json://127.0.0.1:{hook.port}/alerts",
            f"mailto://127.0.0.1:{smtp.port}?from=cadence@example.com&to=sales-ops@example.com&mode=insecure"]
    env = {"CADENCE_ALERT_URLS": "\n".join(urls), "CADENCE_UI_BASE_URL": "http://127.0.0.1:3999",
           "CADENCE_ALERT_STATE": str(tmp_path_factory.mktemp("alerts") / "ledger.sqlite"),
           "CADENCE_ALERT_RETRY_SECONDS": "0"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield hook, smtp, {"complaint": None, "guardrail": None}
    hook.stop()
    smtp.stop()
    for k, v in saved.items():
        os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def _tick(instance, sensor, cursors, name):
    cursors[name] = sensor(dg.build_sensor_context(instance=instance, cursor=cursors[name])).cursor


def test_the_planted_complaint_breach_arrives_once_at_the_webhook_and_the_smtp_server(pipeline, receivers):
    instance, _root, manifest, run_id = pipeline
    hook, smtp, cursors = receivers
    _tick(instance, complaint_rate_alert_sensor, cursors, "complaint")
    spike = manifest["complaint_spike"]
    segment = f"{spike['segment']['channel']} / {spike['segment']['company_size']}"
    generic = hook.bodies("/alerts")
    assert [b["title"] for b in generic] == [
        f"[CRITICAL] Weekly complaint rate above threshold: {segment}, {spike['iso_week']}"]
    body = generic[0]["message"]
    for text in (f"Week: {spike['iso_week']}", "Segment: channel=outbound | company_size=Mid", "vs threshold 0.20 %",
                 "Top reps: R", "Top campaigns: CMP202610-", "Corrective action: Revise the content",
                 f"Run: http://127.0.0.1:3999/runs/{run_id}"):
        assert text in body, text
    slack = hook.bodies(f"/hooks/{TOKEN}")
    assert len(slack) == 1 and spike["iso_week"] in slack[0]["text"]
    assert smtp.messages == []  # the mail server is still down: the delivery waits in the ledger

    smtp.start()
    for _ in range(2):
        _tick(instance, complaint_rate_alert_sensor, cursors, "complaint")
    assert len(smtp.messages) == 1 and smtp.messages[0]["Subject"] == generic[0]["title"]
    assert f"/runs/{run_id}" in LocalSmtp.text(smtp.messages[0])
    assert len(hook.received) == 2  # nothing more at the webhooks


def test_every_other_breach_arrives_once(pipeline, receivers):
    instance, root, _manifest, _ = pipeline
    hook, smtp, cursors = receivers
    before = len(hook.bodies("/alerts"))
    for _ in range(2):
        _tick(instance, guardrail_alert_sensor, cursors, "guardrail")
    with _db(root) as con:
        expected = sorted(r[0] for r in con.execute(
            "select title from guardrails.breaches where partition_month = ? and stream = 'guardrail'", [MONTH]
        ).fetchall())
    got = sorted(b["title"] for b in hook.bodies("/alerts")[before:])
    assert len(got) == len(expected) >= 7 and all(any(t in g for g in got) for t in expected)
    assert len(smtp.messages) == 1 + len(expected) and len(hook.bodies(f"/hooks/{TOKEN}")) == 1 + len(expected)
    opt_out = next(b["message"] for b in hook.bodies("/alerts") if "opted out" in b["title"])
    assert "Top reps: R" in opt_out and "Corrective action: Stop every sequence" in opt_out


def test_a_rerun_sends_nothing_new(pipeline, receivers):
    instance, root, _manifest, _ = pipeline
    hook, smtp, cursors = receivers
    with _db(root) as con:
        ids_before = con.execute("select breach_id from guardrails.breaches order by 1").fetchall()
    sent = (len(hook.received), len(smtp.messages))
    rerun = _materialise(instance, dg.AssetSelection.groups("guardrails"))
    for _ in range(2):
        _tick(instance, complaint_rate_alert_sensor, cursors, "complaint")
        _tick(instance, guardrail_alert_sensor, cursors, "guardrail")
    assert (len(hook.received), len(smtp.messages)) == sent
    with _db(root) as con:
        assert con.execute("select breach_id from guardrails.breaches order by 1").fetchall() == ids_before
        assert {r[0] for r in con.execute("select run_id from guardrails.breaches").fetchall()} == {rerun}
    assert not any(TOKEN in json.dumps(body) for _path, body in hook.received)  # the token stays in the URL
