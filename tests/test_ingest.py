"""Ingestion (cadence.ingest + cadence.mapping) on hand-written extracts: what loads, what fails, how."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from cadence.contract import entities_of, entity
from cadence.ingest import IngestError, load_source_month
from cadence.mapping import MappingError, load_mapping

CONFIG = Path(__file__).resolve().parents[1] / "config" / "sources.yml"


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, delimiter=",", encoding="utf-8",
              newline="\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def canonical_rows(ent_source: str, ent_name: str, n: int, month: str) -> list[list[str]]:
    ent = entity(ent_source, ent_name)
    rows = []
    for i in range(1, n + 1):
        row = []
        for col in ent.columns:
            if col in ent.timestamps:
                row.append(f"{month}-0{1 + i % 9}T10:00:00+02:00")
            elif col == "lead_timezone":
                row.append("Europe/Paris")
            elif col == ent.key:
                row.append(f"{ent_name[:3]}-{month}-{i}")
            else:
                row.append(f"{col}-{i}")
        rows.append(row)
    return rows


def write_source(landing: Path, source: str, month: str, n: int = 5) -> None:
    for ent in entities_of(source):
        write_csv(landing / source / month / f"{ent.name}.csv", list(ent.columns),
                  canonical_rows(source, ent.name, n, month))


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


@pytest.fixture
def mappings():
    return load_mapping(CONFIG)


def count(con, table, month=None):
    q = f"select count(*) from {table}" + (" where _partition_month = ?" if month else "")
    return con.execute(q, [month] if month else []).fetchone()[0]


def test_canonical_extract_loads_with_lineage(tmp_path, con, mappings):
    landing = tmp_path / "landing"
    write_source(landing, "crm", "2026-10", n=7)
    loads = load_source_month(con, "crm", "2026-10", landing, mappings, run_id="r1")
    assert [(x.table, x.rows, x.rejected) for x in loads] == [("raw.crm__leads", 7, 0),
                                                             ("raw.crm__opportunities", 7, 0)]
    rows = con.execute("select lead_id, _source_row, _source_file, _run_id, length(_file_hash) "
                       "from raw.crm__leads order by _source_row").fetchall()
    assert [r[0] for r in rows] == [f"lea-2026-10-{i}" for i in range(1, 8)]
    assert [r[1] for r in rows] == list(range(1, 8))
    assert {r[2] for r in rows} == {"crm/2026-10/leads.csv"} and {r[3] for r in rows} == {"r1"}
    assert {r[4] for r in rows} == {64}


def test_rerun_replaces_only_its_month(tmp_path, con, mappings):
    landing = tmp_path / "landing"
    write_source(landing, "crm", "2026-09", n=3)
    write_source(landing, "crm", "2026-10", n=5)
    load_source_month(con, "crm", "2026-09", landing, mappings)
    load_source_month(con, "crm", "2026-10", landing, mappings)
    before = con.execute("select * exclude (_loaded_at, _run_id) from raw.crm__leads order by all").fetchall()
    load_source_month(con, "crm", "2026-10", landing, mappings)
    after = con.execute("select * exclude (_loaded_at, _run_id) from raw.crm__leads order by all").fetchall()
    assert before == after and count(con, "raw.crm__leads", "2026-10") == 5
    # A new export of October with fewer rows replaces October and leaves September alone.
    write_source(landing, "crm", "2026-10", n=2)
    load_source_month(con, "crm", "2026-10", landing, mappings)
    assert count(con, "raw.crm__leads", "2026-10") == 2 and count(con, "raw.crm__leads", "2026-09") == 3


def _expect_failure(con, landing, mappings, month="2026-10") -> IngestError:
    with pytest.raises(IngestError) as err:
        load_source_month(con, "crm", month, landing, mappings)
    return err.value


@pytest.fixture
def loaded(tmp_path, con, mappings):
    """September already loaded: every failing October load must leave it intact."""
    landing = tmp_path / "landing"
    write_source(landing, "crm", "2026-09", n=4)
    load_source_month(con, "crm", "2026-09", landing, mappings)
    write_source(landing, "crm", "2026-10", n=5)
    load_source_month(con, "crm", "2026-10", landing, mappings)
    return landing


def _assert_untouched(con):
    assert count(con, "raw.crm__leads", "2026-09") == 4
    assert count(con, "raw.crm__leads", "2026-10") == 5  # the failed reload changed nothing
    assert count(con, "raw.crm__opportunities", "2026-10") == 5


def test_missing_leads_file_names_source_month_and_folder(con, mappings, loaded):
    (loaded / "crm" / "2026-10" / "leads.csv").unlink()
    err = _expect_failure(con, loaded, mappings)
    assert "crm/leads" in str(err) and "2026-10" in str(err) and "leads*.csv" in str(err)
    _assert_untouched(con)


def test_an_optional_entity_may_be_absent_or_empty_and_that_is_recorded(con, mappings, loaded):
    """Only the leads are required: no opportunities file is a recorded fact, a header-only one is 0 rows."""
    (loaded / "crm" / "2026-10" / "opportunities.csv").unlink()
    loads = load_source_month(con, "crm", "2026-10", loaded, mappings)
    assert [(x.entity, x.provided, x.rows) for x in loads] == [("leads", True, 5), ("opportunities", False, 0)]
    assert count(con, "raw.crm__opportunities", "2026-10") == 0 and count(con, "raw.crm__opportunities", "2026-09") == 4
    provided = con.execute("select entity, is_provided, files, rows_loaded, detail from raw._provided "
                           "where _partition_month = '2026-10' order by entity").fetchall()
    assert provided[0] == ("leads", True, 1, 5, "1 file(s), 5 rows")
    assert provided[1][:4] == ("opportunities", False, 0, 0) and "not provided for 2026-10" in provided[1][4]
    write_csv(loaded / "crm" / "2026-10" / "opportunities.csv", list(entity("crm", "opportunities").columns), [])
    loads = load_source_month(con, "crm", "2026-10", loaded, mappings)
    assert [(x.entity, x.provided, x.rows) for x in loads] == [("leads", True, 5), ("opportunities", True, 0)]
    # a whole source absent for the month (no folder): every entity recorded as not provided
    assert [x.provided for x in load_source_month(con, "voip", "2026-10", loaded, mappings)] == [False]


def test_an_optional_column_the_export_lacks_needs_no_mapping_line(con, mappings, loaded):
    ent = entity("crm", "leads")
    header = [c for c in ent.columns if c not in ("team", "lead_score", "opted_out_at")]
    rows = [[v for c, v in zip(ent.columns, r, strict=True) if c in header]
            for r in canonical_rows("crm", "leads", 5, "2026-10")]
    write_csv(loaded / "crm" / "2026-10" / "leads.csv", header, rows)
    load_source_month(con, "crm", "2026-10", loaded, mappings)
    assert con.execute("select count(*), count(team), count(lead_score), count(opted_out_at), count(rep_id) "
                       "from raw.crm__leads where _partition_month = '2026-10'").fetchone() == (5, 0, 0, 0, 5)


@pytest.mark.parametrize("change, expected", [
    (lambda h: h + ["surprise"], "unknown column: map it"),
    (lambda h: [c for c in h if c != "rep_id"], "missing column"),
    (lambda h: h[:-1] + ["lead_id"], "repeats this column"),
])
def test_header_problems_name_file_and_column(con, mappings, loaded, change, expected):
    ent = entity("crm", "leads")
    header = change(list(ent.columns))
    rows = [r[: len(header)] + ["x"] * (len(header) - len(r)) for r in canonical_rows("crm", "leads", 5, "2026-10")]
    write_csv(loaded / "crm" / "2026-10" / "leads.csv", header, rows)
    err = _expect_failure(con, loaded, mappings)
    assert expected in str(err) and "leads.csv" in err.file and err.column
    _assert_untouched(con)


def test_undecodable_bytes_give_file_and_line(con, mappings, loaded):
    path = loaded / "crm" / "2026-10" / "leads.csv"
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"team-3", b"\xe9quipe-3")  # cp1252 'é' in a file declared UTF-8
    path.write_bytes(b"\n".join(lines))
    err = _expect_failure(con, loaded, mappings)
    assert err.line == 4 and "utf-8" in str(err).lower() and "encoding" in str(err)
    _assert_untouched(con)


@pytest.mark.parametrize("content, expected", [
    (b"", "empty (0 bytes)"),
    (",".join(entity("crm", "leads").columns).encode() + b"\n", "no data rows"),
    (";".join(entity("crm", "leads").columns).encode() + b"\nx;y\n", "wrong delimiter"),
])
def test_empty_header_only_and_wrong_delimiter(con, mappings, loaded, content, expected):
    (loaded / "crm" / "2026-10" / "leads.csv").write_bytes(content)
    err = _expect_failure(con, loaded, mappings)
    assert expected in str(err) and "leads.csv" in str(err)
    _assert_untouched(con)


def test_malformed_lines_are_logged_and_rows_keep_their_line_numbers(tmp_path, con, mappings):
    landing = tmp_path / "landing"
    write_source(landing, "crm", "2026-10", n=300)
    path = landing / "crm" / "2026-10" / "leads.csv"
    lines = path.read_text().splitlines()
    lines.insert(11, "truncated,line")  # becomes line 12 = data row 11
    path.write_text("\n".join(lines) + "\n")
    loads = load_source_month(con, "crm", "2026-10", landing, mappings)
    assert (loads[0].rows, loads[0].rejected) == (300, 1)
    rej = con.execute("select _source_row, line, csv_line from raw._load_rejects").fetchall()
    assert rej == [(11, 12, "truncated,line")]
    rows = dict(con.execute("select lead_id, _source_row from raw.crm__leads").fetchall())
    assert rows["lea-2026-10-10"] == 10 and rows["lea-2026-10-11"] == 12 and rows["lea-2026-10-300"] == 301


def test_too_many_malformed_lines_fail_the_load(tmp_path, con, mappings):
    landing = tmp_path / "landing"
    write_source(landing, "crm", "2026-10", n=20)
    path = landing / "crm" / "2026-10" / "leads.csv"
    path.write_text(path.read_text() + "a,b\nc,d\ne,f\n")
    with pytest.raises(IngestError, match="3 of 23 lines are malformed"):
        load_source_month(con, "crm", "2026-10", landing, mappings)


FRENCH_MAPPING = """
sources:
  crm:
    entities:
      leads:
        files: ["export_leads*.csv"]
        csv: {delimiter: ";", encoding: cp1252}
        columns:
          lead_id: "Identifiant"
          created_at: "Date de création"
          lead_timezone: "Fuseau"
          channel: "Canal"
          company_size: "Taille"
          funnel_phase: "Phase"
          team: "Équipe"
          rep_id: "Commercial"
          account_id: "Compte"
          company_name: "Société"
          contact_name: "Contact"
          email: "E-mail"
          phone: "Téléphone"
          lead_score: "Score"
          is_vip: "VIP"
          is_dispute: "Litige"
          opted_out_at: "Désinscrit le"
          sql_at: "SQL le"
        ignore_columns: ["Commentaire"]
        timestamps: {format: "%d/%m/%Y %H:%M", timezone_column: lead_timezone}
        decimal: ","
        booleans: {true: [oui], false: [non]}
        values: {channel: {Entrant: inbound, Sortant: outbound, Partenaire: partner}}
      opportunities:
        files: ["opps*.csv"]
        constants: {currency: EUR}
