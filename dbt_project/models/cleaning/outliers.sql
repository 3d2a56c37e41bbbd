{#-
    One row per outlier of the month, classified by the method's protocol: `error` (an entry error the
    cleaning excluded: a call burst), `risk` (an extreme cadence on a lead that opted
    out, complained, unsubscribed, is disputed or VIP: add to the exclusion list), `opportunity` (an
    extreme cadence that converted: document the tactic), `exceptional` (extreme but real: kept, flagged).
    score = robust z-score (x - median) / (1.4826 MAD) of the metric within its population (leads of the
    same channel and size for touches); an outlier has score >= var outlier_min_score.
-#}
with
leads as (

    select * from {{ ref('stg_crm__leads') }}
    where is_kept and {{ partition_predicate() }}

),

calls as (

    select * from {{ ref('stg_voip__calls') }}
    where {{ partition_predicate() }}

),

emails as (

    select * from {{ ref('stg_emailing__email_events') }}
    where is_kept and {{ partition_predicate() }}

),

opportunities as (

    select distinct partition_month, lead_id from {{ ref('stg_crm__opportunities') }}
    where is_kept and {{ partition_predicate() }}

),

burst_days as (

    select partition_month, lead_id, count(*) as value, min(exclusion_detail) as detail
    from calls
    where exclusion_reason = 'call_burst'
    group by 1, 2

),

lead_days as (

    -- calls per lead and local day over every readable call, the population the bursts stand out of
    select calls.partition_month, calls.lead_id, count(*) as value
    from calls
    inner join leads on calls.partition_month = leads.partition_month and calls.lead_id = leads.lead_id
    where calls.started_at is not null
    group by calls.partition_month, calls.lead_id, cast({{ to_local_time('calls.started_at', 'leads.lead_timezone') }} as date)

),

durations as (

    -- a negative duration is emptied in staging (the call is kept, flagged): it is no outlier of this
    select partition_month, call_id, lead_id, duration_seconds as value
    from calls
    where outcome = 'connected' and duration_seconds is not null

),

touches as (

    select leads.partition_month, leads.lead_id, leads.channel || '/' || leads.company_size as segment,
        count(distinct touched.touch_id) as value,
        leads.opted_out_at is not null or leads.is_dispute or leads.is_vip
            or bool_or(emails.event_type in ('complained', 'unsubscribed')) as is_risk,
        bool_or(opportunities.lead_id is not null) as is_converted
    from leads
    left join (
        select partition_month, lead_id, 'call:' || call_id as touch_id from calls where is_kept
        union all
        select partition_month, lead_id, 'email:' || event_id from emails where event_type = 'sent'
    ) as touched on leads.partition_month = touched.partition_month and leads.lead_id = touched.lead_id
    left join emails on leads.partition_month = emails.partition_month and leads.lead_id = emails.lead_id
    left join opportunities
        on leads.partition_month = opportunities.partition_month and leads.lead_id = opportunities.lead_id
    group by leads.partition_month, leads.lead_id, leads.channel, leads.company_size, leads.opted_out_at,
        leads.is_dispute, leads.is_vip

),

candidates as (

    select partition_month, 'lead' as entity_type, lead_id as entity_id, lead_id, 'touches_per_lead' as metric,
        segment as population, value,
        case when is_risk then 'risk' when is_converted then 'opportunity' else 'exceptional' end as outlier_class,
        cast(null as varchar) as detail
    from touches
    union all
    select partition_month, 'lead', lead_id, lead_id, 'calls_per_lead_local_day', 'all leads', value, 'error', detail
    from burst_days


),

populations as (

    select partition_month, 'touches_per_lead' as metric, segment as population, value from touches
    union all
    select partition_month, 'calls_per_lead_local_day', 'all leads', value from lead_days
    union all
    select partition_month, 'duration_seconds', 'connected calls', value from durations

),

medians as (

    select partition_month, metric, population, median(value) as typical_value
    from populations
    group by 1, 2, 3

),

spreads as (

    select medians.partition_month, medians.metric, medians.population, medians.typical_value,
        greatest(1.4826 * median(abs(populations.value - medians.typical_value)), 1) as robust_sd
    from medians
    inner join populations using (partition_month, metric, population)
    group by 1, 2, 3, 4

),

scored as (

    select candidates.*, spreads.typical_value,
        round(abs(candidates.value - spreads.typical_value) / spreads.robust_sd, 2) as score
    from candidates
    inner join spreads using (partition_month, metric, population)

),

final as (

    select
        partition_month,
        cast(row_number() over (partition by partition_month order by score desc, entity_id) as integer)
            as outlier_rank,
        outlier_class,
        entity_type,
        entity_id,
        lead_id,
        metric,
        population,
        value,
        typical_value,
        score,
        outlier_class <> 'error' as is_kept,
        case outlier_class
            when 'error' then 'excluded and logged in cleaning_log: ' || detail
            when 'risk' then 'kept; compliance risk: add to the exclusion list'
            when 'opportunity' then 'kept; converted: document the tactic'
            else 'kept and flagged: extreme but real'
        end as action
    from scored
    where score >= {{ var('outlier_min_score', 5) }}

)

select * from final
