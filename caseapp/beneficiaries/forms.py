"""The registration form: parses and requires; the service decides what is valid."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from caseapp.forms_common import CreateForm, IdSelectField, MultiCheckboxField, SelectField, choices
from caseapp.labels import CONSENT_METHOD_LABELS, DOCUMENT_TYPE_LABELS, PROFILE_LABELS, SEX_LABELS


class RegistrationForm(CreateForm):
    """Everything asked when a person is first registered; choices are filled in by the view."""

    # Set by the "new person" button shown with likely duplicates: the user decided this is someone else.
    confirm_new_person = BooleanField(default=False)

    service_point_id = IdSelectField(_l("Service point"), validate_choice=False)
    given_name = StringField(_l("Given name(s)"), validators=[Length(max=120)])
    family_name = StringField(_l("Family name"), validators=[Length(max=120)])
    given_name_alt = StringField(_l("Given name in the other script"), validators=[Optional(), Length(max=120)])
    family_name_alt = StringField(_l("Family name in the other script"), validators=[Optional(), Length(max=120)])
    sex = RadioField(_l("Sex"), choices=choices(SEX_LABELS), validate_choice=False)
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional()], render_kw={"max": "9999-12-31"})
    dob_estimated = BooleanField(_l("Only the year of birth is known (estimated)"))
    birth_year = IntegerField(_l("Estimated year of birth"), validators=[Optional()])
    nationality = SelectField(_l("Nationality"), validate_choice=False)
    profile = SelectField(_l("Profile"), choices=choices(PROFILE_LABELS, blank=True), validate_choice=False)
    country_returned_from = SelectField(_l("Country returned from (returnees)"), validate_choice=False)
    arrival_date = DateField(_l("Date of arrival or return"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)],
                        render_kw={"dir": "ltr", "type": "tel", "inputmode": "tel", "autocomplete": "off"})
    commune_code = SelectField(_l("Commune of residence"), validate_choice=False)
    languages = MultiCheckboxField(_l("Languages spoken"), validate_choice=False)
    document_type = SelectField(
        _l("Identity document"), choices=choices(DOCUMENT_TYPE_LABELS, blank=True), validate_choice=False
    )
    document_number = StringField(_l("Document number"), validators=[Optional(), Length(max=64)],
                                  render_kw={"dir": "ltr", "autocomplete": "off"})
    flags = MultiCheckboxField(_l("Vulnerability flags"), validate_choice=False)
    processing_basis = RadioField(
        _l("Consent to data processing"), choices=choices(CONSENT_METHOD_LABELS), validate_choice=False
    )
    witness_name = StringField(_l("Witness (oral consent)"), validators=[Optional(), Length(max=160)])
    legal_basis = TextAreaField(_l("Legal basis (when there is no consent)"), validators=[Optional(), Length(max=2000)])
    statistics_consent = BooleanField(_l("The person agrees to be counted in anonymous statistics"))
