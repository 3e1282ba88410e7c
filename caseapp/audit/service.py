"""Writing audit events; called by services, never by views directly for writes."""
import json
from typing import Any

from flask import has_request_context, request

from caseapp.audit.chain import compute_hash, last_hash, lock_writers
from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.models_base import utcnow


def record(actor: Any, action: str, obj: Any = None, **fields: Any) -> AuditEvent:
    """Add one audit event for `actor` doing `action` on `obj`, chained to the previous one; flushes, never commits.

    `fields` must hold names and codes, never personal values (no names, phones, search terms).
    On PostgreSQL the first call in a transaction takes the audit writers' lock, held until commit or rollback.
    """
    # The lock comes before the changes still pending in the session are written (e.g. a login's counters), so
    # those row locks come after it, in the same order as in writers that record first and update rows next.
    lock_writers(db.session)
    db.session.flush()  # a pending `obj` gets its id
    prev_hash = last_hash(db.session)
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        partner_id=getattr(actor, "partner_id", None),
        action=action,
        object_type=getattr(obj, "__tablename__", None),
        object_id=getattr(obj, "id", None),
        ip=request.remote_addr if has_request_context() else None,
        details=json.dumps(fields, sort_keys=True, default=str),
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(prev_hash, event)
    db.session.add(event)
    db.session.flush()
    return event
