"""Administration pages: partners, service points and user accounts (admin role only, never case contents).

Each view: load (404 if missing) → form → service → commit once → redirect with a message. The one exception is
a temporary password: it is rendered in the response to the POST that made it, so it is never stored, put in a
URL or kept in the session.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.access.policy import ROLES, get_or_404, requires
from caseapp.admin import services
from caseapp.admin.forms import (
    PARTNER_KIND_LABELS, PartnerCreateForm, PartnerEditForm, ServicePointCreateForm, ServicePointEditForm,
    UserEditForm, UserFilterForm, UserInviteForm,
)
from caseapp.auth.models import User
from caseapp.auth.services import is_locked
from caseapp.errors import EditConflict, ValidationFailed
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.views_support import conflict_page, show_refusal

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@requires("admin.manage")
def index():
    return render_template("admin/index.html", counts=services.overview())


def _save(form, work, message: str, next_url):
    """Run `work()` if the form is valid: commit, flash and redirect to `next_url(result)`; else None (re-render).
    Someone else's newer save answers the conflict page (409) with both versions."""
    if not form.validate_on_submit():
        return None
    try:
        result = work()
    except EditConflict as conflict:
        db.session.rollback()
        return conflict_page(conflict, request.path)
    except ValidationFailed as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(next_url(result))


def _partner_choices(current_id: int | None = None) -> list:
    """Active partners, and the record's current partner even if deactivated."""
    return choices({partner.id: partner.name for partner in services.list_partners()
                    if partner.active or partner.id == current_id}, blank=True)


# --- Partners -------------------------------------------------------------------------------------------------

@bp.route("/partners")
@requires("admin.manage")
def partners():
    return render_template("admin/partners.html", partners=services.list_partners(), kinds=PARTNER_KIND_LABELS)


@bp.route("/partners/new", methods=["GET", "POST"])
@requires("admin.manage")
def partner_new():
    form = PartnerCreateForm()
    done = _save(form, lambda: services.create_partner(
        current_user, code=form.code.data, name=form.name.data, kind=form.kind.data, active=form.active.data,
        form_token=form.form_token.data), _("Partner added."), lambda _partner: url_for("admin.partners"))
    return done or render_template("admin/form.html", form=form, title=_("Add a partner"),
                                   back_url=url_for("admin.partners"))


@bp.route("/partners/<int:partner_id>", methods=["GET", "POST"])
@requires("admin.manage")
def partner_edit(partner_id: int):
    partner = get_or_404(Partner, partner_id, "admin.manage")
    form = PartnerEditForm(obj=partner)
    done = _save(form, lambda: services.update_partner(
        current_user, partner, code=form.code.data, name=form.name.data, kind=form.kind.data,
        active=form.active.data), _("Partner saved."), lambda _partner: url_for("admin.partners"))
    return done or render_template("admin/form.html", form=form, back_url=url_for("admin.partners"),
                                   title=_("Partner %(code)s", code=partner.code))


# --- Service points -------------------------------------------------------------------------------------------

def _point_form(form_class, point: ServicePoint | None = None):
    form = form_class(obj=point)
    form.commune_code.choices = choices({commune.code: f"{commune.name} ({commune.code})"
                                         for commune in services.list_communes()}, blank=True)
    form.partner_id.choices = _partner_choices(point.partner_id if point else None)
    return form


@bp.route("/service-points")
@requires("admin.manage")
def service_points():
    return render_template("admin/service_points.html", points=services.list_service_points())


@bp.route("/service-points/new", methods=["GET", "POST"])
@requires("admin.manage")
def service_point_new():
    form = _point_form(ServicePointCreateForm)
    done = _save(form, lambda: services.create_service_point(
        current_user, code=form.code.data, name=form.name.data, commune_code=form.commune_code.data,
        partner_id=form.partner_id.data, active=form.active.data, form_token=form.form_token.data),
        _("Service point added."), lambda _point: url_for("admin.service_points"))
    return done or render_template("admin/form.html", form=form, title=_("Add a service point"),
                                   back_url=url_for("admin.service_points"))


@bp.route("/service-points/<int:point_id>", methods=["GET", "POST"])
@requires("admin.manage")
def service_point_edit(point_id: int):
    point = get_or_404(ServicePoint, point_id, "admin.manage")
    form = _point_form(ServicePointEditForm, point)
    done = _save(form, lambda: services.update_service_point(
        current_user, point, code=form.code.data, name=form.name.data, commune_code=form.commune_code.data,
        partner_id=form.partner_id.data, active=form.active.data),
        _("Service point saved."), lambda _point: url_for("admin.service_points"))
    return done or render_template("admin/form.html", form=form, back_url=url_for("admin.service_points"),
                                   title=_("Service point %(code)s", code=point.code))


