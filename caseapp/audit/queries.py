"""Reading the audit trail: the filtered search (page and CSV share `audit_query`) and a person's access log.

The functions taking an `actor` audit the reading they do (flushed, never committed), so no page can skip it.
"""
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, and_, func, or_, select

from caseapp.access.policy import can
from caseapp.audit.models import AuditEvent
from caseapp.audit.service import record, record_read
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary, ConsentRecord, IdentityDocument
from caseapp.cases.models import Assessment, Case, CaseNote, CaseTransfer, FollowUp, PlanAction, PlanGoal
from caseapp.extensions import db
from caseapp.i18n import programme_timezone
from caseapp.pagination import Page, page_of, window
from caseapp.partners.models import Partner
from caseapp.referrals.models import Referral

EXPORT_BATCH = 500


@dataclass(frozen=True)
class AuditFilters:
    """The audit search's filters; empty values filter nothing. Dates are local calendar days, both included."""

    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""         # username, any case
    partner: str = ""       # partner code of the actor at the time of the event
    action: str = ""        # prefix of the action code, e.g. "login." or "referral"
    object_type: str = ""   # table name, e.g. "case_file"
    object_id: int | None = None
    ip: str = ""

    def used(self) -> list[str]:
        """The names of the filters in use (the audit trail of a search keeps names, never values)."""
        return [spec.name for spec in fields(self) if getattr(self, spec.name) not in (None, "")]


def _events_with_people(*extra_columns) -> Select:
    """Events with the actor's username and full name and the partner's code and name (outer joins)."""
    return (select(AuditEvent, User.username.label("actor_username"), User.full_name.label("actor_name"),
                   Partner.code.label("partner_code"), Partner.name.label("partner_name"), *extra_columns)
            .outerjoin(User, User.id == AuditEvent.actor_id)
            .outerjoin(Partner, Partner.id == AuditEvent.partner_id))


def _newest_first(query: Select) -> Select:
    return query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())


def local_day_start(day: date, zone: ZoneInfo | None = None) -> datetime:
    """The UTC instant at which `day` starts in the programme's time zone (BABEL_DEFAULT_TIMEZONE)."""
    zone = zone or programme_timezone()
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


def audit_query(filters: AuditFilters, up_to_id: int | None = None) -> Select:
    """Every event matching `filters` (and with an id ≤ `up_to_id`, when given), newest first, id breaking ties."""
    query = _events_with_people()
    if filters.date_from is not None:
        query = query.where(AuditEvent.occurred_at >= local_day_start(filters.date_from))
    if filters.date_to is not None:
        query = query.where(AuditEvent.occurred_at < local_day_start(filters.date_to + timedelta(days=1)))
    if filters.actor:  # through the user's id, so the events are found by their actor index
        query = query.where(AuditEvent.actor_id.in_(
            select(User.id).where(func.lower(User.username) == filters.actor.strip().lower())))
    if filters.partner:
        query = query.where(AuditEvent.partner_id.in_(select(Partner.id).where(Partner.code == filters.partner)))
    if filters.action:
        query = query.where(AuditEvent.action.startswith(filters.action.strip(), autoescape=True))
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.ip:
        query = query.where(AuditEvent.ip == filters.ip.strip())
    if up_to_id is not None:
        query = query.where(AuditEvent.id <= up_to_id)
    return _newest_first(query)


def count(query: Select) -> int:
    """How many events `query` gives: its conditions, which are all on the events (the outer joins only fetch names,
    and filters on users or organisations go through ids), counted without those joins so an index can answer."""
    counted = select(func.count(AuditEvent.id))
    if query.whereclause is not None:
        counted = counted.where(query.whereclause)
    return db.session.scalar(counted)


def paginate(query: Select, page: int, per_page: int) -> Page:
    """One page of an ordered event query; a page number past the end gives the last page."""
    return page_of(count(query), page, per_page,
                   lambda offset, limit: db.session.execute(window(query, limit, offset)).all())


def latest_event_id() -> int:
    """The id of the newest event (0 on an empty trail): fixes what an export contains before it is audited."""
    return db.session.scalar(select(func.max(AuditEvent.id))) or 0


