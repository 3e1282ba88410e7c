"""Data-protection pages: consents, subject access export, the data-protection officer's lookup and erasure."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from caseapp.access.policy import get_or_404, requires
from caseapp.beneficiaries.models import Beneficiary
from caseapp.errors import DomainError
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.i18n import current_language
from caseapp.partners.models import Partner
from caseapp.privacy import consents, services
from caseapp.privacy.forms import AnonymiseForm, ConsentForm, LookupForm, WithdrawForm
from caseapp.privacy.subject_access import export_language, sees_restricted, subject_access_data, to_json
from caseapp.referrals import notifications
from caseapp.security.rate_limit import limit_exports
from caseapp.views_support import show_refusal

bp = Blueprint("privacy", __name__)


@bp.app_template_global("privacy_consent_rows")
def _consent_rows(person: Beneficiary) -> list[consents.ConsentRow]:
    """The person page's consent table (one query)."""
    return consents.consent_rows(person, current_user)


def _person_page(person: Beneficiary) -> str:
    return url_for("beneficiaries.show", beneficiary_id=person.id) + "#consents"


# --- consents ----------------------------------------------------------------------------------------------------


@bp.route("/people/<int:person_id>/consents/new", methods=["GET", "POST"])
@requires("consent.manage")
def record_consent(person_id: int):
    person = get_or_404(Beneficiary, person_id, "consent.manage")
    form = ConsentForm()
    partners = db.session.scalars(select(Partner).where(Partner.active.is_(True)).order_by(Partner.name))
    form.partner_id.choices = choices({0: "—"} | {partner.id: partner.name for partner in partners})
    if form.validate_on_submit():
        try:
            consents.record_consent(current_user, person, kind=form.kind.data or "", method=form.method.data or "",
                                    partner_id=form.partner_id.data or None, witness_name=form.witness_name.data or "",
                                    legal_basis=form.legal_basis.data or "", form_token=form.form_token.data)
        except DomainError as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Consent recorded."), "success")
            return redirect(_person_page(person))
    return render_template("privacy/consent_new.html", person=person, form=form)


@bp.route("/people/<int:person_id>/consents/<int:consent_id>/withdraw",
          methods=["GET", "POST"])
@requires("consent.manage")
def withdraw_consent(person_id: int, consent_id: int):
    person = get_or_404(Beneficiary, person_id, "consent.manage")
    consent = consents.find_consent(person, consent_id)
    if consent is None:
        abort(404)  # a consent of someone else
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            cancelled = consents.withdraw_consent(current_user, consent)
        except DomainError as refusal:
            db.session.rollback()
            flash(refusal.message, "danger")
        else:
            db.session.commit()
            notifications.send_pending_emails()
            flash(_("Consent withdrawn."), "success")
            if cancelled:
                flash(ngettext("%(num)d open referral was cancelled and its receiving partner told.",
                               "%(num)d open referrals were cancelled and their receiving partners told.",
                               len(cancelled)), "info")
            if consent.kind == "processing":
                flash(_("Withdrawing consent to processing erases nothing: erasure of the person's data is a "
                        "request to the data-protection officer."), "warning")
        return redirect(_person_page(person))
    covered = len(consents.referrals_covered(consent)) if consent.kind == "sharing" else 0
    return render_template("privacy/consent_withdraw.html", person=person, consent=consent, form=form,
                           covered=covered)


# --- subject access ----------------------------------------------------------------------------------------------


@bp.route("/people/<int:person_id>/subject-access")
@requires("person.access_export")
def subject_access(person_id: int):
    limit_exports(current_user)
    person = get_or_404(Beneficiary, person_id, "person.access_export")
    language = export_language(person, request.args.get("lang"), current_language())
    with force_locale(language):
        data = subject_access_data(current_user, person, "print", language)
        html = render_template("privacy/subject_access.html", person=person, data=data, export_language=language,
                               full=sees_restricted(current_user))
    db.session.commit()
    return html


@bp.route("/people/<int:person_id>/subject-access.json")
@requires("person.access_export")
def subject_access_json(person_id: int):
    limit_exports(current_user)
    person = get_or_404(Beneficiary, person_id, "person.access_export")
    body = to_json(subject_access_data(current_user, person, "json"))
    db.session.commit()
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="subject-access-{person.id}.json"'
    return response


# --- the data-protection officer ---------------------------------------------------------------------------------


@bp.route("/privacy", methods=["GET", "POST"])
@requires("person.lookup")
def lookup():
    form = LookupForm()
    if form.validate_on_submit():
        number = (form.case_number.data or "").strip()
        if not number:
            form.case_number.errors = [_("Enter a case number.")]
        else:
            person = services.find_person_by_case_number(current_user, number)
            db.session.commit()
            if person is not None:
                return redirect(url_for("privacy.person", person_id=person.id))
            form.case_number.errors = [_("No case has this number.")]
    return render_template("privacy/lookup.html", form=form)


@bp.route("/privacy/people/<int:person_id>")
@requires("person.lookup")
def person(person_id: int):
    found = get_or_404(Beneficiary, person_id, "person.erase")
    services.view_person_summary(current_user, found)
    html = render_template("privacy/person.html", person=found)
    db.session.commit()
    return html


@bp.route("/privacy/people/<int:person_id>/anonymise", methods=["GET", "POST"])
@requires("person.erase")
def anonymise(person_id: int):
    found = get_or_404(Beneficiary, person_id, "person.erase")
    form = AnonymiseForm()
    if form.validate_on_submit():
        if not form.confirm.data:
            form.confirm.errors = [_("Tick the box to confirm the erasure.")]
        else:
            try:
                services.anonymise_person(current_user, found, form.reason.data or "")
            except DomainError as refusal:
                db.session.rollback()
                show_refusal(form, refusal)
            else:
                db.session.commit()
                flash(_("The person's data has been anonymised."), "success")
                return redirect(url_for("privacy.person", person_id=found.id))
    return render_template("privacy/anonymise.html", person=found, form=form)
