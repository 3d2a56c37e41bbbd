{#- One row per raw opportunity row of the month, kept or excluded (rules: macros/cleaning.sql). -#}
{%- set timestamps = ['created_at', 'closed_at'] -%}
with source as (

    {{ source_rows('crm__opportunities') }}

),

leads as (

    {{ month_leads() }}

),

typed as (

    select
        nullif(trim(opportunity_id), '') as opportunity_id,
        _partition_month as partition_month,
        nullif(trim(lead_id), '') as lead_id,
        nullif(trim(account_id), '') as account_id,
        nullif(trim(rep_id), '') as rep_id,
        {{ typed_timestamp('created_at') }},
        {{ utc_offset_minutes('created_at') }} as created_at_utc_offset_minutes,
        {{ coded_value('opportunities', 'stage') }} as stage,
        try_cast(amount as decimal(18, 2)) as amount,
        upper(nullif(trim(currency), '')) as currency,
        {{ typed_timestamp('closed_at') }},
        nullif(trim(close_reason), '') as close_reason,
        opportunity_id as raw_opportunity_id,
        lead_id as raw_lead_id,
        created_at as raw_created_at,
        stage as raw_stage,
        closed_at as raw_closed_at,
        amount as raw_amount,
        {{ payload_fingerprint(['opportunity_id', 'lead_id', 'account_id', 'rep_id', 'created_at', 'stage',
            'amount', 'currency', 'closed_at', 'close_reason']) }} as payload_hash,
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

    -- an opportunity dated before its lead's creation is a real conversion (e.g. the lead record was
    -- created after the deal was opened): kept, counted, and flagged, not excluded
    select
        *,
        {{ row_rules(['opportunity_id', 'lead_id', 'created_at', 'stage'], timestamps,
            numbers=['amount'], events=['created_at'], coded=['stage'], entity='opportunities') }} as rule_hit
    from resolved

),

{{ apply_exclusions('ruled', 'opportunity_id') }},

final as (

    select
        opportunity_id,
        partition_month,
        lead_id,
        account_id,
        rep_id,
        created_at,
        created_at_utc_offset_minutes,
        stage,
        amount,
        currency,
        case when closed_at <= _extracted_at then closed_at end as closed_at,
        close_reason,
        coalesce(created_at < lead_created_at, false) as is_before_lead_creation,
        {{ any_tz_repaired(timestamps) }} as tz_repaired,
        {{ row_flags(tz_flag_items(timestamps) + [
            {'code': "'before_lead_creation:created_at'", 'when': 'created_at < lead_created_at',
             'detail': "'created_at ' || " ~ _quoted('raw_created_at') ~ " || ' is before lead ' || lead_id || ' was created: kept and counted as a conversion'"},
            {'code': "'future_attribute:closed_at'", 'when': 'closed_at > _extracted_at',
             'detail': "'closed_at ' || " ~ _quoted('raw_closed_at') ~ " || ' is after the extract was taken: emptied'"}]) }},
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
