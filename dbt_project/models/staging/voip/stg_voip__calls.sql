{#- One row per raw call row of the month, kept or excluded (rules: macros/cleaning.sql). -#}
{%- set timestamps = ['started_at'] -%}
with source as (

    {{ source_rows('voip__calls') }}

),

leads as (

    {{ month_leads() }}

),

typed as (

    select
        nullif(trim(call_id), '') as call_id,
        _partition_month as partition_month,
        nullif(trim(lead_id), '') as lead_id,
        nullif(trim(rep_id), '') as rep_id,
        {{ typed_timestamp('started_at') }},
        {{ utc_offset_minutes('started_at') }} as started_at_utc_offset_minutes,
        {{ coded_value('calls', 'direction') }} as direction,
        {{ coded_value('calls', 'outcome') }} as outcome,
        try_cast(try_cast(duration_seconds as double) as integer) as duration_seconds,
        {{ pii_hash('phone_number') }} as phone_number_hash,
        call_id as raw_call_id,
        lead_id as raw_lead_id,
        started_at as raw_started_at,
        outcome as raw_outcome,
        duration_seconds as raw_duration_seconds,
        {{ payload_fingerprint(['call_id', 'lead_id', 'rep_id', 'started_at', 'direction', 'outcome',
            'duration_seconds', 'phone_number']) }} as payload_hash,
        direction as raw_direction,
        _source_file,
        _source_row,
        _file_hash,
        _loaded_at,
        _extracted_at,
        _zone_rule
    from source

),

with_lead as (

    {{ with_month_lead('typed') }}

),

checked as (

    {{ timestamp_checks('with_lead', timestamps) }}

),

resolved as (

    {{ resolve_timestamps('checked', timestamps) }}

),

ruled as (

    select
        *,
        {{ row_rules(['call_id', 'lead_id', 'started_at', 'outcome'], timestamps,
            numbers=['duration_seconds'], integers=['duration_seconds'], events=['started_at'],
            before_creation=['started_at'], coded=['direction', 'outcome'], entity='calls') }} as rule_hit
    from resolved

),

{{ apply_exclusions('ruled', 'call_id', burst_day="strftime(" ~ to_local_time('started_at', 'lead_zone') ~ ", '%Y-%m-%d')") }},

final as (

    select
        call_id,
        partition_month,
        lead_id,
        rep_id,
        started_at,
        started_at_utc_offset_minutes,
        direction,
        outcome,
        -- a negative duration is an entry error in one field of a call that happened: emptied, call kept
        case when duration_seconds >= 0 then duration_seconds end as duration_seconds,
        phone_number_hash,
        {{ any_tz_repaired(timestamps) }} as tz_repaired,
        {{ row_flags(tz_flag_items(timestamps) + [{'code': "'negative_duration:duration_seconds'",
            'when': 'duration_seconds < 0',
            'detail': "'duration_seconds is ' || raw_duration_seconds || ' (must be >= 0): emptied, the call is kept'"}]) }},
        exclusion_reason,
        exclusion_detail,
        exclusion_reason is null as is_kept,
        _source_file,
        _source_row,
        _file_hash,
        _loaded_at,
        _extracted_at
    from flagged

)

select * from final
