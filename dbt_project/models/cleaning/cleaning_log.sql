{#-
    One row per raw row excluded by the cleaning (stage `clean`, from staging) and per file line rejected
    at load time (stage `load`, from raw._load_rejects): the rule, the reason, the file and the line.
-#}
with
{% for t in cleaned_tables() %}
excluded_{{ t.table }} as (

    select
        partition_month,
        '{{ t.table }}' as table_name,
        'clean' as stage,
        exclusion_reason,
        exclusion_detail,
        cast({{ t.key }} as varchar) as record_id,
        _source_file,
        _source_row,
        cast(null as bigint) as source_line
    from {{ ref('stg_' ~ t.table) }}
    where not is_kept and {{ partition_predicate() }}

),
{% endfor %}

load_rejects as (

    select
        _partition_month as partition_month,
        source || '__' || entity as table_name,
        'load' as stage,
        'malformed_line' as exclusion_reason,
        error_type || ': ' || error_message as exclusion_detail,
        cast(null as varchar) as record_id,
        _source_file,
        _source_row,
        line as source_line
    from {{ ingestion_log('_load_rejects') }}
    {{ partition_filter() }}

),

unioned as (

    {% for t in cleaned_tables() %}
    select * from excluded_{{ t.table }}
    union all
    {% endfor %}
    select * from load_rejects

),

final as (

    select
        partition_month,
        table_name,
        stage,
        split_part(exclusion_reason, ':', 1) as rule,
        nullif(split_part(exclusion_reason, ':', 2), '') as column_name,
        exclusion_reason,
        exclusion_detail as reason,
        record_id,
        _source_file,
        _source_row,
        -- a CSV record is one line after the header unless a quoted field spans lines
        coalesce(source_line, _source_row + 1) as source_line
    from unioned

)

select * from final
