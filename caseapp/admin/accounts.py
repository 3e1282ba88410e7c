"""Administration of user accounts: invite, edit, disable/enable, second-factor reset, sessions, lock, password.

Same rules as caseapp.admin.services: explicit actor, every error at once, audit inside, flush and never commit.
An administrator cannot disable, demote or lock out their own account, and the last active administrator
cannot be disabled or demoted. Temporary passwords are returned to the caller once and only their hash is kept.
"""
import hashlib
import json
import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from caseapp.access.policy import ROLES, ensure
from caseapp.admin.checks import Errors, add_error, apply_changes, clean_text, earlier_record
from caseapp.audit.service import record
from caseapp.auth.mfa import clear_second_factor
from caseapp.auth.models import User
from caseapp.auth.services import create_user
from caseapp.errors import EditConflict, ValidationFailed
from caseapp.extensions import db
from caseapp.i18n import LANGUAGES
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.security.form_tokens import bind_form_token, claim_form_token
from caseapp.security.password_policy import password_problems
from caseapp.security.passwords import hash_password

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Lower-case letters and digits that cannot be mistaken for one another when read out or copied by hand.
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_GROUPS, PASSWORD_GROUP_LENGTH = 4, 5  # 20 random characters: about 99 bits


def temporary_password(username: str = "", full_name: str = "") -> str:
    """A random password such as 'k7mq2-x9bte-...' that passes the password policy."""
    while True:
        password = "-".join("".join(secrets.choice(READABLE_CHARACTERS) for _position in range(PASSWORD_GROUP_LENGTH))
                            for _group in range(PASSWORD_GROUPS))
        if not password_problems(password, username=username, full_name=full_name):
            return password


def list_users(partner_id: int | None = None, role: str | None = None) -> list[User]:
    """Accounts, optionally of one partner and/or one role, with partner and service points loaded."""
    query = select(User).options(joinedload(User.partner), selectinload(User.service_points)).order_by(User.username)
    if partner_id:
        query = query.where(User.partner_id == partner_id)
    if role:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def _other_active_admins(user: User) -> int:
    """How many other active administrators there are; their rows stay locked until commit (PostgreSQL), so two
    administrators disabling or demoting each other at once cannot leave none (SQLite serialises writers anyway)."""
    return len(db.session.scalars(select(User.id).where(
        User.role == "admin", User.active.is_(True), User.id != user.id).with_for_update()).all())


def _profile_values(errors: Errors, full_name: str | None, email: str | None, preferred_language: str | None) -> dict:
    values = {"full_name": clean_text(errors, "full_name", full_name, 160),
              "email": clean_text(errors, "email", email, 200, required=False) or None,
              "preferred_language": (preferred_language or "").strip() or None}
    if values["email"] and "email" not in errors and not EMAIL_PATTERN.match(values["email"]):
        add_error(errors, "email", _("Enter a valid email address."))
    if values["preferred_language"] is not None and values["preferred_language"] not in LANGUAGES:
        add_error(errors, "preferred_language", _("Choose a language from the list."))
    return values


