"""Referral pages: new referral, referral page and actions, review queue, inbox, list, slip, notifications."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.access.policy import AUTHENTICATED, can, get_or_404, requires
from caseapp.audit.service import record_read
from caseapp.cases.models import Case
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.models_base import utcnow
from caseapp.referrals import notifications, queries, services
from caseapp.referrals.directory import services as catalogue
from caseapp.referrals.forms import ConsentForm, ReferralForm, TransitionForm
from caseapp.referrals.models import Notification, Referral
from caseapp.views_support import show_refusal

bp = Blueprint("referrals", __name__)


def _referral_form(case: Case, posted: bool) -> ReferralForm:
    form = ReferralForm() if posted else ReferralForm(formdata=None)
    form.service_code.choices = choices({service.code: service.name for service in catalogue()}, blank=True)
    partners = services.receiving_partner_choices(case, None)
    form.receiving_partner_id.choices = choices({0: "—"} | {partner.id: partner.name for partner in partners})
    return form


@bp.route("/cases/<int:case_id>/referrals/new", methods=["GET", "POST"])
@requires("referral.create")
def new(case_id: int):
    case = get_or_404(Case, case_id, "referral.create")
    form = _referral_form(case, posted=request.method == "POST")
    if form.validate_on_submit():
        try:
            referral = services.create_referral(
                current_user, case, service_code=form.service_code.data or "",
                receiving_partner_id=form.receiving_partner_id.data or None, priority=form.priority.data or "",
                reason=form.reason.data or "", consent_method=form.consent_method.data or "",
                consent_witness=form.consent_witness.data or "", shared_fields=form.shared_fields.data or [],
                form_token=form.form_token.data)
        except DomainError as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Referral drafted. Submit it for review when it is ready."), "success")
            return redirect(url_for("referrals.show", referral_id=referral.id))
    offered = services.directory_of_commune(case.beneficiary.commune_code)
    directory = {service.code: offered.get(service.code, []) for service in catalogue()}
    return render_template("referrals/new.html", case=case, form=form, directory=directory)


@bp.route("/referrals/<int:referral_id>")
@requires("referral.view")
def show(referral_id: int):
    referral = queries.load_timeline(get_or_404(Referral, referral_id, "referral.view"))
    receiving_side = not can(current_user, "case.view", referral.case)
    record_read(current_user, "referral.view", referral, minimum_dataset=receiving_side)
    html = render_template(
        "referrals/receiver.html" if receiving_side else "referrals/show.html", referral=referral,
        person=referral.case.beneficiary, form=TransitionForm(formdata=None), consent_form=ConsentForm(formdata=None),
        actions=_allowed_actions(referral), overdue=services.is_overdue(referral),
        has_consent=services.has_sharing_consent(referral),
        offline=not services.partner_has_accounts(referral.receiving_partner_id))
    db.session.commit()
    return html


def _allowed_actions(referral: Referral) -> list[str]:
    return [action for action, (sources, _target) in services.TRANSITIONS.items()
            if referral.status in sources and can(current_user, f"referral.{action}", referral)]


@bp.route("/referrals/<int:referral_id>/consent", methods=["POST"])
@requires("referral.submit")
def record_consent(referral_id: int):
    referral = get_or_404(Referral, referral_id, "referral.submit")
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            services.record_consent(current_user, referral, form.consent_method.data or "",
                                    form.consent_witness.data or "")
        except DomainError as refusal:
            db.session.rollback()
            flash(refusal.message, "danger")
        else:
            db.session.commit()
            flash(_("Consent recorded."), "success")
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.route("/referrals/<int:referral_id>/<action>", methods=["POST"])
@requires("referral.view")
def act(referral_id: int, action: str):
    if action not in services.TRANSITIONS:
        abort(404)
    if not can(current_user, f"referral.{action}"):
        abort(403)  # the role never takes this step
    referral = get_or_404(Referral, referral_id, "referral.view")
    form = TransitionForm()
    if form.validate_on_submit():
        try:
            services.transition(current_user, referral, action, comment=form.comment.data or "",
                                outcome=form.outcome.data or "")
        except DomainError as refusal:
            db.session.rollback()
            flash(refusal.message, "danger")
        else:
            db.session.commit()
            notifications.send_pending_emails()
            flash(_("Done."), "success")
            if not can(current_user, "referral.view", referral):  # e.g. a receiver after completing it
                return redirect(url_for("referrals.inbox"))
    return redirect(url_for("referrals.show", referral_id=referral.id))


@bp.route("/referrals/<int:referral_id>/slip")
@requires("referral.view")
def slip(referral_id: int):
    referral = get_or_404(Referral, referral_id, "referral.view")
    if not can(current_user, "case.view", referral.case):
        abort(404)  # slips are printed by the referring side, for partners without an account
    language = request.args.get("lang") if request.args.get("lang") in ("fr", "ar") else "fr"
    record_read(current_user, "referral.print", referral, language=language)
    with force_locale(language):
        html = render_template("referrals/slip.html", referral=referral, person=referral.case.beneficiary,
                               slip_language=language, now=utcnow())
    db.session.commit()
    return html


def _list_page(lister, title: str, endpoint: str):
    """One page of a referral list (`lister(actor, page, per_page)`), as the page asks."""
    page = lister(current_user, request.args.get("page", 1, type=int), current_app.config["PAGE_SIZE"])
    return render_template("referrals/list.html", page=page, title=title, endpoint=endpoint, now=utcnow(),
                           is_overdue=services.is_overdue, elapsed=queries.elapsed_days)


@bp.route("/referrals/review")
@requires("referral.review")
def review():
    return _list_page(queries.review_queue, _("Referrals waiting for your review"), "referrals.review")


@bp.route("/referrals/inbox")
@requires("referral.inbox")
def inbox():
    return _list_page(queries.inbox, _("Referrals received by your organisation"), "referrals.inbox")


@bp.route("/referrals/")
@requires("referral.view")
def index():
    if current_user.role == "referral_receiver":
        return redirect(url_for("referrals.inbox"))
    return _list_page(queries.referring_list, _("Referrals"), "referrals.index")


@bp.route("/notifications")
@requires(AUTHENTICATED)
def notification_list():
    return render_template("referrals/notifications.html",
                           items=notifications.user_notifications(current_user), labels=notifications.NOTIFICATION_LABELS)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@requires(AUTHENTICATED)
def open_notification(notification_id: int):
    notification = get_or_404(Notification, notification_id, AUTHENTICATED)
    notifications.mark_read(current_user, notification)
    db.session.commit()
    referral = notification.referral
    if referral is not None and can(current_user, "referral.view", referral):
        return redirect(url_for("referrals.show", referral_id=referral.id))
    flash(_("This referral is no longer open to you."), "info")
    return redirect(url_for("referrals.notification_list"))
