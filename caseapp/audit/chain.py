"""The audit hash chain: each event's hash covers its content and the previous event's hash (requirement 16).

hash = sha256(prev_hash + canonical content), where prev_hash is the hash of the previous event by id (or
GENESIS_HASH for the first) and the content is occurred_at (UTC), actor, partner, action, object, IP and details.
Editing an event breaks its own hash; deleting one breaks the next event's link. Limits: deleting the newest
events leaves a valid, shorter chain (keep a copy of the last hash elsewhere to detect that), and there is no
secret key, so whoever can disable the triggers can also rewrite the whole chain consistently.
"""
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from caseapp.audit.models import AuditEvent

GENESIS_HASH = "0" * 64
# The PostgreSQL transaction-level advisory lock serialising audit writers; its key is any constant bigint:
# 0x6361736561756474, "caseaudt" in ASCII.
_LOCK_SQL = "SELECT pg_advisory_xact_lock(7161131761759773812)"
_LAST_HASH_SQL = "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1"  # the primary key index, backwards
VERIFY_BATCH = 1000
# What json.dumps(..., separators=(",", ":"), ensure_ascii=True) writes, without building an encoder per event.
_CANONICAL_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True)


class EventContent(Protocol):
    """The columns an event's hash covers (an AuditEvent or a result row)."""

    occurred_at: datetime
    actor_id: int | None
    partner_id: int | None
    action: str
    object_type: str | None
    object_id: int | None
    ip: str | None
    details: str


class StoredEvent(EventContent, Protocol):
    """A stored event: its id and hash besides the hashed content."""

    id: int
    hash: str | None


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose hash or link is wrong, and what is wrong with it."""

    event_id: int
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a walk over the chain: events checked and the first break, if any."""

    events: int
    last_id: int | None
    last_hash: str | None
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        """True when every event's hash and link are right."""
        return self.broken is None


def _utc_iso(moment: datetime) -> str:
    """The instant in UTC, ISO 8601 with microseconds (SQLite hands back naive UTC datetimes)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _int_or_none(value: int | str | None) -> int | None:
    """The value as an integer column hands it back."""
    return None if value is None else int(value)


def canonical(event: EventContent) -> str:
    """The event's hashed content as compact JSON: a fixed field order, ASCII only."""
    return _CANONICAL_JSON.encode([_utc_iso(event.occurred_at), _int_or_none(event.actor_id),
                                   _int_or_none(event.partner_id), event.action, event.object_type,
                                   _int_or_none(event.object_id), event.ip, event.details])


def compute_hash(prev_hash: str, event: EventContent) -> str:
    """sha256 (hex) of the previous hash followed by the event's canonical content."""
    return hashlib.sha256((prev_hash + canonical(event)).encode("ascii")).hexdigest()


def lock_writers(session: Session) -> None:
    """Serialise audit writers until this transaction ends, so no two of them chain onto the same event.

    PostgreSQL: a transaction-level advisory lock, in its own statement so that the next statement's snapshot
    sees the event committed by the previous holder. SQLite: nothing to do, every transaction already holds the
    write lock (BEGIN IMMEDIATE, see caseapp.security.database).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_LOCK_SQL)  # plain SQL: this runs for every event, the ORM would cost more


def last_hash(session: Session) -> str:
    """The newest event's hash, or the genesis value on an empty table (one primary-key index lookup)."""
    return session.connection().exec_driver_sql(_LAST_HASH_SQL).scalar() or GENESIS_HASH


def _link_problem(event_id: int, prev_hash: str | None, previous_id: int | None, expected: str) -> str | None:
    """What is wrong with the event's link to the event before it, or None."""
    if prev_hash == expected:
        return None
    if previous_id is None:
        return ("wrong prev_hash: the first event does not start from the genesis value "
                "(events before it are missing, or its prev_hash was changed)")
    if event_id != previous_id + 1:
        absent = (f"id {previous_id + 1} is" if event_id == previous_id + 2
                  else f"ids {previous_id + 1}–{event_id - 1} are")
        return (f"missing event: {absent} absent and prev_hash does not match the hash of event {previous_id} "
                "(an event was deleted)")
    return f"wrong prev_hash: it does not match the hash of event {previous_id}"


def _pages(session: Session, batch_size: int) -> Iterator[Sequence[Row[Any]]]:
    """All events in id order, `batch_size` at a time, each page read in its own short transaction."""
    columns = (AuditEvent.id, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.occurred_at, AuditEvent.actor_id,
               AuditEvent.partner_id, AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
               AuditEvent.ip, AuditEvent.details)
    after = 0
    while True:
        page = session.execute(select(*columns).where(AuditEvent.id > after).order_by(AuditEvent.id)
                               .limit(batch_size)).all()
        session.rollback()  # read only: ends the transaction, so SQLite writers are not held up by a long walk
        if not page:
            return
        yield page
        after = page[-1].id


def verify_chain(session: Session, batch_size: int = VERIFY_BATCH) -> ChainReport:
    """Walk every event in id order, recompute its hash and check its link; stop at the first break.

    Ends the session's transaction between pages: call it with nothing pending in the session.
    """
    checked, previous_id, expected = 0, None, GENESIS_HASH
    for page in _pages(session, batch_size):
        for row in page:
            problem = _link_problem(row.id, row.prev_hash, previous_id, expected)
            if problem is None and row.hash != compute_hash(row.prev_hash, row):
                problem = ("edited content: the stored hash does not match the event's content" if row.hash
                           else "no hash: the event was not written by the audit service")
            if problem is not None:
                tip = None if previous_id is None else expected
                return ChainReport(checked, previous_id, tip, ChainBreak(row.id, problem))
            checked, previous_id, expected = checked + 1, row.id, row.hash
    return ChainReport(checked, previous_id, None if previous_id is None else expected)


def backfill_rows(rows: Iterable[StoredEvent]) -> list[tuple[int, str, str]]:
    """Hashes for events written before the chain existed: (id, prev_hash, hash) for rows without a hash.

    `rows` are all events in id order; events that already have a hash keep it and the chain continues from it.
    """
    updates: list[tuple[int, str, str]] = []
    prev = GENESIS_HASH
    for row in rows:
        if row.hash is None:
            new_hash = compute_hash(prev, row)
            updates.append((row.id, prev, new_hash))
            prev = new_hash
        else:
            prev = row.hash
    return updates
