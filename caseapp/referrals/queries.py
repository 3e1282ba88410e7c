"""Lists of referrals: of a case, the supervisor's review queue, the partner's inbox, the referring list."""
from datetime import datetime, timezone
from functools import partial

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload, selectinload

from caseapp.access.policy import can, scope, scope_condition
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.fragments import kept_statement
from caseapp.pagination import Page, count_rows, page_of, window
from caseapp.referrals.models import OPEN_FOR_RECEIVER, Referral, ReferralEvent
from caseapp.referrals.tally import referrals_by_status
from caseapp.plain_rows import plain_rows


def _with_service(query):
    return query.options(joinedload(Referral.service), joinedload(Referral.receiving_partner))


def _listed(query):
    return _with_service(query).options(joinedload(Referral.case).joinedload(Case.beneficiary))


def case_referrals(actor, case: Case) -> list[Referral]:
    """The case's referrals, newest first (their case is the one given: already loaded, not joined again)."""
    statement = kept_statement(actor, "case.referrals", (), partial(_case_referrals, actor))
    return list(db.session.scalars(statement, {"case_id": case.id}).unique())


def _case_referrals(actor) -> Select:
    """The actor's statement of a case's referrals with each one's timeline (the case page shows them), the case
    bound at each call: kept per reader (caseapp.fragments.kept_statement), as building and keying it cost ~0.5 ms."""
    query = scope(actor, select(Referral).where(Referral.case_id == bindparam("case_id")), Referral)
    return _with_service(query).options(joinedload(Referral.events)).order_by(Referral.id.desc())


def load_timeline(referral: Referral) -> Referral:
    """Load the referral's timeline with the actor of every step, in one query (the referral page names them)."""
    return db.session.scalars(select(Referral).where(Referral.id == referral.id).options(
        selectinload(Referral.events).joinedload(ReferralEvent.actor))).one()


def _page(query, page: int, per_page: int, *order) -> Page:
    """One page of an actor's scoped referral query in the given order, with the total."""
    return page_of(count_rows(query), page, per_page, lambda offset, limit: db.session.scalars(
        window(_listed(query).order_by(*order), limit, offset)))


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


def _utc(now: datetime) -> datetime:
    return now.astimezone(timezone.utc) if now.tzinfo else now.replace(tzinfo=timezone.utc)


def _lists_referrals(actor) -> bool:
    return can(actor, "referral.inbox") or can(actor, "case.list")


def overdue_count(actor, now: datetime) -> int:
    """Sent referrals in the actor's lists still unanswered past their deadline (`now` compared in UTC): the home
    page's and the team dashboard's figure, one definition of "overdue", read through ix_referral_scope_status."""
    if not _lists_referrals(actor):
        return 0
    statement = kept_statement(actor, "referrals.overdue", (), partial(_overdue_count, actor))
    return plain_rows(statement, {"now": _utc(now)}).scalar()


def _overdue_count(actor) -> Select:
    """`overdue_count`'s statement for the actor, the instant bound at each call: kept per reader (building and
    keying it cost ~0.4 ms of each home page)."""
    return select(func.count()).select_from(Referral).where(
        scope_condition(actor, Referral), Referral.status == "approved", Referral.deadline_at < bindparam("now"))


def elapsed_days(start: datetime | None, end: datetime | None) -> float | None:
    """Days between two moments, to one decimal (None when either is missing)."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 86400, 1)


def referral_summary(actor, now: datetime) -> dict[str, int]:
    """Counts for the home page: the review queue and the inbox by status, summed from the referral tally, and the
    overdue referrals (`overdue_count`)."""
    reviews, lists = can(actor, "referral.review"), _lists_referrals(actor)
    statuses = (("submitted",) if reviews else ()) + (OPEN_FOR_RECEIVER if lists else ())
    if not statuses:
        return {}
    counted = referrals_by_status(actor, statuses)
    summary: dict[str, int] = {}
    if reviews:
        summary["to_review"] = counted.get("submitted", 0)
    if lists:
        summary.update({status: counted[status] for status in OPEN_FOR_RECEIVER if status in counted})
        summary["overdue"] = overdue_count(actor, now)
    return summary
