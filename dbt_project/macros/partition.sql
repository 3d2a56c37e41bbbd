{#-
    Partition handling: one Dagster partition = one month (var `partition_month`, YYYY-MM).
    On an incremental run only that month is rebuilt (delete+insert on `partition_month`);
    on a full build, or when the var is unset, every month is.
-#}
{% macro partition_filter(column='_partition_month') -%}
    {%- if is_incremental() and var('partition_month') -%}
    where {{ column }} = '{{ var("partition_month") }}'
    {%- endif -%}
{%- endmacro %}

{% macro partition_predicate(column='partition_month') -%}
    {%- if is_incremental() and var('partition_month') -%}
    {{ column }} = '{{ var("partition_month") }}'
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
