"""Assigning cases to workers (in bulk) and transferring a case to another organisation's service point."""
from flask_babel import gettext as _
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import joinedload

from caseapp.access.policy import can, ensure, may_be_assigned, may_be_assigned_condition, scope
from caseapp.auth.models import User
from caseapp.cases.history import apply_changes
from caseapp.cases.models import OPEN_STATUSES, Case, CaseTransfer, FollowUp
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.pagination import count_rows
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.plain_rows import plain_rows


# Active caseworkers and supervisors of one organisation, two columns (whole accounts cost ~1.5 ms more). Built
# once, its value bound at each call, and run on the session's connection: the case list asks on every page, and
# building, keying and running it through the ORM cost ~0.7 ms of CPU against ~0.2.
_WORKERS = select(User.id, User.full_name).where(
    User.partner_id == bindparam("partner_id"), User.active.is_(True), User.role.in_(("caseworker", "supervisor")))
_ASSIGNABLE = _WORKERS.order_by(User.full_name)


def assignable_workers(actor) -> dict[int, str]:
    """Active caseworkers and supervisors of the actor's organisation: id → name, by name."""
    return dict(plain_rows(_ASSIGNABLE, {"partner_id": actor.partner_id}).all())


# Who may own a case, built once in the same way (~1.4 ms of the case page's CPU when built at each call).
_CASE_WORKERS = _WORKERS.where(may_be_assigned_condition(bindparam("case_partner_id"),
                                                         bindparam("case_service_point_id"))).order_by(User.full_name)


def workers_for_case(actor, case: Case) -> dict[int, str]:
    """The workers of the actor's organisation who may own `case`: id → name, by name."""
    return dict(plain_rows(_CASE_WORKERS, {
        "partner_id": actor.partner_id, "case_partner_id": case.partner_id,
        "case_service_point_id": case.service_point_id}).all())


def assign_cases(actor, case_ids: list[int], worker_id: int | None) -> list[Case]:
    """Give every listed case to one worker; all or nothing, with the case numbers that could not go."""
    ensure(actor, "case.assign")
    if not case_ids:
        raise DomainError(_("Tick at least one case."))
    worker = db.session.get(User, worker_id) if worker_id else None
    if worker is None or worker.partner_id != actor.partner_id:
        raise DomainError(_("Choose a worker of your organisation."))
    query = scope(actor, select(Case).where(Case.id.in_(case_ids)), Case)
    cases = list(db.session.scalars(query.order_by(Case.number)))
    if len(cases) != len(set(case_ids)):
        raise DomainError(_("Some of the ticked cases are not yours to assign."))
    refused = [case.number for case in cases if not may_be_assigned(worker, case)]
    if refused:
        raise DomainError(_("%(name)s does not work at the service point of: %(numbers)s.",
                            name=worker.full_name, numbers=", ".join(refused)))
    for case in cases:
        apply_changes(actor, case, {"assigned_worker_id": worker.id}, case=case, action="assign")
    return cases


_TRANSFER_TARGETS = select(ServicePoint.id, ServicePoint.code, ServicePoint.name, Partner.name.label("partner_name")) \
    .join(Partner, Partner.id == ServicePoint.partner_id) \
    .where(ServicePoint.active.is_(True), ServicePoint.partner_id != bindparam("case_partner_id")) \
    .order_by(ServicePoint.name)


def transfer_targets(actor, case: Case) -> list[Row]:
    """Active service points of other organisations: (id, code, name, partner_name) rows, by name."""
    return list(plain_rows(_TRANSFER_TARGETS, {"case_partner_id": case.partner_id}))


# Built once, the case bound at each call (the case page's statements: see cases/history.py).
_PENDING_TRANSFER = select(CaseTransfer).where(CaseTransfer.case_id == bindparam("case_id"),
                                               CaseTransfer.status == "proposed")