"""


def test_french_crm_export_loads_through_the_mapping(tmp_path, con):
    cfg = tmp_path / "sources.yml"
    cfg.write_text(FRENCH_MAPPING, encoding="utf-8")
    mappings = load_mapping(cfg)
    month_dir = tmp_path / "landing" / "crm" / "2026-03"
    header = ["Identifiant", "Date de création", "Fuseau", "Canal", "Taille", "Phase", "Équipe", "Commercial",
              "Compte", "Société", "Contact", "E-mail", "Téléphone", "Score", "VIP", "Litige", "Désinscrit le",
              "SQL le", "Commentaire"]
    cases = [  # local time, zone -> expected offset (DST switches: Paris 29/03/2026, New York 08/03/2026)
        ("28/03/2026 09:15", "Europe/Paris"), ("30/03/2026 09:15", "Europe/Paris"),
        ("07/03/2026 23:30", "America/New_York"), ("09/03/2026 08:00", "America/New_York"),
        ("15/03/2026 12:00", "Asia/Singapore"),
    ]
    rows = [[f"L{i}", ts, zone, "Entrant", "PME", "MQL", "Équipe Île", "rep-é", "acc", "Société Générale",
             "Zoé Lefèvre", "zoe@example.com", "+33 6 00 00 00 00", "87,5", "oui", "non", "", "", "à rappeler"]
            for i, (ts, zone) in enumerate(cases)]
    write_csv(month_dir / "export_leads_mars.csv", header, rows, delimiter=";", encoding="cp1252",
              newline="\r\n")
    opp_ent = entity("crm", "opportunities")
    write_csv(month_dir / "opps.csv", [c for c in opp_ent.columns if c != "currency"],
              [["O1", "L0", "acc", "rep", "2026-03-30T10:00:00+02:00", "won", "1200.5", "", ""]])
    load_source_month(con, "crm", "2026-03", tmp_path / "landing", mappings)
    got = con.execute("select lead_id, created_at, lead_timezone, channel, team, lead_score, is_vip, is_dispute, "
                      "opted_out_at from raw.crm__leads order by _source_row").fetchall()
    for (lead_id, created_at, lead_zone, channel, team, score, vip, dispute, opted), (ts, zone) in zip(
            got, cases, strict=True):
        # raw keeps the wall clock (ISO, no offset); the zone it is read in is recorded with the file and
        # applied in staging, DST included (tests/test_bad_inputs.py, tests/test_exports.py)
        assert created_at == datetime.strptime(ts, "%d/%m/%Y %H:%M").strftime("%Y-%m-%dT%H:%M:%S"), lead_id
        assert lead_zone == zone
        assert (channel, team, score, vip, dispute, opted) == ("inbound", "Équipe Île", "87.5", "true", "false", None)
    assert con.execute("select entity, zone_rule from raw._loads order by entity").fetchall() == [
        ("leads", "lead"), ("opportunities", None)]
    assert con.execute("select currency from raw.crm__opportunities").fetchone()[0] == "EUR"


def test_parquet_extract_loads_like_csv(tmp_path, con, mappings):
    landing = tmp_path / "landing"
    write_source(landing, "voip", "2026-10", n=6)
    csv_path = landing / "voip" / "2026-10" / "calls.csv"
    con.execute(f"copy (select * from read_csv('{csv_path}', all_varchar=true)) to "
                f"'{csv_path.with_suffix('.parquet')}' (format parquet)")
    csv_path.unlink()
    loads = load_source_month(con, "voip", "2026-10", landing, mappings)
    assert loads[0].rows == 6
    assert con.execute("select min(_source_row), max(_source_row), count(distinct call_id) "
                       "from raw.voip__calls").fetchone() == (1, 6, 6)


def test_mapping_errors_name_the_key(tmp_path):
    cfg = tmp_path / "sources.yml"
    cfg.write_text("sources:\n  crm:\n    entities:\n      leads:\n        columns: {nope: X}\n")
    with pytest.raises(MappingError, match=r"entities\.leads\.columns: \['nope'\]"):
        load_mapping(cfg)
    cfg.write_text("sources:\n  crm:\n    entities:\n      leads:\n        csv: {encoding: klingon}\n")
    with pytest.raises(MappingError, match="unknown encoding 'klingon'"):
        load_mapping(cfg)


def _french_leads(tmp_path, rows: list[list[str]], **replace: str):
    """The French export above (its mapping's lines `replace`d, by key) with `rows`; loads crm 2026-03."""
    cfg = tmp_path / "sources.yml"
    text = FRENCH_MAPPING
    for key, line in replace.items():
        old = next(x for x in text.splitlines() if x.strip().startswith(f"{key}:"))
        text = text.replace(old, line)
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text, encoding="utf-8")
    month_dir = tmp_path / "landing" / "crm" / "2026-03"
    header = ["Identifiant", "Date de création", "Fuseau", "Canal", "Taille", "Phase", "Équipe", "Commercial",
              "Compte", "Société", "Contact", "E-mail", "Téléphone", "Score", "VIP", "Litige", "Désinscrit le",
              "SQL le", "Commentaire"]
    full = [[lead, ts, zone, canal, "PME", "MQL", "T", "rep", "acc", "S", "C", "e@x.fr", "06", "1", "non", "non",
             "", "", ""] for lead, ts, zone, canal in rows]
    write_csv(month_dir / "export_leads.csv", header, full, delimiter=";", encoding="cp1252")
    write_csv(month_dir / "opps.csv", [c for c in entity("crm", "opportunities").columns if c != "currency"],
              [["O1", "L0", "acc", "rep", "2026-03-30T10:00:00+02:00", "won", "1200.5", "", ""]])
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_source_month(con, "crm", "2026-03", tmp_path / "landing", load_mapping(cfg))
    return con


