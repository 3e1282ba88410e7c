"""Likely duplicates of a record being registered: candidates by blocking keys and document number, then scored.

Only people the actor may see are returned; people outside the actor's scope are only counted, never shown.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from caseapp.access.policy import can
from caseapp.beneficiaries.blocking import candidate_keys
from caseapp.beneficiaries.lookup import document_lookup_index
from caseapp.beneficiaries.matching import MATCH_THRESHOLD, score_pair
from caseapp.beneficiaries.models import Beneficiary, IdentityDocument, PersonKey
from caseapp.extensions import db

MAX_CANDIDATES = 200


@dataclass
class Duplicates:
    """Likely duplicates the actor may see (best first, with scores) and how many more exist outside their scope."""

    visible: list[tuple[Beneficiary, float]]
    outside_scope: int


def _record(person: Beneficiary) -> dict:
    return {"given_name": person.given_name, "family_name": person.family_name, "sex": person.sex,
            "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
            "dob_is_estimated": person.dob_estimated, "nationality": person.nationality,
            "document_number": person.documents[0].number if person.documents else ""}


def _best_score(record: dict, alternatives: list[dict], person: Beneficiary) -> float:
    """The best score over the Latin and the Arabic-script spellings of both records."""
    theirs = _record(person)
    variants = [theirs]
    if person.given_name_alt or person.family_name_alt:
        variants.append(dict(theirs, given_name=person.given_name_alt or "", family_name=person.family_name_alt or ""))
    return max(score_pair(mine, other) for mine in [record, *alternatives] for other in variants)


def find_duplicates(actor, record: dict, alternative_names: tuple[str, str] = ("", "")) -> Duplicates:
    """Likely duplicates of `record` (score_pair's keys; date_of_birth ISO); `alternative_names` are its
    Arabic-script (or other) given and family names."""
    birth = date.fromisoformat(record["date_of_birth"]) if record.get("date_of_birth") else None
    keys = candidate_keys((record["given_name"], alternative_names[0]), (record["family_name"], alternative_names[1]),
                          birth)
    ids = set(db.session.scalars(select(PersonKey.beneficiary_id).where(PersonKey.key.in_(sorted(keys)))
                                 .limit(MAX_CANDIDATES)))
    if index := document_lookup_index(record.get("document_number")):
        ids |= set(db.session.scalars(select(IdentityDocument.beneficiary_id).where(
            IdentityDocument.number_index == index)))
    if not ids:
        return Duplicates([], 0)
    people = db.session.scalars(select(Beneficiary).where(Beneficiary.id.in_(sorted(ids)),
                                                          Beneficiary.anonymised_at.is_(None))
                                .options(selectinload(Beneficiary.documents), selectinload(Beneficiary.cases))).all()
    alternatives = [dict(record, given_name=alternative_names[0], family_name=alternative_names[1])] \
        if any(alternative_names) else []
    likely = sorted(((person, _best_score(record, alternatives, person)) for person in people),
                    key=lambda pair: -pair[1])
    likely = [(person, score) for person, score in likely if score >= MATCH_THRESHOLD]
    visible = [(person, score) for person, score in likely if can(actor, "beneficiary.view", person)]
    return Duplicates(visible, len(likely) - len(visible))
