{#-
    Typing helpers for staging. Raw columns are text exactly as received; these turn them into types
    without ever guessing: an unparseable value becomes NULL and staging flags the row.
    Dispatched so another adapter can supply its own spelling.
-#}

{# ISO 8601 text with an explicit offset (or Z) -> naive UTC timestamp; tz-naive or garbage -> NULL. #}
{% macro to_utc(column) -%}
    {{ return(adapter.dispatch('to_utc', 'cadence')(column)) }}
{%- endmacro %}
{% macro default__to_utc(column) -%}
    case
        when regexp_matches(trim({{ column }}), '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$')
            then try_cast(trim({{ column }}) as timestamptz) at time zone 'UTC'
    end
{%- endmacro %}

{# The UTC offset written in the text, in minutes (e.g. +02:00 -> 120); NULL when there is none. #}
{% macro utc_offset_minutes(column) -%}
    {{ return(adapter.dispatch('utc_offset_minutes', 'cadence')(column)) }}
{%- endmacro %}
{% macro default__utc_offset_minutes(column) -%}
    case
        when regexp_matches(trim({{ column }}), 'Z$') then 0
        when regexp_matches(trim({{ column }}), '[+-][0-9]{2}:?[0-9]{2}$')
            then (case when regexp_extract(trim({{ column }}), '([+-])[0-9]{2}:?[0-9]{2}$', 1) = '-' then -1 else 1 end)
                * (cast(regexp_extract(trim({{ column }}), '([0-9]{2}):?([0-9]{2})$', 1) as integer) * 60
                   + cast(regexp_extract(trim({{ column }}), '([0-9]{2}):?([0-9]{2})$', 2) as integer))
    end
{%- endmacro %}

{# The wall clock an ISO text shows, offset or not (`2026-10-03T10:00:00+02:00` -> 2026-10-03 10:00:00);
   NULL when it is not a timestamp. #}
{% macro wall_clock(column) -%}
    {{ return(adapter.dispatch('wall_clock', 'cadence')(column)) }}
{%- endmacro %}
{% macro default__wall_clock(column) -%}
    try_cast(regexp_replace(trim({{ column }}), '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$', '') as timestamp)
{%- endmacro %}

{# true when a non-empty timestamp text carries no offset (a tz-naive timestamp). #}
{% macro is_tz_naive(column) -%}
    ({{ column }} is not null and not regexp_matches(trim({{ column }}), '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$')
        and try_cast(trim({{ column }}) as timestamp) is not null)
{%- endmacro %}

{% macro to_bool(column) -%}
    case lower(trim({{ column }})) when 'true' then true when 'false' then false end
{%- endmacro %}

{# Salted SHA-256 of a personal value (normalised: trimmed, lower-case). The salt comes from
   CADENCE_PII_SALT; the demo default is not a secret. #}
{% macro pii_hash(column) -%}
    case when nullif(trim({{ column }}), '') is not null
        then sha256('{{ env_var("CADENCE_PII_SALT", "cadence-demo-salt") }}' || lower(trim({{ column }})))
    end
{%- endmacro %}

{# Hours between two timestamps, from epoch seconds (dbt.datediff counts hour boundaries instead). #}
{% macro hours_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('hours_between', 'cadence')(start_ts, end_ts)) }}
{%- endmacro %}
{% macro default__hours_between(start_ts, end_ts) -%}
    ((epoch({{ end_ts }}) - epoch({{ start_ts }})) / 3600.0)
{%- endmacro %}
