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

{#- The month being built as a checked 'YYYY-MM' string (the var, else the run-context table, read now), or
    none when every month is. For statements that need a literal rather than a subquery (Spark's DELETE does
    not take subqueries). -#}
{% macro current_month_value() -%}
    {%- set month = var('partition_month') -%}
    {%- if not month and execute -%}
        {%- set context = run_context_relation() -%}
        {%- if context is not none -%}
            {%- set month = run_query("select max(partition_month) from " ~ context).columns[0].values()[0] -%}
        {%- endif -%}
    {%- endif -%}
    {%- if month and not modules.re.match('^[0-9]{4}-(0[1-9]|1[0-2])$', month | string) -%}
        {{ exceptions.raise_compiler_error("partition month " ~ month ~ " is not a YYYY-MM month") }}
    {%- endif -%}
    {{ return(month or none) }}
{%- endmacro %}

{#-
    Pre-hook of every incremental model (dbt_project.yml): empty the month being built before it is rebuilt.
    delete+insert alone deletes only the months present in the new result, so a month whose new result is
    empty (a re-export without exclusions: no cleaning_log rows) would keep its old rows. The delete runs in
    the model's transaction: a failed build leaves the month as it was. Plain SQL, also valid on Spark
    (Delta / Iceberg tables).
-#}
{% macro replace_month_being_built() -%}
    {%- if execute and is_incremental() -%}
        {%- set month = current_month_value() -%}
        {%- if month is not none -%}
    delete from {{ this }} where partition_month = '{{ month }}'
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
