"""The data-protection officer's work: finding a person, anonymising them (erasure), retention; audited, never commits.

Anonymisation keeps what the programme's anonymous figures are made of (sex, nationality, profile, commune, year
of birth, cases with their stages, dates and closure reasons, referrals with service, partner, status and dates,
flag codes) and removes or blanks everything that identifies or describes the person.
"""
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case as when
from sqlalchemy import delete, func, or_, select

from caseapp.access.policy import ensure
from caseapp.audit.service import record, record_read
from caseapp.beneficiaries.models import Beneficiary, PersonKey, PersonMerge
from caseapp.cases.models import Case, CaseNote, CaseTransfer, ChangeRecord, FollowUp, PlanGoal
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.privacy.labels import ERASURE_REASONS
from caseapp.referrals.models import Referral

# Written in place of the names: the same in every language, so it never reads as a real name.
ANONYMISED = "ANONYMISED"


# --- lookup ------------------------------------------------------------------------------------------------------


def find_person_by_case_number(actor, number: str) -> Beneficiary | None:
    """The person one of whose cases has exactly this number (programme-wide), or None; audited without the number."""
    case = db.session.scalars(select(Case).where(Case.number == number.strip().upper())).first()
    person = case.beneficiary if case is not None else None
    if person is not None:
        ensure(actor, "person.lookup", person)
    record(actor, "person.lookup", person, found=person is not None)
    return person


def view_person_summary(actor, person: Beneficiary) -> None:
    """Record that the data-protection officer opened a person's summary."""
    ensure(actor, "person.lookup", person)
    record_read(actor, "beneficiary.view", person, page="privacy")


# --- anonymisation -----------------------------------------------------------------------------------------------


def _first_of_year(day: date | None) -> date | None:
    return None if day is None else date(day.year, 1, 1)


def _blank_identity(person: Beneficiary) -> None:
    person.given_name = person.family_name = ANONYMISED
    person.given_name_alt = person.family_name_alt = None
    person.name_search = ""
    person.phone = person.phone_index = None
    person.date_of_birth = _first_of_year(person.date_of_birth)  # the year stays, for age groups
    person.dob_estimated = True
    person.arrival_date = _first_of_year(person.arrival_date)
    person.documents.clear()  # delete-orphan: the rows go
    for consent in person.consents:  # when, how and for what stay: the evidence of lawful processing
        consent.witness_name = None
        consent.legal_basis = None


def _erase_merges(person: Beneficiary, now: datetime) -> None:
    """Records merged into the person (tombstones, at any depth) are the same person: erased too; and what their
    merges kept for an undo (former names, dates...) is erased, so those merges can no longer be undone."""
    ids, frontier = {person.id}, [person.id]
    while frontier:
        tombstones = list(db.session.scalars(select(Beneficiary).where(Beneficiary.merged_into_id.in_(frontier))))
        frontier = [tombstone.id for tombstone in tombstones if tombstone.id not in ids]
        for tombstone in tombstones:
            ids.add(tombstone.id)
            if tombstone.anonymised_at is None:
                _blank_identity(tombstone)
                tombstone.anonymised_at = now
    db.session.execute(delete(PersonKey).where(PersonKey.beneficiary_id.in_(sorted(ids))))
    for merge in db.session.scalars(select(PersonMerge).where(
            or_(PersonMerge.kept_id.in_(sorted(ids)), PersonMerge.merged_id.in_(sorted(ids))))):
        merge.snapshot = json.dumps({"erased": True})


def _leave_household(person: Beneficiary) -> None:
    """Take the person out of their household; a household left with one member is dissolved."""
    household = person.household
    if household is None:
        return
    person.household, person.is_household_head = None, False
    remaining = [member for member in household.members if member is not person]
    if len(remaining) <= 1:
        for member in remaining:
            member.household, member.is_household_head = None, False
        db.session.flush()
        db.session.delete(household)
    elif not any(member.is_household_head for member in remaining):
        remaining[0].is_household_head = True


