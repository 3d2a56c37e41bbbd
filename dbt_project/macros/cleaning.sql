{#-
    The row-level cleaning rules shared by every staging model (docs/quality.md explains each choice).

    Staging keeps one row per raw row (raw = kept + excluded, exactly). An excluded row carries a rule code
    in `exclusion_reason` (`<rule>` or `<rule>:<column>`) and a sentence in `exclusion_detail` that names
    the offending value; `cleaning.cleaning_log` lists every excluded row with its file and line.

    Rules, in this order; the first that matches decides (a row is logged once, under one rule):
      1. unreadable   missing_mandatory:<col>, tz_naive:<col>, bad_timestamp:<col>, bad_number:<col>
      2. impossible   negative_duration:<col>, unknown_timezone (leads)
      3. its lead     unknown_lead (lead_id in no lead row of the month), lead_excluded (the lead's rows
                      are all excluded), wrong_offset:<col> (offset is not the lead's zone's offset at that
                      instant, DST included; a `Z` is accepted), outside_month (leads created in another
                      month), future_timestamp:<col> (after the cohort horizon), before_lead_creation:<col>
      4. repeats      exact_duplicate (same payload as an earlier valid row: the first is kept),
                      duplicate_key (same key, other payload: the LAST valid row of the export wins, the
                      export listing a record's states in order: files by name, then lines)
      5. implausible  call_burst (more than var burst_calls_per_lead_day calls to one lead in one local day)
    Rules 1-3 look at one row (and its lead); 4-5 only compare rows that passed 1-3, so a duplicate never
    wins over a valid row and a burst is counted on valid, distinct calls.
-#}

{% macro payload_fingerprint(columns) -%}
    md5(concat_ws('\x1f', {% for c in columns %}coalesce(cast({{ c }} as varchar), '\x00'){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}

{#- A rule hit: '<code>|<detail>' (split into exclusion_reason / exclusion_detail by apply_exclusions). -#}
{% macro _hit(code, detail) -%}
    '{{ code }}|' || {{ detail }}
{%- endmacro %}

{% macro _quoted(column) -%}
    '"' || left(coalesce({{ column }}, ''), 80) || '"'
{%- endmacro %}

{#- The offset written in an ISO text (minutes): local wall time of the text minus the UTC instant. -#}
{% macro written_offset_minutes(raw_text, utc_ts) -%}
    cast(round(({{ epoch_seconds("try_cast(regexp_replace(trim(" ~ raw_text ~ "), '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$', '') as timestamp)") }}
        - {{ epoch_seconds(utc_ts) }}) / 60) as integer)
{%- endmacro %}

{#- The UTC offset (minutes) of IANA zone `zone` at UTC instant `utc_ts`, DST included. -#}
{% macro zone_offset_minutes(utc_ts, zone) -%}
    cast(round(({{ epoch_seconds(to_local_time(utc_ts, zone)) }} - {{ epoch_seconds(utc_ts) }}) / 60) as integer)
{%- endmacro %}

{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'cadence')(ts)) }}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}
    epoch({{ ts }})
{%- endmacro %}

{% macro offset_label(minutes) -%}
    (case when {{ minutes }} < 0 then '-' else '+' end) || lpad(cast(abs({{ minutes }}) // 60 as varchar), 2, '0')
        || ':' || lpad(cast(abs({{ minutes }}) % 60 as varchar), 2, '0')
{%- endmacro %}

{#- After this instant an event cannot belong to the month's cohort extract: the later of the first day of
    month+2 and the end of the attribution window of a lead created on the month's last day. -#}
{% macro cohort_horizon(partition_month) -%}
    greatest(
        cast(cast({{ partition_month }} || '-01' as date) + interval 2 month as timestamp),
        cast(cast({{ partition_month }} || '-01' as date) + interval 1 month as timestamp)
            + to_days({{ var('attribution_window_days', 30) }})
    )
{%- endmacro %}

{#- The month's leads as seen by the touch tables: one row per lead_id (kept row's zone and creation). -#}
{% macro month_leads() -%}
    select
        partition_month,
        lead_id,
        bool_or(is_kept) as lead_is_kept,
        max(created_at) filter (where is_kept) as lead_created_at,
        max(lead_timezone) filter (where is_kept) as lead_zone,
        min(exclusion_reason) as lead_exclusion_reason
    from {{ ref('stg_crm__leads') }}
    where lead_id is not null and {{ partition_predicate() }}
    group by partition_month, lead_id
{%- endmacro %}

{#- A touch table's rows with their lead's facts from `leads` (a CTE of month_leads()): what the orphan,
    excluded-lead, wrong-offset and before-creation rules need. -#}
{% macro with_month_lead(relation) -%}
    select
        {{ relation }}.*,
        leads.lead_is_kept,
        leads.lead_created_at,
        leads.lead_zone,
        leads.lead_exclusion_reason
    from {{ relation }}
    left join leads
        on {{ relation }}.partition_month = leads.partition_month
        and {{ relation }}.lead_id = leads.lead_id
{%- endmacro %}

{#- Rules 1-3 as one CASE over a relation with raw_<col> texts, typed columns and, when `lead_rules`,
    the month_leads() columns (lead_is_kept, lead_created_at, lead_zone, lead_exclusion_reason). -#}
{% macro row_rules(mandatory, timestamps, numbers=[], non_negative=[], lead_rules=true, offsets=[],
                   future=[], before_creation=[], is_leads=false) -%}
    case
        {%- for c in mandatory %}
        when nullif(trim(raw_{{ c }}), '') is null then {{ _hit('missing_mandatory:' ~ c, "'" ~ c ~ " is empty'") }}
        {%- endfor %}
        {%- for c in timestamps %}
        when {{ is_tz_naive('raw_' ~ c) }} then {{ _hit('tz_naive:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' has no UTC offset'") }}
        when raw_{{ c }} is not null and {{ c }} is null
            then {{ _hit('bad_timestamp:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is not an ISO 8601 timestamp with offset'") }}
        {%- endfor %}
        {%- for c in numbers %}
        when raw_{{ c }} is not null and try_cast(raw_{{ c }} as double) is null
            then {{ _hit('bad_number:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is not a number'") }}
        {%- endfor %}
        {%- for c in non_negative %}
        when try_cast(raw_{{ c }} as double) < 0
            then {{ _hit('negative_duration:' ~ c, "'" ~ c ~ " is ' || raw_" ~ c ~ " || ' (must be >= 0)'") }}
        {%- endfor %}
        {%- if is_leads %}
        when lead_zone not in (select name from pg_timezone_names())
            then {{ _hit('unknown_timezone', "'lead_timezone ' || " ~ _quoted('lead_zone') ~ " || ' is not an IANA time zone'") }}
        {%- endif %}
        {%- if lead_rules and not is_leads %}
        when lead_is_kept is null
            then {{ _hit('unknown_lead', "'lead_id ' || lead_id || ' is in no lead row of month ' || partition_month") }}
        when not lead_is_kept
            then {{ _hit('lead_excluded', "'lead ' || lead_id || ' is excluded (' || lead_exclusion_reason || ')'") }}
        {%- endif %}
        {%- for c in offsets %}
        when {{ c }} is not null and not regexp_matches(trim(raw_{{ c }}), '[Zz]$')
            and {{ written_offset_minutes('raw_' ~ c, c) }} <> {{ zone_offset_minutes(c, 'lead_zone') }}
            then {{ _hit('wrong_offset:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' has offset ' || "
                ~ offset_label(written_offset_minutes('raw_' ~ c, c)) ~ " || ' but ' || lead_zone || ' is at ' || "
                ~ offset_label(zone_offset_minutes(c, 'lead_zone')) ~ " || ' at that instant (wrong offset, or a local time in a DST gap)'") }}
        {%- endfor %}
        {%- if is_leads %}
        when strftime(created_at, '%Y-%m') <> partition_month
            and strftime({{ to_local_time('created_at', 'lead_zone') }}, '%Y-%m') <> partition_month
            then {{ _hit('outside_month', "'created_at ' || " ~ _quoted('raw_created_at') ~ " || ' is not in month ' || partition_month || ' (another month''s lead)'") }}
        {%- endif %}
        {%- for c in future %}
        when {{ c }} >= {{ cohort_horizon('partition_month') }}
            then {{ _hit('future_timestamp:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is after the cohort horizon ' || strftime(" ~ cohort_horizon('partition_month') ~ ", '%Y-%m-%d')") }}
        {%- endfor %}
        {%- for c in before_creation %}
        when {{ c }} < lead_created_at - to_minutes({{ var('before_creation_tolerance_minutes', 0) }})
            then {{ _hit('before_lead_creation:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is before lead ' || lead_id || ' was created (' || strftime(lead_created_at, '%Y-%m-%dT%H:%M:%SZ') || ')'") }}
        {%- endfor %}
    end
{%- endmacro %}

{#- Rules 4-5 and the final exclusion_reason / exclusion_detail over `relation` (a CTE with the columns
    of row_rules' input, `rule_hit` = row_rules(...), payload_hash, partition_month and lineage).
    `burst_day`: an expression of the local call day (calls only) to apply call_burst. -#}
{% macro apply_exclusions(relation, key, burst_day=none) -%}
    ranked_exact as (
        select
            *,
            case when rule_hit is null then row_number() over (
                partition by partition_month, payload_hash, rule_hit is null order by _source_file, _source_row
            ) end as exact_rank,
            first_value(_source_file || ' row ' || _source_row) over (
                partition by partition_month, payload_hash, rule_hit is null order by _source_file, _source_row
            ) as exact_first_row
        from {{ relation }}
    ),

    ranked_key as (
        select
            *,
            -- the export lists a record's states in order: the last one is the current state
            case when exact_rank = 1 then row_number() over (
                partition by partition_month, {{ key }}, exact_rank = 1 order by _source_file desc, _source_row desc
            ) end as key_rank,
            first_value(_source_file || ' row ' || _source_row) over (
                partition by partition_month, {{ key }}, exact_rank = 1 order by _source_file desc, _source_row desc
            ) as key_winner
        from ranked_exact
    ),

    {%- if burst_day %}
    counted as (
        select
            *,
            case when key_rank = 1 then count(*) over (
                partition by partition_month, lead_id, {{ burst_day }}, key_rank = 1
            ) end as lead_day_calls
        from ranked_key
    ),
    {%- endif %}

    flagged as (
        select
            *,
            case
                when rule_hit is not null then split_part(rule_hit, '|', 1)
                when exact_rank > 1 then 'exact_duplicate'
                when key_rank > 1 then 'duplicate_key'
                {%- if burst_day %}
                when lead_day_calls > {{ var('burst_calls_per_lead_day', 50) }} then 'call_burst'
                {%- endif %}
            end as exclusion_reason,
            case
                when rule_hit is not null then substr(rule_hit, strpos(rule_hit, '|') + 1)
                when exact_rank > 1 then 'repeats ' || exact_first_row || ' (same payload; the first is kept)'
                when key_rank > 1 then '{{ key }} ' || {{ key }} || ' is listed again later, at ' || key_winner
                    || ', with another payload: the last valid row of the export wins'
                {%- if burst_day %}
                when lead_day_calls > {{ var('burst_calls_per_lead_day', 50) }}
                    then lead_day_calls || ' calls to lead ' || lead_id || ' on local day ' || {{ burst_day }}
                        || ' (more than {{ var("burst_calls_per_lead_day", 50) }}: an entry error, e.g. a dialler loop)'
                {%- endif %}
            end as exclusion_detail
        from {{ 'counted' if burst_day else 'ranked_key' }}
    )
{%- endmacro %}
