{#-
    The lead KPIs shared by the segment and rep marts: `lead_kpi_aggregates()` aggregates fct_lead_cadence
    rows (any grouping), `lead_kpi_ratios()` then derives rates from those aggregates in a later CTE.
    Formulas are documented in models/marts/_marts__docs.md.
-#}

{% macro lead_kpi_aggregates() -%}
        count(*) as leads,
        count(*) filter (where is_converted) as conversions,
        count(*) filter (where is_contacted) as leads_contacted,
        count(*) filter (where touches_in_window > 0) as leads_worked,
        {{ sum_int('touches_in_window') }} as touches,
        {{ sum_int('touches_before_conversion') }} as touches_before_conversion,
        avg(touches_in_window) as touches_per_lead_mean,
        percentile_cont(0.25) within group (order by touches_in_window) as touches_per_lead_p25,
        percentile_cont(0.5) within group (order by touches_in_window) as touches_per_lead_median,
        percentile_cont(0.75) within group (order by touches_in_window) as touches_per_lead_p75,
        percentile_cont(0.5) within group (order by ttf_hours) as ttf_median_hours,
        percentile_cont(0.9) within group (order by ttf_hours) as ttf_p90_hours,
        count(*) filter (where is_within_ttf_target) as leads_within_ttf_target,
        count(*) filter (where is_min_touches_met) as leads_min_touches_met,
        count(*) filter (where is_daily_cap_exceeded) as leads_daily_cap_exceeded,
        {%- for column in ['calls_dialled', 'calls_connected', 'conversations', 'calls_wrong_number',
            'calls_outside_calling_hours', 'talk_seconds', 'emails_sent', 'emails_delivered', 'emails_replied',
            'emails_bounced', 'emails_unsubscribed', 'emails_complained', 'meetings_held', 'meetings_no_show',
            'opportunities', 'opportunities_won', 'opportunities_lost', 'touches_after_opt_out',
            'cool_down_breaches'] %}
        {{ sum_int(column) }} as {{ column }},
        {%- endfor %}
        count(*) filter (where stage_reached = 'won') as leads_won,
        count(*) filter (where is_opted_out) as leads_opted_out,
        percentile_cont(0.5) within group (order by sales_cycle_days) as sales_cycle_median_days,
        sum(pipeline_amount) as pipeline_amount,
        sum(won_amount) as won_amount
{%- endmacro %}

{% macro lead_kpi_ratios() -%}
        {{ ratio('conversions', 'leads') }} as conversion_rate,
        {{ wilson_bound('conversions', 'leads', 'lower') }} as conversion_rate_ci_low,
        {{ wilson_bound('conversions', 'leads', 'upper') }} as conversion_rate_ci_high,
        touches_per_lead_p75 - touches_per_lead_p25 as touches_per_lead_iqr,
        {{ ratio('leads_within_ttf_target', 'leads') }} as share_within_ttf_target,
        {{ ratio('leads_min_touches_met', 'leads') }} as share_min_touches_met,
        {{ ratio('leads_worked', 'leads') }} as file_exploitation_rate,
        {{ ratio('calls_connected', 'calls_dialled') }} as reachability_rate,
        {{ ratio('conversations', 'calls_connected') }} as conversation_rate,
        {{ ratio('emails_replied', 'emails_delivered') }} as reply_rate,
        {{ ratio('meetings_no_show', 'meetings_held + meetings_no_show') }} as no_show_rate,
        {{ ratio('opportunities_won', 'meetings_held') }} as closing_rate,
        {{ ratio('opportunities_won', 'opportunities_won + opportunities_lost') }} as win_rate,
        {{ ratio('emails_unsubscribed', 'emails_delivered') }} as unsubscribe_rate,
        {{ ratio('emails_bounced', 'emails_sent') }} as bounce_rate,
        {{ ratio('emails_complained', 'emails_delivered') }} as complaint_rate
{%- endmacro %}

{#- The segment design of every segment mart: the scoping note's dimensions (var segment_dimensions, default
    channel × company_size) × funnel_phase, each subset (smaller first, in declaration order) as a grouping
    set, "all" included. A column not grouped reads 'all'. cadence.scoping.segment_levels lists the same. -#}
{% macro segment_grouping_sets(always=['partition_month']) -%}
    {%- set cols = segment_cube_columns() -%}
    {%- set n = cols | length -%}
    {%- set sets = [] -%}
    {%- for size in range(n + 1) -%}
        {%- for m in range(2 ** n) -%}
            {%- set s = [] -%}
            {%- for i in range(n) if (m // (2 ** i)) % 2 == 1 -%}{%- do s.append(cols[i]) -%}{%- endfor -%}
            {%- if s | length == size -%}{%- do sets.append(s) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    grouping sets (
        {%- for s in sets %}
        ({{ (always + s) | join(', ') }}){% if not loop.last %},{% endif %}
        {%- endfor %}
    )
{%- endmacro %}

{#- The columns a segment mart groups by: the dimensions, then funnel_phase. -#}
{% macro segment_cube_columns() -%}
    {{ return(var('segment_dimensions') + ['funnel_phase']) }}
{%- endmacro %}

{% macro segment_columns() -%}
        {%- set cols = segment_cube_columns() %}
        coalesce(nullif(concat_ws('+'
            {%- for c in cols %}, case when grouping({{ c }}) = 0 then '{{ c }}' end{% endfor %}), ''), 'all')
            as segment_level,
        coalesce(nullif(concat_ws(' | '
            {%- for c in cols %}, case when grouping({{ c }}) = 0 then {{ dbt.concat(["'" ~ c ~ "='", c]) }} end{% endfor %}), ''), 'all')
            as segment_key,
        {%- for c in cols %}
        case when grouping({{ c }}) = 0 then {{ c }} else 'all' end as {{ c }},
        {%- endfor %}
{%- endmacro %}

{#- `prefix.dim` for every segment dimension and funnel_phase (selects that carry a lead's segment). -#}
{% macro segment_select(prefix) -%}
    {%- for c in segment_cube_columns() %}{{ prefix }}.{{ c }}{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{#- Generic test: every segment_level is 'all' or a subset of the dimensions + funnel_phase joined by '+'
    in declaration order (what segment_columns() writes). -#}
{% test segment_levels(model, column_name) %}
    {%- set cols = segment_cube_columns() -%}
    {%- set n = cols | length -%}
    {%- set levels = ['all'] -%}
    {%- for m in range(1, 2 ** n) -%}
        {%- set s = [] -%}
        {%- for i in range(n) if (m // (2 ** i)) % 2 == 1 -%}{%- do s.append(cols[i]) -%}{%- endfor -%}
        {%- do levels.append(s | join('+')) -%}
    {%- endfor %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} not in ({{ sql_list(levels) }})
{% endtest %}
