{#-
    One row per month per rep (call-centre view): the rep's outbound calls in the attribution window
    (calls per active rep-hour, talk time, reachability, wrong numbers) and the rep's file exploitation
    (owned in-scope leads worked / owned in-scope leads to work).
-#}

with touches as (

    select * from {{ ref('int_touches_unioned') }}
    where touch_channel = 'call'
        and direction = 'outbound'
        and is_in_window
        and {{ is_in_audit_scope() }}
        and {{ partition_predicate() }}

),

lead_cadence as (

    select * from {{ ref('fct_lead_cadence') }}
    where is_in_scope and {{ partition_predicate() }}

),

calls_per_rep as (

    select
        partition_month,
        -- the caller is optional in the contract: calls without one are counted under 'unassigned'
        coalesce(rep_id, 'unassigned') as rep_id,
        count(*) as calls_dialled,
        -- an active rep-hour: a UTC clock hour in which the rep dialled at least once
        count(distinct {{ dbt.date_trunc('hour', 'touch_at') }}) as active_rep_hours,
        count(*) filter (where call_outcome = 'connected') as calls_connected,
        count(*) filter (where is_conversation) as conversations,
        count(*) filter (where call_outcome = 'wrong_number') as calls_wrong_number,
        {{ sum_int('call_duration_seconds') }} as talk_seconds
    from touches
    group by partition_month, coalesce(rep_id, 'unassigned')

),

files_per_rep as (

    select
        partition_month,
        rep_id,
        min(team) as team,
        count(*) as leads_to_work,
        count(*) filter (where touches_in_window > 0) as leads_worked
    from lead_cadence
    group by partition_month, rep_id

),

joined as (

    select
        coalesce(files.partition_month, calls.partition_month) as partition_month,
        coalesce(files.rep_id, calls.rep_id) as rep_id,
        files.team,
        coalesce(calls.calls_dialled, 0) as calls_dialled,
        coalesce(calls.active_rep_hours, 0) as active_rep_hours,
        coalesce(calls.calls_connected, 0) as calls_connected,
        coalesce(calls.conversations, 0) as conversations,
        coalesce(calls.calls_wrong_number, 0) as calls_wrong_number,
        coalesce(calls.talk_seconds, 0) as talk_seconds,
        coalesce(files.leads_to_work, 0) as leads_to_work,
        coalesce(files.leads_worked, 0) as leads_worked
    from files_per_rep as files
    full outer join calls_per_rep as calls
        on files.partition_month = calls.partition_month
        and files.rep_id = calls.rep_id

),

final as (

    select
        {{ dbt.concat(['partition_month', "'|'", 'rep_id']) }} as call_rep_id,
        *,
        {{ ratio('calls_dialled', 'active_rep_hours') }} as calls_per_rep_hour,
        {{ ratio('talk_seconds', 'calls_connected') }} as talk_seconds_per_connected_call,
        {{ ratio('calls_connected', 'calls_dialled') }} as reachability_rate,
        {{ ratio('conversations', 'calls_connected') }} as conversation_rate,
        {{ ratio('calls_wrong_number', 'calls_dialled') }} as wrong_number_rate,
        {{ ratio('leads_worked', 'leads_to_work') }} as file_exploitation_rate,
        '{{ var("scoping_note_version") }}' as scoping_note_version
    from joined

)

select * from final