def pending_transfer(case: Case) -> CaseTransfer | None:
    """The case's transfer proposal waiting for a decision, if any."""
    return db.session.scalars(_PENDING_TRANSFER, {"case_id": case.id}).first()


def check_transferable(case: Case) -> None:
    """Refuse a transfer the case's state rules out (a closed case, a transfer already proposed): the case page
    then hides the transfer form, so these are checked before its fields, whose errors would go unseen."""
    if not case.is_open:
        raise DomainError(_("Only an open case can be transferred."))
    if pending_transfer(case):
        raise DomainError(_("A transfer of this case is already waiting for a decision."))


def propose_transfer(actor, case: Case, to_service_point_id: int | None, reason: str) -> CaseTransfer:
    """Propose to move an open case to another organisation's service point."""
    ensure(actor, "case.transfer.propose", case)
    check_transferable(case)
    target = db.session.get(ServicePoint, to_service_point_id) if to_service_point_id else None
    if target is None or not target.active or target.partner_id == case.partner_id:
        raise DomainError(_("Choose a service point of another organisation."), field="to_service_point_id")
    if not reason.strip():
        raise DomainError(_("Give the reason for the transfer."), field="reason")
    transfer = CaseTransfer(case=case, from_service_point_id=case.service_point_id, to_service_point_id=target.id,
                            reason=reason.strip(), proposed_by_id=actor.id)
    db.session.add(transfer)
    db.session.flush()
    apply_changes(actor, transfer, {"status": "proposed"}, case=case, action="transfer_proposed")
    return transfer


def incoming_transfer_count(actor) -> int:
    """How many proposals wait for the actor's organisation (the home page's badge)."""
    return count_rows(scope(actor, select(CaseTransfer), CaseTransfer))


def incoming_transfers(actor) -> list[CaseTransfer]:
    """Proposals waiting for the actor's organisation to accept or decline them, oldest first."""
    query = scope(actor, select(CaseTransfer), CaseTransfer).options(
        joinedload(CaseTransfer.case).joinedload(Case.beneficiary), joinedload(CaseTransfer.from_service_point),
        joinedload(CaseTransfer.to_service_point))  # what the page shows of each, in the one query
    return list(db.session.scalars(query.order_by(CaseTransfer.proposed_at, CaseTransfer.id)))


def decide_transfer(actor, transfer: CaseTransfer, accept: bool, comment: str = "") -> None:
    """Accept (ownership moves; the old organisation keeps no access) or decline a transfer proposal."""
    if not can(actor, "case.transfer.decide", transfer):
        raise DomainError(_("This transfer is not waiting for your organisation's decision."))
    case = transfer.case
    if accept and not case.is_open:  # closed while the proposal waited: nothing left to take over
        raise DomainError(_("Only an open case can be transferred."))
    if accept:
        target = transfer.to_service_point
        other_open = db.session.scalar(select(Case.number).where(
            Case.beneficiary_id == case.beneficiary_id, Case.partner_id == target.partner_id,
            Case.status.in_(OPEN_STATUSES)))
        if other_open:
            raise DomainError(_("This person already has an open case with your organisation: %(number)s.",
                                number=other_open))
        apply_changes(actor, case, {"partner_id": target.partner_id, "service_point_id": target.id,
                                    "assigned_worker_id": None, "closure_reason": None,
                                    "closure_requested_at": None, "closure_requested_by_id": None},
                      case=case, action="transfer_accepted")
        # The old organisation's workers no longer hold its follow-ups: they fall to the new case worker.
        db.session.execute(update(FollowUp).where(FollowUp.case_id == case.id, FollowUp.done_at.is_(None))
                           .values(assigned_to_id=None))
    apply_changes(actor, transfer, {"status": "accepted" if accept else "declined", "decided_by_id": actor.id,
                                    "decided_at": utcnow(), "decision_comment": comment.strip() or None},
                  case=case, action="transfer_decided")
