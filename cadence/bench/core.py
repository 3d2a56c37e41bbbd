"""The core audit numbers, three ways, for the benchmark: from the pipeline's mart, from a plain DuckDB
script over the landing files, and from a plain pandas script over the same files.

Core numbers per cell (channel x company_size x funnel_phase): leads, conversions, CR, mean and median
touches per lead, median TTF (hours, contacted leads), Pearson r, slope, intercept and R^2 of conversion
on touches, and quadrant counts against the cell's means (Q1 high X & converted, Q2 low X & converted,
Q3 low X & not converted, Q4 high X & not converted; "high X" = above the cell mean).
Definitions follow the default scoping note: a touch is a call or a sent e-mail in [created, created +
30 d); an effective contact is a call or a delivered e-mail; conversion = an opportunity (or a won deal)
created within the window.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

CELL = ["channel", "company_size", "funnel_phase"]
NUMBERS = [
    "leads",
    "conversions",
    "cr",
    "touches_mean",
    "touches_median",
    "ttf_median_hours",
    "r",
    "slope",
    "intercept",
    "r2",
    "q1",
    "q2",
    "q3",
    "q4",
]

_PER_CELL_SQL = """
select channel, company_size, funnel_phase,
    count(*) as leads,
    sum(y) as conversions,
    avg(y) as cr,
    avg(x) as touches_mean,
    median(x) as touches_median,
    median(ttf) as ttf_median_hours,
    corr(y, x) as r,
    regr_slope(y, x) as slope,
    regr_intercept(y, x) as intercept,
    regr_r2(y, x) as r2,
    count(*) filter (where x > x_mean and y = 1) as q1,
    count(*) filter (where x <= x_mean and y = 1) as q2,
    count(*) filter (where x <= x_mean and y = 0) as q3,
    count(*) filter (where x > x_mean and y = 0) as q4
from (select *, avg(x) over (partition by channel, company_size, funnel_phase) as x_mean from per_lead)
group by all order by all
"""


def from_pipeline(con: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """The pipeline's numbers: its lead-level mart, aggregated."""
    con.execute(
        "create or replace temp table per_lead as select channel, company_size, funnel_phase, "
        "touches_in_window::double as x, is_converted::int as y, ttf_hours as ttf "
        "from marts.fct_lead_cadence where partition_month = ?",
        [month],
    )
    return con.execute(_PER_CELL_SQL).df()


