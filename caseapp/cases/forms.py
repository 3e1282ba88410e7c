"""Forms of the case list and the case page (choices that depend on the user are filled in by views)."""
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from caseapp.forms_common import (
    AppForm, CreateForm, EditForm, IdCheckboxField, IdSelectField, MultiCheckboxField, SelectField, choices,
)
from caseapp.labels import ACTION_STATUS_LABELS, NOTE_KIND_LABELS, RISK_LABELS, SERVICE_AREA_LABELS


class CaseSearchForm(AppForm):
    """Free text (name, case number or phone), posted so that it never appears in a URL."""

    q = StringField(_l("Name, case number or phone"), validators=[Optional(), Length(max=120)],
                    render_kw={"dir": "auto", "autocomplete": "off"})


class CaseFilterForm(AppForm):
    """Filters and sort order of the case list (no personal data, so they travel in the query string)."""

    class Meta:
        csrf = False

    status = SelectField(_l("Stage"), validate_choice=False)
    service_point = SelectField(_l("Service point"), validate_choice=False)
    worker = SelectField(_l("Assigned worker"), validate_choice=False)
    risk = SelectField(_l("Risk"), choices=choices(RISK_LABELS, blank=True), validate_choice=False)
    flag = SelectField(_l("Vulnerability flag"), validate_choice=False)
    overdue = BooleanField(_l("With overdue follow-ups"))
    sort = SelectField(_l("Sort by"), validate_choice=False)


class AssignForm(AppForm):
    """Bulk assignment from the case list."""

    case_ids = IdCheckboxField(_l("Cases"), validate_choice=False)
    worker_id = IdSelectField(_l("Assign the ticked cases to"), validate_choice=False)


class StageForm(AppForm):
    """An explicit stage move; `target` comes from the pressed button (so it is no hidden field)."""

    target = StringField()


class ClosureRequestForm(AppForm):
    """Ask for closure, with a reason from the reference list."""

    reason = SelectField(_l("Closure reason"), validate_choice=False)


class ButtonDecisionForm(AppForm):
    """Approve / reject a closure, mark a follow-up done: `decision` comes from the pressed button; the case page
    shows no other field (so none can be refused unseen)."""

    decision = StringField()


class DecisionForm(AppForm):
    """Accept / decline a transfer, with a comment; `decision` comes from the pressed button."""

    decision = StringField()
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class ReopenForm(AppForm):
    """A supervisor reopens a closed case."""

    reason = TextAreaField(_l("Reason for reopening"), validators=[Length(max=2000)])


class AssessmentForm(EditForm):
    """Needs per service area, vulnerability flags and risk level."""

    need_avrr = TextAreaField(SERVICE_AREA_LABELS["avrr"], validators=[Length(max=4000)])
    need_social_rights = TextAreaField(SERVICE_AREA_LABELS["social_rights"], validators=[Length(max=4000)])
    need_employment = TextAreaField(SERVICE_AREA_LABELS["employment"], validators=[Length(max=4000)])
    need_psychosocial = TextAreaField(SERVICE_AREA_LABELS["psychosocial"], validators=[Length(max=4000)])
    flags = MultiCheckboxField(_l("Vulnerability flags"), validate_choice=False)
    risk_level = RadioField(_l("Risk level"), choices=choices(RISK_LABELS), validate_choice=False)


class GoalFields:
    """Fields of a plan goal."""

    area = SelectField(_l("Service area"), choices=choices(SERVICE_AREA_LABELS, blank=True), validate_choice=False)
    title = StringField(_l("Goal"), validators=[Length(max=300)])


class NewGoalForm(GoalFields, CreateForm):
    """Add a goal."""


class EditGoalForm(GoalFields, EditForm):
    """Change a goal."""


class ActionFields:
    """Fields of a plan action."""

    description = StringField(_l("Action"), validators=[Length(max=500)])
    owner = StringField(_l("Owner"), validators=[Length(max=160)])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=choices(ACTION_STATUS_LABELS), validate_choice=False)


class NewActionForm(ActionFields, CreateForm):
    """Add an action to a goal."""


class EditActionForm(ActionFields, EditForm):
    """Change an action."""


class NewNoteForm(CreateForm):
    """Write a note."""

    kind = SelectField(_l("Type of note"), choices=choices(NOTE_KIND_LABELS), validate_choice=False)
    occurred_on = DateField(_l("Date"), validators=[Optional()])
    body = TextAreaField(_l("Note"), validators=[Length(max=20000)], render_kw={"rows": 4, "dir": "auto"})


class EditNoteForm(EditForm):
    """Correct a note."""

    occurred_on = DateField(_l("Date"), validators=[Optional()])
    body = TextAreaField(_l("Note"), validators=[Length(max=20000)], render_kw={"rows": 6, "dir": "auto"})


class NewFollowUpForm(CreateForm):
    """Plan a follow-up."""

    purpose = StringField(_l("Follow-up"), validators=[Length(max=300)])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    assigned_to_id = IdSelectField(_l("For"), validate_choice=False)


class TransferForm(AppForm):
    """Propose a transfer to another organisation's service point."""

    to_service_point_id = IdSelectField(_l("Service point"), validate_choice=False)
    reason = TextAreaField(_l("Reason for the transfer"), validators=[Length(max=2000)])


class HouseholdLinkForm(AppForm):
    """Link a person to another one's household, found by case number."""

    case_number = StringField(_l("Case number of a household member"), validators=[Length(max=24)],
                              render_kw={"dir": "ltr", "autocomplete": "off"})
