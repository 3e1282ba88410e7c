"""Case stages: the one transition table, stage moves, closure request and approval, reopening; audited."""
from functools import cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from caseapp.access.policy import can, ensure
from caseapp.cases.history import apply_changes
from caseapp.cases.models import OPEN_STATUSES, Case
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.places.loader import read_reference

# Every stage move that exists. "closed" is reached only through an approved closure request and
# "reopened" only through a supervisor's reopening; the other moves are the caseworker's explicit steps.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "registered": ("assessment", "closed"),
    "assessment": ("plan", "closed"),
    "plan": ("active", "closed"),
    "active": ("closed",),
    "closed": ("reopened",),
    "reopened": ("assessment", "plan", "active", "closed"),
}
STEP_MOVES = {"assessment", "plan", "active"}
MOVE_LABELS = {
    "assessment": _l("Start the assessment"),
    "plan": _l("Move to the plan"),
    "active": _l("Activate the plan"),
}


@cache
def closure_reasons() -> dict[str, dict[str, str]]:
    """Closure reasons from the reference list: code → names; read once per process (a file the app ships, read
    at each case page: ~0.2 ms). Not to be changed by callers."""
    return {row["code"]: row for row in read_reference("closure_reasons.csv")}


def next_steps(case: Case) -> list[str]:
    """The stages a worker can move this case to with an explicit step."""
    return [stage for stage in TRANSITIONS[case.status] if stage in STEP_MOVES]


def _refuse_move(case: Case, target: str) -> None:
    if target not in TRANSITIONS.get(case.status, ()):
        raise DomainError(_("A case at stage “%(current)s” cannot move to “%(target)s”.",
                            current=_stage(case.status), target=_stage(target)))


def _stage(code: str) -> str:
    from caseapp.labels import CASE_STATUS_LABELS

    return str(CASE_STATUS_LABELS.get(code, code))


def move_stage(actor, case: Case, target: str) -> None:
    """Move an open case one explicit step (registered → assessment → plan → active; reopened → ...)."""
    ensure(actor, "case.work", case)
    if target not in STEP_MOVES:
        raise DomainError(_("This stage is reached through closure or reopening, not a direct move."))
    _refuse_move(case, target)
    if case.awaiting_closure:
        raise DomainError(_("The case is awaiting closure approval; it cannot change stage."))
    apply_changes(actor, case, {"status": target}, case=case, action="stage")


def request_closure(actor, case: Case, reason: str) -> None:
    """Ask a supervisor to close the case, with a reason from the reference list."""
    ensure(actor, "case.work", case)
    if case.status not in OPEN_STATUSES:
        raise DomainError(_("Only an open case can be closed."))
    if case.awaiting_closure:
        raise DomainError(_("Closure was already requested for this case."))
    if reason not in closure_reasons():
        raise DomainError(_("Choose a closure reason from the list."), field="reason")
    apply_changes(actor, case, {"closure_reason": reason, "closure_requested_at": utcnow(),
                                "closure_requested_by_id": actor.id}, case=case, action="closure_request")


def decide_closure(actor, case: Case, approve: bool) -> None:
    """A supervisor approves (the case closes) or rejects (it stays open) a closure request."""
    if not can(actor, "case.close.approve", case):
        raise DomainError(_("Only a supervisor of this case's organisation can decide on its closure."))
    if not case.awaiting_closure:
        raise DomainError(_("No closure request is waiting for this case."))
    if approve:
        apply_changes(actor, case, {"status": "closed", "closed_at": utcnow()}, case=case, action="close")
    else:
        apply_changes(actor, case, {"closure_reason": None, "closure_requested_at": None,
                                    "closure_requested_by_id": None}, case=case, action="closure_reject")


def reopen(actor, case: Case, reason: str) -> None:
    """A supervisor reopens a closed case, giving a reason; it must not collide with another open case."""
    if not can(actor, "case.reopen", case):
        raise DomainError(_("Only a supervisor of this case's organisation can reopen it."))
    _refuse_move(case, "reopened")
    if not reason.strip():
        raise DomainError(_("Give the reason for reopening."), field="reason")
    other_open = db.session.scalar(select(Case.number).where(
        Case.beneficiary_id == case.beneficiary_id, Case.partner_id == case.partner_id, Case.id != case.id,
        Case.status.in_(OPEN_STATUSES)))
    if other_open:
        raise DomainError(_("This person already has an open case with your organisation: %(number)s.",
                            number=other_open))
    apply_changes(actor, case, {"status": "reopened", "closed_at": None, "closure_reason": None,
                                "closure_requested_at": None, "closure_requested_by_id": None,
                                "reopen_reason": reason.strip()}, case=case, action="reopen")
