"""SQL of the touch rules: one violation row per rep touch and broken rule, for one cohort month.

A *rep touch* is a touch of the scoping note (`is_touch`: calls and e-mails by default, meetings when the
note counts them) that the rep initiated (`direction = 'outbound'`): a call the lead placed never breaks
a contact rule. Every touch of the month's cohort is audited, inside the attribution window or not.
Values are bound parameters ($month ...); only fixed identifiers are spliced into the text.
"""

from __future__ import annotations

from typing import Any

from cadence.guardrails.rules import GuardrailConfig
from cadence.segments import DIMS

#: The segment columns a violation carries: the contract's channel / company_size (the Enterprise rule
#: reads the size), the note's attribute dimensions, funnel_phase.
SEGMENT_COLUMNS = ("channel", "company_size", *(d for d in DIMS if d not in ("channel", "company_size")),
                   "funnel_phase")

TOUCH_VIOLATIONS_SQL = f"""
with touches as (

    select
        touches.touch_id,
        touches.partition_month,
        touches.lead_id,
        touches.rep_id,
        touches.touch_channel,
        touches.touch_at,
        touches.touch_local_at,
        touches.touch_local_date,
        touches.touch_local_hour,
        touches.is_after_opt_out,
        touches.is_cool_down_breach,
        touches.previous_touch_at,
        {", ".join(f"touches.{c}" for c in SEGMENT_COLUMNS)},
        leads.account_id,
        leads.is_vip,
        leads.is_dispute,
        leads.opted_out_at,
        leads.max_emails_per_day,
        leads.max_touches_per_day
    from intermediate.int_touches_sequenced as touches
    inner join marts.fct_lead_cadence as leads
        on touches.lead_id = leads.lead_id
        and touches.partition_month = leads.partition_month
    -- the previous cohort's touches count towards an account's 48 h pressure (never reported here)
    where touches.partition_month in ($month, $previous_month)
        and touches.is_touch
        and touches.direction = 'outbound'

),

sequenced as (

    select
        *,
        row_number() over (
            partition by lead_id, touch_local_date order by touch_at, touch_id
        ) as touch_of_day,
        row_number() over (
            partition by lead_id, touch_local_date, touch_channel order by touch_at, touch_id
        ) as channel_touch_of_day,
        first_value(touch_channel) over (partition by lead_id order by touch_at, touch_id) as first_channel,
        count(*) over (
            partition by account_id, company_size
            order by touch_at range between interval 48 hours preceding and current row
        ) as account_touches_48h
    from touches

),

audited as (

    select
        *,
        case when $validated_channel = 'first' then first_channel else $validated_channel end
            as validated_channel
    from sequenced
    where partition_month = $month

),

violations as (

    select 'opt_out_contact' as rule_id, *,
        round(epoch(touch_at - opted_out_at) / 3600, 2) as observed_value, 0 as limit_value,
        'hours after the opt-out' as measure
    from audited where is_after_opt_out
    union all
    select 'cool_down_breach', *,
        round(epoch(touch_at - previous_touch_at) / 86400, 2), $cool_down_days,
        'days since the previous unanswered touch (cool-down length as limit)'
    from audited where is_cool_down_breach
    union all
    select 'email_daily_cap', *, channel_touch_of_day, max_emails_per_day, 'rank of the e-mail in its lead-local day'
    from audited where touch_channel = 'email' and channel_touch_of_day > max_emails_per_day
    union all
    select 'touch_daily_cap', *, touch_of_day, max_touches_per_day, 'rank of the touch in its lead-local day'
    from audited where touch_of_day > max_touches_per_day
    union all
    select 'enterprise_48h_cap', *, account_touches_48h, $enterprise_cap, 'touches of the account in the last 48 h'
    from audited
    where company_size = 'Enterprise' and account_id is not null and account_touches_48h > $enterprise_cap
    union all
    select 'calling_hours', *, touch_local_hour, null, 'lead-local hour of the call'
    from audited
    where touch_channel = 'call' and (touch_local_hour < $hours_start or touch_local_hour >= $hours_end)
    union all
    select 'vip_dispute_channel', *, null, null, 'validated channel: ' || validated_channel
    from audited where (is_vip or is_dispute) and touch_channel <> validated_channel

)

select
    rule_id,
    partition_month,
    strftime(touch_at, '%G-W%V') as iso_week,
    touch_id,
    touch_channel,
    touch_at,
    touch_local_at,
    lead_id,
    rep_id,
    account_id,
    {", ".join(SEGMENT_COLUMNS)},
    is_vip,
    is_dispute,
    cast(observed_value as double) as observed_value,
    cast(limit_value as double) as limit_value,
    measure
from violations
"""

#: One row per lead, rule and month (BI: which leads, how often).
LEAD_VIOLATIONS_SQL = f"""
select
    partition_month,
    rule_id,
    lead_id,
    any_value(account_id) as account_id,
    {", ".join(f"any_value({c}) as {c}" for c in SEGMENT_COLUMNS)},
    count(*) as violations,
    count(distinct rep_id) as reps,
    min(touch_at) as first_violation_at,
    max(touch_at) as last_violation_at
from guardrails.touch_violations
where partition_month = $month
group by partition_month, rule_id, lead_id
"""

#: One row per month, rule, ISO week, segment and rep (BI: per rep, segment, week).
VIOLATION_COUNTS_SQL = f"""
select
    partition_month,
    rule_id,
    iso_week,
    {", ".join(SEGMENT_COLUMNS)},
    rep_id,
    count(*) as violations,
    count(distinct lead_id) as leads
from guardrails.touch_violations
where partition_month = $month
group by all
"""


def touch_params(config: GuardrailConfig, month: str, previous_month: str) -> dict[str, Any]:
    """The bound parameters of TOUCH_VIOLATIONS_SQL."""
    start, end = config.calling_hours
    return {
        "month": month,
        "previous_month": previous_month,
        "validated_channel": config.guardrails["validated_channel"],
        "cool_down_days": config.thresholds["cool_down_days"],
        "enterprise_cap": config.guardrails["enterprise_max_touches_per_48h"],
        "hours_start": start,
        "hours_end": end,
    }
