"""Authentication: checking credentials, creating accounts, ending sessions; audited."""
from sqlalchemy import func, select

from caseapp.audit.service import record
from caseapp.auth.models import User
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.security.passwords import hash_password, needs_rehash, verify_password


def authenticate(username: str, password: str) -> User | None:
    """Return the active user whose password matches, auditing the outcome either way."""
    user = db.session.scalars(select(User).where(func.lower(User.username) == username.strip().lower())).first()
    if not verify_password(user.password_hash if user else None, password) or not user.active:
        record(user, "login.failed", user, reason="inactive" if user and not user.active else "credentials")
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    record(user, "login.ok", user)
    return user


def end_session(user: User) -> None:
    """Log out: bump the session version so every cookie issued so far stops working."""
    user.session_version += 1
    record(user, "logout", user)


def create_user(actor: User | None, *, username: str, full_name: str, password: str, role: str,
                partner, service_points, restricted_access: bool = False,
                preferred_language: str | None = None) -> User:
    """Create an account; `actor` is None only for command-line bootstrap."""
    user = User(
        username=username, full_name=full_name, password_hash=hash_password(password), role=role,
        partner_id=partner.id, restricted_access=restricted_access, preferred_language=preferred_language,
    )
    user.service_points = list(service_points)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", user, fields=["username", "role", "partner_id", "service_points"])
    return user


def set_preferred_language(actor: User, language: str) -> None:
    """Remember the interface language the user chose."""
    actor.preferred_language = language
    record(actor, "user.update", actor, fields=["preferred_language"])
