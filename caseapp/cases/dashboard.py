"""A supervisor's operational dashboard: their own organisation's work, named and unrounded, never exported."""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from caseapp.access.policy import ensure, scope
from caseapp.auth.models import User
from caseapp.cases.models import CASE_STATUSES, OPEN_STATUSES, Case, CaseTally, FollowUp
from caseapp.cases.tally import count_cases, open_cases_per_worker, sums
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.places.models import ServicePoint
from caseapp.referrals.models import REFERRAL_STATUSES
from caseapp.referrals.queries import overdue_count
from caseapp.referrals.tally import referrals_by_status

RECENT_DAYS = 30


@dataclass
class TeamDashboard:
    """Counts of the actor's scope: cases by service point and status, recent flow, workers, referrals."""

    statuses: tuple[str, ...]
    cases_by_point: list[tuple[str, dict[str, int]]]  # service point name → status → count
    opened_recently: int
    closed_recently: int
    workers: list[tuple[str, int, int]]  # name, open cases, overdue follow-ups
    unassigned_open: int
    referrals_by_status: dict[str, int]
    referrals_overdue: int


def _cases_by_point(actor) -> list[tuple[str, dict[str, int]]]:
    query = scope(actor, select(ServicePoint.name, CaseTally.status, func.sum(CaseTally.delta), func.count()),
                  CaseTally).join(ServicePoint, ServicePoint.id == CaseTally.service_point_id) \
        .group_by(ServicePoint.name, CaseTally.status).having(func.sum(CaseTally.delta) > 0)
    by_point: dict[str, dict[str, int]] = {}
    for name, status, count in sums(query):
        by_point.setdefault(name, {})[status] = count
    return sorted(by_point.items())


def _workers(actor, today) -> list[tuple[str, int, int]]:
    per_worker = open_cases_per_worker(actor)
    open_cases = dict(sums(select(per_worker.c.worker_id, per_worker.c.open_cases, per_worker.c.rows)))
    overdue = dict(db.session.execute(
        scope(actor, select(func.coalesce(FollowUp.assigned_to_id, Case.assigned_worker_id), func.count(FollowUp.id)),
              FollowUp).join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.done_at.is_(None), FollowUp.due_date < today, Case.status.in_(OPEN_STATUSES))
        .group_by(func.coalesce(FollowUp.assigned_to_id, Case.assigned_worker_id))).all())
    ids = (set(open_cases) | set(overdue)) - {None}
    # Only the actor's own organisation's staff are named (a stale assignment never names someone elsewhere).
    names = dict(db.session.execute(select(User.id, User.full_name).where(
        User.id.in_(sorted(ids)), User.partner_id == actor.partner_id)).all()) if ids else {}
    return sorted(((names[user_id], open_cases.get(user_id, 0), overdue.get(user_id, 0)) for user_id in ids
                   if user_id in names), key=lambda row: (-row[1], row[0]))


def team_dashboard(actor, now: datetime | None = None) -> TeamDashboard:
    """The dashboard of `actor`'s scope (a supervisor: their organisation); a fixed number of grouped queries."""
    ensure(actor, "dashboard.view")
    now = now or utcnow()
    since = now - timedelta(days=RECENT_DAYS)
    cases = scope(actor, select(func.count(Case.id)), Case)
    return TeamDashboard(
        statuses=CASE_STATUSES,
        cases_by_point=_cases_by_point(actor),
        opened_recently=db.session.scalar(cases.where(Case.opened_at >= since)),
        closed_recently=db.session.scalar(cases.where(Case.closed_at >= since)),
        workers=_workers(actor, now.date()),
        unassigned_open=count_cases(actor, CaseTally.status.in_(OPEN_STATUSES), CaseTally.assigned_worker_id.is_(None)),
        referrals_by_status=referrals_by_status(actor, REFERRAL_STATUSES),
        referrals_overdue=overdue_count(actor, now),
    )
