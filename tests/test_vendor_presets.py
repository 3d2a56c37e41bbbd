"""Vendor presets (issue 14 item 5): each vendor's sample export (tests/fixtures/vendors/, written from the
vendor's public documentation) runs to the marts through `preset: <vendor>` and a few settings only, and
the marts' per-lead counts equal an independent pandas reading of the same sample files (the vendor's own
columns, values and zones, as each sample's README describes them).

Five month builds share the dbt cost (one module-scoped build per group of presets):
  hubspot     HubSpot contacts, deals, calls, logged e-mails, meetings
  salesforce  Salesforce Lead, Opportunity, Task and Event reports (all in crm/)
  pipedrive   Pipedrive persons, deals, call logs, activities + lemlist activities
  aircall     HubSpot contacts + Aircall calls + Brevo events + an .ics calendar
  ringover    Pipedrive persons + Ringover calls + HubSpot marketing e-mail events
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
import yaml
from quality_helpers import dbt_build

from cadence.contract import SOURCES
from cadence.ingest import load_source_month
from cadence.mapping import MappingError, load_mapping
from cadence.mapping_assistant import check_month

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
V = ROOT / "tests" / "fixtures" / "vendors"
MONTH = "2026-10"
PARIS = ZoneInfo("Europe/Paris")
WINDOW = timedelta(days=30)
PARIS_SETTINGS = "{timezone: Europe/Paris}"

GROUPS = {
    "hubspot": ({"crm": ["hubspot/hubspot-crm-exports-all-contacts-2026-10-31.csv",
                         "hubspot/hubspot-crm-exports-all-deals-2026-10-31.csv"],
                 "voip": ["hubspot/hubspot-crm-exports-calls-2026-10-31.csv"],
                 "emailing": ["hubspot/hubspot-crm-exports-emails-2026-10-31.csv"],
                 "calendar": ["hubspot/hubspot-crm-exports-meetings-2026-10-31.csv"]},
                f"""sources:
  crm: {{preset: hubspot, settings: {PARIS_SETTINGS}}}
  voip: {{preset: hubspot, settings: {PARIS_SETTINGS}}}
  emailing: {{preset: hubspot, settings: {PARIS_SETTINGS}}}
  calendar: {{preset: hubspot, settings: {PARIS_SETTINGS}}}
"""),
    "salesforce": ({"crm": [f"salesforce/report{n}.csv" for n in (1793466300437, 1793466360437, 1793466420437,
                                                                  1793466480437)]},
                   """sources:
  crm: {preset: salesforce, settings: {timezone: Europe/Paris, currency: EUR}}
  voip: {preset: salesforce, settings: {timezone: Europe/Paris, currency: EUR}}
  emailing: {preset: salesforce, settings: {timezone: Europe/Paris, currency: EUR}}
  calendar: {preset: salesforce, settings: {timezone: Europe/Paris, currency: EUR}}
"""),
    "pipedrive": ({"crm": ["pipedrive/pipedrive-persons-2026-10-31.csv", "pipedrive/pipedrive-deals-2026-10-31.csv"],
                   "voip": ["pipedrive/pipedrive-call-logs-2026-10-31.csv"],
                   "calendar": ["pipedrive/pipedrive-activities-2026-10-31.csv"],
                   "emailing": ["lemlist/lemlist-activities-2026-10.csv"]},
                  """sources:
  crm: {preset: pipedrive, settings: {lead_timezone: Europe/Paris}}
  voip: {preset: pipedrive, settings: {lead_timezone: Europe/Paris, company_numbers: ["+33 1 00 00 00 99"]}}
  calendar: {preset: pipedrive, settings: {lead_timezone: Europe/Paris}}
  emailing: {preset: lemlist}
