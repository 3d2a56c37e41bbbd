{#-
    The scoping note inside SQL. Its values arrive as dbt vars (cadence.scoping.dbt_vars; defaults in
    dbt_project.yml); these macros turn them into SQL so no model hard-codes a definition.
-#}

{#- A quoted SQL list: ['a', 'b'] -> 'a', 'b' -#}
{% macro sql_list(values) -%}
    {%- for v in values %}'{{ v | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor -%}
{%- endmacro %}

{#- Fails the compilation with a clear message when a definition var holds an unknown value. -#}
{% macro check_scoping_var(name, allowed) -%}
    {%- if var(name) not in allowed -%}
        {{ exceptions.raise_compiler_error("scoping var " ~ name ~ " = " ~ var(name) ~ ": must be one of " ~ (allowed | join(', '))) }}
    {%- endif -%}
{%- endmacro %}

{#- The definition vars of the scoping note (contact, response, conversion), checked before use. -#}
{% macro check_definition_vars() -%}
    {{ check_scoping_var('contact_call', ['attempted', 'connected', 'conversation']) }}
    {{ check_scoping_var('contact_email', ['sent', 'delivered', 'opened', 'clicked', 'replied']) }}
    {{ check_scoping_var('contact_meeting', ['booked', 'held', 'never']) }}
    {{ check_scoping_var('response_call', ['connected', 'conversation', 'never']) }}
    {{ check_scoping_var('response_email', ['opened', 'clicked', 'replied', 'never']) }}
    {{ check_scoping_var('response_meeting', ['booked', 'held', 'never']) }}
    {{ check_scoping_var('conversion_stage', ['sql', 'opportunity', 'won']) }}
{%- endmacro %}

{#- End of the attribution window (exclusive): creation + attribution_window_days. -#}
{% macro attribution_window_end(created_at) -%}
    {{ dbt.dateadd('day', var('attribution_window_days') | int, created_at) }}
{%- endmacro %}

{#- True when the lead's segment is in the note's scope: channel and company_size (when they are segment
    dimensions) among the audited ones, and funnel_phase. An attribute dimension keeps every value: one
    outside its declared list is already 'other', an empty one 'unknown' (stg_crm__leads). -#}
{% macro is_in_audit_scope(prefix='') -%}
    {%- set p = prefix ~ '.' if prefix else '' -%}
    ({% if 'channel' in var('segment_dimensions') %}{{ p }}channel in ({{ sql_list(var('audited_channels')) }})
        and {% endif %}{% if 'company_size' in var('segment_dimensions') %}{{ p }}company_size in ({{ sql_list(var('audited_company_sizes')) }})
        and {% endif %}{{ p }}funnel_phase in ({{ sql_list(var('audited_funnel_phases')) }}))
{%- endmacro %}

{#- The segment dimensions that are lead attributes (not the contract's channel / company_size). -#}
{% macro attribute_dimensions() -%}
    {%- set out = [] -%}
    {%- for d in var('segment_dimensions') if d not in ['channel', 'company_size'] -%}{%- do out.append(d) -%}{%- endfor -%}
    {{ return(out) }}
{%- endmacro %}

{#-
    A threshold for the lead's segment: the first `segment_thresholds` entry whose `match` fits the
    lead's segment dimensions / funnel_phase and sets `name`, else the default var `name`.
-#}
{% macro segment_threshold(name) -%}
    {%- set entries = [] -%}
    {%- for entry in var('segment_thresholds') if name in entry -%}
        {%- do entries.append(entry) -%}
    {%- endfor -%}
    {%- if entries | length == 0 -%}
    {{ var(name) }}
    {%- else -%}
    case
        {%- for entry in entries %}
        when {% for col, value in entry['match'].items() %}{{ col }} = '{{ value }}'{% if not loop.last %} and {% endif %}{% endfor %} then {{ entry[name] }}
        {%- endfor %}
        else {{ var(name) }}
    end
    {%- endif -%}
{%- endmacro %}

{#- A Jinja truth value as a SQL boolean literal. -#}
{% macro sql_bool(value) -%}
    {{ 'true' if value else 'false' }}
{%- endmacro %}
