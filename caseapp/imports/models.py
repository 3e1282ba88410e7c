"""Import batches (one per imported file, rolled back as a whole) and saved column mappings."""
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.security.encryption import Encrypted, SealedText


class ImportBatch(db.Model):
    """One imported file: who, where, with which mapping, how many rows; rolled back as a whole."""

    __tablename__ = "import_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    filename: Mapped[str] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[str] = mapped_column(Text, default="{}")  # JSON: field → column heading
    status: Mapped[str] = mapped_column(String(12), default="imported")  # importing | imported | rolled_back
    row_count: Mapped[int] = mapped_column(default=0)
    imported_count: Mapped[int] = mapped_column(default=0)
    rolled_back_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    rolled_back_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ImportMapping(db.Model):
    """A saved column mapping of an organisation, reusable for its next files."""

    __tablename__ = "import_mapping"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    mapping: Mapped[str] = mapped_column(Text)  # JSON: field → column heading
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)

    __table_args__ = (db.UniqueConstraint("partner_id", "name", name="uq_import_mapping_partner_name"),)


class ImportJob(db.Model):
    """A dry run or an import working in the background: its progress, then its outcome (sealed: it names people).

    `result` is JSON: for a dry run, the per-row report; for an import, the message and the rows left out or in
    error. Only its creator sees it (it lists people of their scope). A job whose `updated_at` stops moving while
    it is still running was cut short (its process ended): see `stalled`.
    """

    STALLED_AFTER = timedelta(minutes=5)  # a running job writes its progress every few seconds

    __tablename__ = "import_job"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # check | import
    status: Mapped[str] = mapped_column(String(8), default="running")  # running | done | failed
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))
    filename: Mapped[str] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[str] = mapped_column(Text, default="{}")
    only_valid: Mapped[bool] = mapped_column(default=False)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    row_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    _result_sealed: Mapped[str | None] = mapped_column("result", SealedText)
    result = Encrypted()

    def stalled(self, now: datetime) -> bool:
        """True when the job is marked running but has not moved for STALLED_AFTER (its process ended)."""
        updated = self.updated_at if self.updated_at.tzinfo else self.updated_at.replace(tzinfo=now.tzinfo)
        return self.status == "running" and now - updated > self.STALLED_AFTER
