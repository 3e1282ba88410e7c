"""Case notes: typed, authored, dated; psychosocial and protection notes exist only for restricted access."""
from datetime import date

from flask_babel import gettext as _
from functools import partial

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from caseapp.access.policy import ensure, scope
from caseapp.auth.models import User
from caseapp.cases.history import apply_changes, check_version, created, record_change
from caseapp.cases.models import NOTE_KINDS, RESTRICTED_NOTE_KINDS, Case, CaseNote
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.fragments import kept_statement
from caseapp.security.form_tokens import bind_form_token, claim_form_token

MAX_NOTE_LENGTH = 20000


def _check(actor, kind: str, body: str, occurred_on: date | None, today: date) -> None:
    errors = {}
    if kind not in NOTE_KINDS:
        errors["kind"] = [_("Choose the type of note.")]
    elif kind in RESTRICTED_NOTE_KINDS and not actor.restricted_access:
        errors["kind"] = [_("Psychosocial and protection notes need restricted access.")]
    if not body.strip():
        errors["body"] = [_("The note is empty.")]
    elif len(body) > MAX_NOTE_LENGTH:
        errors["body"] = [_("At most %(count)d characters.", count=MAX_NOTE_LENGTH)]
    if occurred_on is None:
        errors["occurred_on"] = [_("Enter the date.")]
    elif occurred_on > today:
        errors["occurred_on"] = [_("The date cannot be in the future.")]
    if errors:
        raise ValidationFailed(errors)


def add_note(actor, case: Case, *, kind: str, body: str, occurred_on: date | None,
             form_token: str | None = None, today: date | None = None) -> CaseNote:
    """Write a note on the case (once per form token)."""
    ensure(actor, "case.work", case)
    _check(actor, kind, body, occurred_on, today or date.today())
    earlier = claim_form_token(form_token, CaseNote.__tablename__)
    if earlier:
        return db.session.get(CaseNote, earlier)
    restricted = kind in RESTRICTED_NOTE_KINDS
    note = CaseNote(case=case, kind=kind, restricted=restricted, body=body.strip(), occurred_on=occurred_on,
                    author_id=actor.id)
    db.session.add(note)
    db.session.flush()
    bind_form_token(form_token, note)
    changes = created({"kind": kind, "body": note.body, "occurred_on": occurred_on})
    if restricted:  # the history of a restricted note names the fields only, never their values
        changes = dict.fromkeys(changes)
    record_change(actor, case, note, "create", changes, restricted=restricted)
    return note


def edit_note(actor, note: CaseNote, *, body: str, occurred_on: date | None, expected_version: int | None,
              today: date | None = None) -> None:
    """Correct one's own note; the old text stays in the history (hidden for restricted notes)."""
    ensure(actor, "note.edit", note)
    _check(actor, note.kind, body, occurred_on, today or date.today())
    check_version(note, expected_version, _("Note"),
                  {"body": (_("Note"), body.strip()), "occurred_on": (_("Date"), occurred_on)})
    apply_changes(actor, note, {"body": body.strip(), "occurred_on": occurred_on}, case=note.case,
                  restricted=note.restricted)


def visible_notes(actor, case: Case) -> list[CaseNote]:
    """The case's notes the actor may read, newest first (restricted ones are not even loaded otherwise)."""
    statement = kept_statement(actor, "case.notes", (), partial(_visible_notes, actor))
    return list(db.session.scalars(statement, {"case_id": case.id}))


def _visible_notes(actor) -> Select:
    """The actor's statement of a case's notes, the case bound at each call: kept per reader
    (caseapp.fragments.kept_statement), as building and keying it cost ~0.4 ms of the case page."""
    query = scope(actor, select(CaseNote).where(CaseNote.case_id == bindparam("case_id")), CaseNote)
    return query.options(joinedload(CaseNote.author).load_only(User.full_name)) \
        .order_by(CaseNote.occurred_on.desc(), CaseNote.id.desc())  # of the author, the name the page shows
