"""Writing audit events; called by services, never by views directly for writes."""
import json
from types import SimpleNamespace
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event, insert
from sqlalchemy.orm import Session, SessionTransaction

from caseapp.audit.chain import compute_hash, last_hash, lock_writers
from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.models_base import utcnow

_READS = "caseapp_audit_reads"  # Session.info key: the reads recorded in the open transaction, not yet written
_INSERT_EVENT = insert(AuditEvent.__table__)


def _content(actor: Any, action: str, obj: Any, fields: dict) -> dict:
    """What an event says, taken when it is recorded (`obj` must have its id)."""
    return {"actor_id": getattr(actor, "id", None), "partner_id": getattr(actor, "partner_id", None),
            "action": action, "object_type": getattr(obj, "__tablename__", None),
            "object_id": getattr(obj, "id", None), "ip": request.remote_addr if has_request_context() else None,
            "details": json.dumps(fields, sort_keys=True, default=str)}


def _lock(session: Session) -> None:
    # The lock comes before the changes still pending in the session are written (e.g. a login's counters), so
    # those row locks come after it, in the same order as in writers that record first and update rows next.
    lock_writers(session)
    session.flush()


def _chain(session: Session, content: dict) -> AuditEvent:
    """Add the event chained to the newest one; the writers' lock must be held."""
    audit_event = AuditEvent(**_linked(last_hash(session), content))
    session.add(audit_event)
    session.flush()
    return audit_event


def record(actor: Any, action: str, obj: Any = None, **fields: Any) -> AuditEvent:
    """Add one audit event for `actor` doing `action` on `obj`, chained to the previous one; flushes, never commits.

    `fields` must hold names and codes, never personal values (no names, phones, search terms).
    On PostgreSQL the first call in a transaction takes the audit writers' lock, held until commit or rollback.
    """
    session = db.session()
    _lock(session)  # before reading obj.id: a pending `obj` gets its id from the flush
    return _chain(session, _content(actor, action, obj, fields))


def record_read(actor: Any, action: str, obj: Any = None, **fields: Any) -> None:
    """Audit a read (a page, a search, a file shown) in a transaction that writes nothing else: the event is taken
    now and written when the transaction commits, so the audit writers' lock is held for its insert, not while the
    page renders. A rollback drops it, like any event. `fields` as for `record`; `obj` must already have its id.

    With changes pending in the session, or no transaction begun, it is written at once, as `record` does: the
    lock must come before the rows those changes lock, and a transaction not begun may never end."""
    session = db.session()
    content = _content(actor, action, obj, fields)
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        _lock(session)
        _chain(session, content)
        return
    session.info.setdefault(_READS, []).append(content)


@event.listens_for(Session, "before_commit")
def _write_reads(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's release: the reads belong to the outermost transaction, written at its commit
    reads = session.info.pop(_READS, ())
    if reads:
        _lock(session)
        _insert_chained(session, reads)


def _insert_chained(session: Session, contents) -> None:
    """Insert events made of `contents`, each chained to the one before, as plain rows; the writers' lock must be
    held. Nothing reads them back as records, and the ORM's flush of one event cost ~0.8 ms of a page's CPU."""
    connection = session.connection()
    prev_hash = last_hash(session)
    for content in contents:
        row = _linked(prev_hash, content)
        connection.execute(_INSERT_EVENT, row)
        prev_hash = row["hash"]


def _linked(prev_hash: str, content: dict) -> dict:
    """An event's column values: its content, the time now, and its link to the event before it."""
    values = content | {"occurred_at": utcnow(), "prev_hash": prev_hash}
    values["hash"] = compute_hash(prev_hash, SimpleNamespace(**values))
    return values


@event.listens_for(Session, "after_transaction_end")
def _forget_reads(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: a rollback drops the reads it recorded
        session.info.pop(_READS, None)
