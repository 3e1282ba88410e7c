"""Titles of report indicators and labels of dimension values, in the interface language."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from caseapp import labels
from caseapp.extensions import db

INDICATOR_TITLES = {
    "beneficiaries_registered": _l("People registered"),
    "cases_active": _l("Active cases"),
    "cases_closed": _l("Cases closed"),
    "referrals_sent": _l("Referrals sent"),
    "vulnerability_flags": _l("Vulnerability flags"),
    "referral_acceptance_rate": _l("Acceptance rate"),
    "referral_median_days_to_acceptance": _l("Median days to acceptance"),
    "referral_median_days_to_completion": _l("Median days to completion"),
    "referral_answered_within_deadline": _l("Answered within the deadline"),
}
DIMENSION_TITLES = {
    "region": _l("Region"), "commune": _l("Commune"), "sex": _l("Sex"), "age_group": _l("Age group"),
    "profile": _l("Profile"), "service_area": _l("Service area"), "service": _l("Service"), "status": _l("Status"),
    "partner": _l("Receiving partner"), "reason": _l("Closure reason"), "flag": _l("Flag"),
}
_FIXED = {
    "sex": labels.SEX_LABELS, "profile": labels.PROFILE_LABELS, "service_area": labels.SERVICE_AREA_LABELS,
    "status": labels.REFERRAL_STATUS_LABELS,
}


def reference_names() -> dict[str, dict[str, str]]:
    """Names of the coded values that live in reference tables (regions, communes, services, partners, flags)."""
    from caseapp.beneficiaries.models import VulnerabilityFlag
    from caseapp.partners.models import Partner
    from caseapp.places.models import Commune, Region
    from caseapp.referrals.models import Service

    names = {dimension: {row.code: row.name for row in db.session.scalars(select(model))}
             for dimension, model in (("region", Region), ("commune", Commune), ("service", Service),
                                      ("flag", VulnerabilityFlag))}
    names["partner"] = {partner.code: partner.name for partner in db.session.scalars(select(Partner))}
    names["flag"]["restricted_total"] = _("Restricted flags (all together)")
    return names


def labeller(names: dict[str, dict[str, str]] | None = None):
    """A (dimension, code) → label function for one page or export (reference names read once, or given)."""
    from caseapp.templating import closure_reason_name

    names = reference_names() if names is None else names

    def label(dimension: str, code: str) -> str:
        if dimension == "dimension":
            return str(DIMENSION_TITLES.get(code, code))
        if code == "unknown":
            return _("Unknown")
        if dimension == "reason":
            return closure_reason_name(code)
        if dimension in _FIXED:
            return str(_FIXED[dimension].get(code, code))
        return names.get(dimension, {}).get(code, code)

    return label


def indicator_titles() -> dict[str, str]:
    return {code: str(title) for code, title in INDICATOR_TITLES.items()}
