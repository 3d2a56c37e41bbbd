{#- Singular tests check the month being built (see macros/partition.sql), or every month when none is. -#}
{% macro tested_months(column='partition_month') -%}
    {%- set month = current_month() -%}
    {%- if month is not none -%}
    {{ column }} = {{ month }}
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
