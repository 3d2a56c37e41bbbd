{#- Singular tests check the month being built (see macros/partition.sql), or every month when none is. -#}
{% macro tested_months(column='partition_month') -%}
    {%- set month = current_month() -%}
    {%- if month is not none -%}
    {{ column }} = {{ month }}
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}

{#-
    Generic tests check the month being built, too: one bad value in 2026-10 must not fail the run of a
    clean 2026-03. dbt passes every generic test's model through get_where_subquery (where the test's own
    `where:` config is applied); this override adds the month of the partition being built, on the tested
    model's month column (partition_month for the incremental models, _partition_month for raw sources).
    With no month being built (a full build by hand), every month is tested.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set month_column = tested_month_column() -%}
    {#- the run-context subquery, not a literal read now: no extra query per test -#}
    {%- set month = current_month() if month_column else none -%}
    {%- if month is not none -%}
        {%- do conditions.append(month_column ~ " = " ~ month) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ conditions | join(' and ') ~ ") dbt_subquery") -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{#- The month column of the node a generic test is attached to, or none (not partitioned by month). -#}
{% macro tested_month_column() -%}
    {%- set node_id = model.get('attached_node') if model is mapping else none -%}
    {%- set node = (graph.nodes.get(node_id) or graph.sources.get(node_id)) if node_id and graph else none -%}
    {%- if node is none -%}
        {{ return(none) }}
    {%- elif node.resource_type == 'source' -%}
        {{ return('_partition_month') }}
    {%- elif node.resource_type == 'model' and node.config.get('unique_key') == 'partition_month' -%}
        {{ return('partition_month') }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#-
    The built-in generic tests, returning the failing rows themselves (every column: the file and data row
    of staging rows, `_source_file` and `_source_row`, come along) instead of counts per value, so a failure
    can name file, row, column and value (assets/dbt.py reads them back). Same pass/fail semantics; the
    failure count is in rows.
-#}
{% macro default__test_accepted_values(model, column_name, values, quote=True) %}
select *
from {{ model }}
where {{ column_name }} not in (
    {%- for value in values -%}
        {%- if quote -%}'{{ value }}'{%- else -%}{{ value }}{%- endif -%}
        {%- if not loop.last -%}, {% endif -%}
    {%- endfor -%}
)
{% endmacro %}

{% macro default__test_not_null(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} is null
{% endmacro %}

{% macro default__test_unique(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} in (
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null
    group by {{ column_name }}
    having count(*) > 1
)
{% endmacro %}

{% macro default__test_relationships(model, column_name, to, field) %}
select child.*
from (select * from {{ model }}) as child
left join {{ to }} as parent
    on child.{{ column_name }} = parent.{{ field }}
where child.{{ column_name }} is not null
    and parent.{{ field }} is null
{% endmacro %}

{#-
    The contract's coded values (cadence/contract.py, var contract_value_sets): a staging column holds one
    of them (or `other`, for a lead's segment column kept with an unknown value, when `other` is allowed).
    The failing rows come back whole, like accepted_values. Adding a value touches contract.py only.
-#}
{% test contract_values(model, column_name, entity, other=false) %}
{%- set values = var('contract_value_sets')[entity][column_name] + (['other'] if other else []) %}
select *
from {{ model }}
where {{ column_name }} not in ({{ sql_list(values) }})
{% endtest %}
