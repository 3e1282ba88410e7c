"""Partner organisations: each user and each service point belongs to exactly one."""
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db


class Partner(db.Model):
    """An organisation taking part in the programme (IOM, a ministry, an association...)."""

    __tablename__ = "partner"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(default=True)
    service_points: Mapped[list["ServicePoint"]] = relationship(  # noqa: F821
        back_populates="partner", order_by="ServicePoint.code"
    )
