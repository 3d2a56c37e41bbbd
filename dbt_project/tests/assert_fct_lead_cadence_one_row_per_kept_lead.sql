-- Fan-out guard: fct_lead_cadence has exactly one row per kept staging lead of the month, and no other.
-- dagster: reported as an asset check of fct_lead_cadence (a test reading several models needs one)
{{ config(meta={'dagster': {'ref': {'name': 'fct_lead_cadence'}}}) }}

with kept_leads as (

    select partition_month, lead_id from {{ ref('stg_crm__leads') }}
    where is_kept and {{ tested_months() }}

),

fact_rows as (

    select partition_month, lead_id, count(*) as rows_per_lead
    from {{ ref('fct_lead_cadence') }}
    where {{ tested_months() }}
    group by partition_month, lead_id

)

select
    coalesce(kept_leads.partition_month, fact_rows.partition_month) as partition_month,
    coalesce(kept_leads.lead_id, fact_rows.lead_id) as lead_id,
    coalesce(fact_rows.rows_per_lead, 0) as rows_per_lead,
    kept_leads.lead_id is not null as is_kept_lead
from kept_leads
full outer join fact_rows
    on kept_leads.partition_month = fact_rows.partition_month
    and kept_leads.lead_id = fact_rows.lead_id
where kept_leads.lead_id is null or fact_rows.lead_id is null or fact_rows.rows_per_lead <> 1
