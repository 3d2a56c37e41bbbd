-- Rates are proportions and the Wilson interval brackets the conversion rate.
select segment_kpi_id as kpi_id, conversion_rate, conversion_rate_ci_low, conversion_rate_ci_high
from {{ ref('kpi_segments_monthly') }}
where {{ tested_months() }}
    and (
        conversion_rate not between 0 and 1
        or conversion_rate_ci_low > conversion_rate + 1e-12
        or conversion_rate_ci_high < conversion_rate - 1e-12
        or conversion_rate_ci_low < -1e-12
        or conversion_rate_ci_high > 1 + 1e-12
        {%- for rate in ['share_within_ttf_target', 'reachability_rate', 'conversation_rate', 'reply_rate',
            'no_show_rate', 'win_rate', 'unsubscribe_rate', 'bounce_rate', 'complaint_rate',
            'file_exploitation_rate'] %}
        or {{ rate }} not between 0 and 1
        {%- endfor %}
    )
