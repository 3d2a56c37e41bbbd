"""Guardrails (every rule's status, the weekly rate grid, KPI rules vs last month) and the express
diagnostic."""

from __future__ import annotations

from html import escape

from cadence.reports import fmt, theme, views
from cadence.reports.gather import ReportData
from cadence.reports.html import Raw, card, chip, esc, section, table

RATE_RULES = (
    ("complaint_rate", "Complaints / delivered"),
    ("unsubscribe_rate", "Unsubscribes / delivered"),
    ("bounce_rate", "Bounces / sent"),
)


def rule_status(data: ReportData) -> list[dict]:
    """One row per guardrail rule of the note: severity, breaches this month, the first breach's detail."""
    rules, b = data.of("rules"), data.of("breaches")
    if rules.empty:
        return []
    out = []
    for r in rules.to_dict("records"):
        hits = b[b["rule_id"] == r["rule_id"]] if len(b) else b
        out.append(
            {
                **r,
                "breaches": len(hits),
                "detail": hits.iloc[0]["comparison"] if len(hits) else "",
                "where": ", ".join(sorted({fmt.segment_label(k) for k in hits["segment_key"]})) if len(hits) else "",
            }
        )
    return out


def _rules_table(data: ReportData) -> Raw:
    if "guardrails.rule_catalogue" in data.unavailable:
        return Raw('<p class="na">Guardrails: not available.</p>')
    return table(
        rule_status(data),
        [
            ("Rule", lambda r: r["title"], ""),
            ("Severity", lambda r: chip(r["severity"], theme.SEVERITY.get(r["severity"], "grey")), ""),
            (
                "Status",
                lambda r: (
                    chip(f"{r['breaches']} breach{'es' if r['breaches'] > 1 else ''}", "red")
                    if r["breaches"]
                    else chip("ok", "green")
                ),
                "",
            ),
            ("Where", lambda r: r["where"] if r["where"] != "All in-scope leads" else "all", ""),
            ("Detail", lambda r: r["detail"], ""),
            ("Corrective action", lambda r: r["action"] if r["breaches"] else "", ""),
        ],
    )


def _cell(r: dict | None, first: bool) -> str:
    """A week's rate (in %) shaded by its ratio to the threshold; a breach in red."""
    cls = ("n grp" if first else "n") + (" zero" if r is not None and not r["events"] else "")
    if r is None:
        return f'<td class="{cls}">·</td>'
    tip = escape(
        f"{int(r['events'])} of {int(r['base'])}; threshold {fmt.pct(r['threshold'], 2)}; p = {r['p_value']:.3g}"
    )
    if r["is_breach"]:
        style = "background:#fecaca;color:#991b1b;font-weight:700"
    else:
        ratio = min(float(r["rate"]) / float(r["threshold"]), 1.0) if r["threshold"] else 0.0
        style = f"background:rgba(245,158,11,{0.45 * ratio:.2f})"
    return f'<td class="{cls}" style="{style}" title="{tip}">{100 * r["rate"]:.2f}</td>'


def rate_grid(data: ReportData) -> str:
    """One table: a row per segment, a column per ISO week under each rate rule."""
    w = data.of("weekly")
    if w.empty:
        return '<p class="na">Weekly rates: not available.</p>'
    weeks = sorted(w["iso_week"].unique())
    cells = {(r["rule_id"], r["segment_key"], r["iso_week"]): r for r in w.to_dict("records")}
    top = "".join(
        f'<th colspan="{len(weeks)}" class="grp">{esc(title)} · ≤ {fmt.pct(_threshold(data, rule), 2)}</th>'
        for rule, title in RATE_RULES
    )
    sub = "".join(
        f'<th class="n{" grp" if i == 0 else ""}">{esc(x[-3:])}</th>' for _ in RATE_RULES for i, x in enumerate(weeks)
    )
    rows = []
    for key in sorted(w["segment_key"].unique(), key=views.segment_order):
        row = "".join(
            _cell(cells.get((rule, key, week)), i == 0) for rule, _ in RATE_RULES for i, week in enumerate(weeks)
        )
        rows.append(f"<tr><td>{esc(fmt.segment_label(key))}</td>{row}</tr>")
    return (
        f'<table class="tbl grid"><thead><tr><th rowspan="2">Segment · rate in %</th>{top}</tr>'
        f"<tr>{sub}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def guardrails(data: ReportData) -> Raw:
    grid = card(
        "Weekly rates per segment",
        rate_grid(data),
        "ISO weeks of the month's cohort; shade = share of "
        "the threshold reached; red = breach (one-sided binomial test); hover a cell for counts",
    )
    kc = data.of("kpi_changes")
    kpi_tbl = table(
        kc.to_dict("records"),
        [
            ("KPI", lambda r: r["kpi"].replace("_", " "), ""),
            ("Segment", lambda r: fmt.segment_label(r["segment_key"]), ""),
            ("This month", lambda r: fmt.num(r["value"], 3 if r["value"] < 10 else 0), "n"),
            ("Last month", lambda r: fmt.num(r["previous_value"], 3 if r["value"] < 10 else 0), "n"),
            ("Change", lambda r: fmt.pct(r["relative_change"]), "n"),
            ("Allowed drop", lambda r: fmt.pct(r["max_drop"], 0), "n"),
            ("Status", lambda r: chip("breach", "red") if r["is_breach"] else chip("ok", "green"), ""),
        ],
        "not available" if "guardrails.kpi_changes" in data.unavailable else "no previous month to compare",
    )
    body = (
        card("Rules this month", _rules_table(data))
        + f'<div style="margin-top:12px">{grid}</div>'
        + f'<div style="margin-top:12px">{card("KPI rules vs last month", kpi_tbl)}</div>'
    )
    return section(
        "guardrails",
        "Guardrails",
        body,
        "",
        "Compliance rules (touch level), weekly rate rules per "
        "segment and KPI alerts relative to the previous month; thresholds from the scoping note.",
    )


def _threshold(data: ReportData, rule: str) -> float:
    return {
        "complaint_rate": data.cfg.complaint_rate_max,
        "unsubscribe_rate": data.cfg.unsubscribe_rate_max,
        "bounce_rate": data.note["thresholds"]["bounce_rate_max"],
    }[rule]


def diagnostic(data: ReportData) -> Raw:
    d = data.of("diagnostic")
    tone = {"answered": "green", "partial": "amber", "needs_human_input": "grey", "not_measurable": "grey"}
    tbl = table(
        d.sort_values("question_no").to_dict("records") if len(d) else [],
        [
            ("#", lambda r: int(r["question_no"]), "n"),
            ("Question", lambda r: r["question"], ""),
            ("Status", lambda r: chip(str(r["status"]).replace("_", " "), tone.get(r["status"], "grey")), ""),
            ("Answer", lambda r: r["answer"], ""),
        ],
        "not available",
    )
    return section(
        "diagnostic",
        "Express diagnostic",
        Raw(card("The method's 10 questions", tbl)),
        "",
        "Answered from the data where possible; what needs a human is said so.",
    )
