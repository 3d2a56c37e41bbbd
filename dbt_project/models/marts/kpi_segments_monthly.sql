{#- One row per month per segment (segment_level × segment_key, "all" included): the audit's KPIs. -#}

with lead_cadence as (

    select * from {{ ref('fct_lead_cadence') }}
    where is_in_scope and {{ partition_predicate() }}

),

aggregated as (

    select
        partition_month,
        {{ segment_columns() }}
        {{ lead_kpi_aggregates() }}
    from lead_cadence
    group by {{ segment_grouping_sets() }}

),

final as (

    select
        {{ dbt.concat(['partition_month', "'|'", 'segment_key']) }} as segment_kpi_id,
        *,
        {{ lead_kpi_ratios() }},
        '{{ var("scoping_note_version") }}' as scoping_note_version
    from aggregated

)

select * from final
