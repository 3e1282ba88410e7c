"""The audit trail as CSV: UTF-8 with a byte-order mark, formula-looking cells neutralised, written batch by batch."""
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from caseapp.security.cells import safe_cell

COLUMNS = ("id", "occurred_at", "actor", "partner", "action", "object_type", "object_id", "ip", "details", "hash")
BOM = "\ufeff"


def utc_iso(moment: datetime) -> str:
    """The instant in UTC, ISO 8601 (SQLite hands back naive datetimes, which are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def event_cells(row: Any) -> list[str]:
    """One CSV line's cells for a row of `audit_query`."""
    event = row.AuditEvent
    return [safe_cell(value) for value in (
        event.id, utc_iso(event.occurred_at), row.actor_username, row.partner_code, event.action,
        event.object_type, event.object_id, event.ip, event.details, event.hash)]


def csv_text(batches: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV document as text chunks: the BOM and header first, then one chunk per batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield BOM + take()
    for batch in batches:
        writer.writerows(event_cells(row) for row in batch)
        yield take()
