"""THE access policy: every decision about who may do what, and see which rows, is made here.

Route-level: each view declares one permission with `@requires(...)` (or `@requires(PUBLIC)`);
`enforce_route_permission` runs before every request and denies any endpoint that declares none.
Object-level: `can(user, action, obj)` and `get_or_404(model, id, action)`; out-of-scope objects are 404.
Lists: `scope(user, select, model)` adds the WHERE that limits rows to what the user may see.
"""
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, literal, or_, select, true
from sqlalchemy.orm import aliased

from caseapp.auth.models import User, user_service_point
from caseapp.beneficiaries.models import Beneficiary, PersonMerge, VulnerabilityFlag
from caseapp.cases.models import Assessment, Case, CaseNote, CaseTally, CaseTransfer, FollowUp, PlanAction, PlanGoal
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.imports.models import ImportBatch, ImportJob
from caseapp.referrals.models import OPEN_FOR_RECEIVER, DirectoryEntry, Notification, Referral, ReferralTally
from caseapp.reports.models import PublishedReport

PUBLIC = "public"
AUTHENTICATED = "authenticated"

ROLES = ("caseworker", "supervisor", "referral_receiver", "me_officer", "dpo", "admin")

_CASE_WORK = frozenset({
    "beneficiary.register", "beneficiary.view", "case.list", "case.view", "case.work", "note.edit",
    "household.manage", "flag.view", "referral.view", "referral.create", "referral.submit", "referral.cancel",
    "referral.record_answer", "directory.view", "consent.manage",
})
_RECEIVER_ACTIONS = ("referral.accept", "referral.decline", "referral.start", "referral.complete")
_SUPERVISION = frozenset({
    "case.assign", "case.close.approve", "case.reopen", "case.transfer.propose", "case.transfer.decide",
    "case.history", "referral.approve", "referral.return", "referral.review",
    "person.access_log", "person.access_export", "dashboard.view", "person.merge", "import.manage",
})
# The data protection officer works programme-wide on people's rights, never on case contents.
_DATA_PROTECTION = frozenset({
    "audit.view", "audit.export", "person.lookup", "person.access_log", "person.access_export", "person.erase",
})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "caseworker": _CASE_WORK,
    "supervisor": _CASE_WORK | _SUPERVISION,
    "referral_receiver": frozenset({"referral.inbox", "referral.view", *_RECEIVER_ACTIONS}),
    "me_officer": frozenset({"report.view", "report.build", "report.publish"}),
    "dpo": _DATA_PROTECTION,
    "admin": frozenset({"admin.manage", "directory.view", "directory.manage"}),
}

PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values()) | {AUTHENTICATED}


def has_permission(user: Any, action: str) -> bool:
    """Role-level check: may this user ever perform `action`?"""
    if action == PUBLIC:
        return True
    if user is None or not getattr(user, "is_authenticated", False) or not user.active:
        return False
    return action == AUTHENTICATED or action in ROLE_PERMISSIONS.get(user.role, frozenset())


@dataclass(frozen=True)
class CaseScope:
    """Where a user's case work reaches: one partner, and all its service points or only some."""

    partner_id: int
    service_point_ids: frozenset[int] | None  # None: every service point of the partner


def case_scope(user: Any) -> CaseScope | None:
    """The user's case scope, or None when their role works on no case."""
    if user.role == "supervisor":
        return CaseScope(user.partner_id, None)
    if user.role == "caseworker":
        return CaseScope(user.partner_id, frozenset(user.service_point_ids))
    return None


def _in_scope(user: Any, partner_id: int, service_point_id: int) -> bool:
    reach = case_scope(user)
    return reach is not None and partner_id == reach.partner_id and (
        reach.service_point_ids is None or service_point_id in reach.service_point_ids)


def _case_in_scope(user: Any, case: Case) -> bool:
    return _in_scope(user, case.partner_id, case.service_point_id)


def _note_allowed(user: Any, action: str, note: CaseNote) -> bool:
    if note.restricted and not user.restricted_access:
        return False  # restricted notes do not exist for this user
    if action == "note.edit" and note.author_id != user.id:
        return False
    return _case_in_scope(user, note.case)


def _referral_allowed(user: Any, action: str, referral: Referral) -> bool:
    """Referring side: the case's scope. Receiving side: its organisation, only while the referral is open to it."""
    receiving = user.role == "referral_receiver" and referral.receiving_partner_id == user.partner_id
    if action == "referral.view":
        return _case_in_scope(user, referral.case) or (
            receiving and referral.status in OPEN_FOR_RECEIVER)
    if action in ("referral.approve", "referral.return"):
        return user.role == "supervisor" and _case_in_scope(user, referral.case)
    if action in _RECEIVER_ACTIONS:
        if user.role == "referral_receiver":
            return receiving
        # A partner with no account answers on paper; the referring side records its answer.
        return (has_permission(user, "referral.record_answer") and _case_in_scope(user, referral.case)
                and not _partner_has_receivers(referral.receiving_partner_id))
    return _case_in_scope(user, referral.case)  # create, submit, cancel: the referring side


