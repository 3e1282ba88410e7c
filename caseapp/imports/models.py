"""Import batches (one per imported file, rolled back as a whole) and saved column mappings."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from caseapp.extensions import db
from caseapp.models_base import utcnow


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
    status: Mapped[str] = mapped_column(String(12), default="imported")  # imported | rolled_back
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
