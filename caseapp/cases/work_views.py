"""Working a case: stage moves, closure, reopening, plan, notes, follow-ups and transfers (thin views)."""
from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.access.policy import get_or_404, requires
from caseapp.audit.service import record_read
from caseapp.beneficiaries.flags import flag_choices
from caseapp.beneficiaries.services import visible_flags
from caseapp.cases import assessment as assessment_service
from caseapp.cases import assignment, followups, forms, notes, plan, workflow
from caseapp.cases.models import SERVICE_AREAS, Case, CaseNote, CaseTransfer, FollowUp, PlanAction, PlanGoal
from caseapp.cases.page_context import (
    closure_reason_choices, follow_up_form, note_form, render_case_page, transfer_target_choices,
)
from caseapp.errors import DomainError, EditConflict
from caseapp.extensions import db
from caseapp.forms_common import choices
from caseapp.views_support import conflict_page, show_refusal

bp = Blueprint("casework", __name__)


def _case_url(case: Case, anchor: str = "") -> str:
    return url_for("cases.show", case_id=case.id) + (f"#{anchor}" if anchor else "")


def _act(case: Case, form, form_name: str, action: Callable[[], object], done: str, anchor: str = ""):
    """Run a case-page form's service; on refusal show the case page again with the form's errors."""
    if form.validate_on_submit():
        try:
            action()
        except DomainError as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(done, "success")
            return redirect(_case_url(case, anchor))
    return render_case_page(case, 422, **{form_name: form})


@bp.route("/cases/<int:case_id>/stage", methods=["POST"])
@requires("case.work")
def move_stage(case_id: int):
    case = get_or_404(Case, case_id, "case.work")
    form = forms.StageForm()
    return _act(case, form, "stage_form", lambda: workflow.move_stage(current_user, case, form.target.data),
                _("The case moved to the next stage."))


@bp.route("/cases/<int:case_id>/closure", methods=["POST"])
@requires("case.work")
def request_closure(case_id: int):
    case = get_or_404(Case, case_id, "case.work")
    form = forms.ClosureRequestForm()
    form.reason.choices = closure_reason_choices()
    return _act(case, form, "closure_form", lambda: workflow.request_closure(current_user, case, form.reason.data),
                _("Closure requested; a supervisor will decide."))


@bp.route("/cases/<int:case_id>/closure/decision", methods=["POST"])
@requires("case.close.approve")
def decide_closure(case_id: int):
    case = get_or_404(Case, case_id, "case.close.approve")
    form = forms.ButtonDecisionForm()
    if form.decision.data not in ("approve", "reject"):  # a button's value or nothing: never a default decision
        flash(_("Choose to approve or to refuse the closure."), "danger")
        return render_case_page(case, 422)
    approve = form.decision.data == "approve"
    return _act(case, form, "decision_form", lambda: workflow.decide_closure(current_user, case, approve),
                _("The case is closed.") if approve else _("Closure refused; the case stays open."))


@bp.route("/cases/<int:case_id>/reopen", methods=["POST"])
@requires("case.reopen")
def reopen(case_id: int):
    case = get_or_404(Case, case_id, "case.reopen")
    form = forms.ReopenForm()
    return _act(case, form, "reopen_form", lambda: workflow.reopen(current_user, case, form.reason.data or ""),
                _("The case is reopened."))


@bp.route("/cases/<int:case_id>/goals", methods=["POST"])
@requires("case.work")
def add_goal(case_id: int):
    case = get_or_404(Case, case_id, "case.work")
    form = forms.NewGoalForm()
    return _act(case, form, "goal_form", lambda: plan.add_goal(
        current_user, case, area=form.area.data or "", title=form.title.data or "", form_token=form.form_token.data),
        _("Goal added."), "plan")


@bp.route("/goals/<int:goal_id>/actions", methods=["POST"])
@requires("case.work")
def add_action(goal_id: int):
    goal = get_or_404(PlanGoal, goal_id, "case.work")
    form = forms.NewActionForm(prefix=f"goal{goal.id}")
    return _act(goal.case, form, f"action_form_{goal.id}", lambda: plan.add_action(
        current_user, goal, description=form.description.data or "", owner=form.owner.data or "",
        due_date=form.due_date.data, status=form.status.data or "todo", form_token=form.form_token.data),
        _("Action added."), "plan")


@bp.route("/cases/<int:case_id>/notes", methods=["POST"])
@requires("case.work")
def add_note(case_id: int):
    case = get_or_404(Case, case_id, "case.work")
    form = note_form(current_user, posted=True)
    return _act(case, form, "note_form", lambda: notes.add_note(
        current_user, case, kind=form.kind.data or "", body=form.body.data or "", occurred_on=form.occurred_on.data,
        form_token=form.form_token.data), _("Note saved."), "notes")


@bp.route("/cases/<int:case_id>/follow-ups", methods=["POST"])
@requires("case.work")
def add_follow_up(case_id: int):
    case = get_or_404(Case, case_id, "case.work")
    form = follow_up_form(current_user, case, posted=True)
    return _act(case, form, "follow_up_form", lambda: followups.add_follow_up(
        current_user, case, purpose=form.purpose.data or "", due_date=form.due_date.data,
        assigned_to_id=form.assigned_to_id.data or None, form_token=form.form_token.data),
        _("Follow-up planned."), "follow-ups")