def export_batches(query: Select, batch_size: int | None = None) -> Iterator[Sequence[Row[Any]]]:
    """The rows of an `audit_query`, `batch_size` at a time, each batch read in its own short transaction.

    Keyset pagination on the query's order (occurred_at desc, id desc). Ending the transaction between batches
    matters on SQLite, where every transaction holds the write lock (BEGIN IMMEDIATE): a slow download must not
    stop everyone else's work.
    """
    batch_size = batch_size or EXPORT_BATCH
    last: tuple[datetime, int] | None = None
    while True:
        batch_query = query
        if last is not None:
            batch_query = query.where(or_(AuditEvent.occurred_at < last[0],
                                          and_(AuditEvent.occurred_at == last[0], AuditEvent.id < last[1])))
        batch = db.session.execute(batch_query.limit(batch_size)).all()
        db.session.rollback()  # read only: releases the transaction (and SQLite's write lock) between batches
        if not batch:
            return
        yield batch
        last = (batch[-1].AuditEvent.occurred_at, batch[-1].AuditEvent.id)


@dataclass(frozen=True)
class PersonRecords:
    """Which records belong to a person for their access log: the person, and the cases whose records count."""

    person_id: int
    case_ids: tuple[int, ...]


def _person_condition(records: PersonRecords):
    """Events whose object is the person or one of the person's records (documents, consents, and the records of
    `records.case_ids`: the cases, their notes, follow-ups, goals and actions, assessments, transfers, referrals)."""
    person_id, case_ids = records.person_id, list(records.case_ids)
    groups: list[tuple[str, Any]] = [
        ("beneficiary", [person_id]),
        ("identity_document", select(IdentityDocument.id).where(IdentityDocument.beneficiary_id == person_id)),
        ("consent_record", select(ConsentRecord.id).where(ConsentRecord.beneficiary_id == person_id)),
    ]
    if case_ids:
        groups += [
            ("case_file", case_ids),
            ("case_note", select(CaseNote.id).where(CaseNote.case_id.in_(case_ids))),
            ("follow_up", select(FollowUp.id).where(FollowUp.case_id.in_(case_ids))),
            ("plan_goal", select(PlanGoal.id).where(PlanGoal.case_id.in_(case_ids))),
            ("plan_action", select(PlanAction.id).join(PlanAction.goal).where(PlanGoal.case_id.in_(case_ids))),
            ("case_assessment", select(Assessment.id).where(Assessment.case_id.in_(case_ids))),
            ("case_transfer", select(CaseTransfer.id).where(CaseTransfer.case_id.in_(case_ids))),
            ("referral", select(Referral.id).where(Referral.case_id.in_(case_ids))),
        ]
    return or_(*(and_(AuditEvent.object_type == table, AuditEvent.object_id.in_(ids)) for table, ids in groups))


def person_log_query(records: PersonRecords) -> Select:
    """The person's access log, newest first; `restricted_note` is True for events on a restricted note."""
    query = (_events_with_people(CaseNote.restricted.label("restricted_note"))
             .outerjoin(CaseNote, and_(AuditEvent.object_type == CaseNote.__tablename__,
                                       CaseNote.id == AuditEvent.object_id))
             .where(_person_condition(records)))
    return _newest_first(query)


def search_events(actor: Any, filters: AuditFilters, page: int, per_page: int) -> Page:
    """One page of the audit search; audited as "audit.search" with the names of the filters used, never values."""
    result = paginate(audit_query(filters), page, per_page)
    record_read(actor, "audit.search", None, filters=filters.used(), results=result.total, page=result.page)
    return result


def start_export(actor: Any, filters: AuditFilters) -> Select:
    """The query of an export, audited as "audit.export" with the filter names and the row count.

    The rows are fixed first (up to the newest event now), so the file holds exactly the rows the event counts
    and never the export's own event.
    """
    query = audit_query(filters, up_to_id=latest_event_id())
    record(actor, "audit.export", None, filters=filters.used(), rows=count(query))
    return query


def log_cases(actor: Any, person: Beneficiary) -> list[Case]:
    """The cases whose records count in the person's access log for `actor`: every case for programme-wide readers
    of the audit trail, else the cases the actor may see (another partner's case work stays out of sight)."""
    if can(actor, "audit.view"):
        return list(person.cases)
    return [case for case in person.cases if can(actor, "case.view", case)]


def person_access_log(actor: Any, person: Beneficiary, cases: Sequence[Case], page: int, per_page: int) -> Page:
    """One page of the person's access log over `cases` (see `log_cases`); audited as "person.access_log_view"."""
    result = paginate(person_log_query(PersonRecords(person.id, tuple(case.id for case in cases))), page, per_page)
    record_read(actor, "person.access_log_view", person, page=result.page, results=result.total)
    return result
