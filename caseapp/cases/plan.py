"""The individual plan: goals per service area, and actions with owner, due date and status."""
from datetime import date

from flask_babel import gettext as _

from caseapp.access.policy import ensure
from caseapp.cases.history import apply_changes, check_version, created, record_change
from caseapp.cases.models import ACTION_STATUSES, SERVICE_AREAS, Case, PlanAction, PlanGoal
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.security.form_tokens import bind_form_token, claim_form_token


def _goal_values(area: str, title: str) -> dict:
    errors = {}
    if area not in SERVICE_AREAS:
        errors["area"] = [_("Choose a service area.")]
    if not title.strip():
        errors["title"] = [_("This field is required.")]
    elif len(title) > 300:
        errors["title"] = [_("At most %(count)d characters.", count=300)]
    if errors:
        raise ValidationFailed(errors)
    return {"area": area, "title": title.strip()}


def _action_values(description: str, owner: str, due_date: date | None, status: str) -> dict:
    errors = {}
    if not description.strip():
        errors["description"] = [_("This field is required.")]
    elif len(description) > 500:
        errors["description"] = [_("At most %(count)d characters.", count=500)]
    if not owner.strip():
        errors["owner"] = [_("Say who carries out this action.")]
    elif len(owner) > 160:
        errors["owner"] = [_("At most %(count)d characters.", count=160)]
    if status not in ACTION_STATUSES:
        errors["status"] = [_("Choose a status.")]
    if errors:
        raise ValidationFailed(errors)
    return {"description": description.strip(), "owner": owner.strip(), "due_date": due_date, "status": status}


def add_goal(actor, case: Case, *, area: str, title: str, form_token: str | None = None) -> PlanGoal:
    """Add a goal to the case's plan (once per form token)."""
    ensure(actor, "case.work", case)
    values = _goal_values(area, title)
    earlier = claim_form_token(form_token, PlanGoal.__tablename__)
    if earlier:
        return db.session.get(PlanGoal, earlier)
    goal = PlanGoal(case=case, created_by_id=actor.id, **values)
    db.session.add(goal)
    db.session.flush()
    bind_form_token(form_token, goal)
    record_change(actor, case, goal, "create", created(values))
    return goal


def update_goal(actor, goal: PlanGoal, *, area: str, title: str, expected_version: int | None) -> None:
    """Change a goal's area or title."""
    ensure(actor, "case.work", goal)
    values = _goal_values(area, title)
    check_version(goal, expected_version, _("Goal"), {"area": (_("Service area"), area), "title": (_("Goal"), title)})
    apply_changes(actor, goal, values, case=goal.case)


def add_action(actor, goal: PlanGoal, *, description: str, owner: str, due_date: date | None,
               status: str = "todo", form_token: str | None = None) -> PlanAction:
    """Add an action to a goal (once per form token)."""
    ensure(actor, "case.work", goal)
    values = _action_values(description, owner, due_date, status)
    earlier = claim_form_token(form_token, PlanAction.__tablename__)
    if earlier:
        return db.session.get(PlanAction, earlier)
    action = PlanAction(goal=goal, **values)
    db.session.add(action)
    db.session.flush()
    bind_form_token(form_token, action)
    record_change(actor, goal.case, action, "create", created(values))
    return action


def update_action(actor, action: PlanAction, *, description: str, owner: str, due_date: date | None,
                  status: str, expected_version: int | None) -> None:
    """Change an action; a save from an outdated page raises EditConflict."""
    ensure(actor, "case.work", action)
    values = _action_values(description, owner, due_date, status)
    check_version(action, expected_version, _("Action"), {
        "description": (_("Action"), values["description"]), "owner": (_("Owner"), values["owner"]),
        "due_date": (_("Due date"), due_date), "status": (_("Status"), status)})
    apply_changes(actor, action, values, case=action.case)
