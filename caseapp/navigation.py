"""The header's main menu: the links an account's permissions open, rendered once per set of permissions and
language in each process (every page shows it: its 12 permission checks and links cost ~0.6 ms a page)."""
from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from caseapp.access.policy import AUTHENTICATED, can
from caseapp.i18n import current_locale_name

# (permission, endpoint, label), in the menu's order; the notifications' link, with its count, follows them.
MENU = (
    (AUTHENTICATED, "home.index", _l("Home")),
    ("case.list", "cases.index", _l("Cases")),
    ("beneficiary.register", "beneficiaries.register", _l("Register a person")),
    ("case.list", "referrals.index", _l("Referrals")),
    ("referral.review", "referrals.review", _l("Review")),
    ("import.manage", "imports.index", _l("Import")),
    ("dashboard.view", "cases.team", _l("My team")),
    ("referral.inbox", "referrals.inbox", _l("Inbox")),
    ("directory.view", "directory.index", _l("Directory")),
    ("person.lookup", "privacy.lookup", _l("Data protection")),
    ("audit.view", "audit.search", _l("Audit trail")),
    ("report.view", "reports.index", _l("Reports")),
    ("admin.manage", "admin.index", _l("Administration")),
)
_PERMISSIONS = tuple(dict.fromkeys(permission for permission, _, _ in MENU))


def main_menu() -> Markup:
    """The current account's menu items (`can` decides each), from this process's copy when it has one."""
    user = current_user._get_current_object()
    granted = frozenset(permission for permission in _PERMISSIONS if can(user, permission))
    key = (granted, current_locale_name(), request.script_root)
    menus = current_app.extensions.setdefault("caseapp_main_menus", {})
    if key not in menus:
        html = render_template("_main_menu.html", items=[
            (endpoint, label) for permission, endpoint, label in MENU if permission in granted])
        # an autoescaped template's output, which Jinja would mark so itself
        menus[key] = Markup(html)  # nosec B704
    return menus[key]
