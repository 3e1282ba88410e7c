"""Case list search and filter forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional


class CaseSearchForm(FlaskForm):
    """Free text (name, case number or phone), posted so that it never appears in a URL."""

    q = StringField(_l("Name, case number or phone"), validators=[Optional(), Length(max=120)],
                    render_kw={"dir": "auto", "autocomplete": "off"})


class CaseFilterForm(FlaskForm):
    """Status and service-point filters (no personal data, so they travel in the query string)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), validate_choice=False)
    service_point = SelectField(_l("Service point"), validate_choice=False)
