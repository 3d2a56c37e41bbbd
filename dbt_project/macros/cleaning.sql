{#-
    The row-level cleaning rules shared by every staging model (docs/quality.md explains each choice).

    Staging keeps one row per raw row (raw = kept + excluded, exactly). An excluded row carries a rule code
    in `exclusion_reason` (`<rule>` or `<rule>:<column>`) and a sentence in `exclusion_detail` that names
    the offending value; `cleaning.cleaning_log` lists every excluded row with its file and line. A kept row
    that needed a repair or records something unusual but real carries `flags` (`<flag>:<column>`, `;`
    separated) and `flag_detail`; `cleaning.cleaning_flags` lists them. Exclusions are for rows that are
    wrong; what happened (a late opt-out, a win after the window, a connected call with a broken duration)
    is kept and flagged.

    Time: every timestamp is read against its lead's zone (a lead: its own). A text whose offset is the
    zone's at that instant (or `Z`) is the instant written. Otherwise (var time_zone_policy):
      repair  the wall clock written is read in the lead's zone (`tz_repaired`); a wall clock in a DST gap
              is read with the offset before the change (`dst_gap`), one in an overlap as its first
              occurrence (`dst_overlap`): Python's fold=0;
      strict  the row is excluded (tz_naive, wrong_offset).
    "Future" is after the extract was taken: `_extracted_at`, the file's export time (`_extract.yml`
    beside it, see docs/extract_contract.md) or else its load time. Nothing is future for being after
    the attribution window: a touch after it only leaves the window's counts.

    Rules, in this order; the first that matches decides (a row is logged once, under one rule):
      1. unreadable   missing_mandatory:<col>, bad_timestamp:<col>, bad_number:<col> (not a finite number),
                      tz_naive:<col> (strict only), unknown_value:<col> (a coded value outside the contract;
                      a lead's segment columns are kept as 'other' and flagged instead)
      2. its zone     missing_timezone, unknown_timezone (leads)
      3. its lead     unknown_lead (lead_id in no lead row of the month), lead_excluded (the lead's rows
                      are all excluded), wrong_offset:<col> (strict only), outside_month (leads created in
                      another month), future_timestamp:<col> (an event after the extract was taken),
                      before_lead_creation:<col> (touches)
      4. repeats      exact_duplicate (same payload as an earlier valid row: the first is kept),
                      duplicate_key (same key, other payload: the LAST valid row of the export wins, the
                      export listing a record's states in order: files by name, then lines)
      5. implausible  call_burst (more than var burst_calls_per_lead_day calls to one lead in one local day)
    Rules 1-3 look at one row (and its lead); 4-5 only compare rows that passed 1-3, so a duplicate never
    wins over a valid row and a burst is counted on valid, distinct calls.
-#}

{% macro payload_fingerprint(columns) -%}
    md5(concat_ws('\x1f', {% for c in columns %}coalesce(cast({{ c }} as varchar), '\x00'){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}

{#- A rule hit: '<code>|<detail>' (split into exclusion_reason / exclusion_detail by apply_exclusions). -#}
{% macro _hit(code, detail) -%}
    '{{ code }}|' || {{ detail }}
{%- endmacro %}

{% macro _quoted(column) -%}
    '"' || left(coalesce({{ column }}, ''), 80) || '"'
{%- endmacro %}

{#- The offset written in an ISO text (minutes): local wall time of the text minus the UTC instant. -#}
{% macro written_offset_minutes(raw_text, utc_ts) -%}
    cast(round(({{ epoch_seconds("try_cast(regexp_replace(trim(" ~ raw_text ~ "), '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$', '') as timestamp)") }}
        - {{ epoch_seconds(utc_ts) }}) / 60) as integer)
{%- endmacro %}

{#- The UTC offset (minutes) of IANA zone `zone` at UTC instant `utc_ts`, DST included. -#}
{% macro zone_offset_minutes(utc_ts, zone) -%}
    cast(round(({{ epoch_seconds(to_local_time(utc_ts, zone)) }} - {{ epoch_seconds(utc_ts) }}) / 60) as integer)
{%- endmacro %}

{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'cadence')(ts)) }}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}
    epoch({{ ts }})
{%- endmacro %}

{% macro offset_label(minutes) -%}
    (case when {{ minutes }} < 0 then '-' else '+' end) || lpad(cast(abs({{ minutes }}) // 60 as varchar), 2, '0')
        || ':' || lpad(cast(abs({{ minutes }}) % 60 as varchar), 2, '0')
{%- endmacro %}

{#- The month's leads as seen by the touch tables: one row per lead_id (kept row's zone and creation). -#}
{% macro month_leads() -%}
    select
        partition_month,
        lead_id,
        bool_or(is_kept) as lead_is_kept,
        max(created_at) filter (where is_kept) as lead_created_at,
        max(lead_timezone) filter (where is_kept) as lead_zone,
        min(exclusion_reason) as lead_exclusion_reason
    from {{ ref('stg_crm__leads') }}
    where lead_id is not null and {{ partition_predicate() }}
    group by partition_month, lead_id
{%- endmacro %}

{#- A touch table's rows with their lead's facts from `leads` (a CTE of month_leads()): what the orphan,
    excluded-lead, wrong-offset and before-creation rules need. -#}
{% macro with_month_lead(relation) -%}
    select
        {{ relation }}.*,
        leads.lead_is_kept,
        leads.lead_created_at,
        leads.lead_zone,
        leads.lead_exclusion_reason
    from {{ relation }}
    left join leads
        on {{ relation }}.partition_month = leads.partition_month
        and {{ relation }}.lead_id = leads.lead_id
{%- endmacro %}

{#- The month's export time of each raw row: its file's `exported_at` (raw._loads, from `_extract.yml`),
    else the time the file was loaded. Selects the raw table's rows of the month with `_extracted_at`. -#}
{% macro source_rows(table) -%}
    {%- set parts = table.split('__') -%}
    select
        src.*,
        coalesce(loads.exported_at, src._loaded_at) as _extracted_at,
        loads.zone_rule as _zone_rule
    from {{ source('raw', table) }} as src
    left join (
        select _partition_month, _source_file, max(exported_at) as exported_at, max(zone_rule) as zone_rule
        from {{ ingestion_log('_loads') }}
        where source = '{{ parts[0] }}' and entity = '{{ parts[1] }}'
        group by _partition_month, _source_file
    ) as loads
        on src._partition_month = loads._partition_month
        and src._source_file = loads._source_file
    {{ partition_filter('src._partition_month') }}
{%- endmacro %}

{#- A timestamp text typed: the instant as written (texts with an offset only) and the wall clock it shows
    (with or without an offset). resolve_timestamps turns them into the instant against the lead's zone. -#}
{% macro typed_timestamp(column) -%}
    {{ to_utc(column) }} as {{ column }}__written,
    {{ wall_clock(column) }} as {{ column }}__wall
{%- endmacro %}

{#- True when the text's offset is the zone's at the instant written (or is `Z`, explicit UTC). -#}
{% macro _offset_agrees(column, zone) -%}
    (regexp_matches(trim(raw_{{ column }}), '[Zz]$')
        or {{ written_offset_minutes('raw_' ~ column, column ~ '__written') }} = {{ zone_offset_minutes(column ~ '__written', zone) }})
{%- endmacro %}

{#- The zone a row's wall clocks are read in: the file's declared fixed zone (`_zone_rule`, from the field
    mapping's `timestamps.timezone`), else the row's lead's zone. -#}
{% macro read_zone(lead_zone='lead_zone') -%}
    case when _zone_rule is not null and _zone_rule <> 'lead' then _zone_rule else {{ lead_zone }} end
{%- endmacro %}

{#- Per timestamp column: `<col>__repair` says how the text becomes an instant, NULL when it is the
    instant written: `declared` (a naive wall clock the field mapping declares in a zone: read in it),
    `wrong_offset` / `missing_offset` (repair policy: a defect, read in the lead's zone and flagged).
    Over a relation with <col>__written, <col>__wall, raw_<col>, _zone_rule and the lead's zone; adds
    `_read_zone`. -#}
{% macro timestamp_checks(relation, columns, zone='lead_zone') -%}
    select
        *,
        {{ read_zone(zone) }} as _read_zone
        {%- for c in columns %},
        case
            when {{ read_zone(zone) }} is null then null
            when {{ c }}__written is null and {{ c }}__wall is not null and _zone_rule is not null then 'declared'
            {%- if var('time_zone_policy', 'repair') == 'repair' %}
            when {{ c }}__written is not null and not {{ _offset_agrees(c, read_zone(zone)) }} then 'wrong_offset'
            when {{ c }}__written is null and {{ c }}__wall is not null then 'missing_offset'
            {%- endif %}
        end as {{ c }}__repair
        {%- endfor %}
    from {{ relation }}
{%- endmacro %}

{#- Per timestamp column: `<col>` = the UTC instant (as written, or the wall clock read in the zone when
    `<col>__repair`), `<col>__dst` = dst_gap | dst_overlap for a repaired wall clock at a DST change. -#}
{% macro resolve_timestamps(relation, columns, zone='_read_zone') -%}
    select
        *
        {%- for c in columns %},
        case when {{ c }}__repair is null then {{ c }}__written else {{ local_to_utc(c ~ '__wall', zone) }} end
            as {{ c }},
        case when {{ c }}__repair is not null then {{ dst_kind(c ~ '__wall', zone) }} end as {{ c }}__dst
        {%- endfor %}
    from {{ relation }}
{%- endmacro %}

{#- True when a timestamp of the row was a defect read in the lead's zone (`tz_repaired`). -#}
{% macro any_tz_repaired(columns) -%}
    ({% for c in columns %}coalesce({{ c }}__repair in ('wrong_offset', 'missing_offset'), false){% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{#- The zone's offset (minutes) a day before / after a wall clock (read as if UTC): the offsets on either
    side of any DST change near it. -#}
{% macro _offset_around(wall, zone, days) -%}
    {{ zone_offset_minutes(dbt.dateadd('day', days, wall), zone) }}
{%- endmacro %}

{% macro _wall_minus(wall, minutes) -%}
    {{ dbt.dateadd('minute', '-(' ~ minutes ~ ')', wall) }}
{%- endmacro %}

{#- A wall clock in an IANA zone -> UTC instant, by Python's fold=0 rule: in an overlap the first
    occurrence, in a gap the offset in force before the change (02:30 in a spring gap = 03:30 after it). -#}
{% macro local_to_utc(wall, zone) -%}
    {%- set before = _wall_minus(wall, _offset_around(wall, zone, -1)) -%}
    {%- set after = _wall_minus(wall, _offset_around(wall, zone, 1)) -%}
    case
        when {{ to_local_time(before, zone) }} = {{ wall }} then {{ before }}
        when {{ to_local_time(after, zone) }} = {{ wall }} then {{ after }}
        else {{ before }}
    end
{%- endmacro %}

{#- 'dst_gap' (the wall clock does not exist in the zone), 'dst_overlap' (it exists twice), else NULL. -#}
{% macro dst_kind(wall, zone) -%}
    {%- set before = _wall_minus(wall, _offset_around(wall, zone, -1)) -%}
    {%- set after = _wall_minus(wall, _offset_around(wall, zone, 1)) -%}
    case
        when {{ _offset_around(wall, zone, -1) }} = {{ _offset_around(wall, zone, 1) }} then null
        when {{ to_local_time(before, zone) }} = {{ wall }} and {{ to_local_time(after, zone) }} = {{ wall }}
            then 'dst_overlap'
        when {{ to_local_time(before, zone) }} <> {{ wall }} and {{ to_local_time(after, zone) }} <> {{ wall }}
            then 'dst_gap'
    end
{%- endmacro %}

{#- Flag items of the timestamps (for row_flags), per column: `tz_repaired` (a defect read in the lead's
    zone) or, for a wall clock declared in a zone, `dst_gap` / `dst_overlap` (resolved by the fold=0 rule). -#}
{% macro tz_flag_items(columns, zone='_read_zone') -%}
    {%- set items = [] -%}
    {%- for c in columns -%}
        {%- do items.append({
            'code': "'tz_repaired:" ~ c ~ "'",
            'when': c ~ "__repair in ('wrong_offset', 'missing_offset')",
            'detail': "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || (case " ~ c ~ "__repair when 'missing_offset' then ' has no UTC offset' else ' has an offset that is not ' || " ~ zone ~ " || '''s at that instant' end) || ': read as the wall clock in ' || " ~ zone ~ " || coalesce(' (' || " ~ c ~ "__dst || ': the fold=0 reading)', '')",
        }) -%}
        {%- do items.append({
            'code': c ~ "__dst || ':" ~ c ~ "'",
            'when': c ~ "__repair = 'declared' and " ~ c ~ "__dst is not null",
            'detail': "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || (case " ~ c ~ "__dst when 'dst_gap' then ' does not exist in ' || " ~ zone ~ " || ' (DST gap): read with the offset before the change' else ' happens twice in ' || " ~ zone ~ " || ' (DST overlap): read as its first occurrence' end)",
        }) -%}
    {%- endfor -%}
    {{ return(items) }}
{%- endmacro %}

{#- `flags` (codes, ';' separated) and `flag_detail` (sentences) from items {code, when, detail}: what a kept
    row needed or records that is unusual but real. NULL when none applies. -#}
{% macro row_flags(items) -%}
    {%- if items | length == 0 -%}
    cast(null as {{ dbt.type_string() }}) as flags,
    cast(null as {{ dbt.type_string() }}) as flag_detail
    {%- else -%}
    nullif(concat_ws(';'{% for i in items %}, case when {{ i.when }} then {{ i.code }} end{% endfor %}), '') as flags,
    nullif(concat_ws('; '{% for i in items %}, case when {{ i.when }} then {{ i.detail }} end{% endfor %}), '')
        as flag_detail
    {%- endif -%}
{%- endmacro %}

{#- Rules 1-3 as one CASE over a relation with raw_<col> texts, resolved timestamps (<col>, <col>__written,
    <col>__wall), `_extracted_at` and, when `lead_rules`, the month_leads() columns (lead_is_kept,
    lead_created_at, lead_zone, lead_exclusion_reason). `events`: timestamps that cannot be after the
    extract; `before_creation`: timestamps that cannot precede the lead's creation (exclusion). -#}
{% macro row_rules(mandatory, timestamps, numbers=[], integers=[], lead_rules=true, events=[],
                   before_creation=[], is_leads=false, coded=[], entity=none) -%}
    {%- set strict = var('time_zone_policy', 'repair') == 'strict' -%}
    case
        {%- for c in mandatory %}
        when nullif(trim(raw_{{ c }}), '') is null then {{ _hit('missing_mandatory:' ~ c, "'" ~ c ~ " is empty'") }}
        {%- endfor %}
        {%- for c in timestamps %}
        {%- if strict %}
        when _zone_rule is null and {{ is_tz_naive('raw_' ~ c) }} then {{ _hit('tz_naive:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' has no UTC offset (time_zone_policy: strict)'") }}
        {%- endif %}
        when nullif(trim(raw_{{ c }}), '') is not null and {{ c }}__written is null and {{ c }}__wall is null
            then {{ _hit('bad_timestamp:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is not an ISO 8601 timestamp'") }}
        {%- endfor %}
        {%- for c in numbers %}
        when raw_{{ c }} is not null and (try_cast(raw_{{ c }} as double) is null
            or not isfinite(try_cast(raw_{{ c }} as double))
            {%- if c in integers %} or abs(try_cast(raw_{{ c }} as double)) >= 2147483648{% endif %})
            then {{ _hit('bad_number:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is not a finite number" ~ (" in the integer range" if c in integers else "") ~ "'") }}
        {%- endfor %}
        {%- for c in coded %}
        when {{ is_unknown_value(entity, c) }}
            then {{ _hit('unknown_value:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is not one of " ~ (var('contract_value_sets')[entity][c] | join('/')) ~ " (recode it in sources.yml: values)'") }}
        {%- endfor %}
        {%- if is_leads %}
        when nullif(trim(raw_lead_timezone), '') is null
            then {{ _hit('missing_timezone', "'lead_timezone is empty: the lead''s times cannot be placed (fill the column, or declare a default zone: timestamps.timezone in sources.yml)'") }}
        when lead_zone is null
            then {{ _hit('unknown_timezone', "'lead_timezone ' || " ~ _quoted('raw_lead_timezone') ~ " || ' is not an IANA time zone'") }}
        {%- endif %}
        {%- if lead_rules and not is_leads %}
        when lead_is_kept is null
            then {{ _hit('unknown_lead', "'lead_id ' || lead_id || ' is in no lead row of month ' || partition_month") }}
        when not lead_is_kept
            then {{ _hit('lead_excluded', "'lead ' || lead_id || ' is excluded (' || lead_exclusion_reason || ')'") }}
        {%- endif %}
        {%- if strict %}
        {%- for c in timestamps %}
        when {{ c }}__written is not null and not {{ _offset_agrees(c, '_read_zone') }}
            then {{ _hit('wrong_offset:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' has offset ' || "
                ~ offset_label(written_offset_minutes('raw_' ~ c, c ~ '__written')) ~ " || ' but ' || _read_zone || ' is at ' || "
                ~ offset_label(zone_offset_minutes(c ~ '__written', '_read_zone')) ~ " || ' at that instant (time_zone_policy: strict)'") }}
        {%- endfor %}
        {%- endif %}
        {%- if is_leads %}
        when strftime(created_at, '%Y-%m') <> partition_month
            and strftime({{ to_local_time('created_at', 'lead_zone') }}, '%Y-%m') <> partition_month
            then {{ _hit('outside_month', "'created_at ' || " ~ _quoted('raw_created_at') ~ " || ' is not in month ' || partition_month || ' (another month''s lead)'") }}
        {%- endif %}
        {%- for c in events %}
        when {{ c }} > _extracted_at
            then {{ _hit('future_timestamp:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is after the extract was taken (' || strftime(_extracted_at, '%Y-%m-%dT%H:%M:%SZ') || ')'") }}
        {%- endfor %}
        {%- for c in before_creation %}
        when {{ c }} < lead_created_at - to_minutes({{ var('before_creation_tolerance_minutes', 0) }})
            then {{ _hit('before_lead_creation:' ~ c, "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is before lead ' || lead_id || ' was created (' || strftime(lead_created_at, '%Y-%m-%dT%H:%M:%SZ') || ')'") }}
        {%- endfor %}
    end
{%- endmacro %}

{#- Rules 4-5 and the final exclusion_reason / exclusion_detail over `relation` (a CTE with the columns
    of row_rules' input, `rule_hit` = row_rules(...), payload_hash, partition_month and lineage).
    `burst_day`: an expression of the local call day (calls only) to apply call_burst. -#}
{% macro apply_exclusions(relation, key, burst_day=none) -%}
    ranked_exact as (
        select
            *,
            case when rule_hit is null then row_number() over (
                partition by partition_month, payload_hash, rule_hit is null order by _source_file, _source_row
            ) end as exact_rank,
            first_value(_source_file || ' row ' || _source_row) over (
                partition by partition_month, payload_hash, rule_hit is null order by _source_file, _source_row
            ) as exact_first_row
        from {{ relation }}
    ),

    ranked_key as (
        select
            *,
            -- the export lists a record's states in order: the last one is the current state
            case when exact_rank = 1 then row_number() over (
                partition by partition_month, {{ key }}, exact_rank = 1 order by _source_file desc, _source_row desc
            ) end as key_rank,
            first_value(_source_file || ' row ' || _source_row) over (
                partition by partition_month, {{ key }}, exact_rank = 1 order by _source_file desc, _source_row desc
            ) as key_winner
        from ranked_exact
    ),

    {%- if burst_day %}
    counted as (
        select
            *,
            case when key_rank = 1 then count(*) over (
                partition by partition_month, lead_id, {{ burst_day }}, key_rank = 1
            ) end as lead_day_calls
        from ranked_key
    ),
    {%- endif %}

    flagged as (
        select
            *,
            case
                when rule_hit is not null then split_part(rule_hit, '|', 1)
                when exact_rank > 1 then 'exact_duplicate'
                when key_rank > 1 then 'duplicate_key'
                {%- if burst_day %}
                when lead_day_calls > {{ var('burst_calls_per_lead_day', 50) }} then 'call_burst'
                {%- endif %}
            end as exclusion_reason,
            case
                when rule_hit is not null then substr(rule_hit, strpos(rule_hit, '|') + 1)
                when exact_rank > 1 then 'repeats ' || exact_first_row || ' (same payload; the first is kept)'
                when key_rank > 1 then '{{ key }} ' || {{ key }} || ' is listed again later, at ' || key_winner
                    || ', with another payload: the last valid row of the export wins'
                {%- if burst_day %}
                when lead_day_calls > {{ var('burst_calls_per_lead_day', 50) }}
                    then lead_day_calls || ' calls to lead ' || lead_id || ' on local day ' || {{ burst_day }}
                        || ' (more than {{ var("burst_calls_per_lead_day", 50) }}: an entry error, e.g. a dialler loop)'
                {%- endif %}
            end as exclusion_detail
        from {{ 'counted' if burst_day else 'ranked_key' }}
    )
{%- endmacro %}

{#- A coded column in its contract spelling (case and spaces forgiven: ' Connected ' -> 'connected',
    'smb' -> 'SMB'). Another value: 'other' for a segment column of the leads (`as_other`: the lead is real,
    its segment unknown: kept and flagged), else the text as written (then excluded as unknown_value). -#}
{% macro coded_value(entity, column, as_other=false) -%}
    case lower(trim({{ column }}))
        {%- for v in var('contract_value_sets')[entity][column] %}
        when '{{ v | lower }}' then '{{ v }}'
        {%- endfor %}
        else {% if as_other %}case when nullif(trim({{ column }}), '') is not null then 'other' end{% else %}lower(trim({{ column }})){% endif %}
    end
{%- endmacro %}

{#- True when a coded text is present but not one of the contract's values. -#}
{% macro is_unknown_value(entity, column) -%}
    (nullif(trim(raw_{{ column }}), '') is not null
        and lower(trim(raw_{{ column }})) not in ({% for v in var('contract_value_sets')[entity][column] %}'{{ v | lower }}'{% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}

{#- Flag items of segment columns whose value is not the contract's: kept as 'other'. -#}
{% macro unknown_segment_flag_items(entity, columns) -%}
    {%- set items = [] -%}
    {%- for c in columns -%}
        {%- do items.append({
            'code': "'unknown_value:" ~ c ~ "'",
            'when': is_unknown_value(entity, c),
            'detail': "'" ~ c ~ " ' || " ~ _quoted('raw_' ~ c) ~ " || ' is not " ~ (var('contract_value_sets')[entity][c] | join('/')) ~ ": kept as other (recode it in sources.yml: values)'",
        }) -%}
    {%- endfor -%}
    {{ return(items) }}
{%- endmacro %}

{#- A lead attribute used as a segment dimension (scoping note segments.dimensions): trimmed; empty ->
    'unknown'; with a declared value list (segments.values), matched case-insensitively to the declared
    spelling and any other value -> 'other'. The lead is always kept (flagged by attribute_flag_items). -#}
{% macro attribute_value(dim, column=none) -%}
    {%- set col = column or dim -%}
    {%- set vals = var('segment_values').get(dim) -%}
    case
        when nullif(trim({{ col }}), '') is null then 'unknown'
        {%- if vals %}
        {%- for v in vals %}
        when lower(trim({{ col }})) = '{{ v | lower | replace("'", "''") }}' then '{{ v | replace("'", "''") }}'
        {%- endfor %}
        else 'other'
        {%- else %}
        else trim({{ col }})
        {%- endif %}
    end
{%- endmacro %}

{#- Flag items of attribute dimensions: empty (segment 'unknown') or outside the declared values ('other'). -#}
{% macro attribute_flag_items(attributes) -%}
    {%- set items = [] -%}
    {%- for a in attributes -%}
        {%- set vals = var('segment_values').get(a) -%}
        {%- do items.append({
            'code': "'missing_segment:" ~ a ~ "'",
            'when': 'raw_' ~ a ~ ' is null',
            'detail': "'" ~ a ~ " is empty: the lead is kept, in segment unknown'",
        }) -%}
        {%- if vals -%}
        {%- set quoted = [] -%}
        {%- for v in vals -%}{%- do quoted.append("'" ~ (v | lower | replace("'", "''")) ~ "'") -%}{%- endfor -%}
        {%- do items.append({
            'code': "'unknown_value:" ~ a ~ "'",
            'when': 'raw_' ~ a ~ ' is not null and lower(raw_' ~ a ~ ') not in (' ~ (quoted | join(', ')) ~ ')',
            'detail': "'" ~ a ~ " ' || " ~ _quoted('raw_' ~ a) ~ " || ' is not one of the values declared in the scoping note (segments.values." ~ a ~ "): kept as other'",
        }) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(items) }}
{%- endmacro %}

{#- Fails the build with what to write when a segment dimension is not a column of the raw leads. -#}
{% macro check_attribute_columns(attributes) -%}
    {%- if execute and attributes -%}
        {%- set present = adapter.get_columns_in_relation(source('raw', 'crm__leads')) | map(attribute='name') | map('lower') | list -%}
        {%- for a in attributes if a not in present -%}
            {{ exceptions.raise_compiler_error("segment dimension '" ~ a ~ "' (scoping note segments.dimensions) is not a column of the CRM leads: declare it in config/sources.yml under sources.crm.entities.leads.attributes (e.g. attributes: {" ~ a ~ ": \"<the export's header>\"})") }}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
