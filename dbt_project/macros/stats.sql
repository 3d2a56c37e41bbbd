{#- Small statistics helpers shared by the KPI marts (portable SQL: sqrt, nullif, arithmetic). -#}

{#-
    A 64-bit floating type. dbt.type_float() is FLOAT on duckdb, a 32-bit REAL: 73/500 was stored as
    0.1459999978542328 and every BI client and the workbook showed it. Rates, means and shares use this.
    Dispatched: an adapter that spells it otherwise adds `<adapter>__type_double`.
-#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'cadence')()) }}
{%- endmacro %}
{% macro default__type_double() -%}double{%- endmacro %}
{% macro spark__type_double() -%}double{%- endmacro %}

{#- numerator / denominator as a double; NULL when the denominator is 0. -#}
{% macro ratio(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#-
    Wilson score interval of a proportion successes / n (95 % by default, z = 1.96):
    (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). `bound` is 'lower' or 'upper'; NULL when n = 0.
    Apply it to already aggregated columns.
-#}
{% macro wilson_bound(successes, n, bound, z=1.959963984540054) -%}
    {%- set sign = '-' if bound == 'lower' else '+' -%}
    (
        ({{ ratio(successes, n) }} + {{ z * z }} / (2.0 * nullif({{ n }}, 0))
            {{ sign }} {{ z }} * sqrt(
                {{ ratio(successes, n) }} * (1 - {{ ratio(successes, n) }}) / nullif({{ n }}, 0)
                + {{ z * z }} / (4.0 * nullif({{ n }}, 0) * nullif({{ n }}, 0))
            ))
        / (1 + {{ z * z }} / nullif({{ n }}, 0))
    )
{%- endmacro %}

{#- A sum of integers as a bigint (DuckDB widens integer sums to a 128-bit type BI tools mishandle). -#}
{% macro sum_int(expression, where=none) -%}
    cast(sum({{ expression }}){% if where %} filter (where {{ where }}){% endif %} as {{ dbt.type_bigint() }})
{%- endmacro %}
