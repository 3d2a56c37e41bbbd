"""`cadence generate` and `cadence demo` never overwrite extracts that are already there unless told to
(issue 17 item 6): a landing folder may hold a user's real exports, or a generated month its runs rely on."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cadence import cli

MONTH = "2026-09"


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_refuses_a_month_that_has_extracts(data_dir, capsys):
    landing = data_dir / "landing"
    assert cli.main(["generate", "--month", MONTH, "--leads", "60", "--seed", "1"]) == 0
    before = _digests(landing)
    with pytest.raises(SystemExit) as refused:
        cli.main(["generate", "--month", "2026-08", "--to", MONTH, "--leads", "60", "--seed", "2"])
    message = str(refused.value)
    assert "already holds" in message and "crm/2026-09/leads.csv" in message and "--force" in message
    assert _digests(landing) == before  # not one byte changed, and 2026-08 was not written either


def test_generate_force_replaces_the_generated_files_and_names_the_others(data_dir, tmp_path, capsys):
    landing = data_dir / "landing"
    assert cli.main(["generate", "--month", MONTH, "--leads", "60", "--seed", "1"]) == 0
    foreign = landing / "crm" / MONTH / "leads_from_the_crm.csv"
    foreign.write_text("lead_id\nL1\n")
    capsys.readouterr()
    assert cli.main(["generate", "--month", MONTH, "--leads", "60", "--seed", "2", "--force"]) == 0
    out = capsys.readouterr().out
    assert "crm/2026-09/leads_from_the_crm.csv" in out  # left in place, and said so
    assert foreign.read_text() == "lead_id\nL1\n"
    # the generated files are now those of seed 2: the same bytes as seed 2 written into an empty folder
    fresh = tmp_path / "fresh"
    assert cli.main(["generate", "--month", MONTH, "--leads", "60", "--seed", "2", "--landing", str(fresh)]) == 0
    replaced = {k: v for k, v in _digests(landing).items() if k != "crm/2026-09/leads_from_the_crm.csv"}
    assert replaced == _digests(fresh)


def test_demo_leaves_extracts_it_did_not_generate_alone(data_dir, monkeypatch):
    landing = data_dir / "landing"
    export = landing / "crm" / MONTH / "leads.csv"
    export.parent.mkdir(parents=True)
    export.write_text("lead_id,created_at\nREAL-1,2026-09-03T09:00:00+02:00\n")

    def no_run(_months):
        raise AssertionError("the demo ran a month it refused to generate")

    monkeypatch.setattr(cli, "run_months", no_run)
    with pytest.raises(SystemExit) as refused:
        cli.main(["demo", "--month", MONTH, "--leads", "60"])
    assert "leaves them alone" in str(refused.value) and f"run --month {MONTH}" in str(refused.value)
    assert export.read_text() == "lead_id,created_at\nREAL-1,2026-09-03T09:00:00+02:00\n"
    assert not (landing / "_manifest").exists()


def test_demo_generates_and_runs_three_months_in_order(data_dir, monkeypatch, capsys):
    runs = []
    monkeypatch.setattr(cli, "run_months", lambda months: runs.append(list(months)) or True)
    monkeypatch.setattr(cli, "print_status_fresh", lambda: None)
    assert cli.main(["demo", "--month", MONTH, "--leads", "60"]) == 0
    assert runs == [["2026-07", "2026-08", MONTH]]  # oldest first: each month has the one before it
    assert sorted(p.name for p in (data_dir / "landing" / "_manifest").iterdir()) == [
        "2026-07.json", "2026-08.json", "2026-09.json"]
    assert "Results of 2026-09 (after 2026-07, 2026-08" in capsys.readouterr().out
    before = _digests(data_dir / "landing")
    assert cli.main(["demo", "--month", "2026-01", "--months", "1", "--leads", "60"]) == 0
    assert runs[-1] == ["2026-01"]
    assert cli.main(["demo", "--month", MONTH, "--leads", "60"]) == 0  # reuses what it generated
    assert {k: v for k, v in _digests(data_dir / "landing").items() if "2026-01" not in k} == before
