{#-
    One row per month per lead-local weekday and hour (the best time to call): calls in the attribution
    window of in-scope leads, local time from the lead's IANA zone (DST-aware). Counts are additive.
-#}

with touches as (

    select * from {{ ref('int_touches_unioned') }}
    where touch_channel = 'call'
        and is_in_window
        and {{ is_in_audit_scope() }}
        and {{ partition_predicate() }}

),

aggregated as (

    select
        partition_month,
        touch_local_weekday as local_weekday,
        touch_local_hour as local_hour,
        count(*) as calls,
        count(*) filter (where direction = 'outbound') as calls_dialled,
        count(*) filter (where direction = 'outbound' and call_outcome = 'connected') as calls_connected,
        count(*) filter (where direction = 'outbound' and is_conversation) as conversations,
        count(*) filter (where direction = 'outbound' and call_outcome = 'wrong_number') as calls_wrong_number,
        count(*) filter (where direction = 'inbound') as inbound_calls,
        {{ sum_int('call_duration_seconds') }} as talk_seconds
    from touches
    group by partition_month, touch_local_weekday, touch_local_hour

),

final as (

    select
        {{ dbt.concat(['partition_month', "'|'", 'cast(local_weekday as ' ~ dbt.type_string() ~ ')', "'|'",
            'cast(local_hour as ' ~ dbt.type_string() ~ ')']) }} as call_hour_id,
        *,
        local_hour >= {{ var('calling_hours_start') }} and local_hour < {{ var('calling_hours_end') }}
            as is_within_calling_hours,
        {{ ratio('calls_connected', 'calls_dialled') }} as reachability_rate,
        {{ ratio('conversations', 'calls_connected') }} as conversation_rate,
        {{ ratio('calls_wrong_number', 'calls_dialled') }} as wrong_number_rate,
        '{{ var("scoping_note_version") }}' as scoping_note_version
    from aggregated

)

select * from final
