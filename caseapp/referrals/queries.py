"""Lists of referrals: of a case, the supervisor's review queue, the partner's inbox, the referring list."""
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from caseapp.access.policy import can, scope
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.pagination import Page, page_of
from caseapp.referrals.models import Referral, ReferralEvent


def _listed(query):
    return query.options(joinedload(Referral.case).joinedload(Case.beneficiary), joinedload(Referral.service),
                         joinedload(Referral.receiving_partner))


def case_referrals(actor, case: Case) -> list[Referral]:
    """The case's referrals, newest first."""
    query = scope(actor, select(Referral).where(Referral.case_id == case.id), Referral)
    query = _listed(query).options(selectinload(Referral.events))  # the case page shows each timeline
    return list(db.session.scalars(query.order_by(Referral.id.desc())))


def load_timeline(referral: Referral) -> Referral:
    """Load the referral's timeline with the actor of every step, in one query (the referral page names them)."""
    return db.session.scalars(select(Referral).where(Referral.id == referral.id).options(
        selectinload(Referral.events).joinedload(ReferralEvent.actor))).one()


def _count(query) -> int:
    return db.session.scalar(query.with_only_columns(func.count(Referral.id)).order_by(None)) or 0


def _page(query, page: int, per_page: int, *order) -> Page:
    """One page of an actor's scoped referral query in the given order, with the total."""
    return page_of(_count(query), page, per_page, lambda offset, limit: db.session.scalars(
        _listed(query).order_by(*order).offset(offset).limit(limit)))


def _review_query(actor):
    return scope(actor, select(Referral).where(Referral.status == "submitted"), Referral)


def review_queue(actor, page: int = 1, per_page: int = 25) -> Page:
    """Submitted referrals of the supervisor's organisation, oldest first."""
    return _page(_review_query(actor), page, per_page, Referral.created_at, Referral.id)


def inbox(actor, page: int = 1, per_page: int = 25) -> Page:
    """Referrals sent to the receiver's organisation and still open to it, oldest deadline first."""
    return _page(scope(actor, select(Referral), Referral), page, per_page, Referral.deadline_at, Referral.id)


def referring_list(actor, page: int = 1, per_page: int = 25) -> Page:
    """Referrals of the cases the actor may see, newest first."""
    return _page(scope(actor, select(Referral), Referral), page, per_page, Referral.id.desc())


def overdue_count(actor, now: datetime) -> int:
    """Sent referrals in the actor's lists still unanswered past their deadline (`now` compared in UTC)."""
    now = now.astimezone(timezone.utc) if now.tzinfo else now.replace(tzinfo=timezone.utc)
    query = scope(actor, select(func.count(Referral.id)).where(Referral.status == "approved",
                                                               Referral.deadline_at < now), Referral)
    return db.session.scalar(query) or 0


def elapsed_days(start: datetime | None, end: datetime | None) -> float | None:
    """Days between two moments, to one decimal (None when either is missing)."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 86400, 1)


def referral_summary(actor, now: datetime) -> dict[str, int]:
    """Counts for the home page: the review queue, the inbox by status, and overdue referrals."""
    summary: dict[str, int] = {}
    if can(actor, "referral.review"):
        summary["to_review"] = _count(_review_query(actor))
    if can(actor, "referral.inbox") or can(actor, "case.list"):
        counts = db.session.execute(scope(actor, select(Referral.status, func.count(Referral.id)), Referral)
                                    .where(Referral.status.in_(("approved", "accepted", "in_progress")))
                                    .group_by(Referral.status)).all()
        summary.update({status: count for status, count in counts})
        summary["overdue"] = overdue_count(actor, now)
    return summary