# --- User accounts --------------------------------------------------------------------------------------------

def _user_form(form_class, user: User | None = None):
    form = form_class(obj=user)
    form.partner_id.choices = _partner_choices(user.partner_id if user else None)
    assigned = user.service_point_ids if user else set()
    form.service_point_ids.choices = choices({
        point.id: f"{point.partner.name} · {point.name} ({point.code})"
        for point in sorted(services.list_service_points(), key=lambda point: (point.partner.name, point.code))
        if point.active or point.id in assigned})
    return form


def _user_values(form) -> dict:
    return dict(full_name=form.full_name.data, email=form.email.data, preferred_language=form.preferred_language.data,
                role=form.role.data, partner_id=form.partner_id.data, service_point_ids=form.service_point_ids.data,
                restricted_access=form.restricted_access.data)


@bp.route("/users")
@requires("admin.manage")
def users():
    search = UserFilterForm(request.args)
    search.partner.choices = choices({partner.id: partner.name for partner in services.list_partners()}, blank=True)
    role = search.role.data if search.role.data in ROLES else None
    rows = services.list_users(partner_id=search.partner.data, role=role)
    return render_template("admin/users.html", search=search, users=rows, is_locked=is_locked)


@bp.route("/users/new", methods=["GET", "POST"])
@requires("admin.manage")
def user_new():
    form = _user_form(UserInviteForm)
    if form.validate_on_submit():
        try:
            user, password = services.invite_user(current_user, username=form.username.data,
                                                  form_token=form.form_token.data, **_user_values(form))
        except ValidationFailed as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
            if password is None:  # the same form posted again: the account exists, its password was shown once
                flash(_("This account was already created. Issue a new temporary password if it was lost."), "info")
                return redirect(url_for("admin.user_edit", user_id=user.id))
            return _show_password(user, password)
    return render_template("admin/user_new.html", form=form)


def _show_password(user: User, password: str):
    """The one page that shows a temporary password: the response to the POST that made it."""
    return render_template("admin/temporary_password.html", user=user, password=password)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("admin.manage")
def user_edit(user_id: int):
    user = get_or_404(User, user_id, "admin.manage")
    form = _user_form(UserEditForm, user)
    if not form.is_submitted():
        form.version.data = services.account_fingerprint(user)
    done = _save(form, lambda: services.update_user(current_user, user, **_user_values(form),
                                                    expected_fingerprint=form.version.data or None),
                 _("Account saved."), lambda _user: url_for("admin.user_edit", user_id=user_id))
    return done or render_template("admin/user.html", user=user, form=form, locked=is_locked(user))


def _user_action(user_id: int, work, message: str):
    """One button on the account page: run the service, commit, and come back to the page."""
    user = get_or_404(User, user_id, "admin.manage")
    try:
        work(current_user, user)
    except ValidationFailed as refusal:
        db.session.rollback()
        for messages in refusal.errors.values():
            for text in messages:
                flash(text, "danger")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@requires("admin.manage")
def user_disable(user_id: int):
    return _user_action(user_id, services.disable_user, _("Account disabled. Its sessions are closed."))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@requires("admin.manage")
def user_enable(user_id: int):
    return _user_action(user_id, services.enable_user, _("Account enabled."))


@bp.route("/users/<int:user_id>/mfa-reset", methods=["POST"])
@requires("admin.manage")
def user_mfa_reset(user_id: int):
    return _user_action(user_id, services.reset_mfa,
                        _("Second factor removed. The person sets it up again at the next login."))


@bp.route("/users/<int:user_id>/logout-everywhere", methods=["POST"])
@requires("admin.manage")
def user_logout_everywhere(user_id: int):
    return _user_action(user_id, services.logout_everywhere, _("All sessions of this account are closed."))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@requires("admin.manage")
def user_unlock(user_id: int):
    return _user_action(user_id, services.unlock_user, _("Account unlocked."))


@bp.route("/users/<int:user_id>/temporary-password", methods=["POST"])
@requires("admin.manage")
def user_password_reset(user_id: int):
    user = get_or_404(User, user_id, "admin.manage")
    try:
        password = services.issue_temporary_password(current_user, user)
    except ValidationFailed as refusal:
        db.session.rollback()
        for messages in refusal.errors.values():
            for text in messages:
                flash(text, "danger")
        return redirect(url_for("admin.user_edit", user_id=user_id))
    db.session.commit()
    return _show_password(user, password)
