"""Registration and the beneficiary page."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from caseapp.access.policy import get_or_404, requires
from caseapp.beneficiaries.flags import flag_choices
from caseapp.beneficiaries.forms import RegistrationForm
from caseapp.beneficiaries.merge import current_record
from caseapp.beneficiaries.models import Beneficiary
from caseapp.beneficiaries.services import (
    RegistrationData, likely_duplicates, record_new_person_decision, register_beneficiary, view_beneficiary,
    visible_cases, visible_flags,
)
from caseapp.beneficiaries import households
from caseapp.beneficiaries.households import find_person_by_case_number
from caseapp.cases.forms import HouseholdLinkForm
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.labels import SPOKEN_LANGUAGE_LABELS
from caseapp.places.countries import country_choices
from caseapp.places.models import Commune
from caseapp.security.form_tokens import token_was_used

bp = Blueprint("beneficiaries", __name__, url_prefix="/beneficiaries")


def _fill_choices(form: RegistrationForm) -> None:
    form.service_point_id.choices = choices({sp.id: f"{sp.name} ({sp.commune.name})"
                                             for sp in current_user.service_points})
    countries = choices(dict(country_choices()), blank=True)
    form.nationality.choices = countries
    form.country_returned_from.choices = countries
    communes = db.session.scalars(select(Commune).order_by(Commune.name_fr)).all()
    form.commune_code.choices = choices({c.code: c.name for c in communes}, blank=True)
    form.languages.choices = choices(SPOKEN_LANGUAGE_LABELS)
    form.flags.choices = choices({flag.code: flag.name for flag in flag_choices(current_user)})


def _registration_data(form: RegistrationForm) -> RegistrationData:
    values = {name: form[name].data for name in RegistrationData.__dataclass_fields__}
    text_fields = [name for name, spec in RegistrationData.__dataclass_fields__.items() if spec.type is str]
    values.update({name: values[name] or "" for name in text_fields})
    values["languages"] = values["languages"] or []
    values["flags"] = values["flags"] or []
    return RegistrationData(**values)


@bp.route("/new", methods=["GET", "POST"])
@requires("beneficiary.register")
def register():
    form = RegistrationForm()
    _fill_choices(form)
    if form.is_submitted():
        form.validate()
        data = _registration_data(form)
        duplicates = None
        if not form.errors and not token_was_used(form.form_token.data):
            duplicates = likely_duplicates(current_user, data)
            if (duplicates.visible or duplicates.outside_scope) and not form.confirm_new_person.data:
                return render_template("beneficiaries/register.html", form=form, duplicates=duplicates)
        try:
            person, case = register_beneficiary(current_user, data, unparsed=form.errors,
                                                form_token=form.form_token.data)
        except ValidationFailed as failure:
            for name, messages in failure.errors.items():
                form[name].errors = messages
        else:
            if duplicates and (duplicates.visible or duplicates.outside_scope):
                record_new_person_decision(current_user, person, duplicates)
            db.session.commit()
            flash(_("%(name)s is registered; case %(number)s is open.", name=person.display_name, number=case.number),
                  "success")
            return redirect(url_for("beneficiaries.show", beneficiary_id=person.id))
    return render_template("beneficiaries/register.html", form=form)


@bp.route("/<int:beneficiary_id>")
@requires("beneficiary.view")
def show(beneficiary_id: int):
    if (kept := current_record(beneficiary_id)) is not None:  # a merge's tombstone: the record it lives in now
        get_or_404(Beneficiary, kept.id, "beneficiary.view")
        return redirect(url_for("beneficiaries.show", beneficiary_id=kept.id))
    person = get_or_404(Beneficiary, beneficiary_id, "beneficiary.view")
    view_beneficiary(current_user, person)
    html = render_template(
        "beneficiaries/show.html", person=person,
        flags=visible_flags(current_user, person), cases=visible_cases(current_user, person),
        members=households.visible_members(current_user, person), household_form=HouseholdLinkForm(formdata=None),
    )
    db.session.commit()  # the view's audit event; after rendering, so the loaded rows stay loaded
    return html


def _household_action(beneficiary_id: int, action) -> object:
    person = get_or_404(Beneficiary, beneficiary_id, "household.manage")
    try:
        action(person)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "danger")
    else:
        db.session.commit()
        flash(_("Household updated."), "success")
    return redirect(url_for("beneficiaries.show", beneficiary_id=person.id) + "#household")


@bp.route("/<int:beneficiary_id>/household", methods=["POST"])
@requires("household.manage")
def link_household(beneficiary_id: int):
    form = HouseholdLinkForm()
    form.validate_on_submit()
    return _household_action(beneficiary_id, lambda person: households.link_household(
        current_user, person, find_person_by_case_number(current_user, form.case_number.data or "")))


@bp.route("/<int:beneficiary_id>/household/head", methods=["POST"])
@requires("household.manage")
def household_head(beneficiary_id: int):
    return _household_action(beneficiary_id, lambda person: households.set_household_head(current_user, person))


@bp.route("/<int:beneficiary_id>/household/leave", methods=["POST"])
@requires("household.manage")
def leave_household(beneficiary_id: int):
    return _household_action(beneficiary_id, lambda person: households.leave_household(current_user, person))
