{#-
    One row per month per segment per funnel stage (MQL -> SQL -> opportunity -> won): leads that
    reached the stage within the attribution window, and the conversion from the previous stage.
-#}
{%- set stages = [('MQL', 1, 'true'), ('SQL', 2, "stage_reached in ('SQL', 'opportunity', 'won')"),
    ('opportunity', 3, "stage_reached in ('opportunity', 'won')"), ('won', 4, "stage_reached = 'won'")] -%}

with lead_cadence as (

    select * from {{ ref('fct_lead_cadence') }}
    where is_in_scope and {{ partition_predicate() }}

),

reached as (

    select
        partition_month,
        {{ segment_columns() }}
        {%- for name, order, condition in stages %}
        count(*) filter (where {{ condition }}) as reached_{{ order }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from lead_cadence
    group by {{ segment_grouping_sets() }}

),

unpivoted as (

    {%- for name, order, condition in stages %}
    select
        partition_month, segment_level, segment_key, {{ segment_cube_columns() | join(', ') }},
        '{{ name }}' as funnel_stage,
        {{ order }} as stage_order,
        reached_{{ order }} as leads_reached,
        reached_{{ [order - 1, 1] | max }} as leads_previous_stage,
        reached_1 as leads
    from reached
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        {{ dbt.concat(['partition_month', "'|'", 'segment_key', "'|'", 'funnel_stage']) }} as funnel_stage_id,
        *,
        {{ ratio('leads_reached', 'leads_previous_stage') }} as conversion_from_previous_stage,
        {{ ratio('leads_reached', 'leads') }} as conversion_from_first_stage,
        '{{ var("scoping_note_version") }}' as scoping_note_version
    from unpivoted

)

select * from final
