-- Every segment level partitions the month's in-scope leads: its leads and conversions add up to 'all',
-- and 'all' equals the in-scope rows of fct_lead_cadence.
-- dagster: reported as an asset check of kpi_segments_monthly (a test reading several models needs one)
{{ config(meta={'dagster': {'ref': {'name': 'kpi_segments_monthly'}}}) }}

with segments as (

    select * from {{ ref('kpi_segments_monthly') }}
    where {{ tested_months() }}

),

per_level as (

    select partition_month, segment_level, sum(leads) as leads, sum(conversions) as conversions
    from segments
    group by partition_month, segment_level

),

facts as (

    select partition_month, count(*) as leads, count(*) filter (where is_converted) as conversions
    from {{ ref('fct_lead_cadence') }}
    where is_in_scope and {{ tested_months() }}
    group by partition_month

)

select per_level.*, facts.leads as fact_leads, facts.conversions as fact_conversions
from per_level
left join facts
    on per_level.partition_month = facts.partition_month
where facts.leads is null or per_level.leads <> facts.leads or per_level.conversions <> facts.conversions
