{#-
    One row per lead with at least one touch row (any channel, any time): counts in the attribution
    window, per channel, before conversion, per lead-local day, and the sequence/compliance counters.
-#}

with touches as (

    select * from {{ ref('int_touches_sequenced') }}
    where {{ partition_predicate() }}

),

conversions as (

    select * from {{ ref('int_leads_converted') }}
    where {{ partition_predicate() }}

),

per_local_day as (

    select
        lead_id,
        touch_local_date,
        count(*) filter (where is_touch) as touches,
        count(*) filter (where is_touch and touch_channel = 'email') as emails
    from touches
    where is_in_window
    group by lead_id, touch_local_date

),

daily_peaks as (

    select
        lead_id,
        max(touches) as max_touches_in_one_day,
        max(emails) as max_emails_in_one_day
    from per_local_day
    group by lead_id

),

per_lead as (

    select
        touches.partition_month,
        touches.lead_id,
        min(touches.touch_at) filter (where touches.is_touch and not touches.is_before_lead_creation) as first_touch_at,
        min(touches.contact_at) filter (where touches.is_first_effective_contact) as first_contact_at,
        min(touches.touch_channel) filter (where touches.is_first_effective_contact) as first_contact_channel,
        count(*) filter (where touches.is_touch and touches.is_in_window) as touches_in_window,
        {%- for channel in ['call', 'email', 'meeting', 'other'] %}
        count(*) filter (where touches.is_touch and touches.is_in_window and touches.touch_channel = '{{ channel }}')
            as {{ channel }}_touches_in_window,
        {%- endfor %}
        count(*) filter (where touches.is_touch and touches.is_in_window
            and (not conversions.is_converted or touches.touch_at < conversions.converted_at))
            as touches_before_conversion,
        count(*) filter (where touches.is_touch and not touches.is_before_lead_creation
            and touches.touch_at < {{ dbt.dateadd('day', segment_threshold('min_touches_days'), 'touches.lead_created_at') }})
            as touches_in_threshold_window,
        count(*) filter (where touches.is_effective_contact and touches.is_in_window) as effective_contacts_in_window,
        count(*) filter (where touches.is_response and touches.is_in_window) as responses_in_window,
        count(distinct case when touches.is_touch and touches.is_in_window then touches.touch_channel end)
            as channels_used_in_window,
        {%- set call_out = "touches.is_in_window and touches.touch_channel = 'call' and touches.direction = 'outbound'" %}
        count(*) filter (where {{ call_out }}) as calls_dialled,
        count(*) filter (where {{ call_out }} and touches.call_outcome = 'connected') as calls_connected,
        count(*) filter (where {{ call_out }} and touches.is_conversation) as conversations,
        count(*) filter (where {{ call_out }} and touches.call_outcome = 'wrong_number') as calls_wrong_number,
        count(*) filter (where {{ call_out }} and (touches.touch_local_hour < {{ var('calling_hours_start') }}
            or touches.touch_local_hour >= {{ var('calling_hours_end') }})) as calls_outside_calling_hours,
        count(*) filter (where touches.is_in_window and touches.touch_channel = 'call' and touches.direction = 'inbound')
            as inbound_calls,
        coalesce({{ sum_int('touches.call_duration_seconds', 'touches.is_in_window') }}, 0)
            as talk_seconds,
        {%- set email = "touches.is_in_window and touches.touch_channel = 'email'" %}
        count(*) filter (where {{ email }}) as emails_sent,
        {%- for flag in ['delivered', 'replied', 'bounced', 'unsubscribed', 'complained'] %}
        count(*) filter (where {{ email }} and touches.is_email_{{ flag }}) as emails_{{ flag }},
        {%- endfor %}
        {%- set meeting = "touches.is_in_window and touches.touch_channel = 'meeting'" %}
        count(*) filter (where {{ meeting }} and touches.meeting_status <> 'cancelled') as meetings_booked,
        count(*) filter (where {{ meeting }} and touches.meeting_status = 'held') as meetings_held,
        count(*) filter (where {{ meeting }} and touches.meeting_status = 'no_show') as meetings_no_show,
        count(*) filter (where {{ meeting }} and touches.meeting_status = 'cancelled') as meetings_cancelled,
        coalesce(max(touches.non_response_run_length), 0) as max_non_response_run,
        count(*) filter (where touches.is_non_response_limit_reached) as non_response_limit_reached,
        count(*) filter (where touches.is_cool_down_breach) as cool_down_breaches,
        count(*) filter (where touches.is_touch and touches.is_after_opt_out) as touches_after_opt_out,
        count(*) filter (where touches.is_touch and touches.is_before_lead_creation) as touches_before_creation,
        max(touches.touch_at) as last_touch_at
    from touches
    left join conversions
        on touches.lead_id = conversions.lead_id
        and touches.partition_month = conversions.partition_month
    group by touches.partition_month, touches.lead_id

),

final as (

    select
        per_lead.*,
        coalesce(daily_peaks.max_touches_in_one_day, 0) as max_touches_in_one_day,
        coalesce(daily_peaks.max_emails_in_one_day, 0) as max_emails_in_one_day
    from per_lead
    left join daily_peaks
        on per_lead.lead_id = daily_peaks.lead_id

)

select * from final
