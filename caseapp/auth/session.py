"""Session identity: user loading with a revocable session version, and the absolute timeout."""
from datetime import datetime, timedelta, timezone

from flask import session
from flask_login import LoginManager, current_user, logout_user
from flask_babel import lazy_gettext as _l

from caseapp.extensions import db

ABSOLUTE_SESSION_LIFETIME = timedelta(hours=12)


def init_login_manager(login_manager: LoginManager) -> None:
    """Wire Flask-Login: loader, login view and its message."""
    from caseapp.auth.models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(identity: str):
        user_id, _, version = identity.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or user.session_version != int(version):
            return None
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
