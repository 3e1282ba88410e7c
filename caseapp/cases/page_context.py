"""Everything the case page shows, built once for the page and for forms re-shown with their errors."""
from datetime import date

from flask import render_template
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from caseapp.access.policy import can
from caseapp.audit.service import record_read
from caseapp.beneficiaries.services import visible_flags
from caseapp.cases import forms
from caseapp.cases.empty_forms import LazyForm, form_fields
from caseapp.cases.assignment import transfer_targets, workers_for_case
from caseapp.cases.followups import case_follow_ups
from caseapp.cases.history import case_history, decoded_changes
from caseapp.cases.models import PlanGoal
from caseapp.cases.notes import visible_notes
from caseapp.cases.workflow import MOVE_LABELS, closure_reasons, next_steps
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.i18n import current_language
from caseapp.labels import NOTE_KIND_LABELS
from caseapp.referrals.queries import case_referrals


def closure_reason_choices() -> list:
    """Closure reasons in the interface language."""
    language = current_language()
    return choices({code: row.get(f"name_{language}") or row["name_fr"] for code, row in closure_reasons().items()},
                   blank=True)


def note_form(actor, posted: bool = False) -> forms.NewNoteForm:
    """The new-note form (filled from the request when `posted`); restricted kinds only with restricted access."""
    form = forms.NewNoteForm() if posted else forms.NewNoteForm(formdata=None)
    kinds = {code: label for code, label in NOTE_KIND_LABELS.items()
             if actor.restricted_access or code not in ("psychosocial", "protection")}
    form.kind.choices = choices(kinds)
    if form.occurred_on.data is None:
        form.occurred_on.data = date.today()
    return form


def follow_up_form(actor, case, posted: bool = False) -> forms.NewFollowUpForm:
    """The new-follow-up form (filled from the request when `posted`), offering workers who can see the case."""
    form = forms.NewFollowUpForm() if posted else forms.NewFollowUpForm(formdata=None)
    form.assigned_to_id.choices = choices({0: "—"} | workers_for_case(actor, case))
    return form


def transfer_target_choices(case) -> list:
    """Service points of other organisations, named with their organisation."""
    return choices({point.id: f"{point.name} — {point.partner_name}" for point in transfer_targets(current_user, case)})


def _closure_form() -> forms.ClosureRequestForm:
    form = forms.ClosureRequestForm(formdata=None)
    form.reason.choices = closure_reason_choices()
    return form


def _transfer_form(case) -> forms.TransferForm:
    form = forms.TransferForm(formdata=None)
    form.to_service_point_id.choices = transfer_target_choices(case)
    return form


def _empty(form_class):
    return lambda: form_class(formdata=None)


def _default_forms(case) -> dict:
    """The page's empty forms, by name: (form class, builder, what its kept fields depend on, None: not kept)."""
    today = date.today()
    forms_ = {
        "stage_form": (forms.StageForm, _empty(forms.StageForm), None),
        "closure_form": (forms.ClosureRequestForm, _closure_form, ()),
        "decision_form": (forms.ButtonDecisionForm, _empty(forms.ButtonDecisionForm), None),
        "reopen_form": (forms.ReopenForm, _empty(forms.ReopenForm), ()),
        "goal_form": (forms.NewGoalForm, _empty(forms.NewGoalForm), ()),
        "note_form": (forms.NewNoteForm, lambda: note_form(current_user), (today,)),
        "follow_up_form": (forms.NewFollowUpForm, lambda: follow_up_form(current_user, case),
                           (case.partner_id, case.service_point_id)),
        "transfer_form": (forms.TransferForm, lambda: _transfer_form(case), (case.partner_id,)),
    }
    return {name: LazyForm(build, form_class, key) for name, (form_class, build, key) in forms_.items()}


def _action_form(goal) -> LazyForm:
    """The empty form adding an action to `goal`, its fields prefixed with the goal's id (one page shows each
    goal's)."""
    prefix = f"goal{goal.id}"
    return LazyForm(lambda: forms.NewActionForm(formdata=None, prefix=prefix), forms.NewActionForm, (),
                    name_prefix=f"{prefix}-")


# Built once, the case bound at each call (the case page's statements: see cases/history.py).
_GOALS = select(PlanGoal).where(PlanGoal.case_id == bindparam("case_id")).options(joinedload(PlanGoal.actions)) \
    .order_by(PlanGoal.id)


def render_case_page(case, status: int = 200, **shown_forms):
    """Render the case page, auditing the view; `shown_forms` replace the defaults (to show their errors)."""
    actor = current_user._get_current_object()  # not the proxy: the page's checks read it a hundred times
    goals = db.session.scalars(_GOALS, {"case_id": case.id}).unique().all()
    history = case_history(actor, case) if can(actor, "case.history", case) else []
    record_read(actor, "case.view", case)
    html = render_template(
        "cases/show.html", case=case, person=case.beneficiary, goals=goals, notes=visible_notes(actor, case),
        follow_ups=case_follow_ups(actor, case), history=history, decoded_changes=decoded_changes,
        flags=visible_flags(actor, case.beneficiary), steps=next_steps(case), move_labels=MOVE_LABELS,
        transfer=case.proposed_transfer, closure_reasons=closure_reasons(), today=date.today(),
        referrals=case_referrals(actor, case),
        action_form=lambda goal: shown_forms.get(f"action_form_{goal.id}") or _action_form(goal),
        form_fields=form_fields, **(_default_forms(case) | shown_forms))
    db.session.commit()  # the view's audit event; after rendering, so the loaded rows stay loaded
    return html, status
