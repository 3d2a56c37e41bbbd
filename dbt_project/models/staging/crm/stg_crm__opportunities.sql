{#- One row per raw opportunity row of the month, kept or excluded (rules: macros/cleaning.sql). -#}
with source as (

    select * from {{ source('raw', 'crm__opportunities') }}
    {{ partition_filter() }}

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
        {{ to_utc('created_at') }} as created_at,
        {{ utc_offset_minutes('created_at') }} as created_at_utc_offset_minutes,
        lower(trim(stage)) as stage,
        try_cast(amount as decimal(18, 2)) as amount,
        upper(nullif(trim(currency), '')) as currency,
        {{ to_utc('closed_at') }} as closed_at,
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
        _loaded_at
    from source

),

with_lead as (

    {{ with_month_lead('typed') }}

),

ruled as (

    select
        *,
        {{ row_rules(['opportunity_id', 'lead_id', 'created_at', 'stage'], ['created_at', 'closed_at'],
            numbers=['amount'], offsets=['created_at', 'closed_at'], future=['created_at', 'closed_at'],
            before_creation=['created_at']) }} as rule_hit
    from with_lead

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
        closed_at,
        close_reason,
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
