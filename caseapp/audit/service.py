"""Writing audit events; called by services, never by views directly for writes."""
import json
from typing import Any

from flask import has_request_context, request

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db


def record(actor: Any, action: str, obj: Any = None, **fields: Any) -> AuditEvent:
    """Add one audit event for `actor` doing `action` on `obj`; flushes, never commits.

    `fields` must hold names and codes, never personal values (no names, phones, search terms).
    """
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        partner_id=getattr(actor, "partner_id", None),
        action=action,
        object_type=getattr(obj, "__tablename__", None),
        object_id=getattr(obj, "id", None),
        ip=request.remote_addr if has_request_context() else None,
        details=json.dumps(fields, sort_keys=True, default=str),
    )
    db.session.add(event)
    db.session.flush()
    return event
