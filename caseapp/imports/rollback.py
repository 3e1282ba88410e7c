"""Rolling back a whole import batch: the people it created and their cases are deleted, if untouched since.

The rule: a batch can be rolled back only while EVERY person it created is untouched since the import —
  * the person: never edited (version 1), not merged (either way), not anonymised, in no household, no
    vulnerability flag, at most the one identity document of the import, consents only those of the import
    (one processing, at most one statistics) and none withdrawn;
  * their cases: exactly the one case opened by the import, never edited (version 1, status "registered",
    no closure request), with no assessment, plan goal, note, follow-up, transfer, referral or change record;
  * the audit trail: no audited action on the person or the case other than their creation and views.
Otherwise the rollback is refused as a whole (the supervisor can still correct people one by one): deleting
a person someone has worked on would lose that work. Views are not work, and no view is lost: the audit trail
is append-only and keeps every event, which names records by id only.
A batch still "importing" (its background job ended half-way, or is undoing itself) can be rolled back too, unless
its job is still running. Only a supervisor of the partner that imported the batch may roll it back. Flushes only; the caller commits.
"""
from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select

from caseapp.access.policy import ensure
from caseapp.audit.models import AuditEvent
from caseapp.audit.service import record
from caseapp.beneficiaries.models import (
    Beneficiary, BeneficiaryFlag, ConsentRecord, IdentityDocument, PersonKey, PersonMerge,
)
from caseapp.cases.models import Assessment, Case, CaseNote, CaseTransfer, ChangeRecord, FollowUp, PlanGoal
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.imports.models import ImportBatch, ImportJob
from caseapp.models_base import utcnow
from caseapp.referrals.models import Referral

