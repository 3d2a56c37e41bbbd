{#-
    One row per kept lead: the funnel stages it reached (from events: sql_at, opportunities, won deals;
    a later stage implies the earlier ones), the conversion per the scoping note and its opportunities.
-#}
{{ check_definition_vars() }}

with leads as (

    select * from {{ ref('stg_crm__leads') }}
    where is_kept and {{ partition_predicate() }}

),

opportunities as (

    select * from {{ ref('stg_crm__opportunities') }}
    where is_kept and {{ partition_predicate() }}

),

opportunities_per_lead as (

    select
        partition_month,
        lead_id,
        count(*) as opportunities,
        count(*) filter (where stage = 'won') as opportunities_won,
        count(*) filter (where stage = 'lost') as opportunities_lost,
        count(*) filter (where stage = 'open') as opportunities_open,
        min(created_at) as first_opportunity_at,
        min(closed_at) filter (where stage = 'won') as won_at,
        sum(amount) as opportunity_amount,
        sum(amount) filter (where stage = 'open') as pipeline_amount,
        sum(amount) filter (where stage = 'won') as won_amount,
        case when count(distinct currency) > 1 then 'MIXED' else min(currency) end as currency
    from opportunities
    group by partition_month, lead_id

),

reached as (

    select
        leads.partition_month,
        leads.lead_id,
        leads.created_at,
        {{ attribution_window_end('leads.created_at') }} as window_end_at,
        least(leads.sql_at, opps.first_opportunity_at, opps.won_at) as sql_reached_at,
        least(opps.first_opportunity_at, opps.won_at) as opportunity_reached_at,
        opps.won_at as won_reached_at,
        coalesce(opps.opportunities, 0) as opportunities,
        coalesce(opps.opportunities_won, 0) as opportunities_won,
        coalesce(opps.opportunities_lost, 0) as opportunities_lost,
        coalesce(opps.opportunities_open, 0) as opportunities_open,
        opps.opportunity_amount,
        opps.pipeline_amount,
        opps.won_amount,
        opps.currency
    from leads
    left join opportunities_per_lead as opps
        on leads.lead_id = opps.lead_id
        and leads.partition_month = opps.partition_month

),

final as (

    select
        *,
        {{ var('conversion_stage') }}_reached_at as converted_at,
        -- a stage counts when reached before the window ends; one dated before the lead's creation counts
        -- too (the opportunity is kept and flagged in staging: the lead record came after the deal)
        coalesce({{ var('conversion_stage') }}_reached_at < window_end_at, false) as is_converted,
        -- a stage reached after the window is a real outcome outside the audited window, not an error
        coalesce({{ var('conversion_stage') }}_reached_at >= window_end_at, false) as converted_after_window,
        coalesce({{ var('conversion_stage') }}_reached_at < created_at, false) as converted_before_creation,
        case
            when won_reached_at < window_end_at then 'won'
            when opportunity_reached_at < window_end_at then 'opportunity'
            when sql_reached_at < window_end_at then 'SQL'
            else 'MQL'
        end as stage_reached,
        case when won_reached_at is not null then {{ hours_between('created_at', 'won_reached_at') }} / 24.0 end
            as sales_cycle_days
    from reached

)

select * from final