def test_an_empty_cell_can_be_recoded(tmp_path):
    """`values: {channel: {"": unknown}}` maps an empty origin to a value (it used to become NULL first)."""
    con = _french_leads(tmp_path, [["L0", "02/03/2026 10:00", "Europe/Paris", "Entrant"],
                                   ["L1", "02/03/2026 11:00", "Europe/Paris", ""],
                                   ["L2", "02/03/2026 12:00", "Europe/Paris", "  "]],
                        values='        values: {channel: {Entrant: inbound, "": unknown}}')
    got = con.execute("select lead_id, channel from raw.crm__leads order by lead_id").fetchall()
    assert got == [("L0", "inbound"), ("L1", "unknown"), ("L2", "unknown")]


def test_an_empty_zone_cell_keeps_the_local_time_or_takes_the_default_zone(tmp_path):
    """An empty zone cell used to turn the date into NULL (then logged as a missing created_at)."""
    con = _french_leads(tmp_path, [["L0", "02/03/2026 10:00", "", "Entrant"],
                                   ["L1", "02/03/2026 11:00", "Europe/Paris", "Entrant"]])
    got = con.execute("select lead_id, created_at, lead_timezone from raw.crm__leads order by lead_id").fetchall()
    assert got == [("L0", "2026-03-02T10:00:00", None), ("L1", "2026-03-02T11:00:00", "Europe/Paris")]
    con.close()
    con = _french_leads(tmp_path / "with_default", [["L0", "02/03/2026 10:00", "", "Entrant"]],
                        timestamps='        timestamps: {format: "%d/%m/%Y %H:%M", timezone_column: lead_timezone, '
                                   'timezone: Asia/Tokyo}')
    assert con.execute("select created_at, lead_timezone from raw.crm__leads").fetchall() == [
        ("2026-03-02T10:00:00", "Asia/Tokyo")]


