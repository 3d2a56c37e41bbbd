"""`cadence mapping check` lists every problem of a month's files at once (file, column, samples, what to
write) before any run; `cadence mapping suggest` drafts a mapping from one export that then checks clean."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from cadence import cli
from cadence.mapping import load_mapping
from cadence.mapping_assistant import check_month, guess_format, suggest

MONTH = "2026-10"
HEADER = ["Identifiant", "Date de création", "Fuseau", "Canal", "Taille", "Phase", "Commercial", "Source"]
ROWS = [["L1", "03/10/2026 09:15", "Europe/Paris", "inbound", "SMB", "MQL", "R1", "web"],
        ["L2", "03/10/2026 10:20", "America/New_York", "outbound", "Mid", "SQL", "R2", "salon"],
        ["L3", "04/10/2026 11:00", "Europe/Paris", "partner", "SMB", "MQL", "R1", "web"]]


def _write(path: Path, header: list[str], rows: list[list[str]], encoding: str = "cp1252") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
    return path


MAPPING = """
sources:
  crm:
    entities:
      leads:
        files: ["prospects*.csv"]
        csv: {delimiter: ";", encoding: cp1252}
        columns: {lead_id: Identifiant, created_at: "Date de création", lead_timezone: Fuseau, channel: Canal,
                  company_size: Taille, funnel_phase: Phase, rep_id: Commercial}
        timestamps: {format: "%d/%m/%Y %H:%M", timezone_column: lead_timezone}
  voip:
    entities:
      calls:
        files: ["appels*.csv"]
