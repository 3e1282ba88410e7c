"""Merge pages: compare two records of one person side by side and merge them; show a merge and undo it."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import IntegerField, RadioField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from caseapp.access.policy import can, get_or_404, requires
from caseapp.auth.models import User
from caseapp.beneficiaries.duplicates import find_duplicates
from caseapp.beneficiaries.merge import (
    CHOICE_FIELDS, COMPANIONS, KEPT, MERGED, merge_people, merge_snapshot,
    undo_merge, view_comparison,
)
from caseapp.beneficiaries.models import Beneficiary, PersonMerge
from caseapp.cases.models import Case
from caseapp.errors import DomainError, EditConflict, NotAllowed, ValidationFailed
from caseapp.extensions import db
from caseapp.forms_common import AppForm, CreateForm, choices, record_id

bp = Blueprint("merge", __name__)


class MergeForm(CreateForm):
    """One choice per identity field, and the versions of both records the page showed."""

    kept_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    merged_version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


for _name, _label in CHOICE_FIELDS.items():
    setattr(MergeForm, _name, RadioField(_label, choices=choices({KEPT: KEPT, MERGED: MERGED}), default=KEPT))


class UndoForm(AppForm):
    """The undo button (CSRF only)."""


def _other_id() -> int:
    try:
        return record_id(request.args.get("with", ""))
    except ValueError:
        abort(404)


def _same(kept: Beneficiary, merged: Beneficiary, name: str) -> bool:
    return all(getattr(kept, column) == getattr(merged, column) for column in (name, *COMPANIONS.get(name, ())))


def _render_compare(form: MergeForm, kept: Beneficiary, merged: Beneficiary, status: int = 200):
    rows = [(form[name], name, _same(kept, merged, name)) for name in CHOICE_FIELDS]
    cases = {person.id: [case for case in person.cases if can(current_user, "case.view", case)]
             for person in (kept, merged)}
    return render_template("merge/compare.html", form=form, kept=kept, merged=merged, rows=rows,
                           cases=cases), status


def _refresh_versions(form: MergeForm, kept: Beneficiary, merged: Beneficiary) -> None:
    for field, person in ((form.kept_version, kept), (form.merged_version, merged)):
        field.raw_data, field.data = None, person.version


@bp.route("/people/<int:beneficiary_id>/merge", methods=["GET", "POST"])
@requires("person.merge")
def compare(beneficiary_id: int):
    kept = get_or_404(Beneficiary, beneficiary_id, "person.merge")
    other_id = _other_id()
    if request.method == "GET":
        merged = get_or_404(Beneficiary, other_id, "person.merge")
        if merged.id == kept.id:
            abort(404)
        form = MergeForm(formdata=None)
        _refresh_versions(form, kept, merged)
        view_comparison(current_user, kept, merged)
        page = _render_compare(form, kept, merged)
        db.session.commit()  # the views' audit events; after rendering, so the loaded rows stay loaded
        return page
    merged = db.session.get(Beneficiary, other_id) or abort(404)  # a tombstone after a first post of this form
    if not (can(current_user, "person.merge", merged) or merged.merged_into_id == kept.id):
        abort(404)  # nothing of someone out of scope is shown, not even on a refused post
    form = MergeForm()
    if not form.validate():
        return _render_compare(form, kept, merged, 400)
    choices = {name: form[name].data for name in CHOICE_FIELDS}
    try:
        merge_people(current_user, kept, merged, choices, (form.kept_version.data, form.merged_version.data),
                     form_token=form.form_token.data)
    except NotAllowed:
        abort(404)
    except EditConflict:
        db.session.rollback()
        _refresh_versions(form, kept, merged)
        flash(_("One of the records was changed since you opened this page: check the comparison again."), "danger")
        return _render_compare(form, kept, merged, 409)
    except ValidationFailed as failure:
        db.session.rollback()
        for name, messages in failure.errors.items():
            form[name].errors = messages
        return _render_compare(form, kept, merged, 400)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "danger")
        return _render_compare(form, kept, merged, 400)
    db.session.commit()
    flash(_("The two records are merged."), "success")
    return redirect(url_for("beneficiaries.show", beneficiary_id=kept.id))


@bp.route("/merges/<int:merge_id>")
@requires("person.merge")
def show(merge_id: int):
    person_merge = get_or_404(PersonMerge, merge_id, "person.merge")
    snapshot = merge_snapshot(person_merge)
    moved = snapshot.get("moved", {}).get("cases", [])
    found = {case.id: case for case in db.session.scalars(select(Case).where(Case.id.in_(moved)))}  # one query
    shown = [found[case_id] for case_id in moved if case_id in found and can(current_user, "case.view", found[case_id])]
    return render_template(
        "merge/show.html", merge=person_merge, snapshot=snapshot, cases=shown, hidden_cases=len(moved) - len(shown),
        kept=db.session.get(Beneficiary, person_merge.kept_id),
        merged=db.session.get(Beneficiary, person_merge.merged_id),
        merged_by=db.session.get(User, person_merge.merged_by_id),
        taken=[CHOICE_FIELDS[name] for name in snapshot.get("taken", [])],
        form=UndoForm())


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@requires("person.merge")
def undo(merge_id: int):
    person_merge = get_or_404(PersonMerge, merge_id, "person.merge")
    form = UndoForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        undo_merge(current_user, person_merge)
    except NotAllowed:
        abort(404)
    except DomainError as refusal:
        db.session.rollback()
        flash(refusal.message, "danger")
    else:
        db.session.commit()
        flash(_("The merge is undone: both records are as they were before it."), "success")
    return redirect(url_for("merge.show", merge_id=merge_id))


# --- on the person page -------------------------------------------------------------------------------------------


@bp.app_template_global("merge_candidates")
def merge_candidates(person: Beneficiary) -> list[tuple[Beneficiary, float]]:
    """Likely duplicates of `person` that the current user may merge with it (best first); [] without the right."""
    if person.anonymised_at is not None or not can(current_user, "person.merge", person):
        return []
    record = {"given_name": person.given_name, "family_name": person.family_name, "sex": person.sex,
              "date_of_birth": person.date_of_birth.isoformat(), "dob_is_estimated": person.dob_estimated,
              "nationality": person.nationality,
              "document_number": person.documents[0].number if person.documents else ""}
    found = find_duplicates(current_user, record, (person.given_name_alt or "", person.family_name_alt or ""))
    return [(other, score) for other, score in found.visible
            if other.id != person.id and can(current_user, "person.merge", other)]


@bp.app_template_global("merges_into")
def merges_into(person: Beneficiary) -> list[PersonMerge]:
    """The merges that kept `person` (newest first), for a user who may merge it."""
    if not can(current_user, "person.merge", person):
        return []
    return list(db.session.scalars(select(PersonMerge).where(PersonMerge.kept_id == person.id)
                                   .order_by(PersonMerge.id.desc())))