"""),
    "aircall": ({"crm": ["hubspot/hubspot-crm-exports-all-contacts-2026-10-31.csv"],
                 "voip": ["aircall/aircall-calls-2026-10.csv"],
                 "emailing": ["brevo/brevo-transactional-email-events-2026-10.csv"],
                 "calendar": ["ics/rendez-vous-commerciaux-2026-10.ics"]},
                f"""sources:
  crm: {{preset: hubspot, settings: {PARIS_SETTINGS}}}
  voip:
    preset: aircall
    settings: {{voicemail_tags: [Messagerie], busy_tags: [Occupé], wrong_number_tags: [Mauvais numéro]}}
  emailing: {{preset: brevo}}
  calendar: {{preset: ics}}
"""),
    "ringover": ({"crm": ["pipedrive/pipedrive-persons-2026-10-31.csv"],
                  "voip": ["ringover/ringover-calls-2026-10.csv"],
                  "emailing": ["hubspot/hubspot-email-events-2026-10.csv"]},
                 """sources:
  crm: {preset: pipedrive, settings: {lead_timezone: Europe/Paris}}
  voip: {preset: ringover}
  emailing: {preset: hubspot-email-events}
"""),
}
#: A call to a number that is no lead's (planted beside the Ringover sample): excluded as unknown_lead.
RINGOVER_EXTRA = ("cdr_id,call_id,direction,is_answered,last_state,start_time,answered_time,end_time,total_duration,"
                  "incall_duration,from_number,to_number,contact_number,user.user_id,user.concat_name,hangup_by,record\n"
                  "48819999,ffff,out,false,MISSED,2026-10-20T08:00:00.000Z,,2026-10-20T08:00:30.000Z,30,0,"
                  "33100000099,33699999999,33699999999,2201,Camille PERRIN,,\n")


def _land(root: Path, name: str) -> tuple[Path, Path]:
    files, config = GROUPS[name]
    landing = root / "landing"
    for source, names in files.items():
        folder = landing / source / MONTH
        folder.mkdir(parents=True, exist_ok=True)
        for f in names:
            shutil.copy(V / f, folder)
    if name == "ringover":
        (landing / "voip" / MONTH / "ringover-calls-extra.csv").write_text(RINGOVER_EXTRA, encoding="utf-8")
    cfg = root / "sources.yml"
    cfg.write_text(config, encoding="utf-8")
    return landing, cfg


def _built(tmp_path_factory, name: str) -> Path:
    if name == "aircall":
        pytest.importorskip("icalendar", reason="the ics preset needs icalendar + recurring-ical-events")
        pytest.importorskip("recurring_ical_events")
    root = tmp_path_factory.mktemp(name)
    landing, cfg = _land(root, name)
    db = root / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        for source in SOURCES:
            load_source_month(con, source, MONTH, landing, load_mapping(cfg))
    # the lead mart and what it is built from; dbt's data tests run on one group (the others: `dbt run`)
    dbt_build(db, MONTH, select="+fct_lead_cadence", workdir=root, command="build" if name == "hubspot" else "run")
    return db


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = _built(tmp_path_factory, name)
        return cache[name]
    return get


def _sql(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


# --- the independent reading of the samples ------------------------------------------------------------

def _csv(path: str) -> pd.DataFrame:
    text = (V / path).read_text(encoding="utf-8")
    if path.startswith("salesforce/"):  # the report footer: a blank line then one-field lines
        text = text.split('\n""\n')[0] + "\n"
    from io import StringIO
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def _local(text: str, fmt: str, zone=PARIS) -> datetime:
    """A naive local wall clock -> UTC (fold=0: the first of a repeated hour, as the sample meant)."""
    return datetime.strptime(text, fmt).replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def _epoch(value: str, scale: float = 1.0) -> datetime:
    return datetime.fromtimestamp(float(value) * scale, UTC).replace(tzinfo=None)


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def expected(leads: dict[str, datetime], calls=(), emails=(), meetings=(), opps=()) -> pd.DataFrame:
    """Per lead, the mart's counts from plain touch lists: calls (lead, at, direction, outcome), e-mail events
    (lead, message, type, at), meetings (lead, at, status), opportunities (lead, created, stage). A touch
    counts in [creation, creation + 30 days)."""
    rows = {lead: dict.fromkeys(COMPARED, 0) for lead in leads}

    def inside(lead, at):
        return lead in leads and leads[lead] <= at < leads[lead] + WINDOW
    for lead, at, direction, outcome in calls:
        if inside(lead, at):
            r = rows[lead]
            if direction == "outbound":
                r["calls_dialled"] += 1
                r["calls_connected"] += outcome == "connected"
            else:
                r["inbound_calls"] += 1
    messages: dict[tuple, dict] = {}
    for lead, message, kind, at in emails:
        messages.setdefault((lead, message), {}).setdefault(kind, at)
        messages[(lead, message)][kind] = min(messages[(lead, message)][kind], at)
    for (lead, _m), events in messages.items():
        sent = events.get("sent", min(events.values()))
        if inside(lead, sent):
            rows[lead]["emails_sent"] += 1
            rows[lead]["emails_replied"] += "replied" in events
            rows[lead]["emails_bounced"] += "bounced" in events
    for lead, at, status in meetings:
        if inside(lead, at):
            key = {"held": "meetings_held", "no_show": "meetings_no_show", "cancelled": "meetings_cancelled"}
            rows[lead]["meetings_booked"] += status != "cancelled"
            if status in key:
                rows[lead][key[status]] += 1
    for lead, created, stage in opps:
        if lead in leads:
            rows[lead]["is_converted"] = int(rows[lead]["is_converted"] or created < leads[lead] + WINDOW)
            rows[lead]["opportunities_won"] += stage == "won"
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("lead_id").sort_index()


COMPARED = ["calls_dialled", "calls_connected", "inbound_calls", "emails_sent", "emails_replied", "emails_bounced",
            "meetings_booked", "meetings_held", "meetings_no_show", "meetings_cancelled", "is_converted",
            "opportunities_won"]


def _mart(db: Path) -> pd.DataFrame:
    got = _sql(db, f"select lead_id, {', '.join(COMPARED)} from marts.fct_lead_cadence "
                   f"where partition_month = '{MONTH}' order by lead_id").set_index("lead_id")
    got["is_converted"] = got["is_converted"].fillna(False).astype(int)
    return got.astype(int)


def _assert_mart(db: Path, want: pd.DataFrame) -> None:
    got = _mart(db)
    assert len(got) == len(want) == 16
    pd.testing.assert_frame_equal(got[COMPARED], want[COMPARED].astype(int), check_dtype=False)
    assert want[COMPARED].to_numpy().sum() > 0


HS_OUTCOME = {"f240bbac": "connected", "b2cf5968": "voicemail", "73a0d17f": "no_answer", "9d9162e7": "busy",
              "17b47fee": "wrong_number", "a4c4c377": "voicemail"}
HS_MEETING = {"COMPLETED": "held", "NO_SHOW": "no_show", "CANCELED": "cancelled", "SCHEDULED": "booked",
              "RESCHEDULED": "booked"}
FMT = "%Y-%m-%d %H:%M"


def _hubspot_leads() -> tuple[dict[str, datetime], dict[str, str], dict[str, str]]:
    contacts = _csv("hubspot/hubspot-crm-exports-all-contacts-2026-10-31.csv")
    leads = {r.hs_object_id: _local(r.createdate, FMT) for r in contacts.itertuples()}
    by_email = dict(zip(contacts.email, contacts.hs_object_id, strict=True))
    by_phone = {_digits(p): i for p, i in zip(contacts.phone, contacts.hs_object_id, strict=True) if p}
    return leads, by_email, by_phone


def test_hubspot_sample_to_the_marts(built):
    db = built("hubspot")
    leads, _e, _p = _hubspot_leads()
    calls = _csv("hubspot/hubspot-crm-exports-calls-2026-10-31.csv")
    mails = _csv("hubspot/hubspot-crm-exports-emails-2026-10-31.csv")
    meets = _csv("hubspot/hubspot-crm-exports-meetings-2026-10-31.csv")
    deals = _csv("hubspot/hubspot-crm-exports-all-deals-2026-10-31.csv")
    want = expected(
        leads,
        calls=[(r["Associated Contact IDs"], _local(r.hs_timestamp, FMT), r.hs_call_direction.lower(),
                HS_OUTCOME.get(r.hs_call_disposition[:8], "connected" if int(r.hs_call_duration) else None))
               for _i, r in calls.iterrows()],
        emails=[(r["Associated Contact IDs"], r.hs_email_thread_id,
                 "replied" if r.hs_email_direction == "INCOMING_EMAIL" else r.hs_email_status.lower(),
                 _local(r.hs_timestamp, FMT)) for _i, r in mails.iterrows()],
        meetings=[(next(c for c in r["Associated Contact IDs"].split(";") if c in leads),
                   _local(r.hs_meeting_start_time, FMT), HS_MEETING[r.hs_meeting_outcome])
                  for _i, r in meets.iterrows()],
        opps=[(r["Associated Contact IDs"], _local(r.createdate, FMT),
               {"closedwon": "won", "closedlost": "lost"}.get(r.dealstage, "open")) for _i, r in deals.iterrows()])
    _assert_mart(db, want)
    # zones: naive local wall clocks in the account's zone, on both sides of the 25 Oct 2026 change
    got = _sql(db, "select call_id, started_at from staging.stg_voip__calls where call_id in ('48731156', '48731169') "
                   "order by call_id")
    assert list(got.started_at) == [datetime(2026, 10, 24, 9, 30), datetime(2026, 10, 26, 8, 5)]
    # the meeting with two contacts goes to the one that is a lead of the month; its length from start/end
    got = _sql(db, "select lead_id, duration_minutes from staging.stg_calendar__meetings where meeting_id = '71500017'")
    assert got.values.tolist() == [["85014221", 60]]
    _assert_ambiguous_lead(db, "85014305")


def _assert_ambiguous_lead(db: Path, lead_id: str) -> None:
    """Created at 02:30 on 25 Oct 2026, an hour Paris lives twice: read as its first occurrence (00:30Z),
    kept and flagged dst_overlap."""
    got = _sql(db, f"select created_at, is_kept, flags from staging.stg_crm__leads where lead_id = '{lead_id}'")
    assert got.created_at[0] == datetime(2026, 10, 25, 0, 30) and got.is_kept[0]
    assert "dst_overlap:created_at" in got["flags"][0]


SF_OUTCOME = {"Connecté": "connected", "Message laissé sur répondeur": "voicemail", "Pas de réponse": "no_answer",
              "Occupé": "busy", "Faux numéro": "wrong_number"}
SF_MEETING = {"Tenue": "held", "Absent": "no_show", "Annulée": "cancelled", "": "booked"}
SF = "%d/%m/%Y %H:%M"


def test_salesforce_reports_to_the_marts(built):
    db = built("salesforce")
    lead_rows = _csv("salesforce/report1793466300437.csv")
    leads = {r["Lead ID"]: _local(r["Created Date"], SF) for _i, r in lead_rows.iterrows()}
    opp_lead = {r["Converted Opportunity ID"]: r["Lead ID"] for _i, r in lead_rows.iterrows()}
    tasks = _csv("salesforce/report1793466420437.csv")
    events = _csv("salesforce/report1793466480437.csv")
    opps = _csv("salesforce/report1793466360437.csv")
    want = expected(
        leads,
        calls=[(r["Lead ID"], _local(r["Created Date"], SF), r["Call Type"].lower(),
                SF_OUTCOME.get(r["Call Result"], "connected")) for _i, r in tasks.iterrows()
               if r["Task Subtype"] == "Call"],
        emails=[(r["Lead ID"], r["Activity ID"], "sent", _local(r["Created Date"], SF)) for _i, r in tasks.iterrows()
                if r["Task Subtype"] == "Email"],
        meetings=[(r["Lead ID"], _local(r.Start, SF), SF_MEETING[r["Meeting Outcome"]]) for _i, r in events.iterrows()],
        opps=[(opp_lead[r["Opportunity ID"]], _local(r["Created Date"], SF),
               "won" if r.Won == "1" else "lost" if r.Closed == "1" else "open") for _i, r in opps.iterrows()])
    _assert_mart(db, want)
    _assert_ambiguous_lead(db, "00Q5g00041015EA")
    # the report footer is no data and no reject; the Task report serves calls and e-mails
    loads = _sql(db, "select entity, rows_loaded, rows_skipped, footer_lines from raw._loads order by entity")
    assert loads.set_index("entity").loc["leads"].tolist() == [16, 0, 6]
    assert loads.set_index("entity").loc["calls"].tolist() == [18, 10, 0]
    assert _sql(db, "select count(*) as n from raw._load_rejects").n[0] == 0
    # a decimal comma; a date-only close date is midnight in the user's zone; amounts of won deals
    got = _sql(db, "select closed_at, amount from staging.stg_crm__opportunities "
                   "where opportunity_id = '0065g00077003QA'")
    assert (got.closed_at[0], float(got.amount[0])) == (datetime(2026, 10, 22, 22, 0), 1250.5)


PD_OUTCOME = {"left_voicemail": "voicemail", "left_message": "voicemail"}
LEMLIST = {"emailsSent": "sent", "emailsOpened": "opened", "emailsClicked": "clicked", "emailsReplied": "replied",
           "emailsBounced": "bounced", "emailsUnsubscribed": "unsubscribed"}


def _pipedrive_leads() -> tuple[dict[str, datetime], dict[str, str], dict[str, str]]:
    persons = _csv("pipedrive/pipedrive-persons-2026-10-31.csv")
    leads = {r.id: _utc(r.add_time) for r in persons.itertuples()}
    return (leads, dict(zip(persons.email, persons.id, strict=True)),
            {_digits(p): i for p, i in zip(persons.phone, persons.id, strict=True) if p})


def test_pipedrive_and_lemlist_to_the_marts(built):
    db = built("pipedrive")
    leads, by_email, _p = _pipedrive_leads()
    logs = _csv("pipedrive/pipedrive-call-logs-2026-10-31.csv")
    acts = _csv("pipedrive/pipedrive-activities-2026-10-31.csv")
    deals = _csv("pipedrive/pipedrive-deals-2026-10-31.csv")
    lem = _csv("lemlist/lemlist-activities-2026-10.csv")
    company = "+33 1 00 00 00 99"
    want = expected(
        leads,
        calls=[(r.person_id, _utc(r.start_time), "outbound" if r.from_phone_number == company else "inbound",
                PD_OUTCOME.get(r.outcome, r.outcome)) for _i, r in logs.iterrows()],
        emails=[(by_email[r.leadEmail], r.emailId, LEMLIST[r.type], _utc(r.createdAt)) for _i, r in lem.iterrows()
                if r.type in LEMLIST and r.bot != "true"],
        meetings=[(r.person_id, _utc(f"{r.due_date}T{r.due_time}:00"), "held" if r.done == "1" else "booked")
                  for _i, r in acts.iterrows() if r.type == "meeting"],
        opps=[(r.person_id, _utc(r.add_time), r.status) for _i, r in deals.iterrows()])
    _assert_mart(db, want)
    # UTC times: the 02:30 Paris lead is 00:30Z as written, nothing to flag
    got = _sql(db, "select created_at, flags from staging.stg_crm__leads where lead_id = '315'")
    assert got.created_at[0] == datetime(2026, 10, 25, 0, 30) and "dst" not in (got["flags"][0] or "")
    # the activities file holds calls and meetings: 11 meetings loaded, the 18 calls left out and counted
    loads = _sql(db, "select rows_loaded, rows_skipped from raw._loads where entity = 'meetings'")
    assert loads.values.tolist() == [[11, 18]]
    assert _sql(db, "select duration_minutes from staging.stg_calendar__meetings where meeting_id = '5019'"
                ).duration_minutes[0] == 60


AIRCALL_TAGS = {"Messagerie": "voicemail", "Occupé": "busy", "Mauvais numéro": "wrong_number"}
BREVO = {"requests": "sent", "delivered": "delivered", "opened": "opened", "clicks": "clicked",
         "hardBounces": "bounced", "softBounces": "bounced", "spam": "complained", "unsubscribed": "unsubscribed"}
#: The ICS sample's README: occurrences from 1 Oct to 30 Nov 2026 (the all-day trade show is no meeting).
ICS_MEETINGS = [("alice.martin@example.com", "2026-10-06T08:00:00Z", "booked"),
                ("chloe.dubois@example.com", "2026-10-08T12:00:00Z", "booked"),
                ("helene.roux@example.com", "2026-10-13T07:00:00Z", "booked"),   # 09:00 CEST
                ("helene.roux@example.com", "2026-10-27T13:00:00Z", "booked"),   # moved to 14:00 CET
                ("helene.roux@example.com", "2026-11-03T08:00:00Z", "booked"),   # 09:00 CET, after the change
                ("francois.girard@example.com", "2026-10-27T09:00:00Z", "cancelled"),
                ("mathieu.lambert@example.com", "2026-10-20T13:00:00Z", "booked"),
                ("olivier.chevalier@example.com", "2026-10-26T08:30:00Z", "booked"),  # floating 09:30, X-WR zone
                ("thomas.blanc@example.com", "2026-11-04T13:00:00Z", "booked")]


def test_aircall_brevo_and_ics_to_the_marts(built):
    db = built("aircall")
    leads, by_email, by_phone = _hubspot_leads()
    calls = _csv("aircall/aircall-calls-2026-10.csv")
    brevo = _csv("brevo/brevo-transactional-email-events-2026-10.csv")

    def outcome(r) -> str:
        tag = next((v for k, v in AIRCALL_TAGS.items() if k in r.tags), None)
        return tag or ("connected" if r.answered_at else "voicemail" if r.voicemail else "no_answer")
    want = expected(
        leads,
        calls=[(by_phone.get(_digits(r.raw_digits)), _epoch(r.started_at), r.direction, outcome(r))
               for _i, r in calls.iterrows()],
        emails=[(by_email[r.email], r.messageId, BREVO[r.event], _utc(r.date)) for _i, r in brevo.iterrows()],
        meetings=[(by_email[e], _utc(at), status) for e, at, status in ICS_MEETINGS])
    _assert_mart(db, want)
    got = _sql(db, "select meeting_id, scheduled_at, duration_minutes from staging.stg_calendar__meetings "
                   "where meeting_id like 'evt-0003%' order by scheduled_at")
    assert got.meeting_id.str.endswith(("2026-10-13T07:00:00Z", "2026-10-27T08:00:00Z", "2026-11-03T08:00:00Z")).all()
    assert list(got.duration_minutes) == [30, 30, 30]
    # a call without a number cannot find its lead: excluded with its file and line, not dropped
    got = _sql(db, "select exclusion_reason, _source_file, _source_row from staging.stg_voip__calls where "
                   "call_id = '1620452192'")
    assert got.values.tolist() == [["missing_mandatory:lead_id", f"voip/{MONTH}/aircall-calls-2026-10.csv", 17]]
    # epoch seconds across the DST change: Sat 24 Oct 11:30 CEST and Mon 26 Oct 09:05 CET
    got = _sql(db, "select started_at from staging.stg_voip__calls where call_id in ('1620451644', '1620451781') "
                   "order by started_at")
    assert list(got.started_at) == [datetime(2026, 10, 24, 9, 30), datetime(2026, 10, 26, 8, 5)]


HS_EVENTS = {"SENT": "sent", "DELIVERED": "delivered", "OPEN": "opened", "CLICK": "clicked", "BOUNCE": "bounced",
             "SPAMREPORT": "complained"}
RINGOVER = {"ANSWERED": "connected", "VOICEMAIL": "voicemail", "MISSED": "no_answer", "BUSY": "busy"}


def test_ringover_and_hubspot_email_events_to_the_marts(built):
    db = built("ringover")
    leads, by_email, by_phone = _pipedrive_leads()
    calls = _csv("ringover/ringover-calls-2026-10.csv")
    events = _csv("hubspot/hubspot-email-events-2026-10.csv")

    def kind(r) -> str | None:
        if r.type == "STATUSCHANGE":
            return "unsubscribed" if r.portalSubscriptionStatus == "UNSUBSCRIBED" else None
        return HS_EVENTS.get(r.type)
    want = expected(
        leads,
        calls=[(by_phone.get(r.contact_number), _utc(r.start_time), {"out": "outbound", "in": "inbound"}[r.direction],
                RINGOVER[r.last_state]) for _i, r in calls.iterrows()],
        emails=[(by_email[r.recipient], r["sentBy.id"] or r.id, kind(r), _epoch(r.created, 0.001))
                for _i, r in events.iterrows() if kind(r)])
    _assert_mart(db, want)
    # the planted call to a number no lead has: excluded as unknown_lead with its file and line
    got = _sql(db, "select exclusion_reason, exclusion_detail, _source_file, _source_row from staging.stg_voip__calls "
                   "where call_id = '48819999'")
    assert got.exclusion_reason[0] == "unknown_lead" and "contact_number" in got.exclusion_detail[0]
    assert "33699999999" not in got.exclusion_detail[0]   # no phone number in the log
    assert (got._source_file[0], got._source_row[0]) == (f"voip/{MONTH}/ringover-calls-extra.csv", 1)


# --- configuration: cheap checks, no dbt ----------------------------------------------------------------

def test_mapping_check_passes_on_every_sample(tmp_path):
    """`cadence mapping check` reads the presets like a run: no error on any sample."""
    try:
        import icalendar  # noqa: F401
        names = list(GROUPS)
    except ImportError:
        names = [n for n in GROUPS if n != "aircall"]
    for name in names:
        landing, cfg = _land(tmp_path / name, name)
        errors = [p.render() for p in check_month(landing, MONTH, load_mapping(cfg)) if p.severity == "error"]
        # the telephony samples' call to Sophie Mercier, who has no number: above the check's 5 % of a small file
        known = {"aircall": "1 of 19", "ringover": "1 of 18"}.get(name)
        if known:
            assert len(errors) == 1 and f"column lead_id: {known} rows have it empty (first: data row 17)" in errors[0]
            errors = []
        assert errors == [], name


def _cfg(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_preset_errors_say_what_to_write(tmp_path):
    with pytest.raises(MappingError, match=r"preset hubspot needs settings\.timezone: .*e\.g\. Europe/Paris"):
        load_mapping(_cfg(tmp_path, "sources:\n  crm: {preset: hubspot}\n"))
    with pytest.raises(MappingError, match=r"no preset file .*presets: aircall, brevo"):
        load_mapping(_cfg(tmp_path, "sources:\n  crm: {preset: hubsopt}\n"))
    with pytest.raises(MappingError, match=r"preset aircall has no mapping for source crm \(it covers voip\)"):
        load_mapping(_cfg(tmp_path, "sources:\n  crm: {preset: aircall}\n"))
    with pytest.raises(MappingError, match=r"unknown setting\(s\) \['zone'\]"):
        load_mapping(_cfg(tmp_path, "sources:\n  voip: {preset: ringover, settings: {zone: UTC}}\n"))
    bad_case = ("sources:\n  voip:\n    entities:\n      calls:\n        columns:\n          outcome:\n"
                "            cases: [{when: {Résultat: {regex: x}}, then: connected}]\n")
    with pytest.raises(MappingError, match=r"outcome\.cases\[0\]\.when\.Résultat: .*\{contains: \.\.\.\}"):
        load_mapping(_cfg(tmp_path, bad_case))
    with pytest.raises(MappingError, match=r"lead_by finds a lead_id; it maps only lead_id"):
        load_mapping(_cfg(tmp_path, "sources:\n  voip:\n    entities:\n      calls:\n        columns:\n"
                                    "          rep_id: {lead_by: {email: x}}\n"))


def test_user_keys_override_the_preset(tmp_path):
    """values merge code by code, columns and constants replace the preset's, ignore_columns add up; a column
    replaced by a constant leaves no unknown header behind."""
    cfg = _cfg(tmp_path, """sources:
  crm:
    preset: hubspot
    settings: {timezone: America/New_York}
    entities:
      leads:
        constants: {channel: outbound}
        values: {company_size: {"1000+": Mid}}
        ignore_columns: [my_extra]
