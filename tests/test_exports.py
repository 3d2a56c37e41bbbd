"""Your own exports in, nothing lost: a French-style export of a generated month (`;`, cp1252, CRLF,
`dd/mm/yyyy HH:MM` local times in each lead's zone, touches included, French headers and values, decimal
commas) loads with no row lost to zone handling, and its marts equal those of the same facts exported in
ISO style. The French files are written here from the ISO ones (an independent conversion with zoneinfo).
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pytest
import yaml
from quality_helpers import dbt_build

from cadence import cli
from cadence.contract import ENTITIES, SOURCES
from cadence.ingest import load_source_month
from cadence.mapping import load_mapping

pytestmark = pytest.mark.integration

MONTH = "2026-10"
UTC = ZoneInfo("UTC")
TIMESTAMPS = {"leads": ("created_at", "opted_out_at", "sql_at"), "opportunities": ("created_at", "closed_at"),
              "calls": ("started_at",), "email_events": ("event_at",), "meetings": ("booked_at", "scheduled_at")}
FRENCH_FILES = {"leads": "export_prospects_oct.csv", "opportunities": "export_opportunites_oct.csv",
                "calls": "journal_appels.csv", "email_events": "activite_emails.csv", "meetings": "agenda.csv"}
HEADERS = {  # canonical -> French header, per entity
    "leads": {"lead_id": "Identifiant", "created_at": "Date de création", "lead_timezone": "Fuseau",
              "channel": "Canal", "company_size": "Taille", "funnel_phase": "Phase", "team": "Équipe",
              "rep_id": "Commercial", "account_id": "Compte", "company_name": "Société", "contact_name": "Contact",
              "email": "E-mail", "phone": "Téléphone", "lead_score": "Score", "is_vip": "VIP",
              "is_dispute": "Litige", "opted_out_at": "Désinscrit le", "sql_at": "Qualifié le"},
    "opportunities": {"opportunity_id": "N° affaire", "lead_id": "Prospect", "account_id": "Compte",
                      "rep_id": "Commercial", "created_at": "Créée le", "stage": "Étape", "amount": "Montant",
                      "currency": "Devise", "closed_at": "Clôturée le", "close_reason": "Motif"},
    "calls": {"call_id": "ID appel", "lead_id": "Prospect", "rep_id": "Agent", "started_at": "Début",
              "direction": "Sens", "outcome": "Résultat", "duration_seconds": "Durée (s)",
              "phone_number": "Numéro"},
    "email_events": {"event_id": "ID événement", "message_id": "ID message", "lead_id": "Prospect",
                     "rep_id": "Expéditeur", "campaign_id": "Campagne", "event_type": "Événement",
                     "event_at": "Date", "email_address": "Adresse"},
    "meetings": {"meeting_id": "ID rendez-vous", "lead_id": "Prospect", "rep_id": "Commercial",
                 "booked_at": "Pris le", "scheduled_at": "Prévu le", "status": "Statut",
                 "duration_minutes": "Durée (min)"},
}
VALUES = {  # canonical column -> {canonical value: French value}, per entity
    "leads": {"channel": {"inbound": "Entrant", "outbound": "Sortant", "partner": "Partenaire"},
              "is_vip": {"true": "oui", "false": "non"}, "is_dispute": {"true": "oui", "false": "non"}},
    "opportunities": {"stage": {"open": "En cours", "won": "Gagnée", "lost": "Perdue"}},
    "calls": {"direction": {"outbound": "Sortant", "inbound": "Entrant"},
              "outcome": {"connected": "Décroché", "voicemail": "Messagerie", "no_answer": "Sans réponse",
                          "wrong_number": "Faux numéro", "busy": "Occupé"}},
    "email_events": {"event_type": {"sent": "Envoyé", "delivered": "Délivré", "opened": "Ouvert",
                                    "clicked": "Cliqué", "replied": "Répondu", "bounced": "Rejeté",
                                    "unsubscribed": "Désinscrit", "complained": "Plainte"}},
    "meetings": {"status": {"booked": "Planifié", "held": "Tenu", "no_show": "Absent", "cancelled": "Annulé"}},
}
FORMAT = "%d/%m/%Y %H:%M"


def _to_minute(text: str) -> str:
    """ISO text with its seconds dropped (the French export has minutes only; a DST change is on the hour,
    so the offset stays right)."""
    return text if not text else text[:17] + "00" + text[19:]


def _french_time(text: str, zone: str) -> str:
    if not text:
        return ""
    return datetime.fromisoformat(text).astimezone(ZoneInfo(zone)).strftime(FORMAT)


def write_exports(generated: Path, iso: Path, french: Path) -> dict[str, pd.DataFrame]:
    """The generated month twice: ISO (minute precision) and French-style. Returns the ISO frames."""
    frames = {}
    for ent in ENTITIES:
        frame = pd.read_csv(generated / ent.source / MONTH / f"{ent.name}.csv", dtype=str, keep_default_na=False)
        for col in TIMESTAMPS[ent.name]:
            frame[col] = frame[col].map(_to_minute)
        frames[ent.name] = frame
        out = iso / ent.source / MONTH / f"{ent.name}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
    zone_of = dict(zip(frames["leads"].lead_id, frames["leads"].lead_timezone, strict=False))
    for ent in ENTITIES:
        frame = frames[ent.name].copy()
        zones = frame.lead_timezone if ent.name == "leads" else frame.lead_id.map(zone_of)
        for col in TIMESTAMPS[ent.name]:
            frame[col] = [_french_time(t, z) for t, z in zip(frame[col], zones, strict=True)]
        for col, table in VALUES[ent.name].items():
            frame[col] = frame[col].map(lambda v, t=table: t.get(v, v))
        for col in ("lead_score", "amount"):
            if col in frame:
                frame[col] = frame[col].str.replace(".", ",", regex=False)
        frame = frame.rename(columns=HEADERS[ent.name])
        out = french / ent.source / MONTH / FRENCH_FILES[ent.name]
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="cp1252", newline="") as fh:
            frame.to_csv(fh, index=False, sep=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return frames


def french_mapping() -> dict:
    entities = {}
    for ent in ENTITIES:
        spec = {"files": [FRENCH_FILES[ent.name]], "csv": {"delimiter": ";", "encoding": "cp1252"},
                "columns": HEADERS[ent.name], "decimal": ",",
                "values": {c: {fr: canon for canon, fr in t.items()} for c, t in VALUES[ent.name].items()
                           if c not in ("is_vip", "is_dispute")},
                "timestamps": ({"format": FORMAT, "timezone_column": "lead_timezone"} if ent.name == "leads"
                               else {"format": FORMAT, "timezone": {"from": "lead"}})}
        if ent.name == "leads":
            spec["booleans"] = {"true": ["oui"], "false": ["non"]}
        entities.setdefault(ent.source, {"entities": {}})["entities"][ent.name] = spec
    return {"sources": entities}


def _build(landing: Path, mapping: Path, root: Path) -> Path:
    db = root / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        for source in SOURCES:
            load_source_month(con, source, MONTH, landing, load_mapping(mapping))
    dbt_build(db, MONTH, select="staging intermediate marts cleaning", workdir=root)
    return db


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    generated = root / "generated"
    assert cli.main(["generate", "--month", MONTH, "--leads", "400", "--seed", "11",
                     "--landing", str(generated)]) == 0
    frames = write_exports(generated, root / "iso", root / "french")
    (root / "french.yml").write_text(yaml.safe_dump(french_mapping(), allow_unicode=True), encoding="utf-8")
    (root / "iso_out").mkdir()
    (root / "french_out").mkdir()
    iso = _build(root / "iso", Path(__file__).resolve().parents[1] / "config" / "sources.yml", root / "iso_out")
    french = _build(root / "french", root / "french.yml", root / "french_out")
    return iso, french, frames


def _table(db: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).df()


def test_the_french_export_loses_no_row_to_zone_handling(built):
    _iso, french, frames = built
    acc = _table(french, f"select table_name, raw_rows, excluded_rows, is_balanced from cleaning.cleaning_accounting "
                         f"where partition_month = '{MONTH}' order by table_name")
    assert acc.is_balanced.all() and (acc.excluded_rows == 0).all(), acc
    assert dict(zip(acc.table_name, acc.raw_rows, strict=True)) == {
        e.table: len(frames[e.name]) for e in ENTITIES}
    # no time was a defect to repair: the zone was declared; only DST ambiguities are flagged
    flags = _table(french, "select flag, count(*) as n from cleaning.cleaning_flags group by 1")
    assert set(flags.flag) <= {"dst_overlap"}, flags


def test_every_instant_equals_the_iso_export_but_the_repeated_hour(built):
    """Read in the lead's zone, each French wall clock gives the ISO instant back, except a wall clock of
    the hour lived twice on 25 October (Paris, London): without an offset it is read as its first
    occurrence (fold=0), flagged dst_overlap."""
    iso, french, _frames = built
    for table, key, col in (("stg_voip__calls", "call_id", "started_at"),
                            ("stg_emailing__email_events", "event_id", "event_at"),
                            ("stg_crm__leads", "lead_id", "created_at")):
        sql = f"select {key}, {col}, flags from staging.{table} where is_kept order by {key}, _source_row"
        a, b = _table(iso, sql), _table(french, sql)
        assert list(a[key]) == list(b[key])
        differ = a[col] != b[col]
        overlap = b["flags"].fillna("").str.contains(f"dst_overlap:{col}")
        assert not (differ & ~overlap).any(), b[differ & ~overlap].head()
        assert ((a[col] - b[col])[differ] == timedelta(hours=1)).all()  # the second occurrence, read as the first


def test_the_segment_metrics_equal_those_of_the_iso_export(built):
    iso, french, _frames = built
    cols = ("segment_key, leads, conversions, conversion_rate, touches_per_lead_median, ttf_median_hours, "
            "share_within_ttf_target")
    sql = f"select {cols} from marts.kpi_segments_monthly where partition_month = '{MONTH}' order by segment_key"
    a, b = _table(iso, sql), _table(french, sql)
    assert len(a) > 10
    pd.testing.assert_frame_equal(a, b, check_exact=False, atol=1e-9)


ROOT = Path(__file__).resolve().parents[1]


def _readme_mapping() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Loading your own exports"):]
    return section[section.index("```yaml") + len("```yaml"):section.index("```", section.index("```yaml") + 7)]


def test_the_readme_french_example_loads_as_written(tmp_path):
    """The README's example mapping, copied as is, loads a French CRM export and a call log whose local
    times are in each lead's zone (it failed on a missing funnel_phase before)."""
    cfg = tmp_path / "sources.yml"
    cfg.write_text(_readme_mapping(), encoding="utf-8")
    month = tmp_path / "landing"
    leads = month / "crm" / MONTH / "export_leads_oct.csv"
    leads.parent.mkdir(parents=True)
    with open(leads, "w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(["Identifiant", "Date de création", "Fuseau", "Canal", "Phase", "Commercial", "Commentaire"])
        w.writerow(["L1", "24/10/2026 23:30", "Europe/Paris", "Entrant", "MQL", "R1", "à rappeler"])
        w.writerow(["L2", "25/10/2026 09:00", "America/New_York", "", "SQL", "R2", ""])
    calls = month / "voip" / MONTH / "journal_appels_oct.csv"
    calls.parent.mkdir(parents=True)
    with open(calls, "w", encoding="cp1252", newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(["ID appel", "Prospect", "Début", "Résultat"])
        w.writerow(["C1", "L1", "26/10/2026 09:30", "Décroché"])
        w.writerow(["C2", "L2", "26/10/2026 09:30", "Sans réponse"])
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        for source in SOURCES:
            load_source_month(con, source, MONTH, month, load_mapping(cfg))
        assert con.execute("select entity, is_provided from raw._provided where not is_provided "
                           "order by entity").fetchall() == [("email_events", False), ("meetings", False),
                                                             ("opportunities", False)]
    dbt_build(db, MONTH, select="staging", workdir=tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        leads_got = con.execute("select lead_id, created_at, channel, is_kept from staging.stg_crm__leads "
                                "order by lead_id").fetchall()
        calls_got = con.execute("select call_id, started_at, outcome, is_kept, tz_repaired from "
                                "staging.stg_voip__calls order by call_id").fetchall()

    def utc(local: str, zone: str) -> datetime:
        return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) \
            .replace(tzinfo=None)

    assert leads_got == [("L1", utc("2026-10-24 23:30", "Europe/Paris"), "inbound", True),
                         ("L2", utc("2026-10-25 09:00", "America/New_York"), "inbound", True)]
    # the same wall clock, two leads, two zones: Paris is back on CET on the 26th, New York still on EDT
    assert calls_got == [("C1", utc("2026-10-26 09:30", "Europe/Paris"), "connected", True, False),
                         ("C2", utc("2026-10-26 09:30", "America/New_York"), "no_answer", True, False)]


def test_the_contract_doc_is_generated_from_the_contract():
    """docs/extract_contract.md's entity tables are cadence/contract.py's: adding a column is one change."""
    from cadence.contract import DOC_BEGIN, DOC_END, render_markdown

    text = (ROOT / "docs" / "extract_contract.md").read_text(encoding="utf-8")
    generated = text[text.index(DOC_BEGIN) + len(DOC_BEGIN):text.index(DOC_END)].strip("\n")
    assert generated == render_markdown().strip("\n"), "run `python -m cadence.contract` to regenerate the docs"
    for ent in ENTITIES:
        for col in ent.required:
            assert f"| {col} | yes |" in generated
