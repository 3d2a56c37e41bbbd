"""Meta and glossary: where the numbers come from (extraction date, attribution window, scoping note
version and definitions, owners), how to read the pictures, and every KPI with its owner, formula, scope."""

from __future__ import annotations

from cadence.reports import fmt
from cadence.reports.gather import ReportData
from cadence.reports.html import Raw, card, dl, esc, section, table

GLOSSARY = (
    ("Conversion rate (CR)", "Conversions / leads in the attribution window; 95 % Wilson interval."),
    ("Contacts per lead", "All touches (calls, e-mails, ... as the note counts them) per lead in the window."),
    ("Time to first contact (TTF)", "Hours between lead creation and the first effective contact."),
    ("r", "Pearson correlation of conversion (0/1) with touches, in [-1, 1]."),
    ("Slope m, intercept b", "Least squares Y ≈ m·X + b: m = CR points gained per extra touch."),
    ("R²", "Share of the variance of conversion explained by touches (small with a 0/1 outcome)."),
    (
        "Quadrants",
        "Against the means X̄, Ȳ: Q1 high/high (target), Q2 low X/high Y, Q3 low/low "
        "(improvement priority), Q4 high X/low Y. With Y = 0/1, Q1 = converted leads above X̄.",
    ),
    (
        "Traffic light",
        "Green: r ≥ {r_green} and ΔCR ≥ +{dcr} points, complaints stable → roll out. Amber: r between "
        "{r_amber} and {r_green}, or heterogeneous gains → re-segment, adjust. Red: r below {r_amber} or "
        "complaints rising → stop, revise content and TTF, test again. Grey: too few leads.",
    ),
)


def scope_statement(note) -> str:
    """'segments channel (inbound, outbound, partner, other) x company size (...)' from the note."""
    seg = note["segments"] if "segments" in note.values else {"dimensions": ["channel", "company_size"], "values": {}}
    parts = []
    for d in seg["dimensions"]:
        vals = {"channel": note["scope"]["channels"], "company_size": note["scope"]["company_sizes"]}.get(
            d, seg["values"].get(d, "any"))
        parts.append(f"{d.replace('_', ' ')} ({'every value' if vals == 'any' else ', '.join(vals)})")
    return " × ".join(parts)


def _kpis(data: ReportData) -> list[dict]:
    owner = data.note["owners"]["responsible"]
    scope = (
        f"in-scope leads of {data.month} ({scope_statement(data.note)}), "
        f"{data.note['attribution_window_days']}-day window"
    )
    pop = f"{data.cfg.population} population of the same leads"
    rows = [
        ("Median TTF", "median(ttf_hours) of contacted leads", scope),
        ("Median contacts / lead (IQR)", "median and p75 − p25 of touches per lead", scope),
        ("Conversion rate", "conversions / leads", scope),
        ("r, slope, R²", f"least squares of converted on {data.cfg.x_measure}", pop),
        ("% of leads in Q1", "leads with X ≥ X̄ and converted / leads", pop),
        ("Complaint rate", "complaints / delivered e-mails", scope),
    ]
    return [{"kpi": k, "formula": f, "scope": s, "owner": owner} for k, f, s in rows]


def how_to_read(data: ReportData) -> str:
    return (
        "<p>The method plots contact frequency (X) against conversion (Y). Conversion is a yes/no per lead, so "
        "each dot is one lead at Y = 0 % or 100 %, spread slightly so dots stay visible. The least-squares line "
        "is the lead-level regression (its height is the expected CR at that many touches); it crosses the mean "
        "lines at (X̄, Ȳ). Shares in the corners are the leads of each quadrant. TTF is drawn on a log axis and "
        "its line is fitted on log10(TTF), so its X̄ is the geometric mean; leads never contacted are left out. "
        "The curve shows CR per touch count with its 95 % interval (dot area ∝ leads) and the shape the "
        "analytics chose (linear, plateau, S, U) when a segment has enough leads.</p>"
    )


def meta(data: ReportData) -> Raw:
    n, runs, m = data.note, data.meta.get("runs", {}), data.meta
    as_of = m.get("data_as_of")
    facts = [
        ("Month audited", fmt.month_label(data.month)),
        ("Extraction date (data as of)", f"{as_of:%Y-%m-%d %H:%M} UTC" if as_of else "not available"),
        ("Built", f"{runs['built_at']:%Y-%m-%d %H:%M} UTC" if runs.get("built_at") else "not available"),
        ("Attribution window", f"{n['attribution_window_days']} days from lead creation"),
        ("Conversion", f"reaching the '{n['conversion']}' stage within the window"),
        (
            "Touches counted",
            ", ".join(n["touches"]["channels"]) + (" + inbound calls" if n["touches"]["inbound_calls"] else ""),
        ),
        ("Effective contact", "; ".join(f"{k}: {v}" for k, v in n["contact"].items())),
        ("Response", "; ".join(f"{k}: {v}" for k, v in n["response"].items())),
        (
            "Leads",
            f"{fmt.num(m.get('leads_kept'))} kept, {fmt.num(m.get('leads_in_scope'))} in scope, "
            f"{fmt.num(m.get('windows_incomplete'))} with an incomplete window",
        ),
        ("Scoping note version", runs.get("version") or data.cfg.version),
        ("Cycle · decision expected", f"{n['cycle']} · {n['decision']}"),
        ("Responsible · accountable", f"{n['owners']['responsible']} · {n['owners']['accountable']}"),
    ]
    missing = "".join(f"<li>{esc(t)}: {esc(why)}</li>" for t, why in data.unavailable.items())
    gaps = f'<p class="sub">Not available this run:</p><ul class="sub">{missing}</ul>' if missing else ""
    cfg = data.cfg
    values = {"r_green": cfg.r_green, "r_amber": cfg.r_amber, "dcr": cfg.delta_cr_points_green}
    gloss = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v.format(**values))}</dd>" for k, v in GLOSSARY)
    kpis = table(
        _kpis(data),
        [
            ("KPI", lambda r: r["kpi"], ""),
            ("Formula", lambda r: r["formula"], ""),
            ("Scope", lambda r: r["scope"], ""),
            ("Owner", lambda r: r["owner"], ""),
        ],
    )
    body = (
        f'<div class="row c2">{card("This month", dl(facts) + gaps, cls="seg-meta")}'
        f"{card('Definitions', f'<dl class=glossary>{gloss}</dl>')}</div>"
        '<div class="row c2" style="margin-top:12px">'
        f"{card('How to read the pictures', how_to_read(data), ident='how-to-read')}"
        f"{card('KPI catalogue', kpis)}</div>"
    )
    return section("meta", "Meta and glossary", Raw(body))
