-- Every month of fct_lead_cadence records the scoping note its numbers were computed with.
-- dagster: reported as an asset check of fct_lead_cadence (a test reading several models needs one)
{{ config(meta={'dagster': {'ref': {'name': 'fct_lead_cadence'}}}) }}

select distinct lead_cadence.partition_month, lead_cadence.scoping_note_version
from {{ ref('fct_lead_cadence') }} as lead_cadence
left join {{ ref('fct_scoping_note_runs') }} as runs
    on lead_cadence.partition_month = runs.partition_month
    and lead_cadence.scoping_note_version = runs.scoping_note_version
where {{ tested_months('lead_cadence.partition_month') }}
    and runs.partition_month is null
