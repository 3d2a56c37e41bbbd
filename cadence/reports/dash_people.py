"""Level 3: reps against what their segment mix predicts (coaching quadrants), the 10 recurring Q3
accounts (coaching priority) and 10 Q1 accounts (models to imitate), the same lists for reps, and the
rep table with the month-over-month change."""

from __future__ import annotations

from cadence.reports import charts, fmt
from cadence.reports.gather import ReportData
from cadence.reports.html import Raw, card, section, table


def _list(data: ReportData, unit: str, name: str, wide: bool = True) -> Raw:
    lists = data.of("lists")
    if "analytics.quadrant_lists" in data.unavailable:
        return Raw('<p class="na">not available</p>')
    rows = (
        lists[(lists["unit_type"] == unit) & (lists["list_name"] == name)].sort_values("rank") if len(lists) else lists
    )
    quadrant = "Q3" if name == "coaching_priority" else "Q1"
    columns = [
        ("#", lambda r: int(r["rank"]), "n"),
        (unit.capitalize(), lambda r: r["unit_id"], ""),
        (f"Months in {quadrant}", lambda r: f"{int(r['months_in_quadrant'])}/{int(r['months_observed'])}", "n"),
        ("Touches vs exp.", lambda r: fmt.signed(r["mean_dx"], 1), "n"),
        ("CR vs exp.", lambda r: fmt.points(100 * r["mean_dy"]), "n"),
        ("Leads", lambda r: fmt.num(r["leads"]), "n"),
    ]
    if not wide:
        columns = [columns[0], columns[1], (quadrant, columns[2][1], "n"), columns[4], columns[5]]
    cfg = data.cfg
    empty = (f"no {unit} in {quadrant} for {cfg.list_min_months}+ months with {cfg.list_min_leads}+ leads "
             f"(over the last {cfg.quadrant_lookback_months} months)")
    return table(rows.head(10).to_dict("records"), columns, empty)


def _rep_chart(data: ReportData) -> str:
    units = data.of("units")
    reps = units[units["unit_type"] == "rep"] if len(units) else units
    if data.no_touches:  # every rep at 0 touches vs 0 expected: the quadrants would sort on CR alone
        return f'<p class="na">Rep quadrants: {fmt.NO_TOUCHES}.</p>'
    if reps.empty:
        return '<p class="na">Rep quadrants: not available.</p>'
    rows = [
        {"id": r.unit_id, "dx": r.dx, "dy": r.dy, "leads": int(r.leads), "quadrant": r.quadrant}
        for r in reps.itertuples()
    ]
    return charts.unit_chart(rows, "reps-quadrants", "Reps against their segment mix", 640, 340)


def _rep_table(data: ReportData) -> Raw:
    reps, units = data.of("reps"), data.of("units")
    if reps.empty:
        return Raw('<p class="na">Rep KPIs: not available.</p>')
    prev = data.of("reps", data.previous).set_index("rep_id")["conversion_rate"].to_dict()
    quad = units[units["unit_type"] == "rep"].set_index("unit_id")["quadrant"].to_dict() if len(units) else {}
    rows = reps.sort_values(["team", "rep_id"]).to_dict("records")
    return table(
        rows,
        [
            ("Rep", lambda r: r["rep_id"], ""),
            ("Team", lambda r: r["team"], ""),
            ("Leads", lambda r: fmt.num(r["leads"]), "n"),
            ("CR", lambda r: fmt.pct(r["conversion_rate"]), "n"),
            (
                "Δ CR",
                lambda r: (
                    fmt.points(100 * (r["conversion_rate"] - prev[r["rep_id"]])) if r["rep_id"] in prev else fmt.DASH
                ),
                "n",
            ),
            ("Median contacts", lambda r: fmt.num(r["touches_per_lead_median"], 1), "n"),
            ("Median TTF", lambda r: fmt.hours(r["ttf_median_hours"]), "n"),
            ("Within TTF target", lambda r: fmt.pct(r["share_within_ttf_target"], 0), "n"),
            ("Reply rate", lambda r: fmt.pct(r["reply_rate"]), "n"),
            ("Complaints", lambda r: fmt.pct(r["complaint_rate"], 2), "n"),
            ("Quadrant", lambda r: quad.get(r["rep_id"], fmt.DASH), "n"),
        ],
    )


def level3(data: ReportData) -> Raw:
    q3 = card(
        "10 recurring Q3 accounts · coaching priority",
        _list(data, "account", "coaching_priority"),
        "low touches and low CR for their segment, most months",
    )
    q1 = card(
        "10 Q1 accounts · models to imitate",
        _list(data, "account", "model_to_imitate"),
        "high touches and high CR for their segment, most months",
    )
    chart = card(
        "Reps against their segment mix",
        _rep_chart(data),
        "this month; dot area ∝ leads; red Q3, green Q1; hover a dot for its rep",
    )
    coach = card("Reps to coach (Q3)", _list(data, "rep", "coaching_priority", False))
    imitate = card("Reps to imitate (Q1)", _list(data, "rep", "model_to_imitate", False))
    reps = card("All reps", _rep_table(data), "owner rep of in-scope leads")
    body = (
        f'<div class="row c2">{q3}{q1}</div><div class="row c2" style="margin-top:12px">{chart}'
        f'<div class="row c2" style="gap:12px">{coach}{imitate}</div></div>'
        f'<div style="margin-top:12px">{reps}</div>'
    )
    sub = (
        "Units are compared with what their segment mix predicts (touches and CR vs expected), over the "
        f"last {data.cfg.quadrant_lookback_months} months; reps need {data.cfg.rep_min_leads} leads, "
        f"accounts {data.cfg.account_min_leads}."
    )
    return section("level3", "Reps and accounts", body, "Level 3", sub)
