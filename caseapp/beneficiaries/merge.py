"""Merging two records of one person (a supervisor chooses field by field) and undoing a merge exactly; audited.

The kept record takes every child record of the other one (cases, and with them notes and referrals; identity
documents; flags, a flag the kept record already has being dropped as a duplicate; consents; the household
membership when the kept record has none). The other record becomes a tombstone (`merged_into_id`) that keeps its
own values, so that `undo_merge` can restore both records from the PersonMerge's encrypted snapshot.

Undo is refused once either record changed after the merge (any change to a person row bumps its version: edits,
household changes, anonymisation), once a later merge involving the kept record is still in force, or once a record
that was moved no longer belongs to the kept record (a case moved on by another merge, a flag removed, a document
deleted). Records added to the kept person after the merge do not prevent the undo: they stay with the kept person.
"""
import json
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, or_, select, update

from caseapp.access.policy import can, ensure
from caseapp.audit.service import record, record_read
from caseapp.beneficiaries.blocking import person_keys
from caseapp.beneficiaries.lookup import phone_lookup_index
from caseapp.beneficiaries.models import (
    Beneficiary, BeneficiaryFlag, ConsentRecord, Household, IdentityDocument, PersonKey, PersonMerge,
)
from caseapp.beneficiaries.normalize import name_search_key
from caseapp.cases.history import check_version
from caseapp.cases.models import Case
from caseapp.errors import DomainError, ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.security.form_tokens import bind_form_token, claim_form_token

KEPT, MERGED = "kept", "merged"
# The identity fields chosen one by one, with their labels. The date of birth is chosen with its "estimated" mark
# (a year recorded as 1 January means nothing without it); the phone's blind index follows the phone.
CHOICE_FIELDS: dict[str, Any] = {
    "given_name": _l("Given name"), "family_name": _l("Family name"),
    "given_name_alt": _l("Given name (Arabic script)"), "family_name_alt": _l("Family name (Arabic script)"),
    "sex": _l("Sex"), "date_of_birth": _l("Date of birth"), "nationality": _l("Nationality"),
    "profile": _l("Profile"), "country_returned_from": _l("Country returned from"),
    "arrival_date": _l("Date of arrival or return"), "phone": _l("Phone"),
    "commune_code": _l("Commune of residence"), "languages": _l("Languages spoken"),
}
COMPANIONS = {"date_of_birth": ("dob_estimated",)}
# Every column of the kept record a merge may change, restored by an undo.
RESTORED_COLUMNS = (*CHOICE_FIELDS, "dob_estimated", "phone_index", "name_search", "household_id",
                    "is_household_head")
_DATES = ("date_of_birth", "arrival_date")
_CHILDREN = {"cases": Case, "documents": IdentityDocument, "consents": ConsentRecord}
MAX_TOMBSTONE_HOPS = 50


