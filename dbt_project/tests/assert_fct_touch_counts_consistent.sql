-- Touch counts of a lead agree with each other (per channel sum, before/after conversion, daily peak).
select lead_id, touches_in_window, touches_before_conversion, max_touches_in_one_day
from {{ ref('fct_lead_cadence') }}
where {{ tested_months() }}
    and (
        touches_in_window <> call_touches_in_window + email_touches_in_window + meeting_touches_in_window
            + other_touches_in_window
        or touches_before_conversion > touches_in_window
        or touches_after_conversion < 0
        or max_touches_in_one_day > touches_in_window
        or (touches_in_window > 0 and max_touches_in_one_day = 0)
        or (is_converted and converted_at is null)
        or ttf_hours < 0
    )
