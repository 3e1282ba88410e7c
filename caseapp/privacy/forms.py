"""Forms of the data-protection pages: consent, lookup by case number, anonymisation (choices filled by views)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from caseapp.forms_common import AppForm, CreateForm, SelectField, choices, record_id
from caseapp.labels import CONSENT_KIND_LABELS, CONSENT_METHOD_LABELS
from caseapp.privacy.labels import ERASURE_REASON_LABELS


class ConsentForm(CreateForm):
    """Record a consent of the person (or, for processing, a documented legal basis)."""

    kind = RadioField(_l("Consent to"), choices=choices(CONSENT_KIND_LABELS), validate_choice=False)
    method = RadioField(_l("How it was given"), choices=choices(CONSENT_METHOD_LABELS), validate_choice=False)
    partner_id = SelectField(_l("Partner (sharing)"), coerce=record_id, validate_choice=False)
    witness_name = StringField(_l("Witness (oral consent)"), validators=[Optional(), Length(max=160)])
    legal_basis = TextAreaField(_l("Legal basis (when there is no consent)"),
                                validators=[Optional(), Length(max=2000)], render_kw={"rows": 3, "dir": "auto"})


class WithdrawForm(AppForm):
    """Confirm the withdrawal of a consent (the CSRF token only)."""


class LookupForm(AppForm):
    """The data-protection officer finds a person by the exact number of one of their cases."""

    case_number = StringField(_l("Case number"), validators=[Length(max=24)],
                              render_kw={"dir": "ltr", "autocomplete": "off", "placeholder": "OUJ-2026-00042"})


class AnonymiseForm(AppForm):
    """Erase a person's data: why, and an explicit confirmation."""

    reason = SelectField(_l("Reason"), choices=choices(ERASURE_REASON_LABELS, blank=True), validate_choice=False)
    confirm = BooleanField(_l("I understand that the names, contact details, documents and every free text about "
                              "this person are erased for good."))
