{#- One row per raw meeting row of the month, kept or excluded (rules: macros/cleaning.sql). -#}
with source as (

    select * from {{ source('raw', 'calendar__meetings') }}
    {{ partition_filter() }}

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
        {{ to_utc('booked_at') }} as booked_at,
        {{ to_utc('scheduled_at') }} as scheduled_at,
        {{ utc_offset_minutes('scheduled_at') }} as scheduled_at_utc_offset_minutes,
        lower(trim(status)) as status,
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
        _loaded_at
    from source

),

with_lead as (

    {{ with_month_lead('typed') }}

),

ruled as (

    select
        *,
        {{ row_rules(['meeting_id', 'lead_id', 'scheduled_at', 'status'], ['booked_at', 'scheduled_at'],
            numbers=['duration_minutes'], non_negative=['duration_minutes'],
            offsets=['booked_at', 'scheduled_at'], future=['booked_at'], before_creation=['booked_at']) }}
            as rule_hit
    from with_lead

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
        duration_minutes,
        exclusion_reason,
        exclusion_detail,
        exclusion_reason is null as is_kept,
        _source_file,
        _source_row,
        _file_hash,
        _loaded_at
    from flagged

)

select * from final
