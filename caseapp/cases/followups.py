"""Follow-ups with due dates, and the lists of work that the home pages show."""
from dataclasses import dataclass
from datetime import date
from functools import partial

from flask_babel import gettext as _
from sqlalchemy import Select, and_, bindparam, literal, or_, select

from caseapp.access.policy import ensure, may_be_assigned, scope_condition
from caseapp.auth.models import User
from caseapp.cases.history import apply_changes, created, record_change
from caseapp.cases.models import OPEN_STATUSES, Case, FollowUp
from caseapp.cases.rows import (
    CaseRow, FollowUpRow, case_rows_statement, follow_up_rows_statement, read_case_rows, read_follow_up_rows,
)
from caseapp.cases.tally import open_cases_per_worker, sums
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.fragments import kept_statement
from caseapp.pagination import count_statement, read_count
from caseapp.security.form_tokens import bind_form_token, claim_form_token


def add_follow_up(actor, case: Case, *, purpose: str, due_date: date | None, assigned_to_id: int | None,
                  form_token: str | None = None, today: date | None = None) -> FollowUp:
    """Plan a follow-up for the case, by default for the case's worker (once per form token)."""
    ensure(actor, "case.work", case)
    today = today or date.today()
    errors = {}
    if not purpose.strip():
        errors["purpose"] = [_("This field is required.")]
    elif len(purpose) > 300:
        errors["purpose"] = [_("At most %(count)d characters.", count=300)]
    if due_date is None:
        errors["due_date"] = [_("Enter the due date.")]
    elif due_date < today:
        errors["due_date"] = [_("The due date cannot be in the past.")]
    worker = db.session.get(User, assigned_to_id) if assigned_to_id else None
    if assigned_to_id and (worker is None or not may_be_assigned(worker, case)):
        errors["assigned_to_id"] = [_("Choose a worker who can see this case.")]
    if not case.is_open:
        errors["purpose"] = [_("The case is closed.")]
    if errors:
        raise ValidationFailed(errors)
    earlier = claim_form_token(form_token, FollowUp.__tablename__)
    if earlier:
        return db.session.get(FollowUp, earlier)
    follow_up = FollowUp(case=case, purpose=purpose.strip(), due_date=due_date, created_by_id=actor.id,
                         assigned_to_id=worker.id if worker else case.assigned_worker_id)
    db.session.add(follow_up)
    db.session.flush()
    bind_form_token(form_token, follow_up)
    record_change(actor, case, follow_up, "create", created(
        {"purpose": follow_up.purpose, "due_date": due_date, "assigned_to_id": follow_up.assigned_to_id}))
    return follow_up


def complete_follow_up(actor, follow_up: FollowUp) -> None:
    """Mark a follow-up as done."""
    ensure(actor, "case.work", follow_up)
    if follow_up.done_at is not None:
        raise DomainError(_("This follow-up is already done."))
    apply_changes(actor, follow_up, {"done_at": utcnow(), "done_by_id": actor.id}, case=follow_up.case,
                  action="done")


# Built once, the case bound at each call (the case page's statements: see cases/history.py).
_CASE_FOLLOW_UPS = select(FollowUp).where(FollowUp.case_id == bindparam("case_id")) \
    .order_by(FollowUp.done_at.is_not(None), FollowUp.due_date)


def case_follow_ups(actor, case: Case) -> list[FollowUp]:
    """The case's follow-ups, open ones first by due date."""
    return list(db.session.scalars(_CASE_FOLLOW_UPS, {"case_id": case.id}))


def _open_follow_ups(actor, mine_only: bool):
    """Open follow-ups of open cases in the actor's scope (`mine_only`: theirs, or unassigned on their cases), as
    the WHERE of a select of follow-ups joined to their case."""
    where = [scope_condition(actor, FollowUp), FollowUp.done_at.is_(None), Case.status.in_(OPEN_STATUSES)]
    if mine_only:
        where.append(or_(FollowUp.assigned_to_id == actor.id,
                         FollowUp.assigned_to_id.is_(None) & (Case.assigned_worker_id == actor.id)))
    return and_(*where)


@dataclass
class HomeWork:
    """What a worker's home page lists."""

    due_today: list[FollowUpRow]
    overdue: list[FollowUpRow]
    recently_updated: list[CaseRow]
    awaiting_closure: list[CaseRow]  # the oldest requests, at most the limit
    workload: list[tuple[str, int]]
    awaiting_total: int = 0


def _open_cases_per_worker(actor) -> Select:
    """Open cases per assigned worker, most loaded first (for `sums`): summed from the case tally, names added to the
    few totals."""
    per_worker = open_cases_per_worker(actor)
    return select(User.full_name, per_worker.c.open_cases, per_worker.c.rows) \
        .join(per_worker, User.id == per_worker.c.worker_id).order_by(per_worker.c.open_cases.desc(), User.full_name)


@dataclass(frozen=True)
class _HomeStatements:
    """The statements of a home page's lists (the team's are None for a caseworker)."""

    due_today: Select
    overdue: Select
    recent: Select
    awaiting: Select | None = None
    awaiting_count: Select | None = None
    workload: Select | None = None


def _home_statements(actor, today: date, limit: int) -> _HomeStatements:
    """Build the statements of `home_work` for the actor, the day and the lists' length."""
    team = actor.role == "supervisor"
    follow_ups = _open_follow_ups(actor, mine_only=not team)
    cases = [scope_condition(actor, Case)] + ([] if team else [Case.assigned_worker_id == actor.id])
    # The day is written into the SQL, not bound (one statement a day, as kept): PostgreSQL plans a prepared
    # statement once for good only if that generic plan costs about what a plan for the given values costs, and for
    # "due before a date it does not know" it did not: the overdue list was planned anew at each visit (1.1 ms).
    day = literal(today, literal_execute=True)
    lists = dict(
        due_today=follow_up_rows_statement(and_(follow_ups, FollowUp.due_date == day), (FollowUp.id,), limit),
        overdue=follow_up_rows_statement(and_(follow_ups, FollowUp.due_date < day), (FollowUp.due_date, FollowUp.id),
                                         limit),
        recent=case_rows_statement(and_(*cases), (Case.updated_at.desc(),), 10))
    if team:
        requested = [*cases, Case.awaiting_closure_condition()]
        lists.update(awaiting=case_rows_statement(and_(*requested), (Case.closure_requested_at, Case.id), limit),
                     awaiting_count=count_statement(select(Case).where(*requested)),
                     workload=_open_cases_per_worker(actor))
    return _HomeStatements(**lists)


def home_work(actor, today: date, limit: int = 20) -> HomeWork:
    """Follow-ups due today and overdue, recently updated cases; for supervisors their whole team's,
    plus cases awaiting closure approval and open cases per worker."""
    # Kept per reader, day and limit (caseapp.fragments.kept_statement): building them cost ~4 of a supervisor's
    # ~15 ms home page, in process.
    lists = kept_statement(actor, "home.work", (today, limit), partial(_home_statements, actor, today, limit))
    work = HomeWork(read_follow_up_rows(lists.due_today), read_follow_up_rows(lists.overdue),
                    read_case_rows(lists.recent), [], [])
    if lists.awaiting is not None:
        work.awaiting_closure = read_case_rows(lists.awaiting)
        shown = len(work.awaiting_closure)  # fewer than the list holds: they are all of them, none to count
        work.awaiting_total = shown if shown < limit else read_count(lists.awaiting_count)
        work.workload = sums(lists.workload)
    return work
