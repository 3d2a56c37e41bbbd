{#-
    One row per raw table per month: the exact row accounting of ingestion and cleaning.
    file lines = loaded + rejected at load; raw = staged = kept + excluded; every exclusion and every
    rejected line is in cleaning_log. `is_balanced` is false as soon as one equation fails.
-#}
with
loads as (

    select
        _partition_month as partition_month,
        source || '__' || entity as table_name,
        count(*) as files,
        sum(rows_loaded) as rows_loaded,
        sum(rows_rejected) as rows_rejected
    from {{ ingestion_log('_loads') }}
    {{ partition_filter() }}
    group by 1, 2

),

counted as (

    {% for t in cleaned_tables() %}
    select
        raw_rows.partition_month,
        '{{ t.table }}' as table_name,
        raw_rows.raw_rows,
        staged.staged_rows,
        staged.kept_rows,
        staged.excluded_rows,
        staged.flagged_rows
    from (
        select _partition_month as partition_month, count(*) as raw_rows
        from {{ source('raw', t.table) }}
        {{ partition_filter() }}
        group by 1
    ) as raw_rows
    left join (
        select
            partition_month,
            count(*) as staged_rows,
            count(*) filter (where is_kept) as kept_rows,
            count(*) filter (where not is_kept) as excluded_rows,
            count(*) filter (where is_kept and flags is not null) as flagged_rows
        from {{ ref('stg_' ~ t.table) }}
        where {{ partition_predicate() }}
        group by 1
    ) as staged
        on raw_rows.partition_month = staged.partition_month
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

logged as (

    select
        partition_month,
        table_name,
        count(*) filter (where stage = 'clean') as logged_exclusions,
        count(*) filter (where stage = 'load') as logged_rejects
    from {{ ref('cleaning_log') }}
    where {{ partition_predicate() }}
    group by 1, 2

),

provided as (

    select
        _partition_month as partition_month,
        source || '__' || entity as table_name,
        bool_or(is_provided) as is_provided,
        max(detail) as provided_detail
    from {{ ingestion_log('_provided') }}
    {{ partition_filter() }}
    group by 1, 2

),

logged_flags as (

    select partition_month, table_name, count(*) as logged_flags
    from {{ ref('cleaning_flags') }}
    where {{ partition_predicate() }}
    group by 1, 2

),

spine as (

    select months.partition_month, tables.table_name
    from (select distinct partition_month from loads union select distinct partition_month from counted) as months
    cross join (
        {% for t in cleaned_tables() %}select '{{ t.table }}' as table_name{% if not loop.last %} union all {% endif %}{% endfor %}
    ) as tables

),

final as (

    select
        spine.partition_month,
        spine.table_name,
        coalesce(loads.files, 0) as files,
        coalesce(loads.rows_loaded, 0) + coalesce(loads.rows_rejected, 0) as file_lines,
        coalesce(loads.rows_loaded, 0) as rows_loaded,
        coalesce(loads.rows_rejected, 0) as rows_rejected,
        coalesce(counted.raw_rows, 0) as raw_rows,
        coalesce(counted.staged_rows, 0) as staged_rows,
        coalesce(counted.kept_rows, 0) as kept_rows,
        coalesce(counted.excluded_rows, 0) as excluded_rows,
        coalesce(logged.logged_exclusions, 0) as logged_exclusions,
        coalesce(logged.logged_rejects, 0) as logged_rejects,
        coalesce(counted.flagged_rows, 0) as flagged_rows,
        coalesce(logged_flags.logged_flags, 0) as logged_flags,
        coalesce(loads.files, 0) > 0 and coalesce(counted.raw_rows, 0) > 0 as is_present,
        coalesce(provided.is_provided, coalesce(loads.files, 0) > 0) as is_provided,
        provided.provided_detail,
        spine.table_name in ({% for t in cleaned_tables() if t.required %}'{{ t.table }}'{% if not loop.last %}, {% endif %}{% endfor %})
            as is_required
    from spine
    left join loads
        on spine.partition_month = loads.partition_month and spine.table_name = loads.table_name
    left join counted
        on spine.partition_month = counted.partition_month and spine.table_name = counted.table_name
    left join logged
        on spine.partition_month = logged.partition_month and spine.table_name = logged.table_name
    left join provided
        on spine.partition_month = provided.partition_month and spine.table_name = provided.table_name
    left join logged_flags
        on spine.partition_month = logged_flags.partition_month and spine.table_name = logged_flags.table_name

)

select
    *,
    -- a required table must be there with rows; an optional one may be absent (not provided) or empty
    (is_present or not is_required)
        and file_lines = raw_rows + rows_rejected
        and rows_loaded = raw_rows
        and raw_rows = staged_rows
        and staged_rows = kept_rows + excluded_rows
        and excluded_rows = logged_exclusions
        and rows_rejected = logged_rejects
        and flagged_rows = logged_flags as is_balanced
from final
