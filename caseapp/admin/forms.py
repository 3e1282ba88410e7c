"""Administration forms; choices that depend on data are filled in by the views, the services validate."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, StringField

from caseapp.forms_common import AppForm, CreateForm, MultiCheckboxField, SelectField, choices, record_id
from caseapp.i18n import LANGUAGES
from caseapp.labels import ROLE_LABELS

PARTNER_KIND_LABELS = {
    "international_organisation": _l("International organisation"),
    "ministry": _l("Ministry"),
    "public_agency": _l("Public agency"),
    "association": _l("Association"),
    "other": _l("Other"),
}


def _int_or_none(value):
    """Select values as record ids; an empty, malformed or out-of-range value becomes None (the service then
    refuses it: an id no INTEGER column can hold must not reach SQL)."""
    try:
        return record_id(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class PartnerFields(AppForm):
    """A partner organisation."""

    code = StringField(_l("Code"), render_kw={"autocomplete": "off", "dir": "ltr"})
    name = StringField(_l("Name"), render_kw={"dir": "auto"})
    kind = SelectField(_l("Type"), choices=choices(PARTNER_KIND_LABELS, blank=True), validate_choice=False)
    active = BooleanField(_l("Active"), default=True)


class PartnerCreateForm(PartnerFields, CreateForm):
    """Add a partner (one-time token)."""


class PartnerEditForm(PartnerFields):
    """Change a partner."""


class ServicePointFields(AppForm):
    """A service point of a partner in a commune."""

    code = StringField(_l("Code"), render_kw={"autocomplete": "off", "dir": "ltr"})
    name = StringField(_l("Name"), render_kw={"dir": "auto"})
    commune_code = SelectField(_l("Commune"), validate_choice=False)
    partner_id = SelectField(_l("Partner"), coerce=_int_or_none, validate_choice=False)
    active = BooleanField(_l("Active"), default=True)


class ServicePointCreateForm(ServicePointFields, CreateForm):
    """Add a service point (one-time token)."""


class ServicePointEditForm(ServicePointFields):
    """Change a service point."""


class UserFields(AppForm):
    """What an administrator sets on an account (the username only at creation)."""

    full_name = StringField(_l("Full name"), render_kw={"dir": "auto", "autocomplete": "off"})
    email = StringField(_l("Email (optional)"), render_kw={"dir": "ltr", "autocomplete": "off"})
    preferred_language = SelectField(_l("Interface language"), choices=choices(LANGUAGES, blank=True),
                                     validate_choice=False)
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS, blank=True), validate_choice=False)
    partner_id = SelectField(_l("Partner"), coerce=_int_or_none, validate_choice=False)
    service_point_ids = MultiCheckboxField(_l("Service points"), coerce=_int_or_none, validate_choice=False)
    restricted_access = BooleanField(_l("May read restricted content (psychosocial and protection notes, flags)"))


class UserInviteForm(UserFields, CreateForm):
    """Create an account; the temporary password is generated, never typed."""

    username = StringField(_l("Username"), render_kw={"autocomplete": "off", "dir": "ltr"})


class UserEditForm(UserFields):
    """Change an account (never its username, state or password: those have their own actions)."""

    version = HiddenField()  # the account's fingerprint when the form was loaded (see accounts.account_fingerprint)


class UserFilterForm(AppForm):
    """Filter the account list by partner and role (GET, no token)."""

    class Meta:
        csrf = False

    partner = SelectField(_l("Partner"), coerce=_int_or_none, validate_choice=False)
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS, blank=True), validate_choice=False)