def _partner_has_receivers(partner_id: int) -> bool:
    return db.session.scalar(select(User.id).where(User.partner_id == partner_id, User.role == "referral_receiver",
                                                   User.active.is_(True)).limit(1)) is not None


def may_be_assigned(worker: Any, case: Case) -> bool:
    """Can `worker` own `case`: an active caseworker or supervisor whose scope covers the case."""
    return bool(worker.active) and worker.role in ("caseworker", "supervisor") and _case_in_scope(worker, case)


def may_be_assigned_condition(partner_id, service_point_id):
    """`may_be_assigned(User, case)` in SQL for a case of `partner_id` at `service_point_id` (values, or the bound
    parameters of a statement built once), over accounts (`case_scope`: a supervisor reaches the whole
    organisation, a caseworker their service points), to list who may own a case in one statement."""
    works_there = exists().where(user_service_point.c.user_id == User.id,
                                 user_service_point.c.service_point_id == service_point_id)
    return and_(User.active.is_(True), User.partner_id == partner_id,
                or_(User.role == "supervisor", and_(User.role == "caseworker", works_there)))


def can(user: Any, action: str, obj: Any = None) -> bool:
    """May `user` perform `action` (on `obj`, when given)? Anything not granted is denied."""
    if action in _RECEIVER_ACTIONS and has_permission(user, "referral.record_answer"):
        # The referring side answers for a partner without accounts: allowed by role, decided per referral.
        return obj is None or (isinstance(obj, Referral) and _referral_allowed(user, action, obj))
    if not has_permission(user, action):
        return False
    if obj is None:
        return True
    if isinstance(obj, Case):
        return _case_in_scope(user, obj)
    if isinstance(obj, CaseNote):
        return _note_allowed(user, action, obj)
    if isinstance(obj, CaseTransfer):
        return obj.status == "proposed" and obj.to_service_point.partner_id == user.partner_id
    if isinstance(obj, (Assessment, PlanGoal, PlanAction, FollowUp)):
        return _case_in_scope(user, obj.case)
    if isinstance(obj, Referral):
        return _referral_allowed(user, action, obj)
    if isinstance(obj, Notification):
        return obj.user_id == user.id  # one's own notifications only
    if isinstance(obj, DirectoryEntry):
        return True  # the directory is not scoped: the role-level permission decides
    if isinstance(obj, VulnerabilityFlag):
        return not obj.restricted or bool(user.restricted_access)
    if isinstance(obj, Beneficiary):
        # The data protection officer's actions on people (access log, subject access, erasure) reach everyone.
        return (user.role == "dpo" and action.startswith("person.")) or any(_case_in_scope(user, case) for case in obj.cases)
    if action == "admin.manage":
        return isinstance(obj, (User, Partner, ServicePoint))  # administration is programme-wide
    if isinstance(obj, PersonMerge):
        from caseapp.beneficiaries.merge import may_manage_merge  # the rule reads the merge's own record of what moved

        return may_manage_merge(user, obj)
    if isinstance(obj, ImportBatch):
        return obj.partner_id == user.partner_id  # an import is its organisation's business
    if isinstance(obj, ImportJob):
        # its report lists people in its creator's scope, as the creator's organisation was when it ran
        return obj.created_by_id == user.id and obj.partner_id == user.partner_id
    if isinstance(obj, PublishedReport):
        return True  # published reports hold anonymised aggregates only: the role-level permission decides
    if isinstance(obj, ServicePoint):
        return obj.active and _in_scope(user, obj.partner_id, obj.id)
    return False


def _scope_condition(user: Any, partner_column, service_point_column):
    reach = case_scope(user)
    if reach is None:
        return false()
    condition = partner_column == reach.partner_id
    if reach.service_point_ids is not None:
        condition &= service_point_column.in_(sorted(reach.service_point_ids))
    return condition


def _case_condition(user: Any):
    return _scope_condition(user, Case.partner_id, Case.service_point_id)


# The case a note, follow-up or goal belongs to, under its own name: the check never correlates with a
# case the query itself joins (correlate_except). One alias for the process, not one per query: building an alias
# and adapting its columns cost ~3 ms a page, and a new alias each time defeated SQLAlchemy's statement cache.
_OWNER_CASE = aliased(Case, name="owner_case")


# The statuses open to a receiver, written into the SQL as literals: a prepared statement's generic plan can then
# prove the inbox index's predicate (referrals.models, ix_referral_inbox_open); as parameters it could not.
_OPEN_STATUSES = tuple(literal(status, literal_execute=True) for status in OPEN_FOR_RECEIVER)


