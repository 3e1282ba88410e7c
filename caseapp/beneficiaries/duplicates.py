"""Likely duplicates of a record being registered: candidates by blocking keys and document number, then scored.

Only people the actor may see are returned; people outside the actor's scope are only counted, never shown.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from caseapp.access.policy import can
from caseapp.beneficiaries.blocking import candidate_keys
from caseapp.beneficiaries.lookup import document_lookup_index
from caseapp.beneficiaries.matching import MATCH_THRESHOLD, best_score, evidence_without_names, may_reach, \
    spelling
from caseapp.beneficiaries.models import Beneficiary, IdentityDocument, PersonKey
from caseapp.extensions import db
from caseapp.id_lists import among

# Blocking-key candidates scored at most per record: the people sharing the most keys with it (a namesake born
# years apart shares one pair key, the same person usually the pair, given-name-and-year and family-name-and-year
# keys). Bounds the time of one search however common the names are; see bench/duplicate_candidates.py.
MAX_CANDIDATES = 500


@dataclass
class Duplicates:
    """Likely duplicates the actor may see (best first, with scores) and how many more exist outside their scope."""

    visible: list[tuple[Beneficiary, float]]
    outside_scope: int


_COLUMNS = (Beneficiary.id, Beneficiary.given_name, Beneficiary.family_name, Beneficiary.given_name_alt,
            Beneficiary.family_name_alt, Beneficiary.sex, Beneficiary.date_of_birth, Beneficiary.dob_estimated,
            Beneficiary.nationality)


def _record(person, document: str) -> dict:
    """score_pair's mapping of a candidate (a row of _COLUMNS) with its first document's number."""
    return {"given_name": person.given_name, "family_name": person.family_name, "sex": person.sex,
            "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
            "dob_is_estimated": person.dob_estimated, "nationality": person.nationality,
            "document_number": document}


def _spellings(person) -> list[tuple[str, str]]:
    """A candidate's (given, family) names: the Latin, and the Arabic-script ones when recorded."""
    latin = spelling({"given_name": person.given_name, "family_name": person.family_name})
    if person.given_name_alt or person.family_name_alt:
        return [latin, spelling({"given_name": person.given_name_alt, "family_name": person.family_name_alt})]
    return [latin]


def _candidate_ids(keys: set[str], document_number: str | None) -> list[int]:
    """The people sharing the most blocking keys with the record (at most MAX_CANDIDATES), and every person with
    the same document number."""
    ids = set(db.session.scalars(
        select(PersonKey.beneficiary_id).where(PersonKey.key.in_(sorted(keys))).group_by(PersonKey.beneficiary_id)
        .order_by(func.count().desc(), PersonKey.beneficiary_id.desc()).limit(MAX_CANDIDATES))) if keys else set()
    if index := document_lookup_index(document_number):
        ids |= set(db.session.scalars(select(IdentityDocument.beneficiary_id).where(
            IdentityDocument.number_index == index)))
    return sorted(ids)


def _first_documents(ids: list[int]) -> dict[int, str]:
    """Each person's first document number (decrypted), as `Beneficiary.documents[0]`."""
    first = {}
    for document in db.session.scalars(select(IdentityDocument).where(among(IdentityDocument.beneficiary_id, ids))
                                       .order_by(IdentityDocument.id)):
        first.setdefault(document.beneficiary_id, document)
    return {person_id: document.number for person_id, document in first.items()}


def _former_records(ids: list[int]) -> list[tuple]:
    """(row, standing person id) for every record merged into one of `ids`, at any depth: a candidate's former
    spellings, so that a match on one of them is a match on it."""
    found, root_of = [], {person_id: person_id for person_id in ids}
    while root_of and (layer := db.session.execute(select(*_COLUMNS, Beneficiary.merged_into_id).where(
            among(Beneficiary.merged_into_id, root_of), Beneficiary.anonymised_at.is_(None))).all()):
        found += [(row, root_of[row.merged_into_id]) for row in layer]
        root_of = {row.id: root_of[row.merged_into_id] for row in layer}
    return found


def likely_duplicates(record: dict, alternative_names: tuple[str, str] = ("", "")) -> dict[int, float]:
    """The id and score of every likely duplicate of `record` (score_pair's keys; date_of_birth ISO), in anyone's
    scope; `alternative_names` are its Arabic-script (or other) given and family names.

    Candidates are read as plain rows and checked first with `may_reach` (dates, document, sex, nationality); only
    those that may match have their names compared."""
    birth = date.fromisoformat(record["date_of_birth"]) if record.get("date_of_birth") else None
    keys = candidate_keys((record["given_name"], alternative_names[0]), (record["family_name"], alternative_names[1]),
                          birth)
    ids = _candidate_ids(keys, record.get("document_number"))
    if not ids:
        return {}
    rows = db.session.execute(select(*_COLUMNS).where(among(Beneficiary.id, ids), Beneficiary.anonymised_at.is_(None),
                                                      Beneficiary.merged_into_id.is_(None))).all()
    formers = _former_records([row.id for row in rows])
    # a document number only counts when both records have one: no need to decrypt theirs otherwise
    documents = _first_documents([row.id for row in rows]) if record.get("document_number") else {}
    mine = [spelling(record)]
    if any(alternative_names):
        mine.append(spelling({"given_name": alternative_names[0], "family_name": alternative_names[1]}))
    scores: dict[int, float] = {}
    for row, person_id in [*((row, row.id) for row in rows), *formers]:
        evidence = evidence_without_names(record, _record(row, documents.get(person_id, "")))
        if may_reach(evidence):
            score = best_score(mine, _spellings(row), evidence)
            if score >= MATCH_THRESHOLD:
                scores[person_id] = max(score, scores.get(person_id, 0.0))
    return scores


def find_duplicates(actor, record: dict, alternative_names: tuple[str, str] = ("", "")) -> Duplicates:
    """The likely duplicates of `record` (see likely_duplicates) the actor may see, and how many more exist; only
    those are loaded as records."""
    scores = likely_duplicates(record, alternative_names)
    if not scores:
        return Duplicates([], 0)
    people = db.session.scalars(select(Beneficiary).where(among(Beneficiary.id, scores))
                                .options(selectinload(Beneficiary.documents), selectinload(Beneficiary.cases))).all()
    likely = sorted(((person, scores[person.id]) for person in people), key=lambda pair: (-pair[1], pair[0].id))
    visible = [(person, score) for person, score in likely if can(actor, "beneficiary.view", person)]
    return Duplicates(visible, len(likely) - len(visible))
