"""Guardrails (issue #6): compliance rules over every touch, weekly e-mail rate rules, KPI rules relative to
the previous month, and the breaches that alerts are sent for. Pure logic and SQL, no Dagster."""
