{#- The raw tables the cleaning accounts for, with their key and whether a month needs them (the extract
    contract's entities: only the leads are required, the others may be absent or empty). -#}
{% macro cleaned_tables() -%}
    {{ return([
        {'table': 'crm__leads', 'key': 'lead_id', 'required': true},
        {'table': 'crm__opportunities', 'key': 'opportunity_id', 'required': false},
        {'table': 'voip__calls', 'key': 'call_id', 'required': false},
        {'table': 'emailing__email_events', 'key': 'event_id', 'required': false},
        {'table': 'calendar__meetings', 'key': 'meeting_id', 'required': false},
    ]) }}
{%- endmacro %}

{#- Ingestion's bookkeeping tables (raw._loads, raw._load_rejects). They are written by the same ingestion
    assets as the raw tables these models already depend on, so they are read directly, not as sources
    (a dbt source would become an unpartitioned Dagster asset of its own). -#}
{% macro ingestion_log(name) -%}
    {{ api.Relation.create(database=target.database, schema='raw', identifier=name) }}
{%- endmacro %}
