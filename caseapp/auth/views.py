"""Login (password, then second factor), logout, and the account's password and security pages."""
import textwrap

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.exceptions import TooManyRequests

from caseapp.access.policy import AUTHENTICATED, PUBLIC, requires
from caseapp.auth import mfa
from caseapp.auth.forms import LoginForm, PasswordChangeForm, PasswordConfirmForm, SecondFactorForm
from caseapp.auth.services import (
    authenticate, change_password as change_own_password, end_session, log_out_everywhere, verify_second_factor,
)
from caseapp.auth.session import begin_pending_login, pending_login, reset_session, start_session
from caseapp.errors import ValidationFailed
from caseapp.forms_common import AppForm
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
        db.session.rollback()  # end the read a stale session cookie started: the password check holds no lock
        user = authenticate(form.username.data, form.password.data)
        db.session.commit()
        if user is not None:
            next_url = request.args.get("next")
            next_url = next_url if is_local_path(next_url) else None
            if user.mfa_enabled:
                begin_pending_login(user, next_url)
                return redirect(url_for("auth.second_factor"))
            start_session(user)
            return redirect(next_url or url_for("home.index"))
        # The same words for a wrong password, an unknown username, a locked or a disabled account.
        flash(_("Unknown username or wrong password."), "danger")
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@requires(PUBLIC)
def second_factor():
    """Second step of a login: the authenticator code (or a recovery code) of the user whose password was right."""
    user, next_url = pending_login()
    if user is None:
        flash(_("Please log in again."), "info")
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        _limit_attempts_per_address()
    form = SecondFactorForm()
    if form.validate_on_submit():
        accepted = verify_second_factor(user, form.code.data)
        db.session.commit()
        if accepted:
            start_session(user)
            return redirect(next_url or url_for("home.index"))
        flash(_("This code is wrong or was already used."), "danger")
    return render_template("auth/second_factor.html", form=form)


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


@bp.route("/account/security")
@requires(AUTHENTICATED)
def security():
    return render_template("auth/security.html", required=mfa.mfa_required(current_user),
                           remaining_codes=mfa.remaining_recovery_codes(current_user) if current_user.mfa_enabled
                           else 0, form=PasswordConfirmForm())


@bp.route("/account/second-factor", methods=["GET", "POST"])
@requires(AUTHENTICATED)
def mfa_setup():
    """Set up the authenticator app: QR code of a pending secret, then a code from it to confirm."""
    if current_user.mfa_enabled:
        return redirect(url_for("auth.security"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            codes = mfa.confirm_enrolment(current_user, form.code.data)
        except ValidationFailed as failure:
            db.session.commit()  # the failed attempt stays audited
            show_refusal(form, failure)
        else:
            db.session.commit()
            start_session(current_user._get_current_object())  # other sessions, opened without a code, are over
            flash(_("Two-step login is on."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    elif current_user.totp_pending_secret is None:
        mfa.begin_enrolment(current_user)
        db.session.commit()
    uri = mfa.provisioning_uri(current_user)
    return render_template("auth/mfa_setup.html", form=form, qr_svg=mfa.qr_code_svg(uri),
                           secret=" ".join(textwrap.wrap(current_user.totp_pending_secret, 4)),
                           required=mfa.mfa_required(current_user))


@bp.route("/account/second-factor/new-key", methods=["POST"])
@requires(AUTHENTICATED)
def mfa_new_key():
    """Draw another pending key (a POST: a link from elsewhere must not replace a set-up in progress)."""
    if not current_user.mfa_enabled and AppForm().validate_on_submit():
        mfa.begin_enrolment(current_user)
        db.session.commit()
    return redirect(url_for("auth.mfa_setup"))


@bp.route("/account/recovery-codes", methods=["POST"])
@requires(AUTHENTICATED)
def new_recovery_codes():
    """Replace the recovery codes (the old ones stop working); needs the current password."""
    form = PasswordConfirmForm()
    if not current_user.mfa_enabled or not _password_ok(form):
        return redirect(url_for("auth.security"))
    codes = mfa.new_recovery_codes(current_user)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.route("/account/second-factor/off", methods=["POST"])
@requires(AUTHENTICATED)
def mfa_disable():
    """Turn an optional second factor off; needs the current password."""
    form = PasswordConfirmForm()
    if current_user.mfa_enabled and _password_ok(form):
        try:
            mfa.disable_mfa(current_user)
        except ValidationFailed:
            db.session.rollback()
            flash(_("Your role requires a second factor."), "danger")
        else:
            db.session.commit()
            flash(_("Two-step login is off."), "info")
    return redirect(url_for("auth.security"))


def _password_ok(form: PasswordConfirmForm) -> bool:
    """Whether the posted form is valid and holds the current password; if not, flashes why."""
    from caseapp.security.passwords import verify_password

    if not form.validate_on_submit():  # no password, an over-long one, or a stale page: never a silent refusal
        flash(_("Enter your current password to confirm."), "danger")
        return False
    if verify_password(current_user.password_hash, form.password.data):
        return True
    flash(_("The current password is wrong."), "danger")
    return False


@bp.route("/account/logout-everywhere", methods=["POST"])
@requires(AUTHENTICATED)
def logout_everywhere():
    """End every session of this account, on every device, this one included."""
    log_out_everywhere(current_user)
    db.session.commit()
    logout_user()
    reset_session()
    flash(_("You are logged out on every device."), "info")
    return redirect(url_for("auth.login"))
