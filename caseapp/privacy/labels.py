"""Translated labels for the codes of the data-protection pages (erasure reasons, export sections)."""
from flask_babel import lazy_gettext as _l

ERASURE_REASONS = ("subject_request", "retention", "consent_withdrawn", "legal_obligation", "other")
ERASURE_REASON_LABELS = {
    "subject_request": _l("Request of the person (right to erasure)"),
    "retention": _l("Retention period over"),
    "consent_withdrawn": _l("Consent to processing withdrawn"),
    "legal_obligation": _l("Legal obligation"),
    "other": _l("Other reason"),
}
EXPORT_FORMAT_LABELS = {
    "print": _l("Printable page"),
    "json": _l("JSON file"),
}
