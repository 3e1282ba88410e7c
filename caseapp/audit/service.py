"""Writing audit events; called by services, never by views directly for writes."""
import json
from typing import Any

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from caseapp.audit.chain import compute_hash, last_hash, lock_writers
from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.models_base import utcnow

_READS = "caseapp_audit_reads"  # Session.info key of the reads recorded in the open transaction


def _request_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def _add_event(session: Session, actor: Any, action: str, obj: Any, ip: str | None, fields: dict) -> AuditEvent:
    """Lock the chain, flush what is pending, and add the event chained to the newest one."""
    # The lock comes before the changes still pending in the session are written (e.g. a login's counters), so
    # those row locks come after it, in the same order as in writers that record first and update rows next.
    lock_writers(session)
    session.flush()  # a pending `obj` gets its id
    prev_hash = last_hash(session)
    audit_event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        partner_id=getattr(actor, "partner_id", None),
        action=action,
        object_type=getattr(obj, "__tablename__", None),
        object_id=getattr(obj, "id", None),
        ip=ip,
        details=json.dumps(fields, sort_keys=True, default=str),
        prev_hash=prev_hash,
    )
    audit_event.hash = compute_hash(prev_hash, audit_event)
    session.add(audit_event)
    session.flush()
    return audit_event


def record(actor: Any, action: str, obj: Any = None, **fields: Any) -> AuditEvent:
    """Add one audit event for `actor` doing `action` on `obj`, chained to the previous one; flushes, never commits.

    `fields` must hold names and codes, never personal values (no names, phones, search terms).
    On PostgreSQL the first call in a transaction takes the audit writers' lock, held until commit or rollback.
    """
    return _add_event(db.session(), actor, action, obj, _request_ip(), fields)


def record_read(actor: Any, action: str, obj: Any = None, **fields: Any) -> None:
    """Audit a read (a page, a search, a file shown): the event is written when the transaction commits, so the
    audit writers' lock is held for its insert, not while the page renders. A rollback drops it, like any event.

    `fields` as for `record`; `obj` must already be stored (it has its id).
    """
    db.session().info.setdefault(_READS, []).append((actor, action, obj, _request_ip(), fields))


@event.listens_for(Session, "before_commit")
def _write_reads(session: Session) -> None:
    for actor, action, obj, ip, fields in session.info.pop(_READS, ()):
        _add_event(session, actor, action, obj, ip, fields)


@event.listens_for(Session, "after_transaction_end")
def _forget_reads(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: a rollback drops the reads it recorded
        session.info.pop(_READS, None)
