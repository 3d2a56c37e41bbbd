{#- One row per touch (call, e-mail message, meeting) of a kept lead: the one touch table across channels. -#}
{{ check_definition_vars() }}
{%- set is_conversation = "(outcome = 'connected' and duration_seconds >= " ~ var('conversation_min_seconds') ~ ")" -%}
{%- set call_contact = {'attempted': 'true', 'connected': "outcome = 'connected'", 'conversation': is_conversation} -%}
{%- set call_response = {'connected': "outcome = 'connected'", 'conversation': is_conversation, 'never': 'false'} -%}
{%- set touch_channels = var('touch_channels') -%}

with leads as (

    select * from {{ ref('stg_crm__leads') }}
    where is_kept and {{ partition_predicate() }}

),

calls as (

    select * from {{ ref('stg_voip__calls') }}
    where is_kept and {{ partition_predicate() }}

),

email_messages as (

    select * from {{ ref('int_email_messages_pivoted') }}
    where {{ partition_predicate() }}

),

meetings as (

    select * from {{ ref('stg_calendar__meetings') }}
    where is_kept and {{ partition_predicate() }}

),

call_touches as (

    select
        {{ dbt.concat(["'call:'", 'call_id']) }} as touch_id, partition_month, lead_id, rep_id,
        'call' as touch_channel, started_at as touch_at, direction,
        {{ sql_bool('call' in touch_channels) }} and (direction = 'outbound' or {{ sql_bool(var('count_inbound_calls')) }}) as is_touch,
        case when {{ call_contact[var('contact_call')] }} then started_at end as contact_at,
        direction = 'inbound' or {{ call_response[var('response_call')] }} as is_response,
        outcome as call_outcome, duration_seconds as call_duration_seconds, {{ is_conversation }} as is_conversation,
        false as is_email_delivered, false as is_email_replied, false as is_email_bounced,
        false as is_email_unsubscribed, false as is_email_complained, cast(null as {{ dbt.type_timestamp() }}) as email_delivered_at,
        cast(null as {{ dbt.type_string() }}) as meeting_status
    from calls

),

email_touches as (

    select
        touch_id, partition_month, lead_id, rep_id,
        'email' as touch_channel, sent_at as touch_at, 'outbound' as direction,
        {{ sql_bool('email' in touch_channels) }} as is_touch,
        {{ var('contact_email') }}_at as contact_at,
        {% if var('response_email') == 'never' %}false{% else %}{{ var('response_email') }}_at is not null{% endif %} as is_response,
        null as call_outcome, null as call_duration_seconds, false as is_conversation,
        delivered_at is not null as is_email_delivered, replied_at is not null as is_email_replied,
        bounced_at is not null as is_email_bounced, unsubscribed_at is not null as is_email_unsubscribed,
        complained_at is not null as is_email_complained, delivered_at as email_delivered_at,
        null as meeting_status
    from email_messages

),

meeting_touches as (

    select
        {{ dbt.concat(["'meeting:'", 'meeting_id']) }} as touch_id, partition_month, lead_id, rep_id,
        'meeting' as touch_channel, scheduled_at as touch_at, 'outbound' as direction,
        -- touches.meetings: booked = any meeting not cancelled (no-shows too), held = held only
        {{ sql_bool('meeting' in touch_channels) }} and {{ "status = 'held'" if var('touch_meetings', 'booked') == 'held' else "status <> 'cancelled'" }} as is_touch,
        case {{ {'booked': "when true then coalesce(booked_at, scheduled_at)",
                 'held': "when status = 'held' then scheduled_at",
                 'never': "when false then scheduled_at"}[var('contact_meeting')] }} end as contact_at,
        {{ {'booked': 'true', 'held': "status = 'held'", 'never': 'false'}[var('response_meeting')] }} as is_response,
        null as call_outcome, null as call_duration_seconds, false as is_conversation,
        false as is_email_delivered, false as is_email_replied, false as is_email_bounced,
        false as is_email_unsubscribed, false as is_email_complained, null as email_delivered_at,
        status as meeting_status
    from meetings

),

unioned as (

    select * from call_touches
    union all
    select * from email_touches
    union all
    select * from meeting_touches

),

final as (

    select
        unioned.*,
        unioned.contact_at is not null as is_effective_contact,
        leads.created_at as lead_created_at,
        leads.lead_timezone,
        leads.channel,
        leads.company_size,
        leads.funnel_phase,
        {%- for a in attribute_dimensions() %}
        leads.{{ a }},
        {%- endfor %}
        {{ attribution_window_end('leads.created_at') }} as window_end_at,
        unioned.touch_at >= leads.created_at
            and unioned.touch_at < {{ attribution_window_end('leads.created_at') }} as is_in_window,
        unioned.touch_at < leads.created_at as is_before_lead_creation,
        coalesce(unioned.touch_at > leads.opted_out_at, false) as is_after_opt_out,
        {{ to_local_time('unioned.touch_at', 'leads.lead_timezone') }} as touch_local_at,
        cast({{ to_local_time('unioned.touch_at', 'leads.lead_timezone') }} as date) as touch_local_date,
        cast(extract(hour from {{ to_local_time('unioned.touch_at', 'leads.lead_timezone') }}) as integer)
            as touch_local_hour,
        {{ iso_weekday(to_local_time('unioned.touch_at', 'leads.lead_timezone')) }} as touch_local_weekday
    from unioned
    -- touches of leads that are not kept leads of the same month (orphans) are left out
    inner join leads
        on unioned.lead_id = leads.lead_id
        and unioned.partition_month = leads.partition_month

)

select * from final
