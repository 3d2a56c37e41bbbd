{#-
    Partition handling: one Dagster partition = one month.

    The month being built comes from the run-context table `main._cadence_run_context`, which the Dagster
    dbt asset writes just before `dbt build` (assets/dbt.py). It is not a dbt var on purpose: a var that
    changes at every partition forces dbt to re-parse the whole project at every run (~5 s), while the
    run-context table keeps dbt's vars constant and partial parsing valid from one month to the next.
    By hand, `--vars '{partition_month: "2026-10"}'` still works and wins.

    On an incremental run only that month is rebuilt (delete+insert on `partition_month`); on a full build,
    or with neither the var nor the table, every month is.
-#}
{% macro run_context_relation() -%}
    {%- if execute -%}
        {{ return(adapter.get_relation(database=target.database, schema='main', identifier='_cadence_run_context')) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{#- SQL for the month being built, or none when every month is. -#}
{% macro current_month() -%}
    {%- if var('partition_month') -%}
        {{ return("'" ~ var('partition_month') ~ "'") }}
    {%- endif -%}
    {%- set context = run_context_relation() -%}
    {%- if context is not none -%}
        {{ return("(select max(partition_month) from " ~ context ~ ")") }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}

{% macro partition_filter(column='_partition_month') -%}
    {%- set month = current_month() if is_incremental() else none -%}
    {%- if month is not none -%}
    where {{ column }} = {{ month }}
    {%- endif -%}
{%- endmacro %}

{% macro partition_predicate(column='partition_month') -%}
    {%- set month = current_month() if is_incremental() else none -%}
    {%- if month is not none -%}
    {{ column }} = {{ month }}
    {%- else -%}
    true
    {%- endif -%}
{%- endmacro %}
