"""Audit events: one row per login outcome, view, search, export or write."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db
from caseapp.models_base import utcnow


class AuditEvent(db.Model):
    """Who (actor, partner), what (action), on which object, when (UTC) and from where (IP)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # The audit search filters by object, user, organisation, action prefix (LIKE 'x%': PostgreSQL needs the
        # pattern operator class unless the database collation is C), address and dates, newest first.
        db.Index("ix_audit_event_object", "object_type", "object_id"),
        db.Index("ix_audit_event_actor_time", "actor_id", "occurred_at"),
        db.Index("ix_audit_event_partner_time", "partner_id", "occurred_at"),
        db.Index("ix_audit_event_ip_time", "ip", "occurred_at"),
        db.Index("ix_audit_event_action", "action", postgresql_ops={"action": "varchar_pattern_ops"}),
    )