CHUNK = 500
_UNTOUCHING_ACTIONS = ("beneficiary.create", "beneficiary.view", "case.open", "case.view")
_CASE_CHILDREN = (Assessment, PlanGoal, CaseNote, FollowUp, CaseTransfer, Referral, ChangeRecord)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _ids(statement_for_chunk, ids: list[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        found |= set(db.session.scalars(statement_for_chunk(chunk)))
    return found


def worked_on_people(batch: ImportBatch) -> set[int]:
    """Ids of the batch's people with any work since the import (see the module docstring for the rule)."""
    people = db.session.execute(select(
        Beneficiary.id, Beneficiary.version, Beneficiary.merged_into_id, Beneficiary.anonymised_at,
        Beneficiary.household_id).where(Beneficiary.import_batch_id == batch.id)).all()
    ids = sorted(row.id for row in people)
    touched = {row.id for row in people if row.version != 1 or row.merged_into_id or row.anonymised_at
               or row.household_id}
    cases = [row for chunk in _chunks(ids) for row in db.session.execute(select(
        Case.id, Case.beneficiary_id, Case.version, Case.status, Case.closure_requested_at)
        .where(Case.beneficiary_id.in_(chunk)))]
    case_count: dict[int, int] = {}
    for row in cases:
        case_count[row.beneficiary_id] = case_count.get(row.beneficiary_id, 0) + 1
        if row.version != 1 or row.status != "registered" or row.closure_requested_at is not None:
            touched.add(row.beneficiary_id)
    touched |= {person for person in ids if case_count.get(person) != 1}
    case_ids = sorted(row.id for row in cases)
    owner = {row.id: row.beneficiary_id for row in cases}
    for model in _CASE_CHILDREN:
        touched |= {owner[case] for case in _ids(lambda c, m=model: select(m.case_id).where(m.case_id.in_(c)),
                                                  case_ids)}
    touched |= _ids(lambda c: select(BeneficiaryFlag.beneficiary_id).where(BeneficiaryFlag.beneficiary_id.in_(c)), ids)
    touched |= _ids(lambda c: select(IdentityDocument.beneficiary_id).where(IdentityDocument.beneficiary_id.in_(c))
                    .group_by(IdentityDocument.beneficiary_id).having(func.count() > 1), ids)
    touched |= _ids(lambda c: select(ConsentRecord.beneficiary_id).where(
        ConsentRecord.beneficiary_id.in_(c), or_(ConsentRecord.withdrawn_at.is_not(None),
                                                 ConsentRecord.kind.not_in(("processing", "statistics")))), ids)
    touched |= _ids(lambda c: select(ConsentRecord.beneficiary_id).where(ConsentRecord.beneficiary_id.in_(c))
                    .group_by(ConsentRecord.beneficiary_id, ConsentRecord.kind).having(func.count() > 1), ids)
    touched |= _ids(lambda c: select(PersonMerge.kept_id).where(PersonMerge.kept_id.in_(c)), ids)
    touched |= _ids(lambda c: select(PersonMerge.merged_id).where(PersonMerge.merged_id.in_(c)), ids)
    touched |= _ids(lambda c: select(Beneficiary.merged_into_id).where(Beneficiary.merged_into_id.in_(c)), ids)
    touched |= _ids(lambda c: select(AuditEvent.object_id).where(
        AuditEvent.object_type == Beneficiary.__tablename__, AuditEvent.object_id.in_(c),
        AuditEvent.action.not_in(_UNTOUCHING_ACTIONS)), ids)
    touched |= {owner[case] for case in _ids(lambda c: select(AuditEvent.object_id).where(
        AuditEvent.object_type == Case.__tablename__, AuditEvent.object_id.in_(c),
        AuditEvent.action.not_in(_UNTOUCHING_ACTIONS)), case_ids)}
    return touched


def still_running(batch: ImportBatch) -> bool:
    """True while a live background job is importing into `batch` (not one whose process ended)."""
    now = utcnow()
    jobs = db.session.scalars(select(ImportJob).where(ImportJob.batch_id == batch.id, ImportJob.status == "running"))
    return any(not job.stalled(now) for job in jobs)


def rollback_batch(actor, batch: ImportBatch) -> int:
    """Delete the people of `batch` and their cases, mark it rolled back; the number of people deleted.

    Raises DomainError (nothing deleted) when the batch is already rolled back or someone worked on its people.
    """
    ensure(actor, "import.manage", batch)
    return undo_batch(actor, batch)


def undo_batch(actor, batch: ImportBatch) -> int:
    """`rollback_batch` without the permission check: for the import job undoing its own batch after a failure
    (allowed when it started, even if its creator's rights changed since)."""
    if batch.status == "rolled_back":
        raise DomainError(_("This import has already been rolled back."))
    if batch.status == "importing" and still_running(batch):
        raise DomainError(_("This import is still running: wait until it ends."))
    touched = worked_on_people(batch)
    if touched:
        raise DomainError(_("%(count)d people of this import have been worked on since: the import can no longer "
                            "be rolled back as a whole.", count=len(touched)))
    ids = sorted(db.session.scalars(select(Beneficiary.id).where(Beneficiary.import_batch_id == batch.id)))
    case_ids = sorted(_ids(lambda c: select(Case.id).where(Case.beneficiary_id.in_(c)), ids))
    for chunk in _chunks(ids):
        for model in (PersonKey, IdentityDocument, BeneficiaryFlag, ConsentRecord):
            db.session.execute(delete(model).where(model.beneficiary_id.in_(chunk))
                               .execution_options(synchronize_session=False))
    for chunk in _chunks(case_ids):
        db.session.execute(delete(Case).where(Case.id.in_(chunk)).execution_options(synchronize_session=False))
    for chunk in _chunks(ids):
        db.session.execute(delete(Beneficiary).where(Beneficiary.id.in_(chunk))
                           .execution_options(synchronize_session=False))
    db.session.expire_all()  # rows loaded earlier in this session are gone
    batch.status = "rolled_back"
    batch.rolled_back_at = utcnow()
    batch.rolled_back_by_id = actor.id
    record(actor, "import.rollback", batch, people=len(ids), cases=len(case_ids))
    return len(ids)
