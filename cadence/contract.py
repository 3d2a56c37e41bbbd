"""The extract contract in code: canonical columns per source entity (see docs/extract_contract.md).

Raw tables keep every canonical column as text; ``TIMESTAMP_COLUMNS`` and ``DECIMAL_COLUMNS`` say which
ones the field mapping may need to normalise (local French dates, decimal commas) on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    key: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    decimals: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    #: An optional entity may be absent from a month (no file: recorded as "not provided") or empty
    #: (a header-only file). Only the leads are required: without them there is nothing to audit.
    optional: bool = True

    @property
    def table(self) -> str:
        """Raw table name in schema ``raw``: ``<source>__<entity>``."""
        return f"{self.source}__{self.name}"


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "crm", "leads", "lead_id",
        columns=("lead_id", "created_at", "lead_timezone", "channel", "company_size", "funnel_phase",
                 "team", "rep_id", "account_id", "company_name", "contact_name", "email", "phone",
                 "lead_score", "is_vip", "is_dispute", "opted_out_at", "sql_at"),
        required=("lead_id", "created_at", "lead_timezone", "channel", "company_size", "funnel_phase",
                  "rep_id"),
        timestamps=("created_at", "opted_out_at", "sql_at"),
        decimals=("lead_score",),
        booleans=("is_vip", "is_dispute"),
        optional=False,
    ),
    Entity(
        "crm", "opportunities", "opportunity_id",
        columns=("opportunity_id", "lead_id", "account_id", "rep_id", "created_at", "stage", "amount",
                 "currency", "closed_at", "close_reason"),
        required=("opportunity_id", "lead_id", "created_at", "stage"),
        timestamps=("created_at", "closed_at"),
        decimals=("amount",),
    ),
    Entity(
        "voip", "calls", "call_id",
        columns=("call_id", "lead_id", "rep_id", "started_at", "direction", "outcome", "duration_seconds",
                 "phone_number"),
        required=("call_id", "lead_id", "started_at", "outcome"),
        timestamps=("started_at",),
        decimals=("duration_seconds",),
    ),
    Entity(
        "emailing", "email_events", "event_id",
        columns=("event_id", "message_id", "lead_id", "rep_id", "campaign_id", "event_type", "event_at",
                 "email_address"),
        required=("event_id", "message_id", "lead_id", "event_type", "event_at"),
        timestamps=("event_at",),
    ),
    Entity(
        "calendar", "meetings", "meeting_id",
        columns=("meeting_id", "lead_id", "rep_id", "booked_at", "scheduled_at", "status",
                 "duration_minutes"),
        required=("meeting_id", "lead_id", "scheduled_at", "status"),
        timestamps=("booked_at", "scheduled_at"),
        decimals=("duration_minutes",),
    ),
)

SOURCES: tuple[str, ...] = tuple(dict.fromkeys(e.source for e in ENTITIES))

#: Optional file beside a month's extracts of a source: ``exported_at: 2026-12-01T06:00:00Z``, the instant
#: the extract was taken. Staging reads "future" as after it (after the load time when the file is absent).
EXTRACT_INFO = "_extract.yml"

LINEAGE_COLUMNS: tuple[str, ...] = (
    "_partition_month", "_source_file", "_source_row", "_file_hash", "_loaded_at", "_run_id",
)


def entities_of(source: str) -> tuple[Entity, ...]:
    found = tuple(e for e in ENTITIES if e.source == source)
    if not found:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    return found


def entity(source: str, name: str) -> Entity:
    for e in ENTITIES:
        if e.source == source and e.name == name:
            return e
    raise KeyError(f"unknown entity {source}/{name}")
