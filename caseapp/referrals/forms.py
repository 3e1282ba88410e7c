"""Referral, transition and service-directory forms (choices that depend on data are filled in by views)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from caseapp.forms_common import AppForm, CreateForm, IdSelectField, MultiCheckboxField, SelectField, choices
from caseapp.labels import CONSENT_METHOD_LABELS, OUTCOME_LABELS, PRIORITY_LABELS, SHAREABLE_FIELD_LABELS


class ReferralForm(CreateForm):
    """A new referral of one need of a case."""

    service_code = SelectField(_l("Service"), validate_choice=False)
    receiving_partner_id = IdSelectField(_l("Receiving partner"), validate_choice=False)
    priority = RadioField(_l("Priority"), choices=choices(PRIORITY_LABELS), default="normal", validate_choice=False)
    reason = TextAreaField(_l("Reason for the referral"), validators=[Length(max=4000)], render_kw={"dir": "auto"})
    consent_method = RadioField(
        _l("Consent to share with this partner"), validate_choice=False,
        choices=choices({"": _l("Not yet recorded"), "signed_form": CONSENT_METHOD_LABELS["signed_form"],
                         "oral_witness": CONSENT_METHOD_LABELS["oral_witness"]}), default="")
    consent_witness = StringField(_l("Witness (oral consent)"), validators=[Optional(), Length(max=160)])
    shared_fields = MultiCheckboxField(_l("Also shared, as the consent names them"),
                                       choices=choices(SHAREABLE_FIELD_LABELS), validate_choice=False)


class ConsentForm(AppForm):
    """Record the sharing consent of a referral in preparation."""

    consent_method = RadioField(_l("Consent to share with this partner"), validate_choice=False,
                                choices=choices({"signed_form": CONSENT_METHOD_LABELS["signed_form"],
                                                 "oral_witness": CONSENT_METHOD_LABELS["oral_witness"]}))
    consent_witness = StringField(_l("Witness (oral consent)"), validators=[Optional(), Length(max=160)])


class TransitionForm(AppForm):
    """One referral action, with the comment or outcome it may need."""

    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    outcome = SelectField(_l("Outcome"), choices=choices(OUTCOME_LABELS, blank=True), validate_choice=False)


class DirectoryEntryForm(AppForm):
    """An admin adds a service offered by a partner in a commune."""

    partner_id = IdSelectField(_l("Partner"), validate_choice=False)
    service_code = SelectField(_l("Service"), validate_choice=False)
    commune_code = SelectField(_l("Commune"), validate_choice=False)
    contact = StringField(_l("Contact"), validators=[Length(max=300)])
    hours = StringField(_l("Opening hours"), validators=[Length(max=200)])
    languages = StringField(_l("Languages"), validators=[Length(max=120)])
    eligibility = TextAreaField(_l("Eligibility"), validators=[Length(max=2000)], render_kw={"rows": 2})


class DirectorySearchForm(AppForm):
    """Filter the directory by service area, service and commune."""

    class Meta:
        csrf = False

    service = SelectField(_l("Service"), validate_choice=False)
    commune = SelectField(_l("Commune"), validate_choice=False)
    active_only = BooleanField(_l("Active entries only"), default=True)
