{#- One row per raw meeting row of the month, kept or excluded (rules: macros/cleaning.sql). -#}
{%- set timestamps = ['booked_at', 'scheduled_at'] -%}
with source as (

    {{ source_rows('calendar__meetings') }}

),

leads as (

    {{ month_leads() }}

),

typed as (

    select
        nullif(trim(meeting_id), '') as meeting_id,
        _partition_month as partition_month,
        nullif(trim(lead_id), '') as lead_id,
        nullif(trim(rep_id), '') as rep_id,
        {{ typed_timestamp('booked_at') }},
        {{ typed_timestamp('scheduled_at') }},
        {{ utc_offset_minutes('scheduled_at') }} as scheduled_at_utc_offset_minutes,
        {{ coded_value('meetings', 'status') }} as status,
        try_cast(try_cast(duration_minutes as double) as integer) as duration_minutes,
        meeting_id as raw_meeting_id,
        lead_id as raw_lead_id,
        booked_at as raw_booked_at,
        scheduled_at as raw_scheduled_at,
        status as raw_status,
        duration_minutes as raw_duration_minutes,
        {{ payload_fingerprint(['meeting_id', 'lead_id', 'rep_id', 'booked_at', 'scheduled_at', 'status',
            'duration_minutes']) }} as payload_hash,
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

    -- a meeting can be scheduled for after the export (scheduled_at is not an event yet), but neither its
    -- booking nor its slot can precede the lead: the slot is checked too, for exports without booked_at
    select
        *,
        {{ row_rules(['meeting_id', 'lead_id', 'scheduled_at', 'status'], timestamps,
            numbers=['duration_minutes'], integers=['duration_minutes'], events=['booked_at'],
            before_creation=['booked_at', 'scheduled_at'], coded=['status'], entity='meetings') }} as rule_hit
    from resolved

),

{{ apply_exclusions('ruled', 'meeting_id') }},

final as (

    select
        meeting_id,
        partition_month,
        lead_id,
        rep_id,
        booked_at,
        scheduled_at,
        scheduled_at_utc_offset_minutes,
        status,
        case when duration_minutes >= 0 then duration_minutes end as duration_minutes,
        {{ any_tz_repaired(timestamps) }} as tz_repaired,
        {{ row_flags(tz_flag_items(timestamps) + [{'code': "'negative_duration:duration_minutes'",
            'when': 'duration_minutes < 0',
            'detail': "'duration_minutes is ' || raw_duration_minutes || ' (must be >= 0): emptied, the meeting is kept'"}]) }},
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
