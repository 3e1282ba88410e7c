"""Published reports: frozen, versioned snapshots of the protected figures of one period."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models_base import utcnow


class PublishedReport(db.Model):
    """One published version of a period's report: the figures as published (suppressed cells are null, their
    values are never stored), the threshold and the method; never changed once written."""

    __tablename__ = "published_report"
    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(10), index=True)
    version: Mapped[int] = mapped_column()
    threshold: Mapped[int] = mapped_column()
    content: Mapped[str] = mapped_column(Text)  # JSON, see caseapp/reports/content.py
    content_sha256: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_by: Mapped["User | None"] = relationship()  # noqa: F821

    __table_args__ = (db.UniqueConstraint("period", "version", name="uq_published_report_period_version"),)


class FrozenReport(Exception):
    """A published report was about to be changed or deleted."""


@event.listens_for(PublishedReport, "before_update")
@event.listens_for(PublishedReport, "before_delete")
def _refuse_changes(mapper, connection, target) -> None:
    raise FrozenReport(f"published report {target.period} v{target.version} is frozen")
