"""The extract contract in code: canonical columns per source entity (see docs/extract_contract.md).

Raw tables keep every canonical column as text; ``TIMESTAMP_COLUMNS`` and ``DECIMAL_COLUMNS`` say which
ones the field mapping may need to normalise (local French dates, decimal commas) on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Column:
    """One canonical column: its kind, what it means, whether a row needs it, its allowed values."""

    name: str
    kind: str          # id | text | timestamp | zone | code | number | integer | boolean | pii
    meaning: str = ""
    required: bool = False
    values: tuple[str, ...] = ()    # a code's allowed values (after the mapping's recoding)


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
    specs: tuple[Column, ...] = ()

    @property
    def table(self) -> str:
        """Raw table name in schema ``raw``: ``<source>__<entity>``."""
        return f"{self.source}__{self.name}"

    @property
    def value_sets(self) -> dict[str, tuple[str, ...]]:
        """Coded columns and their allowed values."""
        return {c.name: c.values for c in self.specs if c.values}


KINDS = {"id": "string", "text": "string", "pii": "string (personal data: hashed in staging)",
         "timestamp": "timestamp", "zone": "IANA zone", "code": "code", "number": "decimal",
         "integer": "integer", "boolean": "boolean"}


def _entity(source: str, name: str, key: str, specs: list[Column], optional: bool = True) -> Entity:
    return Entity(
        source, name, key,
        columns=tuple(c.name for c in specs),
        required=tuple(c.name for c in specs if c.required),
        timestamps=tuple(c.name for c in specs if c.kind == "timestamp"),
        decimals=tuple(c.name for c in specs if c.kind in ("number", "integer")),
        booleans=tuple(c.name for c in specs if c.kind == "boolean"),
        optional=optional,
        specs=tuple(specs),
    )


C = Column
#: The contract: every entity, its columns, their kinds, meanings, requirement and value sets. This is the
#: one place a column is added; docs/extract_contract.md's tables, the field mapping, ingestion, the raw
#: gates and the mapping assistant read it (tests/test_contract.py keeps the docs in step).
ENTITIES: tuple[Entity, ...] = (
    _entity("crm", "leads", "lead_id", [
        C("lead_id", "id", "CRM lead id (key)", True),
        C("created_at", "timestamp", "lead creation (starts TTF and the attribution window)", True),
        C("lead_timezone", "zone", "the lead's local zone (calling hours, local days, DST)", True),
        # mandatory while a segment dimension (the default): cadence.ingest.required_columns
        C("channel", "code", "acquisition channel (mandatory while a segment dimension: the default)", False,
          ("inbound", "outbound", "partner")),
        C("company_size", "code", "size band of the account (mandatory while a segment dimension: the default)",
          False, ("SMB", "Mid", "Enterprise")),
        C("funnel_phase", "code", "phase of the lead when it entered the audit", True, ("MQL", "SQL", "opportunity")),
        C("team", "text", "sales team"),
        C("rep_id", "id", "owner (sales rep)", True),
        C("account_id", "id", "account (company) id"),
        C("company_name", "pii", "company name"),
        C("contact_name", "pii", "contact name"),
        C("email", "pii", "contact e-mail"),
        C("phone", "pii", "contact phone"),
        C("lead_score", "integer", "lead score 0-100 (hot leads >= 80)"),
        C("is_vip", "boolean", "VIP account (one validated channel only)"),
        C("is_dispute", "boolean", "open dispute (one validated channel only)"),
        C("opted_out_at", "timestamp", "when the lead opted out (empty: never)"),
        C("sql_at", "timestamp", "when the lead reached SQL"),
    ], optional=False),
    _entity("crm", "opportunities", "opportunity_id", [
        C("opportunity_id", "id", "key", True),
        C("lead_id", "id", "the lead it came from", True),
        C("account_id", "id", "account id"),
        C("rep_id", "id", "owner"),
        C("created_at", "timestamp", "opportunity creation (= conversion \"opportunity\")", True),
        C("stage", "code", "current stage", True, ("open", "won", "lost")),
        C("amount", "number", "amount in `currency`"),
        C("currency", "text", "ISO 4217, e.g. EUR"),
        C("closed_at", "timestamp", "won/lost date"),
        C("close_reason", "text", "won/lost reason"),
    ]),
    _entity("voip", "calls", "call_id", [
        C("call_id", "id", "key", True),
        C("lead_id", "id", "called (or calling) lead", True),
        C("rep_id", "id", "caller"),
        C("started_at", "timestamp", "dial time", True),
        C("direction", "code", "who placed the call", False, ("outbound", "inbound")),
        C("outcome", "code", "how the call ended", True,
          ("connected", "voicemail", "no_answer", "wrong_number", "busy")),
        C("duration_seconds", "integer", "talk time (0 when not connected)"),
        C("phone_number", "pii", "number dialled"),
    ]),
    _entity("emailing", "email_events", "event_id", [
        C("event_id", "id", "key", True),
        C("message_id", "id", "the e-mail the event belongs to", True),
        C("lead_id", "id", "recipient lead", True),
        C("rep_id", "id", "sender"),
        C("campaign_id", "id", "sequence / campaign"),
        C("event_type", "code", "what happened", True,
          ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed", "complained")),
        C("event_at", "timestamp", "when the event happened", True),
        C("email_address", "pii", "recipient address"),
    ]),
    _entity("calendar", "meetings", "meeting_id", [
        C("meeting_id", "id", "key", True),
        C("lead_id", "id", "the lead met", True),
        C("rep_id", "id", "host"),
        C("booked_at", "timestamp", "when it was booked"),
        C("scheduled_at", "timestamp", "start time", True),
        C("status", "code", "what became of it", True, ("booked", "held", "no_show", "cancelled")),
        C("duration_minutes", "integer", "planned duration"),
    ]),
)


def render_markdown() -> str:
    """The entity tables of docs/extract_contract.md, from ENTITIES (`python -m cadence.contract` writes them)."""
    out = []
    for e in ENTITIES:
        need = "required every month" if not e.optional else "optional: may be absent or empty in a month"
        out += [f"### `{e.source}` / `{e.name}` → `raw.{e.table}` (key `{e.key}`; {need})",
                "| column | mandatory | type | meaning |", "|---|---|---|---|"]
        for c in e.specs:
            kind = " / ".join(f"`{v}`" for v in c.values) if c.values else KINDS[c.kind]
            kind += " with offset (or a declared zone)" if c.kind == "timestamp" else ""
            out.append(f"| {c.name} | {'yes' if c.required else ''} | {kind} | {c.meaning} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


DOC_BEGIN, DOC_END = "<!-- contract:begin (generated by `python -m cadence.contract`) -->", "<!-- contract:end -->"


def rewrite_generated(path: Path | str, begin: str, end: str, body: str) -> bool:
    """Replace what stands between the markers ``begin`` and ``end`` of a doc by ``body``; True when it
    changed (the generated tables of docs/extract_contract.md and docs/vendors.md)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    start, stop = text.index(begin) + len(begin), text.index(end)
    new = text[:start] + "\n" + body + text[stop:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def write_docs(path: Path | str) -> bool:
    """Rewrite the generated part of docs/extract_contract.md; True when it changed."""
    return rewrite_generated(path, DOC_BEGIN, DOC_END, render_markdown())


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


if __name__ == "__main__":
    doc = Path(__file__).resolve().parents[1] / "docs" / "extract_contract.md"
    print(f"{doc}: {'rewritten' if write_docs(doc) else 'up to date'}")
