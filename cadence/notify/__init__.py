"""Notifications (issue #6): alert settings, messages, apprise channels, the delivery ledger (exactly once
per breach and target, retries with backoff) and one delivery round. No Dagster here; the sensors in
orchestration/sensors.py call ``cadence.notify.dispatch``."""
