{#-
    Local time and calendar helpers. Timestamps are stored in UTC; local time is derived from the lead's
    IANA zone (DST-aware) only where a model needs a local hour, day or weekday. Dispatched: the default
    spelling is DuckDB's, Spark has its own.
-#}

{#- UTC timestamp + IANA zone column -> naive local wall-clock timestamp. -#}
{% macro to_local_time(utc_ts, zone) -%}
    {{ return(adapter.dispatch('to_local_time', 'cadence')(utc_ts, zone)) }}
{%- endmacro %}
{% macro default__to_local_time(utc_ts, zone) -%}
    timezone({{ zone }}, timezone('UTC', {{ utc_ts }}))
{%- endmacro %}
{% macro spark__to_local_time(utc_ts, zone) -%}
    from_utc_timestamp({{ utc_ts }}, {{ zone }})
{%- endmacro %}

{#- ISO day of week: Monday = 1 ... Sunday = 7. -#}
{% macro iso_weekday(ts) -%}
    {{ return(adapter.dispatch('iso_weekday', 'cadence')(ts)) }}
{%- endmacro %}
{% macro default__iso_weekday(ts) -%}
    cast(extract(isodow from {{ ts }}) as integer)
{%- endmacro %}
{% macro spark__iso_weekday(ts) -%}
    cast(extract(dayofweek_iso from {{ ts }}) as integer)
{%- endmacro %}

{#- ISO week label, e.g. 2026-W43 (ISO year, which differs from the calendar year around New Year). -#}
{% macro iso_week_label(ts) -%}
    {{ return(adapter.dispatch('iso_week_label', 'cadence')(ts)) }}
{%- endmacro %}
{% macro default__iso_week_label(ts) -%}
    strftime({{ ts }}, '%G-W%V')
{%- endmacro %}
{% macro spark__iso_week_label(ts) -%}
    concat(cast(extract(yearofweek from {{ ts }}) as string), '-W', lpad(cast(extract(week from {{ ts }}) as string), 2, '0'))
{%- endmacro %}