def _scope_values(errors: Errors, user: User | None, role: str | None, partner_id: int | None,
                  service_point_ids, restricted_access: bool) -> tuple[dict, list[ServicePoint]]:
    """Role, partner, service points (of that partner; at least one for a caseworker) and restricted access."""
    values = {"role": (role or "").strip(), "partner_id": partner_id or None,
              "restricted_access": bool(restricted_access)}
    if values["role"] not in ROLES:
        add_error(errors, "role", _("Choose a role from the list."))
    partner = db.session.get(Partner, values["partner_id"]) if values["partner_id"] else None
    keeps_partner = user is not None and partner is not None and partner.id == user.partner_id
    if partner is None or not (partner.active or keeps_partner):
        add_error(errors, "partner_id", _("Choose an active partner from the list."))
    try:
        wanted = sorted({int(point_id) for point_id in service_point_ids or ()})
    except (TypeError, ValueError):
        wanted = [0]  # matches no service point: refused below
    points = list(db.session.scalars(select(ServicePoint).where(ServicePoint.id.in_(wanted))
                                     .order_by(ServicePoint.code)))
    current = user.service_point_ids if user is not None else set()
    if len(points) != len(wanted) or any(not point.active and point.id not in current for point in points):
        add_error(errors, "service_point_ids", _("Choose active service points from the list."))
    elif partner is not None and (foreign := [point.code for point in points if point.partner_id != partner.id]):
        add_error(errors, "service_point_ids", _("These service points belong to another partner: %(codes)s.",
                                                 codes=", ".join(foreign)))
    elif values["role"] == "caseworker" and not points:
        add_error(errors, "service_point_ids", _("A caseworker needs at least one service point."))
    return values, points


def invite_user(actor: User, *, username: str, full_name: str, email: str | None, preferred_language: str | None,
                role: str, partner_id: int | None, service_point_ids, restricted_access: bool = False,
                form_token: str | None = None) -> tuple[User, str | None]:
    """Create an account with a temporary password to change at first login → (user, password).

    The password is returned this once (only its hash is stored); the same form posted twice returns the first
    account and None, since its password cannot be shown again.
    """
    ensure(actor, "admin.manage")
    if earlier := earlier_record(form_token, User):
        return earlier, None
    errors: Errors = {}
    name = clean_text(errors, "username", username, 80).lower()
    if "username" not in errors and not USERNAME_PATTERN.match(name):
        add_error(errors, "username", _("Use only lower-case letters, digits, '.', '-' and '_'."))
    elif "username" not in errors and db.session.scalar(select(User.id).where(func.lower(User.username) == name)):
        add_error(errors, "username", _("This username is already used."))
    profile = _profile_values(errors, full_name, email, preferred_language)
    scope, points = _scope_values(errors, None, role, partner_id, service_point_ids, restricted_access)
    if errors:
        raise ValidationFailed(errors)
    if earlier := claim_form_token(form_token, User.__tablename__):
        return db.session.get(User, earlier), None
    password = temporary_password(name, profile["full_name"])
    user = create_user(actor, username=name, full_name=profile["full_name"], password=password, role=scope["role"],
                       partner=db.session.get(Partner, scope["partner_id"]), service_points=points,
                       restricted_access=scope["restricted_access"], preferred_language=profile["preferred_language"])
    user.email = profile["email"]
    user.must_change_password = True
    bind_form_token(form_token, user)
    db.session.flush()
    return user, password


def account_fingerprint(user: User) -> str:
    """A digest of what the account form edits, as saved: the form carries it, so a save over someone else's newer
    save (two administrators on one account) is caught without a version column on the account."""
    values = [user.full_name, user.email, user.preferred_language, user.role, user.partner_id,
              sorted(user.service_point_ids), bool(user.restricted_access)]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:32]


def _check_fingerprint(user: User, expected: str | None, submitted: dict) -> None:
    current = account_fingerprint(user)
    if expected is not None and expected != current:
        raise EditConflict(_("Account"), [(_(name), "", str(value)) for name, value in submitted.items()], current)


