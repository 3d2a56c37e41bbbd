{#- One row per e-mail message and recipient lead: the message's events pivoted to one timestamp each. -#}

with email_events as (

    select * from {{ ref('stg_emailing__email_events') }}
    where is_kept and {{ partition_predicate() }}

),

pivoted as (

    select
        partition_month,
        message_id,
        lead_id,
        min(rep_id) as rep_id,
        min(campaign_id) as campaign_id,
        min(event_at) filter (where event_type = 'sent') as sent_at,
        min(event_at) filter (where event_type = 'delivered') as delivered_at,
        min(event_at) filter (where event_type = 'opened') as opened_at,
        min(event_at) filter (where event_type = 'clicked') as clicked_at,
        min(event_at) filter (where event_type = 'replied') as replied_at,
        min(event_at) filter (where event_type = 'bounced') as bounced_at,
        min(event_at) filter (where event_type = 'unsubscribed') as unsubscribed_at,
        min(event_at) filter (where event_type = 'complained') as complained_at,
        min(event_at) as first_event_at,
        count(*) as events
    from email_events
    group by partition_month, message_id, lead_id

),

final as (

    select
        {{ dbt.concat(["'email:'", 'message_id', "':'", 'lead_id']) }} as touch_id,
        partition_month,
        message_id,
        lead_id,
        rep_id,
        campaign_id,
        -- a message without its 'sent' event (partial export) is dated by its first event
        coalesce(sent_at, first_event_at) as sent_at,
        sent_at is not null as has_sent_event,
        delivered_at,
        opened_at,
        clicked_at,
        replied_at,
        bounced_at,
        unsubscribed_at,
        complained_at,
        events
    from pivoted

)

select * from final
