"""Authentication: checking credentials, creating accounts, ending sessions; audited.

Failed logins are counted per account in the database (`User.failed_logins`), so the count holds across
workers. After LOGIN_LOCK_AFTER consecutive failures the account is locked (`User.locked_until`) for
LOGIN_LOCK_SECONDS; every further failure once a lock has ended locks it again for twice as long, up to
LOGIN_LOCK_MAX_SECONDS. While locked, every attempt is refused without verifying the password (no hashing
work, and a right guess is not confirmed) and audited as `login.locked`. A successful login resets the count.
"""
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from caseapp.audit.service import record
from caseapp.auth.models import User
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.security.password_policy import password_problems
from caseapp.security.passwords import hash_password, needs_rehash, verify_password


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def lock_seconds(failures: int) -> int:
    """How long `failures` consecutive failures lock an account: 0 below the threshold, then doubling, capped."""
    config = current_app.config
    beyond = failures - config["LOGIN_LOCK_AFTER"]
    if beyond < 0:
        return 0
    cap = config["LOGIN_LOCK_MAX_SECONDS"]
    # Past the cap the doubling stops mattering; the bound on the exponent keeps the integer small.
    return min(config["LOGIN_LOCK_SECONDS"] * 2 ** min(beyond, 32), cap)


def is_locked(user: User, now: datetime | None = None) -> bool:
    """True while the account's login lock runs."""
    return user.locked_until is not None and _aware(user.locked_until) > (now or utcnow())


def _register_failure(user: User, now: datetime) -> None:
    """Count one more consecutive failure (atomically, in SQL) and lock the account once there are enough."""
    failures = db.session.execute(
        update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    seconds = lock_seconds(failures)
    if seconds:
        user.locked_until = now + timedelta(seconds=seconds)
        record(user, "login.locked", user, reason="too_many_failures", failures=failures, lock_seconds=seconds)


def authenticate(username: str, password: str, now: datetime | None = None) -> User | None:
    """Return the active user whose password matches, auditing the outcome either way.

    For an account with a second factor the login is not complete yet: the caller asks for the code and
    calls `verify_second_factor`; the failure count is only reset once both factors passed, so a known
    password does not give unlimited guesses at codes. `now` (UTC) is for tests of the lock. Neither the
    password nor the typed username is ever written to the audit trail.
    """
    now = now or utcnow()
    by_name = func.lower(User.username) == username.strip().lower()
    # argon2id costs about 0.1 s of CPU: it runs before the session's transaction starts, on a hash read through a
    # short connection of its own, because on SQLite a transaction holds the database's only write lock.
    lookup = select(User.password_hash, User.locked_until).where(by_name).order_by(User.id).limit(1)
    if db.session().in_transaction():  # this transaction may already hold SQLite's lock: a second one would wait
        stored = db.session.execute(lookup).first()
    else:
        with db.engine.connect() as connection:
            stored = connection.execute(lookup).first()
    stored_hash = stored.password_hash if stored else None
    matches = False if stored and is_locked(stored, now) else verify_password(stored_hash, password)
    user = db.session.scalars(select(User).where(by_name).order_by(User.id)).first()
    if user is not None and is_locked(user, now):
        record(user, "login.locked", user, reason="locked")
        return None
    if user is not None and user.password_hash != stored_hash:  # changed in between: check the current one
        matches = verify_password(user.password_hash, password)
    if not matches or not user.active:
        record(user, "login.failed", user, reason="inactive" if user and not user.active else "credentials")
        if user is not None and user.active:
            _register_failure(user, now)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.mfa_enabled:
        record(user, "login.password_ok", user, second_factor="pending")
    else:
        _complete_login(user, "password")
    return user


def _complete_login(user: User, method: str) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    record(user, "login.ok", user, method=method)


def verify_second_factor(user: User, code: str, now: datetime | None = None) -> bool:
    """Finish a login with a TOTP or recovery code; wrong and replayed codes count as failed logins."""
    from caseapp.auth.mfa import check_second_factor

    now = now or utcnow()
    if not user.active or is_locked(user, now):
        record(user, "login.locked" if user.active else "login.failed", user, reason="second_factor")
        return False
    outcome = check_second_factor(user, code, now.timestamp())
    if outcome in ("totp", "recovery"):
        _complete_login(user, outcome)
        return True
    _register_failure(user, now)
    return False


def end_session(user: User) -> None:
    """Log out: bump the session version so every cookie issued so far stops working."""
    user.session_version += 1
    record(user, "logout", user)


def create_user(actor: User | None, *, username: str, full_name: str, password: str, role: str,
                partner, service_points, restricted_access: bool = False,
                preferred_language: str | None = None) -> User:
    """Create an account; `actor` is None only for command-line bootstrap.

    Raises ValidationFailed (field "password") when the password breaks the password policy.
    """
    if problems := password_problems(password, username=username, full_name=full_name):
        raise ValidationFailed({"password": problems})
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


def change_password(actor: User, current: str, new: str, confirm: str) -> None:
    """Change the actor's own password; every session issued so far stops working (the caller starts a new one)."""
    errors: dict[str, list[str]] = {}
    if not verify_password(actor.password_hash, current):
        errors["current_password"] = [_("The current password is wrong.")]
    if problems := password_problems(new, username=actor.username, full_name=actor.full_name):
        errors["new_password"] = problems
    elif new == current:
        errors["new_password"] = [_("Choose a password other than the current one.")]
    elif new != confirm:
        errors["confirm_password"] = [_("The two new passwords differ.")]
    if errors:
        raise ValidationFailed(errors)
    actor.password_hash = hash_password(new)
    actor.session_version += 1
    actor.must_change_password = False
    record(actor, "user.password_change", actor, fields=["password_hash", "session_version"])


def log_out_everywhere(actor: User) -> None:
    """End every session of the actor, this one included (the session version changes)."""
    actor.session_version += 1
    record(actor, "user.logout_everywhere", actor, fields=["session_version"])