def plain_duckdb(landing: Path, month: str, con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """What a DuckDB user would write straight over the files: the floor."""
    con = con or duckdb.connect()
    f = {
        k: str(landing / v.format(m=month))
        for k, v in {
            "leads": "crm/{m}/leads.csv",
            "opps": "crm/{m}/opportunities.csv",
            "calls": "voip/{m}/calls.csv",
            "emails": "emailing/{m}/email_events.csv",
        }.items()
    }
    con.execute(f"""
    create or replace temp table per_lead as
    with leads as (
        select lead_id, channel, company_size, funnel_phase, epoch(created_at::timestamptz) as created
        from read_csv('{f["leads"]}', all_varchar=true)
    ),
    emails as (select * from read_csv('{f["emails"]}', all_varchar=true)),
    events as (  -- kind: call (touch + contact), sent (touch), delivered (contact)
        select lead_id, epoch(started_at::timestamptz) as t, 'call' as kind
        from read_csv('{f["calls"]}', all_varchar=true)
        union all
        select any_value(lead_id), min(epoch(event_at::timestamptz)), 'sent'
        from emails where event_type = 'sent' group by message_id
        union all
        select lead_id, epoch(event_at::timestamptz), 'delivered' from emails where event_type = 'delivered'
    ),
    per_lead_events as (
        select lead_id,
            count(*) filter (where kind in ('call', 'sent')) as x,
            (min(t) filter (where kind in ('call', 'delivered')) - any_value(created)) / 3600.0 as ttf
        from events join leads using (lead_id)
        where t >= created and t < created + 30 * 86400
        group by lead_id
    ),
    reached as (
        select lead_id, min(least(epoch(created_at::timestamptz),
            coalesce(case when stage = 'won' then epoch(closed_at::timestamptz) end, 'infinity'::double))) as t
        from read_csv('{f["opps"]}', all_varchar=true) group by lead_id
    )
    select channel, company_size, funnel_phase, coalesce(x, 0)::double as x,
        coalesce(reached.t < created + 30 * 86400, false)::int as y, ttf
    from leads left join per_lead_events using (lead_id) left join reached using (lead_id)
    """)
    return con.execute(_PER_CELL_SQL).df()


def plain_pandas(landing: Path, month: str) -> pd.DataFrame:
    """What an analyst would otherwise write in pandas over the same files."""

    def read(rel: str, cols: list[str]) -> pd.DataFrame:
        return pd.read_csv(landing / rel.format(m=month), usecols=cols, dtype=str, engine="pyarrow")

    def ts(s: pd.Series) -> pd.Series:
        return (pd.to_datetime(s, utc=True, format="ISO8601") - pd.Timestamp(0, tz="UTC")).dt.total_seconds()

    leads = read("crm/{m}/leads.csv", ["lead_id", "created_at", *CELL])
    leads["created"] = ts(leads.created_at)
    calls = read("voip/{m}/calls.csv", ["lead_id", "started_at"])
    emails = read("emailing/{m}/email_events.csv", ["message_id", "lead_id", "event_type", "event_at"])
    emails["t"] = ts(emails.event_at)
    sent = emails[emails.event_type == "sent"].groupby("message_id").agg(lead_id=("lead_id", "first"), t=("t", "min"))
    events = pd.concat(
        [
            pd.DataFrame({"lead_id": calls.lead_id, "t": ts(calls.started_at), "touch": True, "contact": True}),
            pd.DataFrame({"lead_id": sent.lead_id, "t": sent.t, "touch": True, "contact": False}),
            emails.loc[emails.event_type == "delivered", ["lead_id", "t"]].assign(touch=False, contact=True),
        ],
        ignore_index=True,
    ).merge(leads[["lead_id", "created"]], on="lead_id")
    events = events[(events.t >= events.created) & (events.t < events.created + 30 * 86400)]
    x = events[events.touch].groupby("lead_id").size()
    contacts = events[events.contact]
    ttf = (contacts.groupby("lead_id").t.min() - contacts.groupby("lead_id").created.first()) / 3600.0
    opps = read("crm/{m}/opportunities.csv", ["lead_id", "created_at", "stage", "closed_at"])
    won_at = ts(opps.closed_at).where(opps.stage == "won")
    opps["reached"] = np.fmin(ts(opps.created_at), won_at)
    reached = opps.groupby("lead_id").reached.min()
    per_lead = leads.set_index("lead_id")
    per_lead["x"] = x.reindex(per_lead.index, fill_value=0).astype(float)
    per_lead["y"] = (reached.reindex(per_lead.index) < per_lead.created + 30 * 86400).astype(int)
    per_lead["ttf"] = ttf.reindex(per_lead.index)
    rows = []
    for key, g in per_lead.groupby(CELL, sort=True):
        xs, ys = g.x.to_numpy(), g.y.to_numpy(float)
        high, conv = xs > xs.mean(), ys == 1
        r = np.corrcoef(xs, ys)[0, 1] if xs.std() > 0 and ys.std() > 0 else np.nan
        slope = np.cov(xs, ys, bias=True)[0, 1] / xs.var() if xs.var() > 0 else np.nan
        rows.append(
            dict(
                zip(CELL, key, strict=True),
                leads=len(g),
                conversions=int(ys.sum()),
                cr=ys.mean(),
                touches_mean=xs.mean(),
                touches_median=float(np.median(xs)),
                ttf_median_hours=g.ttf.median(),
                r=r,
                slope=slope,
                intercept=ys.mean() - slope * xs.mean(),
                # SQL's regr_r2: 1 when y is constant (and x is not), NULL when x is constant
                r2=(np.nan if xs.var() == 0 else 1.0 if ys.var() == 0 else r * r),
                q1=int((high & conv).sum()),
                q2=int((~high & conv).sum()),
                q3=int((~high & ~conv).sum()),
                q4=int((high & ~conv).sum()),
            )
        )
    return pd.DataFrame(rows)


def disagreements(a: pd.DataFrame, b: pd.DataFrame, rel: float = 1e-6) -> list[str]:
    """Cells and numbers where two results differ (NaN equals NaN); empty when they agree."""
    merged = a.merge(b, on=CELL, how="outer", suffixes=("_a", "_b"), indicator=True)
    problems = [
        f"{tuple(r[c] for c in CELL)} only in {r['_merge']}" for _, r in merged.iterrows() if r["_merge"] != "both"
    ]
    for num in NUMBERS:
        va, vb = merged[f"{num}_a"].astype(float), merged[f"{num}_b"].astype(float)
        bad = ~(np.isclose(va, vb, rtol=rel, atol=1e-9) | (va.isna() & vb.isna()))
        for _, r in merged[bad].iterrows():
            problems.append(f"{tuple(r[c] for c in CELL)} {num}: {r[f'{num}_a']} vs {r[f'{num}_b']}")
    return problems
