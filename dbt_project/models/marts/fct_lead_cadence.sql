{#- One row per kept lead per month (its cohort month): the cadence it received and what came of it. -#}

with leads as (

    select * from {{ ref('stg_crm__leads') }}
    where is_kept and {{ partition_predicate() }}

),

touch_summary as (

    select * from {{ ref('int_leads_touches_aggregated') }}
    where {{ partition_predicate() }}

),

conversions as (

    select * from {{ ref('int_leads_converted') }}
    where {{ partition_predicate() }}

),

joined as (

    select
        leads.lead_id,
        leads.partition_month,
        leads.channel,
        leads.company_size,
        leads.funnel_phase,
        leads.team,
        {%- for a in attribute_dimensions() if a != 'team' %}
        leads.{{ a }},
        {%- endfor %}
        leads.rep_id,
        leads.account_id,
        leads.lead_timezone,
        leads.lead_score,
        coalesce(leads.lead_score >= 80, false) as is_hot_lead,
        {{ is_in_audit_scope('leads') }} as is_in_scope,
        leads.created_at,
        conversions.window_end_at,
        {% if var('extracted_at') -%}
        cast('{{ var("extracted_at") }}' as {{ dbt.type_timestamp() }}) as data_as_of_at,
        {%- else -%}
        -- when the leads extract was taken (its _extract.yml, else its load time)
        max(leads._extracted_at) over (partition by leads.partition_month) as data_as_of_at,
        {%- endif %}
        touch_summary.first_touch_at,
        touch_summary.first_contact_at,
        touch_summary.first_contact_channel,
        {{ hours_between('leads.created_at', 'touch_summary.first_contact_at') }} as ttf_hours,
        {{ segment_threshold('ttf_target_hours') }} as ttf_target_hours,
        {{ segment_threshold('min_touches') }} as min_touches_target,
        {{ segment_threshold('min_touches_days') }} as min_touches_days,
        {{ segment_threshold('max_touches_per_day') }} as max_touches_per_day,
        {{ segment_threshold('max_emails_per_day') }} as max_emails_per_day,
        {%- for column in ['touches_in_window', 'call_touches_in_window', 'email_touches_in_window',
            'meeting_touches_in_window', 'other_touches_in_window', 'touches_before_conversion',
            'touches_in_threshold_window', 'max_touches_in_one_day', 'max_emails_in_one_day',
            'effective_contacts_in_window', 'responses_in_window', 'channels_used_in_window', 'calls_dialled',
            'calls_connected', 'conversations', 'calls_wrong_number', 'calls_outside_calling_hours',
            'inbound_calls', 'talk_seconds', 'emails_sent', 'emails_delivered', 'emails_replied',
            'emails_bounced', 'emails_unsubscribed', 'emails_complained', 'meetings_booked', 'meetings_held',
            'meetings_no_show', 'meetings_cancelled', 'max_non_response_run', 'non_response_limit_reached',
            'cool_down_breaches', 'touches_after_opt_out', 'touches_before_creation'] %}
        coalesce(touch_summary.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        conversions.is_converted,
        conversions.converted_at,
        conversions.converted_after_window,
        conversions.converted_before_creation,
        conversions.stage_reached,
        conversions.sql_reached_at,
        conversions.opportunity_reached_at,
        conversions.won_reached_at,
        conversions.sales_cycle_days,
        conversions.opportunities,
        conversions.opportunities_won,
        conversions.opportunities_lost,
        conversions.opportunities_open,
        conversions.opportunity_amount,
        conversions.pipeline_amount,
        conversions.won_amount,
        conversions.currency,
        leads.opted_out_at,
        leads.opted_out_at is not null as is_opted_out,
        leads.is_vip,
        leads.is_dispute
    from leads
    left join touch_summary
        on leads.lead_id = touch_summary.lead_id
        and leads.partition_month = touch_summary.partition_month
    left join conversions
        on leads.lead_id = conversions.lead_id
        and leads.partition_month = conversions.partition_month

),

final as (

    select
        *,
        window_end_at <= data_as_of_at as is_window_complete,
        first_contact_at is not null as is_contacted,
        coalesce(ttf_hours <= ttf_target_hours, false) as is_within_ttf_target,
        touches_in_window - touches_before_conversion as touches_after_conversion,
        touches_in_threshold_window >= min_touches_target as is_min_touches_met,
        max_touches_in_one_day > max_touches_per_day or max_emails_in_one_day > max_emails_per_day
            as is_daily_cap_exceeded,
        (is_vip or is_dispute) and channels_used_in_window > 1 as is_single_channel_breach,
        '{{ var("conversion_stage") }}' as conversion_stage,
        '{{ var("scoping_note_version") }}' as scoping_note_version
    from joined

)

select * from final
