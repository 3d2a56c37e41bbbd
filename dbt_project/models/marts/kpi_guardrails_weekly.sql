{#-
    One row per cohort month, ISO week and segment (segment_level × segment_key, "all" included): the
    e-mail guardrails. A message belongs to the UTC ISO week of its delivery (of its sending when it was
    never delivered); rates are per delivered (complaints, unsubscribes) or sent (bounces) message.
-#}

with email_touches as (

    select
        *,
        {{ dbt.date_trunc('week', 'coalesce(email_delivered_at, touch_at)') }} as week_start_at
    from {{ ref('int_touches_unioned') }}
    where touch_channel = 'email'
        and {{ is_in_audit_scope() }}
        and {{ partition_predicate() }}

),

aggregated as (

    select
        partition_month,
        week_start_at,
        {{ segment_columns() }}
        count(*) as emails_sent,
        count(*) filter (where is_email_delivered) as emails_delivered,
        count(*) filter (where is_email_complained) as complaints,
        count(*) filter (where is_email_unsubscribed) as unsubscribes,
        count(*) filter (where is_email_bounced) as bounces
    from email_touches
    group by {{ segment_grouping_sets(['partition_month', 'week_start_at']) }}

),

rated as (

    select
        *,
        {{ ratio('complaints', 'emails_delivered') }} as complaint_rate,
        {{ ratio('unsubscribes', 'emails_delivered') }} as unsubscribe_rate,
        {{ ratio('bounces', 'emails_sent') }} as bounce_rate
    from aggregated

),

final as (

    select
        {{ dbt.concat(['partition_month', "'|'", iso_week_label('week_start_at'), "'|'", 'segment_key']) }}
            as guardrail_week_id,
        partition_month,
        {{ iso_week_label('week_start_at') }} as iso_week,
        cast(week_start_at as date) as week_start_date,
        segment_level,
        segment_key,
        {%- for c in segment_cube_columns() %}
        {{ c }},
        {%- endfor %}
        emails_sent,
        emails_delivered,
        complaints,
        unsubscribes,
        bounces,
        complaint_rate,
        unsubscribe_rate,
        bounce_rate,
        coalesce(complaint_rate > {{ var('complaint_rate_max') }}, false) as is_complaint_guardrail_breached,
        coalesce(unsubscribe_rate > {{ var('unsubscribe_rate_max') }}, false) as is_unsubscribe_guardrail_breached,
        coalesce(bounce_rate > {{ var('bounce_rate_max') }}, false) as is_bounce_guardrail_breached,
        '{{ var("scoping_note_version") }}' as scoping_note_version
    from rated

)

select * from final
