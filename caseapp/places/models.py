"""Administrative places (region → province → commune) and the programme's service points."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.i18n import localized_name


class Region(db.Model):
    """One of Morocco's 12 regions (decree 2-15-40)."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    @property
    def name(self) -> str:
        return localized_name(self)


class Province(db.Model):
    """A province or prefecture inside a region."""

    __tablename__ = "province"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    region: Mapped[Region] = relationship()

    __table_args__ = (db.UniqueConstraint("region_code", "name_fr", name="uq_province_region_name"),)

    @property
    def name(self) -> str:
        return localized_name(self)


class Commune(db.Model):
    """A commune; `code` is the short code used in case numbers (e.g. OUJ)."""

    __tablename__ = "commune"
    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    province_id: Mapped[int] = mapped_column(ForeignKey("province.id"), index=True)
    province: Mapped[Province] = relationship()

    @property
    def name(self) -> str:
        return localized_name(self)


class ServicePoint(db.Model):
    """A local office of a partner organisation in a commune, where cases are opened and worked."""

    __tablename__ = "service_point"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    commune: Mapped[Commune] = relationship()
    partner: Mapped["Partner"] = relationship(back_populates="service_points")  # noqa: F821
