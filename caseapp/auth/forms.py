"""Login, second-factor, password and account-security forms."""
from flask_babel import lazy_gettext as _l
from caseapp.forms_common import AppForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(AppForm):
    """Username and password; no remember-me."""

    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=80)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=128)])


class PasswordChangeForm(AppForm):
    """Change one's own password: the current one, then the new one twice."""

    current_password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your password.")),
                                                                         Length(max=128)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter the new password.")),
                                                                 Length(max=200)])
    confirm_password = PasswordField(_l("New password, again"), validators=[DataRequired(_l("Enter the new password."))])


class SecondFactorForm(AppForm):
    """The 6-digit code of the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")), Length(max=32)])


class PasswordConfirmForm(AppForm):
    """The current password, to confirm a sensitive change to one's own account."""

    password = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your password.")),
                                                                 Length(max=128)])
