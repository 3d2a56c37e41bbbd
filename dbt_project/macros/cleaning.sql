{#-
    The row-level cleaning rules shared by every staging model. Staging keeps one row per raw row
    (raw = kept + excluded, exactly) and names why a row is excluded in `exclusion_reason`
    (NULL = kept). Downstream models read only kept rows; `cleaning_log` lists the others.

    Rules, first match wins:
      missing_mandatory:<col>   a mandatory field is empty
      tz_naive:<col>            a timestamp has no UTC offset (never silently assumed UTC)
      bad_timestamp:<col>       a timestamp does not parse
      exact_duplicate           the whole payload repeats an earlier row of the month (first kept)
      duplicate_key             same key, different payload: the LAST row of the export wins
                                (latest file, then latest line: the export's most recent state)
-#}

{% macro payload_fingerprint(columns) -%}
    md5(concat_ws('\x1f', {% for c in columns %}coalesce(cast({{ c }} as varchar), '\x00'){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}

{% macro rule_reason(mandatory, timestamps) -%}
    case
        {%- for c in mandatory %}
        when nullif(trim(raw_{{ c }}), '') is null then 'missing_mandatory:{{ c }}'
        {%- endfor %}
        {%- for c in timestamps %}
        when {{ is_tz_naive('raw_' ~ c) }} then 'tz_naive:{{ c }}'
        when raw_{{ c }} is not null and {{ c }} is null then 'bad_timestamp:{{ c }}'
        {%- endfor %}
    end
{%- endmacro %}

{#- Adds exclusion_reason to `relation` (a CTE with raw_<col> texts, typed columns, partition_month,
    _source_file, _source_row, payload_hash and `rule_reason`). -#}
{% macro apply_exclusions(relation, key) -%}
    ranked_exact as (
        select
            *,
            row_number() over (
                partition by partition_month, payload_hash order by _source_file, _source_row
            ) as exact_rank
        from {{ relation }}
    ),

    ranked_key as (
        select
            *,
            case when rule_reason is null and exact_rank = 1 then
                row_number() over (
                    partition by partition_month, {{ key }}, (rule_reason is null and exact_rank = 1)
                    order by _source_file desc, _source_row desc
                )
            end as key_rank
        from ranked_exact
    ),

    flagged as (
        select
            *,
            case
                when rule_reason is not null then rule_reason
                when exact_rank > 1 then 'exact_duplicate'
                when key_rank > 1 then 'duplicate_key'
            end as exclusion_reason
        from ranked_key
    )
{%- endmacro %}
