{#- One row per raw e-mail event row of the month, kept or excluded (rules: macros/cleaning.sql). -#}
{%- set timestamps = ['event_at'] -%}
with source as (

    {{ source_rows('emailing__email_events') }}

),

leads as (

    {{ month_leads() }}

),

typed as (

    select
        nullif(trim(event_id), '') as event_id,
        _partition_month as partition_month,
        nullif(trim(message_id), '') as message_id,
        nullif(trim(lead_id), '') as lead_id,
        nullif(trim(rep_id), '') as rep_id,
        nullif(trim(campaign_id), '') as campaign_id,
        {{ coded_value('email_events', 'event_type') }} as event_type,
        {{ typed_timestamp('event_at') }},
        {{ utc_offset_minutes('event_at') }} as event_at_utc_offset_minutes,
        {{ pii_hash('email_address') }} as email_address_hash,
        event_id as raw_event_id,
        message_id as raw_message_id,
        lead_id as raw_lead_id,
        event_type as raw_event_type,
        event_at as raw_event_at,
        {{ payload_fingerprint(['event_id', 'message_id', 'lead_id', 'rep_id', 'campaign_id', 'event_type',
            'event_at', 'email_address']) }} as payload_hash,
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
        {{ row_rules(['event_id', 'message_id', 'lead_id', 'event_type', 'event_at'], timestamps,
            events=['event_at'], before_creation=['event_at'], coded=['event_type'], entity='email_events') }} as rule_hit
    from resolved

),

{{ apply_exclusions('ruled', 'event_id') }},

final as (

    select
        event_id,
        partition_month,
        message_id,
        lead_id,
        rep_id,
        campaign_id,
        event_type,
        event_at,
        event_at_utc_offset_minutes,
        email_address_hash,
        {{ any_tz_repaired(timestamps) }} as tz_repaired,
        {{ row_flags(tz_flag_items(timestamps)) }},
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