def _plain(name: str, value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _restored(name: str, value: Any) -> Any:
    return date.fromisoformat(value) if name in _DATES and value else value


def _refuse_changed() -> DomainError:
    return DomainError(_("The records were changed after the merge, so it cannot be undone safely."))


def _check_choices(choices: dict[str, str]) -> list[str]:
    """The fields taken from the other record; unknown fields or choices are refused."""
    wrong = sorted(name for name, choice in choices.items()
                   if name not in CHOICE_FIELDS or choice not in (KEPT, MERGED))
    if wrong:
        raise ValidationFailed({name: [_("Choose one of the two records.")] for name in wrong})
    return [name for name in CHOICE_FIELDS if choices.get(name) == MERGED]


def _check_result(values: dict[str, Any]) -> None:
    """The merged identity must hold together as a registration would."""
    errors = {}
    if values["profile"] == "returnee" and not values["country_returned_from"]:
        errors["country_returned_from"] = [_("Choose the country the person returned from.")]
    if values["arrival_date"] and values["arrival_date"] < values["date_of_birth"]:
        errors["arrival_date"] = [_("The arrival date cannot be before the date of birth.")]
    if errors:
        raise ValidationFailed(errors)


def _child_ids(model, person_id: int) -> list[int]:
    return list(db.session.scalars(select(model.id).where(model.beneficiary_id == person_id).order_by(model.id)))


def _flag_rows(person_id: int) -> dict[str, BeneficiaryFlag]:
    return {flag.flag_code: flag for flag in db.session.scalars(
        select(BeneficiaryFlag).where(BeneficiaryFlag.beneficiary_id == person_id))}


def _move_children(moved: dict[str, list], source: int, target: int) -> None:
    """Re-parent the listed child rows (plain UPDATEs: a case's own version and dates are not touched)."""
    for name, model in _CHILDREN.items():
        if moved[name]:
            db.session.execute(update(model).where(model.id.in_(moved[name]), model.beneficiary_id == source)
                               .values(beneficiary_id=target).execution_options(synchronize_session=False))
    if moved["flags"]:
        db.session.execute(update(BeneficiaryFlag).where(
            BeneficiaryFlag.beneficiary_id == source, BeneficiaryFlag.flag_code.in_(moved["flags"]))
            .values(beneficiary_id=target).execution_options(synchronize_session=False))


def _forget_loaded_children() -> None:
    """After plain UPDATEs of child rows: drop the flags loaded under their former keys, reload the rest."""
    for obj in [item for item in db.session.identity_map.values() if isinstance(item, BeneficiaryFlag)]:
        db.session.expunge(obj)
    db.session.expire_all()


def _keys_of(person: Beneficiary) -> set[str]:
    return person_keys((person.given_name, person.given_name_alt), (person.family_name, person.family_name_alt),
                       person.date_of_birth)


def _tombstones(person_id: int) -> list[Beneficiary]:
    """The records merged into `person_id`, and those merged into them, and so on."""
    found, frontier = [], [person_id]
    while frontier:
        layer = list(db.session.scalars(select(Beneficiary).where(Beneficiary.merged_into_id.in_(frontier),
                                                                  Beneficiary.anonymised_at.is_(None))))
        found += layer
        frontier = [tombstone.id for tombstone in layer]
    return found


def _recompute_keys(person: Beneficiary) -> None:
    """A standing record's blocking keys: its own names and date, and those of every record merged into it, so a
    search or a registration under a former spelling finds it. A tombstone or an anonymised record has none."""
    db.session.execute(delete(PersonKey).where(PersonKey.beneficiary_id == person.id))
    if person.merged_into_id is None and person.anonymised_at is None:
        keys = set().union(_keys_of(person), *(_keys_of(former) for former in _tombstones(person.id)))
        db.session.add_all(PersonKey(key=key, beneficiary_id=person.id) for key in sorted(keys))


def merge_people(actor, kept: Beneficiary, merged: Beneficiary, choices: dict[str, str],
                 expected_versions: tuple[int | None, int | None] = (None, None),
                 form_token: str | None = None) -> PersonMerge:
    """Merge `merged` into `kept`, taking from `merged` the fields whose choice is "merged"; flushes, never commits.

    Both records must be in the actor's scope. `expected_versions` are the versions of (kept, merged) the
    comparison page showed: a record saved since raises EditConflict. A second post of the same form
    (`form_token`) returns the merge the first one made.
    """
    ensure(actor, "person.merge", kept)
    earlier = claim_form_token(form_token, PersonMerge.__tablename__)
    if earlier:
        return db.session.get(PersonMerge, earlier)
    ensure(actor, "person.merge", merged)
    if kept.id == merged.id:
        raise DomainError(_("Choose two different records of the person."))
    if any(person.merged_into_id or person.anonymised_at for person in (kept, merged)):
        raise DomainError(_("An anonymised or already merged record cannot be merged."))
    for person, expected in zip((kept, merged), expected_versions):
        check_version(person, expected, person.display_name, {})
    if kept.household_id and merged.household_id and kept.household_id != merged.household_id:
        raise DomainError(_("Both records belong to different households: remove one of them from its household "
                            "first."))
    taken = _check_choices(choices)
    values = {name: getattr(merged if name in taken else kept, name) for name in CHOICE_FIELDS}
    _check_result(values)

    former = {name: _plain(name, getattr(kept, name)) for name in RESTORED_COLUMNS}
    merged_household = {"household_id": merged.household_id, "is_household_head": merged.is_household_head}
    moved: dict[str, list] = {name: _child_ids(model, merged.id) for name, model in _CHILDREN.items()}
    kept_flags, merged_flags = _flag_rows(kept.id), _flag_rows(merged.id)
    moved["flags"] = sorted(set(merged_flags) - set(kept_flags))
    dropped = [{"flag_code": code, "set_at": _plain("set_at", merged_flags[code].set_at),
                "set_by_id": merged_flags[code].set_by_id} for code in sorted(set(merged_flags) & set(kept_flags))]

    for name in taken:
        setattr(kept, name, getattr(merged, name))
        for companion in COMPANIONS.get(name, ()):
            setattr(kept, companion, getattr(merged, companion))
    kept.phone_index = phone_lookup_index(kept.phone)
    kept.name_search = name_search_key(kept.given_name, kept.family_name, kept.given_name_alt, kept.family_name_alt)
    if merged.household_id and not kept.household_id:  # the kept record joins the household in its place
        kept.household_id, kept.is_household_head = merged.household_id, merged.is_household_head
    elif merged.household_id and merged.is_household_head:  # both in one household: the kept record heads it
        kept.is_household_head = True
    merged.household_id, merged.is_household_head = None, False
    merged.merged_into_id = kept.id
    db.session.flush()  # the version check of both person rows happens here

    if dropped:
        db.session.execute(delete(BeneficiaryFlag).where(
            BeneficiaryFlag.beneficiary_id == merged.id,
            BeneficiaryFlag.flag_code.in_([item["flag_code"] for item in dropped])))
    _move_children(moved, merged.id, kept.id)
    _forget_loaded_children()
    _recompute_keys(kept)
    _recompute_keys(merged)
    snapshot = {"kept": {"version": kept.version, "fields": former},
                "merged": {"version": merged.version, **merged_household},
                "moved": moved, "dropped_flags": dropped, "taken": taken}
    person_merge = PersonMerge(kept_id=kept.id, merged_id=merged.id, merged_by_id=actor.id,
                               snapshot=json.dumps(snapshot, sort_keys=True))
    db.session.add(person_merge)
    db.session.flush()
    bind_form_token(form_token, person_merge)
    record(actor, "person.merge", person_merge, kept_id=kept.id, merged_id=merged.id, fields=taken,
           cases=moved["cases"], documents=moved["documents"], consents=moved["consents"],
           flags_moved=len(moved["flags"]), flags_dropped=len(dropped))
    return person_merge


def view_comparison(actor, kept: Beneficiary, merged: Beneficiary) -> None:
    """Record that `actor` opened the comparison of these two records (a view of each person)."""
    for person in (kept, merged):
        record_read(actor, "beneficiary.view", person, page="merge")


def merge_snapshot(person_merge: PersonMerge) -> dict:
    """What the merge changed (see merge_people)."""
    return json.loads(person_merge.snapshot)


def may_manage_merge(actor, person_merge: PersonMerge) -> bool:
    """Whether the actor's scope covers both records of the merge, as a merge itself requires."""
    kept = db.session.get(Beneficiary, person_merge.kept_id)
    merged = db.session.get(Beneficiary, person_merge.merged_id)
    snapshot = merge_snapshot(person_merge)
    if person_merge.undone_at is not None or merged.merged_into_id != kept.id or snapshot.get("erased"):
        return can(actor, "person.merge", kept) and can(actor, "person.merge", merged)
    moved = set(snapshot["moved"]["cases"])
    mine = [case.id for case in kept.cases if can(actor, "person.merge", case)]
    return any(case_id in moved for case_id in mine) and any(case_id not in moved for case_id in mine)


def _check_undo(person_merge: PersonMerge, kept: Beneficiary, merged: Beneficiary, snapshot: dict) -> None:
    if person_merge.undone_at is not None:
        raise DomainError(_("This merge was already undone."))
    if (kept.version != snapshot["kept"]["version"] or merged.version != snapshot["merged"]["version"]
            or merged.merged_into_id != kept.id or kept.merged_into_id is not None):
        raise _refuse_changed()
    later = select(PersonMerge.id).where(PersonMerge.id > person_merge.id, PersonMerge.undone_at.is_(None), or_(
        PersonMerge.kept_id.in_((kept.id, merged.id)), PersonMerge.merged_id.in_((kept.id, merged.id))))
    if db.session.scalar(later.limit(1)) is not None:
        raise _refuse_changed()
    moved = snapshot["moved"]
    for name, model in _CHILDREN.items():
        if not set(moved[name]) <= set(_child_ids(model, kept.id)):
            raise _refuse_changed()
    if not set(moved["flags"]) <= set(_flag_rows(kept.id)) or _flag_rows(merged.id):
        raise _refuse_changed()
    household = snapshot["merged"]["household_id"]
    if household is not None and db.session.get(Household, household) is None:
        raise _refuse_changed()


def undo_merge(actor, person_merge: PersonMerge) -> None:
    """Restore both records as they were before the merge; flushes, never commits. Refused (DomainError, translated)
    once already undone or when the records changed since in a way that makes the undo unsafe (module docstring)."""
    ensure(actor, "person.merge", person_merge)
    kept = db.session.get(Beneficiary, person_merge.kept_id)
    merged = db.session.get(Beneficiary, person_merge.merged_id)
    snapshot = merge_snapshot(person_merge)
    if snapshot.get("erased"):
        raise DomainError(_("This person's data was anonymised since: the merge can no longer be undone."))
    _check_undo(person_merge, kept, merged, snapshot)

    for name, value in snapshot["kept"]["fields"].items():
        setattr(kept, name, _restored(name, value))
    merged.merged_into_id = None
    merged.household_id = snapshot["merged"]["household_id"]
    merged.is_household_head = snapshot["merged"]["is_household_head"]
    db.session.flush()
    _move_children(snapshot["moved"], kept.id, merged.id)
    if snapshot["dropped_flags"]:
        db.session.execute(insert(BeneficiaryFlag), [
            {"beneficiary_id": merged.id, "flag_code": item["flag_code"], "set_by_id": item["set_by_id"],
             "set_at": datetime.fromisoformat(item["set_at"])} for item in snapshot["dropped_flags"]])
    _forget_loaded_children()
    _recompute_keys(kept)
    _recompute_keys(merged)
    person_merge.undone_at, person_merge.undone_by_id = utcnow(), actor.id
    db.session.flush()
    record(actor, "person.merge_undo", person_merge, kept_id=kept.id, merged_id=merged.id)


def current_record(person_id: int) -> Beneficiary | None:
    """The record a tombstone now lives in (following merges of merges), or None when `person_id` is no tombstone."""
    person = db.session.get(Beneficiary, person_id)
    if person is None or person.merged_into_id is None:
        return None
    for _hop in range(MAX_TOMBSTONE_HOPS):
        person = db.session.get(Beneficiary, person.merged_into_id)
        if person.merged_into_id is None:
            return person
    return None
