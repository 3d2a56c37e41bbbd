"""The monthly one-page audit note, in Markdown (posted as is) and in HTML (same text, the page's look):
what changed, three lessons, decisions per segment with their evidence, experiments to run (with the
experiments' own readouts), the express diagnostic, guardrails and where the numbers come from."""

from __future__ import annotations

import re
from html import escape

from markdown_it import MarkdownIt

from cadence.reports import findings, fmt, theme, trends_tables, verdicts, views
from cadence.reports.dash_ops import rule_status
from cadence.reports.gather import ReportData
from cadence.reports.tiles import compute_tiles


def _cell(value: object) -> str:
    return str(value).replace("|", "/").replace("\n", " ")


def md_table(headers: list[str], rows: list[list[object]]) -> str:
    head = "| " + " | ".join(headers) + " |\n|" + "---|" * len(headers)
    return head + "".join("\n| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)


def _demote(fragment: str) -> str:
    """The experiments' fragment, its headings one level down (it starts at '##')."""
    return re.sub(r"^(#{2,5}) ", lambda m: "#" + m.group(1) + " ", fragment.strip(), flags=re.MULTILINE)


def render_note(data: ReportData) -> str:
    m, prev, n = data.month, data.previous, data.note
    runs, as_of = data.meta.get("runs", {}), data.meta.get("data_as_of")
    when = f"data as of {as_of:%Y-%m-%d %H:%M} UTC" if as_of else "extraction date not available"
    out = [
        f"# Audit note · {fmt.month_label(m)}",
        f"Sales contact audit · {when} · attribution window {n['attribution_window_days']} days · conversion = "
        f"{n['conversion']} · scoping note `{fmt.short_version(runs.get('version') or data.cfg.version)}`",
    ]
    if sources := views.sources_statement(data):
        out += ["", f"> {sources}"]
    if lines := verdicts.summary(data):
        out += ["", "## Summary", "", *[f"- {line}" for line in lines]]
    tiles = compute_tiles(data)
    out += [
        "",
        f"## What changed since {fmt.month_label(prev)}",
        "",
        md_table(
            ["KPI", fmt.month_label(prev, short=True), fmt.month_label(m, short=True), "Change"],
            [
                [t.label, _tile_value(t, t.previous), f"{t.value}{' ' + t.unit if t.unit else ''}",
                 f"{t.delta} {t.ci_interval} ({t.ci})" if t.ci else t.delta]
                for t in tiles
            ],
        ),
        "",
    ]
    out += [f"- {c}" for c in findings.changes(data)] or ["- No segment changed light or moved its CR significantly."]
    out += trends_tables.note_lines(data, md_table)
    out += ["", "## Three lessons from the data", ""]
    out += [f"{i}. {text}" for i, text in enumerate(findings.lessons(data), 1)] or ["Not available this month."]
    out += ["", "## Decisions proposed per segment", ""]
    rows = findings.decisions(data)
    out += [
        md_table(
            ["Segment", "Light", "Decision", "Thresholds proposed", "Evidence"],
            [
                [r["segment"], r["light"], r["decision"], "; ".join(r["thresholds"]) or "keep current", r["evidence"]]
                for r in rows
            ],
        )
        if rows
        else "Traffic light not available."
    ]
    out += ["", "## Experiments to run", ""]
    out += [f"- {e}" for e in findings.experiments_to_run(data)] or ["- No new test proposed this month."]
    if data.experiments_fragment:
        out += ["", _demote(data.experiments_fragment)]
    out += ["", "## Express diagnostic", ""] + _diagnostic(data)
    out += ["", "## Guardrails", ""] + _guardrails(data)
    out += ["", "## Meta", "", *_meta(data)]
    return "\n".join(out).rstrip() + "\n"


def _tile_value(tile, value) -> str:
    if value is None:
        return fmt.DASH
    return {
        "ttf": fmt.hours,
        "cr": fmt.pct,
        "q1": fmt.pct,
        "complaints": lambda v: fmt.pct(v, 2),
        "slope": lambda v: f"{fmt.signed(100 * v, 2)} pts",
        "r": lambda v: fmt.num(v, 2),
        "r2": lambda v: fmt.num(v, 3),
        "touches": lambda v: fmt.num(v, 1),
    }[tile.key](value)


def _diagnostic(data: ReportData) -> list[str]:
    d = data.of("diagnostic")
    if d.empty:
        return ["Not available this month."]
    return [
        md_table(
            ["#", "Question", "Status", "Answer"],
            [
                [int(r["question_no"]), r["question"], str(r["status"]).replace("_", " "), r["answer"]]
                for r in d.sort_values("question_no").to_dict("records")
            ],
        )
    ]


def _guardrails(data: ReportData) -> list[str]:
    rules = rule_status(data)
    if not rules:
        return ["Not available this month."]
    hit = [r for r in rules if r["breaches"]]
    lines = [f"{len(hit)} of {len(rules)} rules breached this month."]
    if hit:
        lines += [
            "",
            md_table(
                ["Rule", "Severity", "Detail", "Action"],
                [[r["title"], r["severity"], r["detail"], r["action"]] for r in hit],
            ),
        ]
    return lines


def _meta(data: ReportData) -> list[str]:
    n, runs, m = data.note, data.meta.get("runs", {}), data.meta
    lines = [
        f"- Extraction date (data as of): {m['data_as_of']:%Y-%m-%d %H:%M} UTC"
        if m.get("data_as_of")
        else "- Extraction date: not available",
        f"- Attribution window: {n['attribution_window_days']} days; conversion: reaching `{n['conversion']}`",
        f"- Contact: {', '.join(f'{k} {v}' for k, v in n['contact'].items())}; touches: "
        f"{', '.join(n['touches']['channels'])}",
        f"- Sources: {views.sources_statement(data) or 'every source provided'}",
        f"- Population of the statistics: {data.cfg.population} ({fmt.num(m.get('population_leads'))} leads); "
        f"KPIs: {fmt.num(m.get('leads_in_scope'))} in-scope leads",
        f"- Scoping note version: `{runs.get('version') or data.cfg.version}`",
        f"- Owners: responsible {n['owners']['responsible']}, accountable {n['owners']['accountable']}",
        "- Dashboard: `dashboard.html`; workbook: `audit_workbook.xlsx` (same folder)",
    ]
    return lines + ([f"- Not available this run: {', '.join(data.unavailable)}"] if data.unavailable else [])


NOTE_CSS = f"""body{{margin:0;background:{theme.BG};color:{theme.INK};font:14.5px/1.55 {theme.FONT}}}
main{{max-width:980px;margin:24px auto;background:#fff;border:1px solid {theme.LINE};border-radius:8px;
padding:24px 36px}}
h1{{font-size:24px;margin:0 0 4px}} h2{{font-size:18px;margin:26px 0 8px;border-bottom:1px solid {theme.LINE};
padding-bottom:4px}} h3{{font-size:15.5px}} h4{{font-size:14.5px}}
table{{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}}
th{{text-align:left;color:{theme.MUTED};border-bottom:1px solid {theme.LINE};padding:5px 7px}}
td{{border-bottom:1px solid {theme.GRID};padding:5px 7px;vertical-align:top}}
code{{background:{theme.BG};padding:1px 4px;border-radius:4px;font-size:12.5px}}
blockquote{{margin:8px 0;padding:4px 12px;border-left:3px solid {theme.LINE};color:{theme.MUTED}}}"""


def note_html(markdown: str, title: str) -> str:
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{NOTE_CSS}</style></head><body><main>{body}</main></body></html>"
    )