def _blank_case(case: Case) -> None:
    if case.reopen_reason is not None:
        case.reopen_reason = ""
    assessment = case.assessment
    if assessment is not None:
        assessment.need_avrr = assessment.need_social_rights = ""
        assessment.need_employment = assessment.need_psychosocial = ""
    for goal in db.session.scalars(select(PlanGoal).where(PlanGoal.case_id == case.id)):
        goal.title = ""
        for action in goal.actions:
            action.description = action.owner = ""
    for note in db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)):
        note.body = ""
    for follow_up in db.session.scalars(select(FollowUp).where(FollowUp.case_id == case.id)):
        follow_up.purpose = ""
    for transfer in db.session.scalars(select(CaseTransfer).where(CaseTransfer.case_id == case.id)):
        transfer.reason, transfer.decision_comment = "", None
    for referral in db.session.scalars(select(Referral).where(Referral.case_id == case.id)):
        referral.reason = ""  # service, partner, status, dates and the outcome code stay
        for event in referral.events:
            event.comment = None
    for entry in db.session.scalars(select(ChangeRecord).where(ChangeRecord.case_id == case.id)):
        entry.changes = json.dumps(dict.fromkeys(json.loads(entry.changes or "{}")), sort_keys=True)


def anonymise_person(actor, person: Beneficiary, reason: str, now: datetime | None = None) -> None:
    """Erase what identifies or describes the person, in the caller's transaction; `actor` None is retention.

    Names become ANONYMISED; alternative names, phone, documents, household link, consent witnesses and every free
    text of their cases (notes, needs, plan, follow-ups, transfers, referrals, history values) are removed or
    blanked; the date of birth and of arrival keep their year. Case rows and numbers stay (numbers are never reused).
    """
    if actor is not None:
        ensure(actor, "person.erase", person)
    if reason not in ERASURE_REASONS:
        raise ValidationFailed({"reason": [_("Choose the reason for the erasure.")]})
    if person.anonymised_at is not None:
        raise DomainError(_("This person's data has already been anonymised."))
    _blank_identity(person)
    db.session.execute(delete(PersonKey).where(PersonKey.beneficiary_id == person.id))  # names gone, keys too
    _erase_merges(person, now or utcnow())
    _leave_household(person)
    for case in person.cases:
        _blank_case(case)
    person.anonymised_at = now or utcnow()
    db.session.flush()
    record(actor, "person.anonymise", person, reason=reason, cases=len(person.cases))


# --- retention ---------------------------------------------------------------------------------------------------


@dataclass
class RetentionCandidate:
    """A person due for anonymisation: every case closed, the latest closure older than the retention period."""

    person_id: int
    last_closed_at: datetime
    case_numbers: list[str]


def retention_candidates(days: int | None = None, now: datetime | None = None) -> list[RetentionCandidate]:
    """People not yet anonymised whose cases are all closed, the latest closure more than `days` ago
    (RETENTION_DAYS by default)."""
    days = current_app.config["RETENTION_DAYS"] if days is None else days
    cutoff = (now or utcnow()) - timedelta(days=days)
    latest = func.max(Case.closed_at)
    still_open = func.sum(when((Case.status != "closed", 1), else_=0))
    query = (select(Case.beneficiary_id, latest).join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
             .where(Beneficiary.anonymised_at.is_(None)).group_by(Case.beneficiary_id)
             .having(still_open == 0, latest < cutoff).order_by(Case.beneficiary_id))
    due = dict(db.session.execute(query).tuples().all())
    numbers: dict[int, list[str]] = {person_id: [] for person_id in due}
    if due:
        for person_id, number in db.session.execute(select(Case.beneficiary_id, Case.number).where(
                Case.beneficiary_id.in_(list(due))).order_by(Case.number)):
            numbers[person_id].append(number)
    return [RetentionCandidate(person_id, due[person_id], numbers[person_id]) for person_id in due]


def apply_retention(days: int | None = None, now: datetime | None = None) -> list[RetentionCandidate]:
    """Anonymise every retention candidate (reason "retention", no actor); the caller commits."""
    candidates = retention_candidates(days, now)
    for candidate in candidates:
        anonymise_person(None, db.session.get(Beneficiary, candidate.person_id), "retention", now)
    return candidates
