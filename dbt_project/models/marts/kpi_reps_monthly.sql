{#- One row per month per owner rep (the coaching view): the audit's KPIs on the rep's leads. -#}

with lead_cadence as (

    select * from {{ ref('fct_lead_cadence') }}
    where is_in_scope and {{ partition_predicate() }}

),

aggregated as (

    select
        partition_month,
        rep_id,
        min(team) as team,
        count(distinct team) as teams,
        {{ lead_kpi_aggregates() }}
    from lead_cadence
    group by partition_month, rep_id

),

final as (

    select
        {{ dbt.concat(['partition_month', "'|'", 'rep_id']) }} as rep_kpi_id,
        *,
        {{ lead_kpi_ratios() }},
        '{{ var("scoping_note_version") }}' as scoping_note_version
    from aggregated

)

select * from final
