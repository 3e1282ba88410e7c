"""Administration work: partners and service points (here), user accounts (caseapp.admin.accounts).

Every function takes the acting administrator, checks the policy, validates all its input at once (raising
ValidationFailed with every message), changes rows, writes the audit event (field names and codes, never
personal values) and flushes — never commits. A save that changes nothing writes nothing.
"""
import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from caseapp.access.policy import ensure
from caseapp.admin.accounts import (  # user accounts: re-exported, so this module is the one the views call
    account_fingerprint, disable_user, enable_user, invite_user, issue_temporary_password, list_users, logout_everywhere, reset_mfa,
    temporary_password, unlock_user, update_user,
)
from caseapp.admin.checks import Errors, add_error, apply_changes, clean_text, earlier_record
from caseapp.audit.service import record
from caseapp.auth.models import User, user_service_point
from caseapp.cases.models import Case
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.models import Commune, ServicePoint
from caseapp.security.form_tokens import bind_form_token, claim_form_token

PARTNER_KINDS = ("international_organisation", "ministry", "public_agency", "association", "other")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")
CODE_MAX = 32

__all__ = [
    "PARTNER_KINDS", "overview", "list_partners", "create_partner", "update_partner", "list_service_points",
    "list_communes", "create_service_point", "update_service_point",
    "list_users", "invite_user", "update_user", "disable_user", "enable_user", "reset_mfa", "logout_everywhere",
    "unlock_user", "issue_temporary_password", "temporary_password", "account_fingerprint",
]


def _clean_code(errors: Errors, value: str | None, model: type, current_id: int | None) -> str:
    """An upper-case code of letters, digits, '-' and '_', unique among `model`'s rows."""
    code = clean_text(errors, "code", (value or "").upper(), CODE_MAX)  # upper case first: "ß" becomes "SS"
    if "code" in errors:
        return code
    if not CODE_PATTERN.match(code):
        add_error(errors, "code", _("Use only letters, digits, '-' and '_'."))
        return code
    taken = db.session.scalar(select(model.id).where(func.upper(model.code) == code, model.id != (current_id or 0)))
    if taken is not None:
        add_error(errors, "code", _("This code is already used."))
    return code


def _state_action(prefix: str, changed: list[str], active: bool) -> str:
    if "active" in changed:
        return f"{prefix}.{'activate' if active else 'deactivate'}"
    return f"{prefix}.update"


def overview() -> dict[str, int]:
    """How many accounts, partners and service points exist (for the administration home page)."""
    return {"users": db.session.scalar(select(func.count(User.id))),
            "partners": db.session.scalar(select(func.count(Partner.id))),
            "service_points": db.session.scalar(select(func.count(ServicePoint.id)))}


# --- Partners -------------------------------------------------------------------------------------------------

def list_partners() -> list[Partner]:
    """Every partner organisation, active and not, by name."""
    return list(db.session.scalars(select(Partner).options(selectinload(Partner.service_points))
                                   .order_by(Partner.name, Partner.code)))


def _partner_values(errors: Errors, code: str | None, name: str | None, kind: str | None,
                    current_id: int | None) -> dict:
    values = {"code": _clean_code(errors, code, Partner, current_id), "name": clean_text(errors, "name", name, 200),
              "kind": (kind or "").strip()}
    if values["kind"] not in PARTNER_KINDS:
        add_error(errors, "kind", _("Choose a type from the list."))
    return values


def create_partner(actor: User, *, code: str, name: str, kind: str, active: bool = True,
                   form_token: str | None = None) -> Partner:
    """Add a partner organisation; the same form posted twice returns the first one."""
    ensure(actor, "admin.manage")
    if earlier := earlier_record(form_token, Partner):
        return earlier
    errors: Errors = {}
    values = _partner_values(errors, code, name, kind, None)
    if errors:
        raise ValidationFailed(errors)
    if earlier := claim_form_token(form_token, Partner.__tablename__):  # a concurrent post of the same form
        return db.session.get(Partner, earlier)
    partner = Partner(**values, active=bool(active))
    db.session.add(partner)
    db.session.flush()
    bind_form_token(form_token, partner)
    record(actor, "partner.create", partner, fields=["code", "name", "kind", "active"])
    return partner


