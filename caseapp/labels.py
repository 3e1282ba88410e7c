"""Translated labels for the codes stored in the database (sex, profile, status, role...)."""
from flask_babel import lazy_gettext as _l

from caseapp.i18n import current_locale, current_locale_name


class Labels(dict):
    """Code → lazy label; `in_language()` translates them all once per language for the process (a lazy label is
    translated again at each use, ~15 µs, and a page of 50 cases shows 100)."""

    def __init__(self, labels: dict):
        super().__init__(labels)
        self.translated: dict[str, dict[str, str]] = {}

    def in_language(self) -> dict[str, str]:
        """Every label in the request's language, as plain strings (kept only once a language is chosen)."""
        if current_locale() is None:  # no app context: gettext's language and the locale's name may differ
            return {code: str(label) for code, label in self.items()}
        language = current_locale_name()
        labels = self.translated.get(language)
        if labels is None:
            labels = self.translated[language] = {code: str(label) for code, label in self.items()}
        return labels


def label_of(translated: dict[str, str], code: str | None) -> str:
    """A code's label from `Labels.in_language()`: the code itself when it has none, "" for no code."""
    return translated.get(code, code) if code else ""


SEX_LABELS = Labels({"F": _l("Female"), "M": _l("Male")})
PROFILE_LABELS = Labels({
    "returnee": _l("Returnee (Moroccan returning migrant)"),
    "foreign_migrant": _l("Foreign migrant"),
    "asylum_seeker": _l("Asylum seeker"),
    "refugee": _l("Refugee"),
    "family_member": _l("Family member"),
})
CASE_STATUS_LABELS = Labels({
    "registered": _l("Registered"),
    "assessment": _l("Assessment"),
    "plan": _l("Plan"),
    "active": _l("Active"),
    "closed": _l("Closed"),
    "reopened": _l("Reopened"),
})
ROLE_LABELS = Labels({
    "caseworker": _l("Caseworker"),
    "supervisor": _l("Supervisor"),
    "referral_receiver": _l("Referral focal point"),
    "me_officer": _l("M&E officer"),
    "dpo": _l("Data-protection officer"),
    "admin": _l("Administrator"),
})
DOCUMENT_TYPE_LABELS = Labels({
    "cnie": _l("National identity card (CNIE)"),
    "passport": _l("Passport"),
    "residence_card": _l("Residence card"),
    "consular_card": _l("Consular card"),
    "refugee_card": _l("Refugee card"),
    "birth_certificate": _l("Birth certificate"),
    "other": _l("Other document"),
})
CONSENT_KIND_LABELS = Labels({
    "processing": _l("Data processing"),
    "sharing": _l("Sharing with a partner"),
    "statistics": _l("Statistical use"),
})
CONSENT_METHOD_LABELS = Labels({
    "signed_form": _l("Signed form"),
    "oral_witness": _l("Oral, with a witness"),
    "legal_basis": _l("Documented legal basis"),
})
SPOKEN_LANGUAGE_LABELS = Labels({
    "ar": _l("Arabic (Darija)"),
    "ber": _l("Amazigh"),
    "fr": _l("French"),
    "en": _l("English"),
    "es": _l("Spanish"),
    "wo": _l("Wolof"),
    "bm": _l("Bambara"),
    "ff": _l("Fula"),
    "ln": _l("Lingala"),
})
SERVICE_AREA_LABELS = Labels({
    "avrr": _l("Assisted voluntary return and reintegration (AVRR)"),
    "social_rights": _l("Social rights"),
    "employment": _l("Employment"),
    "psychosocial": _l("Psychosocial support"),
})
RISK_LABELS = Labels({"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")})
NOTE_KIND_LABELS = Labels({
    "general": _l("General"),
    "follow_up_visit": _l("Follow-up visit"),
    "psychosocial": _l("Psychosocial (restricted)"),
    "legal": _l("Legal"),
    "protection": _l("Protection (restricted)"),
})
ACTION_STATUS_LABELS = Labels({
    "todo": _l("To do"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
})
SORT_LABELS = Labels({
    "opened_desc": _l("Newest first"),
    "opened_asc": _l("Oldest first"),
    "updated_desc": _l("Recently updated"),
    "number": _l("Case number"),
})
RECORD_LABELS = Labels({
    "case_file": _l("Case"),
    "case_assessment": _l("Assessment"),
    "plan_goal": _l("Goal"),
    "plan_action": _l("Action"),
    "case_note": _l("Note"),
    "follow_up": _l("Follow-up"),
    "case_transfer": _l("Transfer"),
    "beneficiary": _l("Person"),
})
CHANGE_LABELS = Labels({
    "create": _l("created"),
    "update": _l("changed"),
    "stage": _l("stage moved"),
    "risk": _l("risk level"),
    "flags": _l("vulnerability flags"),
    "closure_request": _l("closure requested"),
    "close": _l("closed"),
    "closure_reject": _l("closure refused"),
    "reopen": _l("reopened"),
    "assign": _l("assigned"),
    "done": _l("done"),
    "transfer_proposed": _l("transfer proposed"),
    "transfer_accepted": _l("transfer accepted"),
    "transfer_decided": _l("transfer decided"),
})
FIELD_LABELS = Labels({
    "status": _l("Stage"),
    "risk_level": _l("Risk level"),
    "closure_reason": _l("Closure reason"),
    "closure_requested_at": _l("Closure requested on"),
    "closed_at": _l("Closed on"),
    "reopen_reason": _l("Reason for reopening"),
    "assigned_worker_id": _l("Assigned worker"),
    "service_point_id": _l("Service point"),
    "need_avrr": SERVICE_AREA_LABELS["avrr"],
    "need_social_rights": SERVICE_AREA_LABELS["social_rights"],
    "need_employment": SERVICE_AREA_LABELS["employment"],
    "need_psychosocial": SERVICE_AREA_LABELS["psychosocial"],
    "area": _l("Service area"),
    "title": _l("Goal"),
    "description": _l("Action"),
    "owner": _l("Owner"),
    "due_date": _l("Due date"),
    "kind": _l("Type of note"),
    "body": _l("Note"),
    "occurred_on": _l("Date"),
    "purpose": _l("Follow-up"),
    "done_at": _l("Done"),
    "flags": _l("Vulnerability flags"),
    "restricted_flags": _l("Restricted flags"),
    "decision_comment": _l("Comment"),
})
PRIORITY_LABELS = Labels({"emergency": _l("Emergency (24 h)"), "urgent": _l("Urgent (72 h)"),
                          "normal": _l("Normal (14 days)")})
REFERRAL_STATUS_LABELS = Labels({
    "draft": _l("Draft"),
    "submitted": _l("Submitted for review"),
    "returned": _l("Returned"),
    "approved": _l("Sent"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
})
REFERRAL_ACTION_LABELS = Labels({
    "submit": _l("Submit for review"),
    "approve": _l("Approve and send"),
    "return": _l("Return to the caseworker"),
    "accept": _l("Accept"),
    "decline": _l("Decline"),
    "start": _l("Start the service"),
    "complete": _l("Record the outcome"),
    "cancel": _l("Cancel the referral"),
})
OUTCOME_LABELS = Labels({
    "service_delivered": _l("Service delivered"),
    "no_show": _l("Did not come"),
    "referred_elsewhere": _l("Referred elsewhere"),
    "not_eligible": _l("Not eligible"),
})
SHAREABLE_FIELD_LABELS = Labels({
    "date_of_birth": _l("Date of birth"),
    "nationality": _l("Nationality"),
    "profile": _l("Profile"),
    "documents": _l("Identity documents"),
})
