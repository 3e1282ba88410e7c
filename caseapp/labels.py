"""Translated labels for the codes stored in the database (sex, profile, status, role...)."""
from flask_babel import lazy_gettext as _l

SEX_LABELS = {"F": _l("Female"), "M": _l("Male")}
PROFILE_LABELS = {
    "returnee": _l("Returnee (Moroccan returning migrant)"),
    "foreign_migrant": _l("Foreign migrant"),
    "asylum_seeker": _l("Asylum seeker"),
    "refugee": _l("Refugee"),
    "family_member": _l("Family member"),
}
CASE_STATUS_LABELS = {
    "registered": _l("Registered"),
    "assessment": _l("Assessment"),
    "plan": _l("Plan"),
    "active": _l("Active"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
}
ROLE_LABELS = {
    "caseworker": _l("Caseworker"),
    "supervisor": _l("Supervisor"),
    "referral_receiver": _l("Referral focal point"),
    "me_officer": _l("M&E officer"),
    "dpo": _l("Data-protection officer"),
    "admin": _l("Administrator"),
}
DOCUMENT_TYPE_LABELS = {
    "cnie": _l("National identity card (CNIE)"),
    "passport": _l("Passport"),
    "residence_card": _l("Residence card"),
    "consular_card": _l("Consular card"),
    "refugee_card": _l("Refugee card"),
    "birth_certificate": _l("Birth certificate"),
    "other": _l("Other document"),
}
CONSENT_KIND_LABELS = {
    "processing": _l("Data processing"),
    "sharing": _l("Sharing with a partner"),
    "statistics": _l("Statistical use"),
}
CONSENT_METHOD_LABELS = {
    "signed_form": _l("Signed form"),
    "oral_witness": _l("Oral, with a witness"),
    "legal_basis": _l("Documented legal basis"),
}
SPOKEN_LANGUAGE_LABELS = {
    "ar": _l("Arabic (Darija)"),
    "ber": _l("Amazigh"),
    "fr": _l("French"),
    "en": _l("English"),
    "es": _l("Spanish"),
    "wo": _l("Wolof"),
    "bm": _l("Bambara"),
    "ff": _l("Fula"),
    "ln": _l("Lingala"),
}
