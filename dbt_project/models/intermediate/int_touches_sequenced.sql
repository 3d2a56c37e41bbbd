{#-
    One row per touch (as int_touches_unioned) placed in its lead's sequence: touch number, the first
    effective contact, the run of consecutive non-responses (ended by a response or by a pause of at least
    the cool-down) and cool-down breaches. Windows are partitioned by lead (set-based, scales with touches).
-#}

with touches as (

    select * from {{ ref('int_touches_unioned') }}
    where {{ partition_predicate() }}

),

counted as (

    select
        *,
        cast(sum(case when is_touch then 1 else 0 end) over (
            partition by lead_id order by touch_at, touch_id rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as touches_so_far,
        cast(sum(case when is_response then 1 else 0 end) over (
            partition by lead_id order by touch_at, touch_id rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as responses_so_far,
        case when is_touch then
            lag(touch_at) over (partition by lead_id, is_touch order by touch_at, touch_id)
        end as previous_touch_at,
        row_number() over (
            partition by lead_id, coalesce(contact_at >= lead_created_at, false)
            order by contact_at, touch_id
        ) as contact_rank
    from touches

),

paused as (

    select
        *,
        -- a pause of at least the cool-down between two touches ends a run, like a response does
        cast(sum(
            case when previous_touch_at is not null
                and touch_at >= {{ dbt.dateadd('day', var('cool_down_days'), 'previous_touch_at') }} then 1 else 0 end
        ) over (
            partition by lead_id order by touch_at, touch_id rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as pauses_so_far
    from counted

),

runs as (

    select
        *,
        cast(sum(case when is_touch and not is_response then 1 else 0 end) over (
            partition by lead_id, responses_so_far, pauses_so_far
            order by touch_at, touch_id rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as non_response_run_length
    from paused

),

with_previous as (

    select
        *,
        lag(non_response_run_length) over (partition by lead_id, is_touch order by touch_at, touch_id)
            as previous_touch_run_length,
        lag(responses_so_far) over (partition by lead_id, is_touch order by touch_at, touch_id)
            as previous_touch_responses_so_far
    from runs

),

final as (

    select
        *,
        case when is_touch then touches_so_far end as touch_number,
        coalesce(contact_at >= lead_created_at, false) and contact_rank = 1 as is_first_effective_contact,
        is_touch and not is_response
            and non_response_run_length = {{ var('non_response_limit') }} as is_non_response_limit_reached,
        -- a rep's touch sooner than the cool-down after a run of `non_response_limit` non-responses, with no
        -- response in between (a call placed by the lead is never a breach)
        coalesce(
            is_touch
            and direction = 'outbound'
            and previous_touch_run_length >= {{ var('non_response_limit') }}
            and previous_touch_responses_so_far = responses_so_far - (case when is_response then 1 else 0 end)
            and touch_at < {{ dbt.dateadd('day', var('cool_down_days'), 'previous_touch_at') }},
            false
        ) as is_cool_down_breach
    from with_previous

)

select * from final