def update_user(actor: User, user: User, *, full_name: str, email: str | None, preferred_language: str | None,
                role: str, partner_id: int | None, service_point_ids, restricted_access: bool,
                expected_fingerprint: str | None = None) -> User:
    """Edit an account; audited as user.role_change, user.scope_change and/or user.update, by what changed.

    Raises EditConflict when `expected_fingerprint` (from the form) is not the account's current one."""
    ensure(actor, "admin.manage", user)
    _check_fingerprint(user, expected_fingerprint, dict(
        full_name=full_name, email=email, preferred_language=preferred_language, role=role, partner_id=partner_id,
        service_point_ids=service_point_ids, restricted_access=restricted_access))
    errors: Errors = {}
    profile = _profile_values(errors, full_name, email, preferred_language)
    scope, points = _scope_values(errors, user, role, partner_id, service_point_ids, restricted_access)
    if user.role == "admin" and scope["role"] != "admin" and "role" not in errors:
        if user.id == actor.id:
            add_error(errors, "role", _("You cannot remove your own administrator role."))
        elif user.active and not _other_active_admins(user):
            add_error(errors, "role", _("At least one active administrator must remain."))
    if errors:
        raise ValidationFailed(errors)
    old_role, old_partner_id, old_point_ids = user.role, user.partner_id, sorted(user.service_point_ids)
    new_point_ids = sorted(point.id for point in points)
    if old_role != scope["role"]:
        user.role = scope["role"]
        record(actor, "user.role_change", user, fields=["role"], old_role=old_role, new_role=user.role)
    scope_changed = apply_changes(user, {key: scope[key] for key in ("partner_id", "restricted_access")})
    if old_point_ids != new_point_ids:
        user.service_points = points
        scope_changed.append("service_points")
    if scope_changed:
        record(actor, "user.scope_change", user, fields=scope_changed, old_partner_id=old_partner_id,
               partner_id=user.partner_id, old_service_point_ids=old_point_ids, service_point_ids=new_point_ids)
    if changed := apply_changes(user, profile):
        record(actor, "user.update", user, fields=changed)
    return user


def _refuse(field: str, message: str) -> None:
    raise ValidationFailed({field: [message]})


def disable_user(actor: User, user: User) -> None:
    """Disable an account and revoke every session it has (its cookies stop working at once)."""
    ensure(actor, "admin.manage", user)
    if user.id == actor.id:
        _refuse("active", _("You cannot disable your own account."))
    if user.role == "admin" and user.active and not _other_active_admins(user):
        _refuse("active", _("At least one active administrator must remain."))
    if not user.active:
        return
    user.active = False
    user.session_version += 1
    record(actor, "user.disable", user, fields=["active", "session_version"])


def enable_user(actor: User, user: User) -> None:
    """Let a disabled account log in again."""
    ensure(actor, "admin.manage", user)
    if user.active:
        return
    user.active = True
    record(actor, "user.enable", user, fields=["active"])


def reset_mfa(actor: User, user: User) -> None:
    """Remove the second factor (secret, pending secret, recovery codes) so the person enrols again; ends sessions."""
    ensure(actor, "admin.manage", user)
    if user.id == actor.id:
        _refuse("mfa", _("You cannot reset your own second factor; ask another administrator."))
    removed = clear_second_factor(user)
    user.session_version += 1
    record(actor, "user.mfa_reset", user, recovery_codes_removed=removed,
           fields=["totp_secret", "totp_pending_secret", "mfa_enabled_at", "totp_last_step", "recovery_codes",
                   "session_version"])


def logout_everywhere(actor: User, user: User) -> None:
    """End every session of the account (all its cookies stop working)."""
    ensure(actor, "admin.manage", user)
    user.session_version += 1
    record(actor, "user.logout_everywhere", user, fields=["session_version"])


def unlock_user(actor: User, user: User) -> None:
    """Lift the login lock and forget the failed attempts."""
    ensure(actor, "admin.manage", user)
    if not user.failed_logins and user.locked_until is None:
        return
    user.failed_logins = 0
    user.locked_until = None
    record(actor, "user.unlock", user, fields=["failed_logins", "locked_until"])


def issue_temporary_password(actor: User, user: User) -> str:
    """Replace the password by a temporary one to change at next login, end every session; returns it once."""
    ensure(actor, "admin.manage", user)
    if user.id == actor.id:
        _refuse("password", _("Change your own password from your account page."))
    password = temporary_password(user.username, user.full_name)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.session_version += 1
    record(actor, "user.password_reset", user, fields=["password_hash", "must_change_password", "session_version"])
    return password
