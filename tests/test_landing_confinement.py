"""The landing folder reads only itself, and messages never carry a file's content (issue 16 item 9).

Real files and real symlinks: a month's leads file that is a symlink to a file outside the landing folder
(standing for /etc/passwd, with a secret line in it) is refused before a byte of it is read; `files:`
patterns with '..' or an absolute path are refused; a symlink that stays inside the folder is read. A
file that is not a CSV at all yields an error that counts its header instead of quoting it, and values
are quoted as short escaped excerpts. End to end, the refused month fails with a clear message while the
secret appears in none of the CLI output, the Dagster event log and the run-failure alert.
"""

from __future__ import annotations

import duckdb
import pytest
import yaml

from cadence.generator import generate
from cadence.ingest import IngestError, load_source_month
from cadence.mapping import load_mapping
from cadence.settings import CONFIG_DIR
from cadence.untrusted import excerpt

MONTH = "2026-10"
SECRET = "root:x:0:0:SECRET-7f3a:/root:/bin/bash\ndaemon:x:1:1:SECRET-9c1e:/usr/sbin:/usr/sbin/nologin\n"


@pytest.fixture
def landing(tmp_path):
    generate(tmp_path / "landing", [MONTH], leads_per_month=20, seed=3)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET)
    return tmp_path / "landing"


def _mapping(tmp_path, leads_files=None):
    config = yaml.safe_load((CONFIG_DIR / "sources.yml").read_text())
    if leads_files is not None:
        config["sources"]["crm"]["entities"]["leads"]["files"] = leads_files
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(config))
    return load_mapping(path)


def _load_crm(landing, mappings) -> int:
    con = duckdb.connect()
    try:
        load_source_month(con, "crm", MONTH, landing, mappings)
        return con.execute("select count(*) from raw.crm__leads").fetchone()[0]
    finally:
        con.close()


def test_a_symlink_leading_outside_the_landing_folder_is_refused_unread(landing, tmp_path):
    leads = landing / "crm" / MONTH / "leads.csv"
    leads.unlink()
    leads.symlink_to(tmp_path / "outside" / "passwd")
    with pytest.raises(IngestError) as err:
        _load_crm(landing, _mapping(tmp_path))
    text = str(err.value)
    assert text.startswith(f"{leads}: leads to {tmp_path / 'outside' / 'passwd'}, outside the landing folder")
    assert "SECRET" not in text and "root:x" not in text


def test_files_patterns_stay_inside_the_month_folder(landing, tmp_path):
    for pattern in ("../../../outside/passwd", str(tmp_path / "outside" / "passwd"), "sub/../../x.csv"):
        with pytest.raises(IngestError, match="must be relative to the month's folder, without '..'") as err:
            _load_crm(landing, _mapping(tmp_path, [pattern]))
        assert "SECRET" not in str(err.value)


def test_a_symlink_inside_the_landing_folder_is_read_and_a_broken_one_is_a_clear_error(landing, tmp_path):
    leads = landing / "crm" / MONTH / "leads.csv"
    kept = landing / "_exports" / "leads_export.csv"
    kept.parent.mkdir()
    leads.rename(kept)
    leads.symlink_to(kept)
    assert _load_crm(landing, _mapping(tmp_path)) == 20
    kept.unlink()
    with pytest.raises(IngestError, match="cannot be resolved .*broken symlink"):
        _load_crm(landing, _mapping(tmp_path))


def test_a_file_that_is_not_a_csv_is_refused_without_quoting_it(landing, tmp_path):
    (landing / "crm" / MONTH / "leads.csv").write_text(SECRET)  # e.g. /etc/passwd copied by mistake
    with pytest.raises(IngestError) as err:
        _load_crm(landing, _mapping(tmp_path))
    assert "missing column" in str(err.value) and "the header has 1 column(s)" in str(err.value)
    assert "SECRET" not in str(err.value) and "root:x" not in str(err.value)


def test_an_unknown_column_is_named_by_a_short_escaped_excerpt(landing, tmp_path):
    leads = landing / "crm" / MONTH / "leads.csv"
    lines = leads.read_text().splitlines()
    odd = '"' + "x" * 30 + "\tpassword=hunter2-" + "y" * 200 + '"'
    leads.write_text("\n".join([lines[0] + "," + odd, *(line + ",1" for line in lines[1:])]) + "\n")
    with pytest.raises(IngestError) as err:
        _load_crm(landing, _mapping(tmp_path))
    text = str(err.value)
    assert f"column {excerpt(odd.strip(chr(34)))}: unknown column" in text
    assert "hunter2" not in text and "y" * 50 not in text


def test_excerpt_is_short_escaped_and_quoted():
    assert excerpt("webinar") == "'webinar'"
    assert excerpt("a\nb\t'c'\x1b[31m") == "'a\\nb\\t\\'c\\'\\x1b[31m'"
    assert excerpt("z" * 100) == "'" + "z" * 40 + "'…(+60 chars)"
    assert excerpt(None) == "NULL" and excerpt(b"\xff\x00") == "'\\ufffd\\x00'"


@pytest.mark.integration
def test_a_refused_month_fails_clearly_and_the_secret_reaches_no_output_log_or_alert(data_dir, capfd, monkeypatch,
                                                                                      tmp_path):
    import dagster as dg
    from dagster._serdes import serialize_value

    from cadence.cli import run_months
    from cadence.notify.receivers import LocalWebhook
    from orchestration.sensors import guardrail_alert_sensor

    generate(data_dir / "landing", [MONTH], leads_per_month=20, seed=3)
    (tmp_path / "passwd").write_text(SECRET)
    leads = data_dir / "landing" / "crm" / MONTH / "leads.csv"
    leads.unlink()
    leads.symlink_to(tmp_path / "passwd")
    hook = LocalWebhook().start()
    monkeypatch.setenv("CADENCE_ALERT_URLS", f"json://127.0.0.1:{hook.port}/alerts")
    monkeypatch.setenv("CADENCE_ALERT_STATE", str(tmp_path / "ledger.sqlite"))
    try:
        with dg.DagsterInstance.get() as instance:
            cursor = guardrail_alert_sensor(dg.build_sensor_context(instance=instance)).cursor
            assert not run_months([MONTH])
            out = capfd.readouterr()
            printed = out.out + out.err
            assert "outside the landing folder" in printed and "SECRET" not in printed
            run = instance.get_run_records()[0].dagster_run
            assert run.status == dg.DagsterRunStatus.FAILURE
            logged = [serialize_value(e) for e in instance.all_logs(run.run_id)]
            assert any("outside the landing folder" in e for e in logged)
            assert not [e for e in logged if "SECRET" in e or "root:x" in e]
            guardrail_alert_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        alerts = hook.bodies("/alerts")
        assert len(alerts) == 1 and "outside the landing folder" in alerts[0]["message"]
        assert "SECRET" not in str(alerts)
    finally:
        hook.stop()
