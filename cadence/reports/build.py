"""Writes one month's three reports under <reports_dir>/<YYYY-MM>/: dashboard.html, audit_note.md,
audit_note.html and audit_workbook.xlsx. Each file is written to a temporary name and renamed over the
old one, so a reader never opens half a file. Reads the warehouse only."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cadence.reports import fmt, queries
from cadence.reports.dashboard import render_dashboard
from cadence.reports.gather import ReportData, gather
from cadence.reports.note import note_html, render_note
from cadence.reports.workbook import MAX_LEAD_ROWS, build_workbook

FILES = {
    "dashboard": "dashboard.html",
    "audit_note": "audit_note.md",
    "audit_note_html": "audit_note.html",
    "audit_workbook": "audit_workbook.xlsx",
}


@dataclass
class Reports:
    month: str
    paths: dict[str, Path]
    unavailable: dict[str, str]
    workbook_rows: int
    population_leads: int


def _replace_text(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_dashboard(data: ReportData, folder: Path) -> Path:
    return _replace_text(folder / FILES["dashboard"], render_dashboard(data))


def write_note(data: ReportData, folder: Path) -> tuple[Path, Path]:
    md = render_note(data)
    return (
        _replace_text(folder / FILES["audit_note"], md),
        _replace_text(folder / FILES["audit_note_html"], note_html(md, f"Audit note · {fmt.month_label(data.month)}")),
    )


def write_workbook(con: duckdb.DuckDBPyConnection, data: ReportData, folder: Path) -> tuple[Path, int]:
    points = queries.workbook_points(con, data.cfg, data.month, MAX_LEAD_ROWS)
    path = folder / FILES["audit_workbook"]
    tmp = path.with_name("audit_workbook.tmp.xlsx")
    build_workbook(data, points, int(data.meta["population_leads"]), tmp)
    os.replace(tmp, path)
    return path, len(points)


def write_reports(
    con: duckdb.DuckDBPyConnection, month: str, reports_dir: Path, only: set[str] | None = None
) -> Reports:
    """Gathers the month once and writes the reports named in `only` (dashboard, audit_note,
    audit_workbook; all by default)."""
    only = only or {"dashboard", "audit_note", "audit_workbook"}
    folder = Path(reports_dir) / month
    folder.mkdir(parents=True, exist_ok=True)
    data = gather(con, month, reports_dir)
    paths, rows = {}, 0
    if "dashboard" in only:
        paths["dashboard"] = write_dashboard(data, folder)
    if "audit_note" in only:
        paths["audit_note"], paths["audit_note_html"] = write_note(data, folder)
    if "audit_workbook" in only:
        paths["audit_workbook"], rows = write_workbook(con, data, folder)
    return Reports(month, paths, data.unavailable, rows, int(data.meta["population_leads"]))
