"""Session identity: user loading with a revocable session version, and the absolute timeout."""
from datetime import datetime, timedelta, timezone

from flask import g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select

from caseapp.extensions import db

ABSOLUTE_SESSION_LIFETIME = timedelta(hours=12)
SECOND_FACTOR_WAIT = timedelta(minutes=5)
# What a user who must first change their password, then set up a second factor, may still open.
_PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "home.set_language", "health.live",
                                        "health.ready", "static"})
_SETUP_ENDPOINTS = _PASSWORD_CHANGE_ENDPOINTS | {"auth.mfa_setup", "auth.mfa_new_key"}


def init_login_manager(login_manager: LoginManager) -> None:
    """Wire Flask-Login: loader, login view and its message."""
    from caseapp.auth.models import User

    from caseapp.reference_stamp import STAMP
    from caseapp.referrals.notifications import UNREAD_BADGE_COLUMN, keep_unread_badge

    # The reference stamp comes with the account, from the same snapshot: what the request reads of the account's
    # scope afterwards is at least as new as the stamp its kept fragments are filed under (caseapp.fragments).
    # The header's unread count comes along too, saving the layout a statement.
    user_by_id = select(User, STAMP, UNREAD_BADGE_COLUMN).where(User.id == bindparam("user_id"))
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(identity: str):
        user_id, _, version = identity.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        # Alone: loading its organisation and service points along (joinedload) cost more CPU per request than the
        # two small queries it saves where they are read (bench/load.py, CPU per request: +3 to +8 ms). A statement
        # built once: `session.get` builds its own at each call (0.41–0.58 against 0.28–0.29 ms of CPU, in process).
        row = db.session.execute(user_by_id, {"user_id": int(user_id)}).first()
        if row is None:
            return None
        user, g.reference_stamp, unread = row
        if not user.active or user.session_version != int(version):
            return None
        keep_unread_badge(user.id, unread)
        return user


def reset_session() -> None:
    """Empty the session (last search, CSRF token, login time...), keeping only the chosen language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def start_session(user) -> None:
    """Clear whatever the session held, then log `user` in with a fresh login time."""
    from flask_login import login_user

    reset_session()
    login_user(user, remember=False)
    session.permanent = True
    session["auth_at"] = datetime.now(timezone.utc).isoformat()


def enforce_absolute_timeout():
    """before_request hook: a session older than 12 hours is ended, however active."""
    if not current_user.is_authenticated:
        return None
    started = session.get("auth_at")
    if started is None or datetime.fromisoformat(started) + ABSOLUTE_SESSION_LIFETIME < datetime.now(timezone.utc):
        logout_user()
        session.clear()
    return None


def begin_pending_login(user, next_url: str | None) -> None:
    """The password was right and a second factor is due: remember who, for a few minutes, in a fresh session."""
    reset_session()
    session["pending_login"] = {"user": user.id, "version": user.session_version, "next": next_url,
                                "at": datetime.now(timezone.utc).isoformat()}


def pending_login():
    """(user, next URL) of the login waiting for its second factor, or (None, None) when none or expired."""
    from caseapp.auth.models import User

    pending = session.get("pending_login")
    if not isinstance(pending, dict):
        return None, None
    started = datetime.fromisoformat(pending["at"])
    user = db.session.get(User, pending["user"])
    if (started + SECOND_FACTOR_WAIT < datetime.now(timezone.utc) or user is None or not user.active
            or user.session_version != pending["version"]):
        session.pop("pending_login", None)
        return None, None
    return user, pending.get("next")


def enforce_account_setup():
    """before_request hook: a temporary password must be changed, and a required second factor set up, first."""
    if not current_user.is_authenticated or request.endpoint in _PASSWORD_CHANGE_ENDPOINTS:
        return None
    from caseapp.auth.mfa import mfa_required

    if current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    if request.endpoint not in _SETUP_ENDPOINTS and mfa_required(current_user) and not current_user.mfa_enabled:
        return redirect(url_for("auth.mfa_setup"))
    return None
