"""Cases and the per-commune, per-year counter behind case numbers."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models_base import utcnow

CASE_STATUSES = ("registered", "assessment", "plan", "active", "closed", "reopened")
OPEN_STATUSES = ("registered", "assessment", "plan", "active", "reopened")


class Case(db.Model):
    """One episode of support; numbered `<COMMUNE>-<YEAR>-<NNNNN>`, never reused."""

    __tablename__ = "case_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    assigned_worker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="registered", index=True)
    opened_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    version: Mapped[int] = mapped_column(default=1)

    beneficiary: Mapped["Beneficiary"] = relationship(back_populates="cases")  # noqa: F821
    service_point: Mapped["ServicePoint"] = relationship()  # noqa: F821
    assigned_worker: Mapped["User | None"] = relationship(foreign_keys=[assigned_worker_id])  # noqa: F821

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseNumberCounter(db.Model):
    """Last case sequence used for one commune and year; only ever incremented."""

    __tablename__ = "case_number_counter"
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)
