{#- One row per raw lead row of the month, kept or excluded (rules: macros/cleaning.sql). -#}
{%- set timestamps = ['created_at', 'opted_out_at', 'sql_at'] -%}
{#- Segment dimensions beyond the contract's channel / company_size: lead attributes (sources.yml
    crm.entities.leads.attributes, or the contract's team), carried to the marts. -#}
{%- set attributes = attribute_dimensions() -%}
{%- set required = ['lead_id', 'created_at', 'funnel_phase', 'rep_id']
    + (['channel'] if 'channel' in var('segment_dimensions') else [])
    + (['company_size'] if 'company_size' in var('segment_dimensions') else []) -%}
{{ check_attribute_columns(attributes) }}
with source as (

    {{ source_rows('crm__leads') }}

),

typed as (

    select
        nullif(trim(lead_id), '') as lead_id,
        _partition_month as partition_month,
        {{ typed_timestamp('created_at') }},
        {{ utc_offset_minutes('created_at') }} as created_at_utc_offset_minutes,
        nullif(trim(lead_timezone), '') as lead_timezone,
        -- a segment value outside the contract is a real lead of an unknown segment: 'other', flagged
        {{ coded_value('leads', 'channel', as_other=true) }} as channel,
        {{ coded_value('leads', 'company_size', as_other=true) }} as company_size,
        {{ coded_value('leads', 'funnel_phase', as_other=true) }} as funnel_phase,
        nullif(trim(team), '') as team,
        {%- for a in attributes if a != 'team' %}
        {{ attribute_value(a) }} as {{ a }},
        nullif(trim({{ a }}), '') as raw_{{ a }},
        {%- endfor %}
        {%- if 'team' in attributes %}
        nullif(trim(team), '') as raw_team,
        {%- endif %}
        nullif(trim(rep_id), '') as rep_id,
        nullif(trim(account_id), '') as account_id,
        {{ pii_hash('company_name') }} as company_name_hash,
        {{ pii_hash('contact_name') }} as contact_name_hash,
        {{ pii_hash('email') }} as email_hash,
        {{ pii_hash('phone') }} as phone_hash,
        try_cast(lead_score as integer) as lead_score,
        coalesce({{ to_bool('is_vip') }}, false) as is_vip,
        coalesce({{ to_bool('is_dispute') }}, false) as is_dispute,
        {{ typed_timestamp('opted_out_at') }},
        {{ typed_timestamp('sql_at') }},
        created_at as raw_created_at,
        opted_out_at as raw_opted_out_at,
        sql_at as raw_sql_at,
        lead_id as raw_lead_id,
        lead_timezone as raw_lead_timezone,
        channel as raw_channel,
        company_size as raw_company_size,
        funnel_phase as raw_funnel_phase,
        rep_id as raw_rep_id,
        lead_score as raw_lead_score,
        {{ payload_fingerprint(['lead_id', 'created_at', 'lead_timezone', 'channel', 'company_size',
            'funnel_phase', 'team', 'rep_id', 'account_id', 'company_name', 'contact_name', 'email',
            'phone', 'lead_score', 'is_vip', 'is_dispute', 'opted_out_at', 'sql_at']) }} as payload_hash,
        _source_file,
        _source_row,
        _file_hash,
        _loaded_at,
        _extracted_at,
        _zone_rule
    from source

),

zoned as (

    -- a lead's own zone plays the part the lead's zone plays for touches (NULL when not an IANA zone)
    select
        *,
        case when lead_timezone in (select name from pg_timezone_names()) then lead_timezone end as lead_zone
    from typed

),

checked as (

    {{ timestamp_checks('zoned', timestamps) }}

),

resolved as (

    select
        *,
        created_at as lead_created_at
    from ({{ resolve_timestamps('checked', timestamps) }}) as resolved_times

),

ruled as (

    select
        *,
        {{ row_rules(required, timestamps,
            numbers=['lead_score'], integers=['lead_score'], is_leads=true, events=['created_at']) }} as rule_hit
    from resolved

),

{{ apply_exclusions('ruled', 'lead_id') }},

{#- An opt-out or qualification after the extract was taken cannot have happened yet: the attribute is
    emptied and flagged; it never removes the lead. -#}
{%- set later = [] -%}
{%- for c in ['opted_out_at', 'sql_at'] -%}
    {%- do later.append({'code': "'future_attribute:" ~ c ~ "'", 'when': c ~ ' > _extracted_at',
        'detail': "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is after the extract was taken: emptied'"}) -%}
{%- endfor %}

final as (

    select
        lead_id,
        partition_month,
        created_at,
        created_at_utc_offset_minutes,
        lead_timezone,
        channel,
        company_size,
        funnel_phase,
        {% if 'team' in attributes %}{{ attribute_value('raw_team') }}{% else %}team{% endif %} as team,
        {%- for a in attributes if a != 'team' %}
        {{ a }},
        {%- endfor %}
        rep_id,
        account_id,
        company_name_hash,
        contact_name_hash,
        email_hash,
        phone_hash,
        lead_score,
        is_vip,
        is_dispute,
        case when opted_out_at <= _extracted_at then opted_out_at end as opted_out_at,
        case when sql_at <= _extracted_at then sql_at end as sql_at,
        {{ any_tz_repaired(timestamps) }} as tz_repaired,
        {{ row_flags(tz_flag_items(timestamps) + later
            + unknown_segment_flag_items('leads', ['channel', 'company_size', 'funnel_phase'])
            + attribute_flag_items(attributes)) }},
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
