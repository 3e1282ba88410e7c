"""Login and logout pages."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.exceptions import TooManyRequests

from caseapp.access.policy import AUTHENTICATED, PUBLIC, requires
from caseapp.auth.forms import LoginForm, PasswordChangeForm
from caseapp.auth.services import authenticate, change_password as change_own_password, end_session
from caseapp.auth.session import reset_session, start_session
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.safe_redirect import is_local_path
from caseapp.security.rate_limit import login_limiter
from caseapp.views_support import show_refusal

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@requires(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    if request.method == "POST":
        _limit_attempts_per_address()
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        db.session.commit()
        if user is not None:
            next_url = request.args.get("next")
            start_session(user)
            return redirect(next_url if is_local_path(next_url) else url_for("home.index"))
        # The same words for a wrong password, an unknown username, a locked or a disabled account.
        flash(_("Unknown username or wrong password."), "danger")
    return render_template("auth/login.html", form=form)


def _limit_attempts_per_address() -> None:
    """429 with Retry-After once this address has used up LOGIN_RATE_LIMIT; checked before any hashing."""
    limiter = login_limiter()
    address = request.remote_addr or "unknown"
    if not limiter.hit(address):
        raise TooManyRequests(retry_after=limiter.retry_after(address))


@bp.route("/logout", methods=["POST"])
@requires(AUTHENTICATED)
def logout():
    end_session(current_user)
    db.session.commit()
    logout_user()
    reset_session()  # the last search (a person's name) and the rest must not outlive the login
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires(AUTHENTICATED)
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            change_own_password(current_user, form.current_password.data, form.new_password.data,
                                     form.confirm_password.data)
        except ValidationFailed as failure:
            db.session.rollback()
            show_refusal(form, failure)
        else:
            db.session.commit()
            # This browser continues with a fresh session; all others are revoked. login_user needs the User
            # itself: given the current_user proxy it would store a proxy that resolves to itself.
            start_session(current_user._get_current_object())
            flash(_("Your password is changed. Your other sessions are closed."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/password.html", form=form)
