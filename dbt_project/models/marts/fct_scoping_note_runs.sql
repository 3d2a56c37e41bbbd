{#-
    One row per month built: the scoping note its numbers were computed with (the whole resolved note as
    JSON, its SHA-256 version) and when. Rebuilding a month replaces its row, like every mart.
-#}

with months as (

    select
        partition_month,
        count(*) as leads
    from {{ ref('stg_crm__leads') }}
    where is_kept and {{ partition_predicate() }}
    group by partition_month

),

final as (

    select
        partition_month,
        '{{ var("scoping_note_version") }}' as scoping_note_version,
        {%- set note_json = var('scoping_note_json') %}
        {% if note_json %}'{{ note_json | replace("'", "''") }}'{% else %}cast(null as {{ dbt.type_string() }}){% endif %}
            as scoping_note_json,
        {{ var('attribution_window_days') }} as attribution_window_days,
        '{{ var("conversion_stage") }}' as conversion_stage,
        leads,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as run_started_at,
        '{{ invocation_id }}' as dbt_invocation_id
    from months

)

select * from final
