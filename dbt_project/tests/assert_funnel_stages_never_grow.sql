-- A funnel never widens: each stage holds at most the leads of the previous one.
select funnel_stage_id, leads_reached, leads_previous_stage
from {{ ref('kpi_funnel_stages_monthly') }}
where {{ tested_months() }}
    and leads_reached > leads_previous_stage