""")
    m = load_mapping(cfg)[("crm", "leads")]
    assert m.preset == "hubspot" and m.timezone == "America/New_York"
    assert m.constants == {"funnel_phase": "MQL", "channel": "outbound"}
    assert m.values["company_size"]["1000+"] == "Mid" and m.values["company_size"]["5-25"] == "SMB"
    assert {"my_extra", "hs_analytics_source", "lifecyclestage"} <= set(m.ignore_columns)
    from cadence.contract import entity
    from cadence.ingest import column_problems
    header = list(_csv("hubspot/hubspot-crm-exports-all-contacts-2026-10-31.csv").columns)
    assert column_problems(header, entity("crm", "leads"), m) == []
    # an optional column the preset maps may be missing from the export; a mandatory one may not
    assert column_problems([h for h in header if h != "associatedcompanyid"], entity("crm", "leads"), m) == []
    problems = column_problems([h for h in header if h != "createdate"], entity("crm", "leads"), m)
    assert problems and problems[0][0] == "createdate"


def test_vendor_docs_are_generated_from_the_presets():
    from cadence.presets import DOC_BEGIN, DOC_END, render_markdown

    text = (ROOT / "docs" / "vendors.md").read_text(encoding="utf-8")
    generated = text[text.index(DOC_BEGIN) + len(DOC_BEGIN):text.index(DOC_END)].strip("\n")
    assert generated == render_markdown().strip("\n"), "run `python -m cadence.presets` to regenerate docs/vendors.md"
    for preset in (ROOT / "config" / "presets").glob("*.yml"):
        assert f"`preset: {yaml.safe_load(preset.read_text(encoding='utf-8'))['preset']}`" in generated


def test_a_series_that_cannot_be_expanded_is_refused_naming_file_uid_and_line(tmp_path):
    pytest.importorskip("icalendar", reason="the ics preset needs icalendar + recurring-ical-events")
    pytest.importorskip("recurring_ical_events")
    landing, cfg = _land(tmp_path, "aircall")
    ics = landing / "calendar" / MONTH / "rendez-vous-commerciaux-2026-10.ics"
    ics.write_text(ics.read_text(encoding="utf-8").replace("RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4",
                                                           "RRULE:FREQ=SOMETIMES;BYDAY=TU"), encoding="utf-8")
    from cadence.ingest import IngestError
    with duckdb.connect() as con, pytest.raises(IngestError) as err:
        load_source_month(con, "calendar", MONTH, landing, load_mapping(cfg))
    assert err.value.file.endswith("rendez-vous-commerciaux-2026-10.ics") and err.value.line == 63
    assert "UID evt-0003-helene-roux-hebdo@example.com cannot be expanded" in str(err.value)
    assert "export the calendar with its occurrences expanded" in str(err.value)
