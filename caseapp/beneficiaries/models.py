"""People the programme helps, with their documents, flags, household and consents."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.i18n import localized_name
from caseapp.models_base import utcnow
from caseapp.security.encryption import Encrypted, SealedText

SEXES = ("F", "M")
PROFILES = ("returnee", "foreign_migrant", "asylum_seeker", "refugee", "family_member")
DOCUMENT_TYPES = ("cnie", "passport", "residence_card", "consular_card", "refugee_card", "birth_certificate", "other")
CONSENT_KINDS = ("processing", "sharing", "statistics")
CONSENT_METHODS = ("signed_form", "oral_witness", "legal_basis")


class Household(db.Model):
    """A group of beneficiaries living together; one member is its head."""

    __tablename__ = "household"
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    members: Mapped[list["Beneficiary"]] = relationship(back_populates="household")


def person_display_name(given_name: str, family_name: str) -> str:
    """A person's name as lists and pages show it."""
    return f"{given_name} {family_name}"


class Beneficiary(db.Model):
    """A person registered by a service point; names are stored exactly as written."""

    __tablename__ = "beneficiary"
    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(120))
    family_name: Mapped[str] = mapped_column(String(120))
    given_name_alt: Mapped[str | None] = mapped_column(String(120))
    family_name_alt: Mapped[str | None] = mapped_column(String(120))
    name_search: Mapped[str] = mapped_column(String(512))  # every spelling's words, normalized (see __table_args__)
    sex: Mapped[str] = mapped_column(String(1))
    date_of_birth: Mapped[date] = mapped_column(Date)
    dob_estimated: Mapped[bool] = mapped_column(default=False)
    nationality: Mapped[str] = mapped_column(String(3))
    profile: Mapped[str] = mapped_column(String(20))
    country_returned_from: Mapped[str | None] = mapped_column(String(3))
    arrival_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)  # blind index of the national digits
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), index=True)
    languages: Mapped[str] = mapped_column(String(120), default="")
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    is_household_head: Mapped[bool] = mapped_column(default=False)
    registered_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)  # reports
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    registered_at_service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    # A tombstone after a merge: the record kept instead (its cases, referrals and notes moved there).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id"))  # indexed: see __table_args__
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"), index=True)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        # The case search looks for typed words anywhere in name_search (LIKE '%word%'). PostgreSQL: a trigram index
        # (pg_trgm) serves that; elsewhere the column has a plain index.
        db.Index("ix_beneficiary_name_search", "name_search", postgresql_using="gin",
                 postgresql_ops={"name_search": "gin_trgm_ops"}),
        # Tombstones only: with every standing record's NULL in a full index, SQLite's statistics say ~1,000 rows per
        # value, and it scanned the table for `merged_into_id IN (500 candidates)` (18 ms at 100,000 people).
        db.Index("ix_beneficiary_merged_into_id", "merged_into_id", sqlite_where=text("merged_into_id IS NOT NULL"),
                 postgresql_where=text("merged_into_id IS NOT NULL")),
    )

    commune: Mapped["Commune"] = relationship()  # noqa: F821
    household: Mapped[Household | None] = relationship(back_populates="members")
    documents: Mapped[list["IdentityDocument"]] = relationship(
        back_populates="beneficiary", cascade="all, delete-orphan", order_by="IdentityDocument.id"
    )
    flags: Mapped[list["BeneficiaryFlag"]] = relationship(
        back_populates="beneficiary", cascade="all, delete-orphan", order_by="BeneficiaryFlag.flag_code"
    )
    consents: Mapped[list["ConsentRecord"]] = relationship(
        back_populates="beneficiary", cascade="all, delete-orphan", order_by="ConsentRecord.id"
    )
    cases: Mapped[list["Case"]] = relationship(  # noqa: F821
        back_populates="beneficiary", order_by="Case.opened_at"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        return person_display_name(self.given_name, self.family_name)

    @property
    def language_list(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]


class IdentityDocument(db.Model):
    """An identity document held by a beneficiary (type and number)."""

    __tablename__ = "identity_document"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True)
    doc_type: Mapped[str] = mapped_column(String(24))
    row_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    _number_sealed: Mapped[str] = mapped_column("number", SealedText)  # encrypted at rest
    number_index: Mapped[str | None] = mapped_column(String(64), index=True)  # blind index for exact lookup
    beneficiary: Mapped[Beneficiary] = relationship(back_populates="documents")
    number = Encrypted()


class VulnerabilityFlag(db.Model):
    """Reference list of vulnerability flags; restricted ones need restricted access."""

    __tablename__ = "vulnerability_flag"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_fr: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160))
    name_ar: Mapped[str | None] = mapped_column(String(160))
    restricted: Mapped[bool] = mapped_column(default=False)

    @property
    def name(self) -> str:
        return localized_name(self)


class BeneficiaryFlag(db.Model):
    """A vulnerability flag set on a beneficiary, with who set it and when."""

    __tablename__ = "beneficiary_flag"
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id", ondelete="CASCADE"), primary_key=True)
    flag_code: Mapped[str] = mapped_column(ForeignKey("vulnerability_flag.code"), primary_key=True)
    set_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)  # reports
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    beneficiary: Mapped[Beneficiary] = relationship(back_populates="flags")
    # Loaded with it: every use reads the flag's name or restriction, and a person's flags one lazy load each was
    # an N+1 on the case, person and assessment pages.
    flag: Mapped[VulnerabilityFlag] = relationship(lazy="joined", innerjoin=True)


class ConsentRecord(db.Model):
    """A consent (or documented legal basis): who recorded it, when, how; withdrawable."""

    __tablename__ = "consent_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    witness_name: Mapped[str | None] = mapped_column(String(160))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    given_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    beneficiary: Mapped[Beneficiary] = relationship(back_populates="consents")

    # Reports count only the people with an active consent to statistics.
    __table_args__ = (db.Index("ix_consent_record_kind_active", "kind", "withdrawn_at", "beneficiary_id"),)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class PersonKey(db.Model):
    """One blocking key of a beneficiary (see beneficiaries/blocking.py): found by index, never shown."""

    __tablename__ = "person_key"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id", ondelete="CASCADE"), primary_key=True,
                                                index=True)


class PersonMerge(db.Model):
    """A merge of two records of one person: `merged` became a tombstone of `kept`; undoable from `snapshot`."""

    __tablename__ = "person_merge"
    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    merged_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    merged_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    row_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    # What the merge changed (the kept record's former values, the ids of the moved child records): encrypted.
    _snapshot_sealed: Mapped[str] = mapped_column("snapshot", SealedText)
    snapshot = Encrypted()