def update_partner(actor: User, partner: Partner, *, code: str, name: str, kind: str, active: bool) -> Partner:
    """Change a partner; deactivating one is allowed (its users and service points stay as they are)."""
    ensure(actor, "admin.manage", partner)
    errors: Errors = {}
    values = _partner_values(errors, code, name, kind, partner.id)
    if errors:
        raise ValidationFailed(errors)
    changed = apply_changes(partner, values | {"active": bool(active)})
    if changed:
        record(actor, _state_action("partner", changed, partner.active), partner, fields=changed)
    return partner


# --- Service points -------------------------------------------------------------------------------------------

def list_service_points() -> list[ServicePoint]:
    """Every service point with its partner and commune, by code."""
    return list(db.session.scalars(select(ServicePoint).options(
        joinedload(ServicePoint.partner), joinedload(ServicePoint.commune)).order_by(ServicePoint.code)))


def list_communes() -> list[Commune]:
    """The reference communes a service point can be placed in."""
    return list(db.session.scalars(select(Commune).order_by(Commune.code)))


def _point_in_use(point: ServicePoint) -> bool:
    """True when staff or cases are attached to the service point (its partner then cannot change)."""
    staff = db.session.scalar(select(user_service_point.c.user_id)
                              .where(user_service_point.c.service_point_id == point.id).limit(1))
    return staff is not None or db.session.scalar(
        select(Case.id).where(Case.service_point_id == point.id).limit(1)) is not None


def _point_values(errors: Errors, point: ServicePoint | None, code: str | None, name: str | None,
                  commune_code: str | None, partner_id: int | None) -> dict:
    values = {"code": _clean_code(errors, code, ServicePoint, point.id if point else None),
              "name": clean_text(errors, "name", name, 160), "commune_code": (commune_code or "").strip(),
              "partner_id": partner_id or None}
    if not values["commune_code"] or db.session.get(Commune, values["commune_code"]) is None:
        add_error(errors, "commune_code", _("Choose a commune from the list."))
    if point is not None and values["partner_id"] == point.partner_id:
        return values  # keeping the current partner is always allowed, even a deactivated one
    partner = db.session.get(Partner, values["partner_id"]) if values["partner_id"] else None
    if partner is None or not partner.active:
        add_error(errors, "partner_id", _("Choose an active partner from the list."))
    elif point is not None and _point_in_use(point):
        add_error(errors, "partner_id",
                  _("Staff or cases are attached to this service point: its partner cannot change."))
    return values


def create_service_point(actor: User, *, code: str, name: str, commune_code: str, partner_id: int | None,
                         active: bool = True, form_token: str | None = None) -> ServicePoint:
    """Add a service point of a partner in a commune; the same form posted twice returns the first one."""
    ensure(actor, "admin.manage")
    if earlier := earlier_record(form_token, ServicePoint):
        return earlier
    errors: Errors = {}
    values = _point_values(errors, None, code, name, commune_code, partner_id)
    if errors:
        raise ValidationFailed(errors)
    if earlier := claim_form_token(form_token, ServicePoint.__tablename__):
        return db.session.get(ServicePoint, earlier)
    point = ServicePoint(**values, active=bool(active))
    db.session.add(point)
    db.session.flush()
    bind_form_token(form_token, point)
    record(actor, "service_point.create", point, fields=["code", "name", "commune_code", "partner_id", "active"])
    return point


def update_service_point(actor: User, point: ServicePoint, *, code: str, name: str, commune_code: str,
                         partner_id: int | None, active: bool) -> ServicePoint:
    """Change a service point; its partner changes only while no staff or case is attached to it."""
    ensure(actor, "admin.manage", point)
    errors: Errors = {}
    values = _point_values(errors, point, code, name, commune_code, partner_id)
    if errors:
        raise ValidationFailed(errors)
    changed = apply_changes(point, values | {"active": bool(active)})
    if changed:
        record(actor, _state_action("service_point", changed, point.active), point, fields=changed)
    return point
