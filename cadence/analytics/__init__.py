"""The audit's statistics, as pure functions (no Dagster): SQL builders that reduce the lead mart to
sufficient statistics in DuckDB, estimators that work on those statistics only, and the decision rules
(traffic light, thresholds, express diagnostic). `docs/analytics.md` states every formula and rule.

Python never receives leads: at most one row per (segment, touch count, TTF band, converted).
"""
