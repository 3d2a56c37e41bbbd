{#-
    One row per kept raw row that carries a flag: kept because it records something real, with what was
    repaired or emptied (a wall clock read in the lead's zone, a negative duration, an attribute dated after
    the export, an opportunity before its lead). The counterpart of cleaning_log, which lists exclusions.
-#}
with
{% for t in cleaned_tables() %}
flagged_{{ t.table }} as (

    select
        partition_month,
        '{{ t.table }}' as table_name,
        flags,
        flag_detail,
        cast({{ t.key }} as {{ dbt.type_string() }}) as record_id,
        _source_file,
        _source_row
    from {{ ref('stg_' ~ t.table) }}
    where is_kept and flags is not null and {{ partition_predicate() }}

),
{% endfor %}

unioned as (

    {% for t in cleaned_tables() %}
    select * from flagged_{{ t.table }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        partition_month,
        table_name,
        -- the first flag's code and column; `flags` lists them all
        split_part(split_part(flags, ';', 1), ':', 1) as flag,
        nullif(split_part(split_part(flags, ';', 1), ':', 2), '') as column_name,
        flags,
        flag_detail as detail,
        record_id,
        _source_file,
        _source_row,
        _source_row + 1 as source_line
    from unioned

)

select * from final