def test_the_export_time_file_is_recorded_or_refused_clearly(tmp_path, con, mappings):
    landing = tmp_path / "landing"
    write_source(landing, "voip", "2026-10")
    load_source_month(con, "voip", "2026-10", landing, mappings)
    assert con.execute("select count(*) from raw._loads where exported_at is null").fetchone()[0] == 1
    info = landing / "voip" / "2026-10" / "_extract.yml"
    info.write_text("exported_at: 2026-12-01T07:00:00+01:00\n")
    load_source_month(con, "voip", "2026-10", landing, mappings)
    assert con.execute("select exported_at from raw._loads").fetchall() == [(datetime(2026, 12, 1, 6, 0),)]
    info.write_text("exported_at: 2026-12-01 07:00\n")
    with pytest.raises(IngestError, match="with its offset") as err:
        load_source_month(con, "voip", "2026-10", landing, mappings)
    assert err.value.file.endswith("_extract.yml")


def test_typed_parquet_instants_are_read_as_utc_whatever_the_machine_zone(tmp_path, con, mappings):
    """A TIMESTAMPTZ column is an instant: written `...Z`, not in the session's zone (a plain cast wrote
    `+00` or the host's offset, which staging then mistook for a wrong offset)."""
    landing = tmp_path / "landing"
    write_source(landing, "voip", "2026-10", n=3)
    csv_path = landing / "voip" / "2026-10" / "calls.csv"
    con.execute("set timezone = 'America/New_York'")
    con.execute(f"copy (select * replace (cast(started_at as timestamptz) as started_at) "
                f"from read_csv('{csv_path}', all_varchar=true)) to '{csv_path.with_suffix('.parquet')}' "
                f"(format parquet)")
    csv_path.unlink()
    load_source_month(con, "voip", "2026-10", landing, mappings)
    got = [r[0] for r in con.execute("select started_at from raw.voip__calls order by _source_row").fetchall()]
    expected = [datetime.fromisoformat(r[3]).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
                for r in canonical_rows("voip", "calls", 3, "2026-10")]
    assert got == expected
