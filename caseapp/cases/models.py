"""Cases, the per-commune/per-year counter behind case numbers, and the case-work records."""
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, and_, literal, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.security.encryption import Encrypted, SealedText

CASE_STATUSES = ("registered", "assessment", "plan", "active", "closed", "reopened")
OPEN_STATUSES = ("registered", "assessment", "plan", "active", "reopened")
RISK_LEVELS = ("low", "medium", "high")
SERVICE_AREAS = ("avrr", "social_rights", "employment", "psychosocial")
NOTE_KINDS = ("general", "follow_up_visit", "psychosocial", "legal", "protection")
RESTRICTED_NOTE_KINDS = ("psychosocial", "protection")
ACTION_STATUSES = ("todo", "in_progress", "done", "cancelled")
TRANSFER_STATUSES = ("proposed", "accepted", "declined", "cancelled")


# Closure requested and not yet decided (a closed case keeps its request's date): the home page's queue, indexed
# alone (a partial index). Queries say it with the value written out (Case.awaiting_closure_condition): with a
# bound parameter, neither database could tell that the index covers them.
AWAITING_CLOSURE = text("closure_requested_at IS NOT NULL AND status <> 'closed'")


def is_awaiting_closure(status: str, closure_requested_at: datetime | None) -> bool:
    """A closure was requested and not yet decided (a decision closes the case or clears the request)."""
    return closure_requested_at is not None and status != "closed"


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
    closed_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow, index=True)
    risk_level: Mapped[str | None] = mapped_column(String(8), index=True)
    closure_reason: Mapped[str | None] = mapped_column(String(40))
    closure_requested_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    closure_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    beneficiary: Mapped["Beneficiary"] = relationship(back_populates="cases")  # noqa: F821
    service_point: Mapped["ServicePoint"] = relationship()  # noqa: F821
    assigned_worker: Mapped["User | None"] = relationship(foreign_keys=[assigned_worker_id])  # noqa: F821
    # The transfer proposal waiting for a decision, if any (one at a time: cases.assignment.check_transferable).
    proposed_transfer: Mapped["CaseTransfer | None"] = relationship(
        primaryjoin="and_(CaseTransfer.case_id == Case.id, CaseTransfer.status == 'proposed')", viewonly=True,
        uselist=False)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The case list filters by organisation or service point and sorts by opening date, last update or number;
        # the home page lists a worker's recently updated cases.
        db.Index("ix_case_file_partner_opened", "partner_id", "opened_at", "id"),
        db.Index("ix_case_file_service_point_opened", "service_point_id", "opened_at", "id"),
        db.Index("ix_case_file_partner_updated", "partner_id", "updated_at", "id"),
        db.Index("ix_case_file_service_point_updated", "service_point_id", "updated_at", "id"),
        db.Index("ix_case_file_partner_number", "partner_id", "number"),
        db.Index("ix_case_file_service_point_number", "service_point_id", "number"),
        db.Index("ix_case_file_worker_updated", "assigned_worker_id", "updated_at"),
        # A supervisor's home: open cases per worker, and the oldest closure requests (both read from the index).
        db.Index("ix_case_file_partner_status_worker", "partner_id", "status", "assigned_worker_id"),
        db.Index("ix_case_file_awaiting_closure", "partner_id", "closure_requested_at", "id",
                 sqlite_where=AWAITING_CLOSURE, postgresql_where=AWAITING_CLOSURE),
        # A search for a case number's beginning (LIKE 'OUJ-2026%'): PostgreSQL's default operator class serves
        # such a LIKE only under the "C" collation; this one under any. (SQLite's GLOB reads uq_case_file_number.)
        db.Index("ix_case_file_number_pattern", "number", postgresql_ops={"number": "varchar_pattern_ops"}),
        # What a referral copies of its case (where it is worked) points here, so a transfer carries it along.
        db.Index("ix_case_file_scope_key", "id", "partner_id", "service_point_id", unique=True),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def awaiting_closure(self) -> bool:
        return is_awaiting_closure(self.status, self.closure_requested_at)

    @classmethod
    def awaiting_closure_condition(cls):
        """`awaiting_closure` in SQL, as the partial index ix_case_file_awaiting_closure reads it."""
        return and_(cls.closure_requested_at.is_not(None), cls.status != literal("closed", literal_execute=True))


class CaseTally(db.Model):
    """Cases per (organisation, service point, status, worker), as the rows the triggers of
    `caseapp.cases.tally_triggers` append: +1 under a case's new key, -1 under its old one. A count is the sum of
    `delta` over the keys asked for (`caseapp.cases.tally`); folding merges the rows into one per key."""

    __tablename__ = "case_tally"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int]
    service_point_id: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    assigned_worker_id: Mapped[int | None]
    delta: Mapped[int]

    __table_args__ = (
        # Every count reads this index alone (the organisation first, as the scope says it).
        db.Index("ix_case_tally_key", "partner_id", "service_point_id", "status", "assigned_worker_id", "delta"),
    )