def _owner_case_in_scope(user: Any, case_id_column):
    return exists().where(_OWNER_CASE.id == case_id_column, _scope_condition(
        user, _OWNER_CASE.partner_id, _OWNER_CASE.service_point_id)).correlate_except(_OWNER_CASE)


def scope(user: Any, query: Select, model: type) -> Select:
    """Limit `query` over `model` to the rows `user` may see."""
    return query.where(scope_condition(user, model))


def scope_condition(user: Any, model: type) -> ColumnElement[bool]:
    """The rows of `model` that `user` may see, as the condition `scope` adds (it reads no other table than
    `model`'s outside its own subqueries, so a statement that selects from `model` can take it as it is)."""
    if not has_permission(user, AUTHENTICATED):  # anonymous or deactivated: no rows at all
        return false()
    if model is Case:
        return _case_condition(user)
    if model is CaseTally:  # the counts of exactly the cases above
        return _scope_condition(user, CaseTally.partner_id, CaseTally.service_point_id)
    if model is Beneficiary:
        return and_(exists().where(Case.beneficiary_id == Beneficiary.id, _case_condition(user)),
                    Beneficiary.merged_into_id.is_(None))  # a merge's tombstone is no one to list
    if model is ServicePoint:
        return _scope_condition(user, ServicePoint.partner_id, ServicePoint.id)
    if model is VulnerabilityFlag:  # the flags `can(user, "flag.view", flag)` allows
        if not has_permission(user, "flag.view"):
            return false()
        return true() if user.restricted_access else VulnerabilityFlag.restricted.is_(False)
    if model in (CaseNote, FollowUp, PlanGoal):
        owned = _owner_case_in_scope(user, model.case_id)
        if model is CaseNote and not user.restricted_access:
            return and_(owned, CaseNote.restricted.is_(False))  # restricted notes do not exist for them
        return owned
    if model in (Referral, ReferralTally):  # the tally: the counts of exactly the referrals
        if user.role == "referral_receiver":  # the inbox: only while the referral is open to the organisation
            return and_(model.receiving_partner_id == user.partner_id, model.status.in_(_OPEN_STATUSES))
        return _scope_condition(user, model.partner_id, model.service_point_id)
    if model is CaseTransfer and has_permission(user, "case.transfer.decide"):  # incoming proposals
        return and_(CaseTransfer.status == "proposed", CaseTransfer.to_service_point_id.in_(
            select(ServicePoint.id).where(ServicePoint.partner_id == user.partner_id)))
    return false()


def ensure(user: Any, action: str, obj: Any = None) -> None:
    """Raise NotAllowed unless `can(user, action, obj)`: the services' own check, behind the views' 404."""
    if not can(user, action, obj):
        from caseapp.errors import NotAllowed

        raise NotAllowed(f"{action} refused")


def get_or_404(model: type, object_id: int, action: str, user: Any = None, options: tuple = ()) -> Any:
    """Load one row the user may act on, or answer 404 (never 403, so ids cannot be probed); `options`: what to load
    along with it (a page's related rows, in the same statement)."""
    user = user or current_user
    if options:
        obj = db.session.scalars(_by_id(model, options), {"object_id": object_id}).unique().first()
    else:
        obj = db.session.get(model, object_id)
    if obj is None or not can(user, action, obj):
        abort(404)
    return obj


@cache
def _by_id(model: type, options: tuple) -> Select:
    """One row of `model` by id with what `options` load along with it, built once per page's options: `Session.get`
    builds and keys its statement again at each call (~0.4 ms)."""
    return select(model).where(model.id == bindparam("object_id")).options(*options)


def requires(permission: str) -> Callable:
    """Declare the permission a view needs; checked before the request by `enforce_route_permission`."""
    if permission != PUBLIC and permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view: Callable) -> Callable:
        view.required_permission = permission
        return view

    return decorate


def declared_permission(endpoint: str | None) -> str | None:
    """The permission declared by the view behind `endpoint`, or None when it declares none."""
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "required_permission", None)


def enforce_route_permission():
    """before_request hook: deny by default; anonymous users go to login, others get 403."""
    if request.endpoint is None:
        return None  # unknown URL: the router answers 404
    permission = declared_permission(request.endpoint)
    if permission == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if permission is None or not has_permission(current_user, permission):
        abort(403)
    return None


def template_can(action: str, obj: Any = None) -> bool:
    """`can` for templates, bound to the current user (the account itself: through the proxy, each of the checks'
    attribute reads looks the user up again, ~5 µs, and a case page checks a few dozen times)."""
    return can(current_user._get_current_object(), action, obj)


__all__ = ["PUBLIC", "AUTHENTICATED", "ROLES", "can", "ensure", "scope", "get_or_404", "requires", "may_be_assigned"]
