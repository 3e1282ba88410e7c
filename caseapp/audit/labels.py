"""Translated labels for audit actions and object types; an unknown code is shown as it is stored."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from caseapp.labels import CHANGE_LABELS, RECORD_LABELS

ACTION_LABELS = {
    # Sign-in and accounts
    "login.ok": _l("Signed in"),
    "login.password_ok": _l("Password accepted, second factor pending"),
    "login.failed": _l("Sign-in failed"),
    "login.locked": _l("Sign-in refused: account locked"),
    "login.mfa_failed": _l("Second factor refused"),
    "login.mfa_reused": _l("Second factor refused: code already used"),
    "logout": _l("Signed out"),
    "mfa.enrolment_start": _l("Second factor set-up started"),
    "mfa.enrolment_failed": _l("Second factor set-up failed"),
    "mfa.enable": _l("Second factor turned on"),
    "mfa.disable": _l("Second factor turned off"),
    "mfa.recovery_codes_issued": _l("Recovery codes issued"),
    "mfa.recovery_code_used": _l("Recovery code used"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.password_change": _l("Password changed"),
    "user.logout_everywhere": _l("Signed out everywhere"),
    # People and cases
    "beneficiary.create": _l("Person registered"),
    "beneficiary.view": _l("Person viewed"),
    "beneficiary.flags": _l("Vulnerability flags changed"),
    "case.open": _l("Case opened"),
    "case.view": _l("Case viewed"),
    "case.search": _l("Case search"),
    "household.link": _l("Household linked"),
    "household.head": _l("Head of household set"),
    "household.leave": _l("Left the household"),
    "consent.record": _l("Consent recorded"),
    # Referrals and the directory
    "referral.create": _l("Referral drafted"),
    "referral.view": _l("Referral viewed"),
    "referral.print": _l("Referral slip printed"),
    "referral.submit": _l("Referral submitted for review"),
    "referral.approve": _l("Referral approved and sent"),
    "referral.return": _l("Referral returned"),
    "referral.accept": _l("Referral accepted"),
    "referral.decline": _l("Referral declined"),
    "referral.start": _l("Referral service started"),
    "referral.complete": _l("Referral outcome recorded"),
    "referral.cancel": _l("Referral cancelled"),
    "directory.add": _l("Directory entry added"),
    "directory.activate": _l("Directory entry activated"),
    "directory.withdraw": _l("Directory entry withdrawn"),
    # Data protection and operations
    "person.access_log_view": _l("Access log viewed"),
    "audit.search": _l("Audit search"),
    "audit.export": _l("Audit export"),
    "keys.rotate": _l("Encryption keys rotated"),
    # Administration, data protection, merges, imports and reports
    "user.role_change": _l("Role changed"),
    "user.scope_change": _l("Organisation or service points changed"),
    "user.disable": _l("Account disabled"),
    "user.enable": _l("Account enabled"),
    "user.mfa_reset": _l("Second factor reset"),
    "user.password_reset": _l("Temporary password issued"),
    "user.unlock": _l("Account unlocked"),
    "partner.create": _l("Partner created"),
    "partner.update": _l("Partner changed"),
    "partner.activate": _l("Partner activated"),
    "partner.deactivate": _l("Partner deactivated"),
    "service_point.create": _l("Service point created"),
    "service_point.update": _l("Service point changed"),
    "service_point.activate": _l("Service point activated"),
    "service_point.deactivate": _l("Service point deactivated"),
    "beneficiary.not_a_duplicate": _l("Registered as a new person despite likely duplicates"),
    "consent.withdraw": _l("Consent withdrawn"),
    "person.lookup": _l("Person looked up (data protection)"),
    "person.access_export": _l("Subject access export"),
    "person.anonymise": _l("Person anonymised"),
    "person.merge": _l("Records merged"),
    "person.merge_undo": _l("Merge undone"),
    "import.check": _l("Import file checked"),
    "import.mapping_save": _l("Import mapping saved"),
    "import.run": _l("People imported"),
    "maintenance.backup": _l("Database backed up"),
    "maintenance.restore": _l("Database restored from a backup"),
    "import.rollback": _l("Import rolled back"),
    "report.publish": _l("Report published"),
    "report.export": _l("Report downloaded"),
}

OBJECT_TYPE_LABELS = {
    **RECORD_LABELS,
    "referral": _l("Referral"),
    "identity_document": _l("Identity document"),
    "consent_record": _l("Consent"),
    "household": _l("Household"),
    "user_account": _l("Account"),
    "directory_entry": _l("Directory entry"),
}

RESTRICTED_NOTE = _l("Restricted note")
RESTRICTED_ENTRY = _l("Restricted entry")


def action_label(code: str | None) -> str:
    """The action's label: its own, else "<record>: <change>" for case-record changes, else the code itself."""
    if not code:
        return ""
    if code in ACTION_LABELS:
        return str(ACTION_LABELS[code])
    record, _dot, change = code.rpartition(".")
    if record in RECORD_LABELS and change in CHANGE_LABELS:
        return _("%(record)s: %(change)s", record=RECORD_LABELS[record], change=CHANGE_LABELS[change])
    return code


def object_type_label(code: str | None) -> str:
    """The object type's label, or the stored table name."""
    if not code:
        return ""
    return str(OBJECT_TYPE_LABELS.get(code, code))
