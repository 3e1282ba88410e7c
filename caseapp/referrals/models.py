"""Services, the service directory, referrals with their timeline, and in-app notifications."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from caseapp.extensions import db
from caseapp.i18n import localized_name
from caseapp.models_base import utcnow

PRIORITIES = ("emergency", "urgent", "normal")
REFERRAL_STATUSES = ("draft", "submitted", "returned", "approved", "accepted", "declined", "in_progress",
                     "completed", "cancelled")
OPEN_FOR_RECEIVER = ("approved", "accepted", "in_progress")  # sent, and not yet answered for good
_OPEN_SQL = "status IN (%s)" % ", ".join(f"'{status}'" for status in OPEN_FOR_RECEIVER)  # constants, no input
OUTCOMES = ("service_delivered", "no_show", "referred_elsewhere", "not_eligible")
# Fields of the person a receiving partner may be given beyond the minimum dataset, when the consent names them.
SHAREABLE_FIELDS = ("date_of_birth", "nationality", "profile", "documents")


class Service(db.Model):
    """A service of the catalogue (reference/services.csv): one of four areas, with a sub-type."""

    __tablename__ = "service"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    name_fr: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str | None] = mapped_column(String(200))

    @property
    def name(self) -> str:
        return localized_name(self)


class DirectoryEntry(db.Model):
    """Which partner offers which service where, with contact, hours, languages and eligibility."""

    __tablename__ = "directory_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service.code"), index=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), index=True)
    contact: Mapped[str] = mapped_column(String(300), default="")
    hours: Mapped[str] = mapped_column(String(200), default="")
    languages: Mapped[str] = mapped_column(String(120), default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    partner: Mapped["Partner"] = relationship()  # noqa: F821
    service: Mapped[Service] = relationship()
    commune: Mapped["Commune"] = relationship()  # noqa: F821


class Referral(db.Model):
    """One need of a case sent to one service of one partner; its status moves only along TRANSITIONS."""

    __tablename__ = "referral"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    # Where the case is worked, copied from it and kept equal by the database (fk_referral_case_scope, ON UPDATE
    # CASCADE): who may see a referral is then read from the referral's own index, without joining the cases.
    partner_id: Mapped[int] = mapped_column()
    service_point_id: Mapped[int] = mapped_column()
    service_code: Mapped[str] = mapped_column(ForeignKey("service.code"))
    receiving_partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    priority: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    shared_fields: Mapped[str] = mapped_column(String(200), default="")
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_record.id"))
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    # Reports select a period's referrals by when they were sent, answered, accepted or completed.
    sent_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    outcome: Mapped[str | None] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(default=1)
    case: Mapped["Case"] = relationship(foreign_keys=[case_id])  # noqa: F821
    service: Mapped[Service] = relationship()
    receiving_partner: Mapped["Partner"] = relationship()  # noqa: F821
    events: Mapped[list["ReferralEvent"]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        db.ForeignKeyConstraint(["case_id", "partner_id", "service_point_id"],
                                ["case_file.id", "case_file.partner_id", "case_file.service_point_id"],
                                name="fk_referral_case_scope", onupdate="CASCADE"),
        # The inbox: a receiving partner's open referrals, by deadline. Only the open ones: by deadline, a partner's
        # referrals begin with those answered long ago (the access policy writes the statuses as literals, so that
        # a prepared statement's generic plan can use this index too).
        db.Index("ix_referral_inbox_open", "receiving_partner_id", "deadline_at", "id",
                 postgresql_where=text(_OPEN_SQL), sqlite_where=text(_OPEN_SQL)),
        # The receiving partner's home counts, from the index alone (1M people: 67 -> 6.5 ms).
        db.Index("ix_referral_receiver_status", "receiving_partner_id", "status", "deadline_at"),
        # The review queue (submitted, oldest first).
        db.Index("ix_referral_status_created", "status", "created_at", "id"),
        # The referring side's overdue count reads exactly its late ones (counts by status: the referral tally).
        db.Index("ix_referral_scope_status", "partner_id", "status", "deadline_at", "service_point_id"),
    )

    @validates("case")
    def _copy_case_scope(self, _key, case):
        """A referral is worked where its case is: its organisation and service point come with the case."""
        self.partner_id, self.service_point_id = case.partner_id, case.service_point_id
        return case

    @property
    def shared_field_list(self) -> list[str]:
        return [name for name in self.shared_fields.split(",") if name]


class ReferralTally(db.Model):
    """Referrals per (organisation and service point of the case, receiving organisation, status), as the rows the
    triggers of `caseapp.referrals.tally_triggers` append: +1 under a referral's new key, -1 under its old one. A
    count is the sum of `delta` over the keys asked for (`caseapp.referrals.tally`, `caseapp.tallies`)."""

    __tablename__ = "referral_tally"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int]
    service_point_id: Mapped[int]
    receiving_partner_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))
    delta: Mapped[int]

    __table_args__ = (
        # The referring side's counts (its organisation first, as the scope says it) and the receiving side's.
        db.Index("ix_referral_tally_key", "partner_id", "service_point_id", "status", "receiving_partner_id", "delta"),
        db.Index("ix_referral_tally_receiver", "receiving_partner_id", "status", "delta"),
    )


class ReferralEvent(db.Model):
    """One step of a referral's timeline: who moved it from which status to which, when, and why."""

    __tablename__ = "referral_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped["User"] = relationship()  # noqa: F821


class Notification(db.Model):
    """Something a user must act on; unread until opened. `emailed_at` when SMTP delivered a copy."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    emailed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    referral: Mapped[Referral | None] = relationship()

    __table_args__ = (db.Index("ix_notification_user_unread", "user_id", "read_at"),)  # the badge on every page