@bp.route("/follow-ups/<int:follow_up_id>/done", methods=["POST"])
@requires("case.work")
def complete_follow_up(follow_up_id: int):
    follow_up = get_or_404(FollowUp, follow_up_id, "case.work")
    form = forms.ButtonDecisionForm()
    return _act(follow_up.case, form, "decision_form",
                lambda: followups.complete_follow_up(current_user, follow_up), _("Follow-up done."), "follow-ups")


@bp.route("/cases/<int:case_id>/transfer", methods=["POST"])
@requires("case.transfer.propose")
def propose_transfer(case_id: int):
    case = get_or_404(Case, case_id, "case.transfer.propose")
    form = forms.TransferForm()
    form.to_service_point_id.choices = transfer_target_choices(case)
    try:
        assignment.check_transferable(case)
    except DomainError as refusal:
        flash(refusal.message, "danger")
        return render_case_page(case, 422)
    return _act(case, form, "transfer_form", lambda: assignment.propose_transfer(
        current_user, case, form.to_service_point_id.data, form.reason.data or ""),
        _("Transfer proposed; the other organisation's supervisor will decide."))


@bp.route("/transfers")
@requires("case.transfer.decide")
def transfers():
    return render_template("cases/transfers.html", transfers=assignment.incoming_transfers(current_user),
                           form=forms.DecisionForm(formdata=None))


@bp.route("/transfers/<int:transfer_id>/decision", methods=["POST"])
@requires("case.transfer.decide")
def decide_transfer(transfer_id: int):
    transfer = get_or_404(CaseTransfer, transfer_id, "case.transfer.decide")
    form = forms.DecisionForm()
    accept = form.decision.data == "accept"
    if form.decision.data not in ("accept", "decline"):  # a button's value or nothing: never a default decision
        flash(_("Choose to accept or to decline the transfer."), "danger")
    elif form.validate_on_submit():
        try:
            assignment.decide_transfer(current_user, transfer, accept, form.comment.data or "")
        except DomainError as refusal:
            db.session.rollback()
            flash(refusal.message, "danger")
        else:
            db.session.commit()
            if accept:
                flash(_("Transfer accepted: the case is now your organisation's."), "success")
                return redirect(url_for("cases.show", case_id=transfer.case_id))
            flash(_("Transfer declined."), "info")
    for message in form.comment.errors:  # the transfers page shows no field errors
        flash(_("Comment: %(error)s", error=message), "danger")
    return redirect(url_for("casework.transfers"))


def _edit(form, save: Callable[[], object], title: str, back_url: str, shown, case: Case):
    """GET shows the edit form (audited as a view of `shown`); POST saves, or shows errors, or the conflict page
    when someone saved first."""
    if request.method == "GET":
        record_read(current_user, f"{shown.__tablename__}.view", shown, case_id=case.id)
        page = render_template("cases/edit.html", form=form, title=title, back_url=back_url)
        db.session.commit()  # after rendering, so the loaded rows are not expired and reloaded
        return page
    if form.validate_on_submit():
        try:
            save()
        except EditConflict as conflict:
            db.session.rollback()
            return conflict_page(conflict, back_url)
        except DomainError as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(back_url)
    return render_template("cases/edit.html", form=form, title=title, back_url=back_url)


@bp.route("/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@requires("case.work")
def edit_goal(goal_id: int):
    goal = get_or_404(PlanGoal, goal_id, "case.work")
    form = forms.EditGoalForm(obj=goal)
    return _edit(form, lambda: plan.update_goal(
        current_user, goal, area=form.area.data or "", title=form.title.data or "",
        expected_version=form.version.data), _("Edit the goal"), _case_url(goal.case, "plan"), goal, goal.case)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@requires("case.work")
def edit_action(action_id: int):
    action = get_or_404(PlanAction, action_id, "case.work")
    form = forms.EditActionForm(obj=action)
    return _edit(form, lambda: plan.update_action(
        current_user, action, description=form.description.data or "", owner=form.owner.data or "",
        due_date=form.due_date.data, status=form.status.data or "", expected_version=form.version.data),
        _("Edit the action"), _case_url(action.case, "plan"), action, action.case)


@bp.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
@requires("note.edit")
def edit_note(note_id: int):
    note = get_or_404(CaseNote, note_id, "note.edit")
    form = forms.EditNoteForm(obj=note)
    return _edit(form, lambda: notes.edit_note(
        current_user, note, body=form.body.data or "", occurred_on=form.occurred_on.data,
        expected_version=form.version.data), _("Correct the note"), _case_url(note.case, "notes"), note, note.case)


@bp.route("/cases/<int:case_id>/assessment", methods=["GET", "POST"])
@requires("case.work")
def assessment(case_id: int):
    case = get_or_404(Case, case_id, "case.work")
    form = forms.AssessmentForm(obj=case.assessment)
    form.flags.choices = choices({flag.code: flag.name for flag in flag_choices(current_user)})
    if not form.is_submitted():
        form.flags.data = [item.flag_code for item in visible_flags(current_user, case.beneficiary)]
        form.risk_level.data = case.risk_level
        if case.assessment is None:
            form.version.data = 0  # someone else creating it first is then a conflict, not an overwrite
    return _edit(form, lambda: assessment_service.save_assessment(
        current_user, case, needs={area: form[f"need_{area}"].data or "" for area in SERVICE_AREAS},
        risk_level=form.risk_level.data or "", flags=form.flags.data or [], expected_version=form.version.data),
        _("Assessment and vulnerability screening"), _case_url(case, "assessment"), case.assessment or case, case)