"""


def test_check_reports_every_problem_at_once_with_what_to_write(tmp_path):
    landing = tmp_path / "landing"
    rows = [r[:] for r in ROWS]
    rows[1][3] = "Salon"                                  # a channel value outside the contract
    rows[2][1] = "4 oct. 2026 11h"                        # a date in no format
    _write(landing / "crm" / MONTH / "prospects_oct.csv", [h for h in HEADER if h != "Phase"],
           [r[:5] + r[6:] for r in rows])                  # no Phase column; an unmapped Source column
    calls = landing / "voip" / MONTH / "appels.csv"
    calls.parent.mkdir(parents=True)
    calls.write_bytes("call_id,lead_id,started_at,outcome\nC1,L1,2026-10-05T10:00:00+02:00,décroché\n"
                      .encode("cp1252"))                  # cp1252 bytes, the mapping says utf-8
    cfg = tmp_path / "sources.yml"
    cfg.write_text(MAPPING, encoding="utf-8")
    problems = check_month(landing, MONTH, load_mapping(cfg))
    found = {(p.file.split("/")[-1], p.column, p.severity) for p in problems}
    assert ("prospects_oct.csv", "Phase", "error") in found          # missing, mapped explicitly
    assert ("prospects_oct.csv", "Source", "error") in found         # unknown
    assert ("appels.csv", None, "error") in found                    # encoding
    enc = next(p for p in problems if p.file.endswith("appels.csv"))
    assert "utf-8" in enc.message and enc.fix == "csv: {encoding: cp1252}"
    unknown = next(p for p in problems if p.column == "Source")
    assert "ignore_columns" in unknown.fix
    # the opportunities, e-mail and meetings files are absent: notes, not errors
    assert {p.file for p in problems if p.severity == "note"} == {"crm/2026-10", "emailing/2026-10",
                                                                  "calendar/2026-10"}
    # fix the columns: the value problems of the loaded rows come next, all of them
    _write(landing / "crm" / MONTH / "prospects_oct.csv", HEADER, rows)
    cfg.write_text(MAPPING.replace("rep_id: Commercial}", "rep_id: Commercial}\n        ignore_columns: [Source]"),
                   encoding="utf-8")
    problems = check_month(landing, MONTH, load_mapping(cfg))
    leads = [p for p in problems if p.file.endswith("prospects_oct.csv")]
    channel = next(p for p in leads if p.column == "channel")
    assert "'Salon' (1)" in channel.message and 'values: {channel: {"Salon":' in channel.fix
    created = next(p for p in leads if p.column == "created_at")
    assert created.samples == ("4 oct. 2026 11h",) and created.severity == "error"  # 1 of 3 rows: > 5 %


def test_suggest_drafts_a_mapping_that_checks_clean(tmp_path, capsys):
    landing = tmp_path / "landing"
    export = _write(landing / "crm" / MONTH / "export_prospects.csv", HEADER, ROWS)
    entity, draft = suggest(export)
    assert entity == "crm/leads"
    spec = yaml.safe_load(draft)["sources"]["crm"]["entities"]["leads"]
    assert spec["csv"] == {"delimiter": ";", "encoding": "cp1252"}
    assert spec["timestamps"] == {"format": "%d/%m/%Y %H:%M", "timezone_column": "lead_timezone"}
    assert spec["columns"] == {"lead_id": "Identifiant", "created_at": "Date de création", "lead_timezone": "Fuseau",
                               "channel": "Canal", "company_size": "Taille", "funnel_phase": "Phase",
                               "rep_id": "Commercial"}
    assert spec["ignore_columns"] == ["Source"]
    cfg = tmp_path / "sources.yml"
    cfg.write_text(draft, encoding="utf-8")
    assert [p for p in check_month(landing, MONTH, load_mapping(cfg)) if p.severity == "error"] == []
    assert cli.main(["mapping", "suggest", str(export)]) == 0 and "Identifiant" in capsys.readouterr().out


def test_date_formats_are_guessed_from_samples():
    assert guess_format(["03/10/2026 09:15", "25/10/2026 02:30"]) == "%d/%m/%Y %H:%M"
    assert guess_format(["10/25/2026 02:30 PM"]) == "%m/%d/%Y %I:%M %p"
    assert guess_format(["2026-10-03T09:15:00+02:00"]) is None


def test_check_says_a_segment_dimension_needs_a_lead_attribute(tmp_path):
    """A note segmenting by region with no `attributes` for it: `mapping check` says what to write, before a
    run would stop in dbt. Declared, the same check passes that point. (A subprocess: the dimensions are
    read once per process, from CADENCE_SCOPING_NOTE.)"""
    import os
    import subprocess
    import sys

    (tmp_path / "note.yml").write_text("segments: {dimensions: [region, company_size]}\n", encoding="utf-8")
    _write(tmp_path / "landing" / "crm" / MONTH / "leads.csv", [*HEADER[:7], "Région"],
           [[*r[:7], "Nord"] for r in ROWS])
    base = {"csv": {"delimiter": ";", "encoding": "cp1252"}, "files": ["leads.csv"],
            "columns": dict(zip(["lead_id", "created_at", "lead_timezone", "channel", "company_size",
                                 "funnel_phase", "rep_id"], HEADER[:7], strict=True)),
            "timestamps": {"format": "%d/%m/%Y %H:%M", "timezone_column": "lead_timezone"}}
    env = {**os.environ, "CADENCE_DATA_DIR": str(tmp_path), "CADENCE_SCOPING_NOTE": str(tmp_path / "note.yml"),
           "CADENCE_SOURCES_CONFIG": str(tmp_path / "sources.yml")}
    env.pop("CADENCE_LANDING_DIR", None)

    def check(leads: dict) -> subprocess.CompletedProcess:
        doc = {"sources": {"crm": {"entities": {"leads": leads}}}}
        (tmp_path / "sources.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        return subprocess.run([sys.executable, "-m", "cadence.cli", "mapping", "check", "--month", MONTH],
                              env=env, capture_output=True, text=True, timeout=120)

    missing = check({**base, "ignore_columns": ["Région"]})
    assert missing.returncode != 0
    assert "segment dimension 'region'" in missing.stdout and "leads.attributes: {region:" in missing.stdout
    declared = check({**base, "attributes": {"region": "Région"}})
    assert declared.returncode == 0 and "segment dimension" not in declared.stdout, declared.stdout