class Assessment(db.Model):
    """The needs assessment of a case: needs per service area; flags and risk live on person and case."""

    __tablename__ = "case_assessment"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), unique=True)
    need_avrr: Mapped[str] = mapped_column(Text, default="")
    need_social_rights: Mapped[str] = mapped_column(Text, default="")
    need_employment: Mapped[str] = mapped_column(Text, default="")
    need_psychosocial: Mapped[str] = mapped_column(Text, default="")
    assessed_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    assessed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)
    case: Mapped[Case] = relationship(backref=db.backref("assessment", uselist=False))

    __mapper_args__ = {"version_id_col": version}


class PlanGoal(db.Model):
    """A goal of the individual (reintegration) plan, in one service area."""

    __tablename__ = "plan_goal"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    area: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)
    case: Mapped[Case] = relationship()
    actions: Mapped[list["PlanAction"]] = relationship(
        back_populates="goal", order_by="PlanAction.due_date", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class PlanAction(db.Model):
    """One action towards a goal: who does it, by when, how far it is."""

    __tablename__ = "plan_action"
    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("plan_goal.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(160))
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default="todo")
    version: Mapped[int] = mapped_column(default=1)
    goal: Mapped[PlanGoal] = relationship(back_populates="actions")

    __mapper_args__ = {"version_id_col": version}

    @property
    def case(self) -> Case:
        return self.goal.case


class CaseNote(db.Model):
    """A dated, authored, typed note; psychosocial and protection notes are restricted."""

    __tablename__ = "case_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    restricted: Mapped[bool] = mapped_column(default=False, index=True)
    row_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    _body_sealed: Mapped[str] = mapped_column("body", SealedText)  # encrypted at rest
    occurred_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    author: Mapped["User"] = relationship()  # noqa: F821
    case: Mapped[Case] = relationship()
    body = Encrypted()

    __mapper_args__ = {"version_id_col": version}


class FollowUp(db.Model):
    """Something to do for a case by a due date; overdue when past due and not done."""

    __tablename__ = "follow_up"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date] = mapped_column(Date, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    done_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True), index=True)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(default=1)
    case: Mapped[Case] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Home pages: a worker's open follow-ups by due date; a supervisor's team's (scoped through the case).
        db.Index("ix_follow_up_assignee_open", "assigned_to_id", "done_at", "due_date"),
        # Open ones only, by due date then id: a supervisor's "due today" (by id) and "overdue" (by date) lists read
        # their first rows in order and stop, instead of every organisation's follow-ups due that day (1M people:
        # 25 ms -> 0.4 ms).
        db.Index("ix_follow_up_open_due_id", "due_date", "id", sqlite_where=db.text("done_at IS NULL"),
                 postgresql_where=db.text("done_at IS NULL")),
    )


class CaseTransfer(db.Model):
    """A proposal to move a case to another partner's service point, decided by that partner's supervisor."""

    __tablename__ = "case_transfer"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    from_service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"))
    to_service_point_id: Mapped[int] = mapped_column(ForeignKey("service_point.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="proposed", index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(db.DateTime(timezone=True))
    decision_comment: Mapped[str | None] = mapped_column(Text)
    case: Mapped[Case] = relationship()
    to_service_point: Mapped["ServicePoint"] = relationship(foreign_keys=[to_service_point_id])  # noqa: F821
    from_service_point: Mapped["ServicePoint"] = relationship(foreign_keys=[from_service_point_id])  # noqa: F821


# A case's own closures, and its reopenings, among its history rows (reports.indicator_sql.case_active).
CASE_CLOSES = "object_type = 'case_file' AND action = 'close'"
CASE_REOPENS = "object_type = 'case_file' AND action = 'reopen'"


class ChangeRecord(db.Model):
    """Field-level history: who changed which fields of which record of a case, when (old → new)."""

    __tablename__ = "change_record"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column()
    action: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Old → new values (JSON) can hold what a note or an assessment said: encrypted at rest like the records.
    _changes_sealed: Mapped[str] = mapped_column("changes", SealedText)
    restricted: Mapped[bool] = mapped_column(default=False)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(db.DateTime(timezone=True), default=utcnow)
    actor: Mapped["User"] = relationship()  # noqa: F821
    changes = Encrypted()

    # Reports count the closures and reopenings of a period from the history; and whether each case was open during
    # the period from its own closures and reopenings, which the two partial indexes hold alone (a case has a dozen
    # other history rows, read and dropped for each case before them).
    __table_args__ = (
        db.Index("ix_change_record_event", "object_type", "action", "changed_at"),
        db.Index("ix_change_record_case_closes", "case_id", "changed_at", "id",
                 sqlite_where=db.text(CASE_CLOSES), postgresql_where=db.text(CASE_CLOSES)),
        db.Index("ix_change_record_case_reopens", "case_id", "changed_at", "id",
                 sqlite_where=db.text(CASE_REOPENS), postgresql_where=db.text(CASE_REOPENS)),
    )


class CaseNumberCounter(db.Model):
    """Last case sequence used for one commune and year; only ever incremented."""

    __tablename__ = "case_number_counter"
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)
