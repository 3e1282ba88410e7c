"""Subject access (law 09-08, right of access): everything held on one person, as a page or a JSON file; audited."""
import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from caseapp.access.policy import can, ensure
from caseapp.audit.service import record
from caseapp.beneficiaries.models import Beneficiary, BeneficiaryFlag
from caseapp.cases.models import Assessment, Case, CaseNote, CaseTransfer, FollowUp, PlanGoal
from caseapp.extensions import db
from caseapp.i18n import LANGUAGES
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.referrals.models import Referral
from caseapp.models_base import utcnow

EXPORT_FORMATS = ("print", "json")


def export_language(person: Beneficiary, requested: str | None, fallback: str) -> str:
    """The language of the printed export: the one asked for, else the person's first interface language, else
    `fallback` (the user's)."""
    if requested in LANGUAGES:
        return requested
    spoken = [code for code in person.language_list if code in LANGUAGES]
    return spoken[0] if spoken else fallback


def sees_restricted(actor) -> bool:
    """Restricted notes and flags go into the export only for users with restricted access — the data-protection
    officer included: their role reaches every person, not the restricted content (security.md requirement 8)."""
    return bool(actor.restricted_access)


def _exported_cases(actor, person: Beneficiary) -> list[Case]:
    """The dpo exports every case; others only the cases of their own scope."""
    return [case for case in person.cases if actor.role == "dpo" or can(actor, "case.view", case)]


def _flags(person: Beneficiary) -> list[BeneficiaryFlag]:
    """The person's flags with their reference rows, in one query."""
    return list(db.session.scalars(select(BeneficiaryFlag).where(BeneficiaryFlag.beneficiary_id == person.id)
                                   .options(joinedload(BeneficiaryFlag.flag)).order_by(BeneficiaryFlag.flag_code)))


def _identity(person: Beneficiary) -> dict[str, Any]:
    return {
        "id": person.id, "given_name": person.given_name, "family_name": person.family_name,
        "given_name_alt": person.given_name_alt, "family_name_alt": person.family_name_alt, "sex": person.sex,
        "date_of_birth": person.date_of_birth, "date_of_birth_estimated": person.dob_estimated,
        "nationality": person.nationality, "profile": person.profile,
        "country_returned_from": person.country_returned_from, "arrival_date": person.arrival_date,
        "languages": person.language_list, "registered_at": person.registered_at,
        "anonymised_at": person.anonymised_at,
    }


def _consents(person: Beneficiary, partners: dict[int, str]) -> list[dict[str, Any]]:
    return [{"kind": item.kind, "method": item.method, "partner": partners.get(item.partner_id),
             "witness_name": item.witness_name, "legal_basis": item.legal_basis, "given_at": item.given_at,
             "withdrawn_at": item.withdrawn_at} for item in person.consents]


def _by_case(query) -> dict[int, list]:
    """The rows of `query` (over a model with a `case_id`) grouped by case, in the query's order."""
    grouped: dict[int, list] = {}
    for row in db.session.scalars(query):
        grouped.setdefault(row.case_id, []).append(row)
    return grouped


def _case_records(case_ids: list[int], restricted: bool) -> dict[str, dict[int, list]]:
    """Every record of the exported cases, one query per kind (not per case)."""
    notes = select(CaseNote).where(CaseNote.case_id.in_(case_ids))
    if not restricted:
        notes = notes.where(CaseNote.restricted.is_(False))  # not even loaded
    return {
        "assessment": _by_case(select(Assessment).where(Assessment.case_id.in_(case_ids))),
        "plan": _by_case(select(PlanGoal).where(PlanGoal.case_id.in_(case_ids))
                         .options(selectinload(PlanGoal.actions)).order_by(PlanGoal.id)),
        "notes": _by_case(notes.order_by(CaseNote.occurred_on, CaseNote.id)),
        "follow_ups": _by_case(select(FollowUp).where(FollowUp.case_id.in_(case_ids)).order_by(FollowUp.due_date)),
        "transfers": _by_case(select(CaseTransfer).where(CaseTransfer.case_id.in_(case_ids)).order_by(CaseTransfer.id)),
        "referrals": _by_case(select(Referral).where(Referral.case_id.in_(case_ids))
                              .options(selectinload(Referral.events), joinedload(Referral.service))
                              .order_by(Referral.id)),
    }


def _assessment(found: list[Assessment]) -> dict[str, Any] | None:
    if not found:
        return None
    assessment = found[0]
    return {"assessed_at": assessment.assessed_at, "needs": {
        "avrr": assessment.need_avrr, "social_rights": assessment.need_social_rights,
        "employment": assessment.need_employment, "psychosocial": assessment.need_psychosocial}}


def _plan(goals: list[PlanGoal]) -> list[dict[str, Any]]:
    return [{"area": goal.area, "title": goal.title, "created_at": goal.created_at, "actions": [
        {"description": action.description, "owner": action.owner, "due_date": action.due_date,
         "status": action.status} for action in goal.actions]} for goal in goals]


def _notes(notes: list[CaseNote]) -> list[dict[str, Any]]:
    return [{"kind": note.kind, "occurred_on": note.occurred_on, "restricted": note.restricted, "body": note.body}
            for note in notes]


def _follow_ups(items: list[FollowUp]) -> list[dict[str, Any]]:
    return [{"purpose": item.purpose, "due_date": item.due_date, "done_at": item.done_at} for item in items]


def _transfers(items: list[CaseTransfer], points: dict[int, str]) -> list[dict[str, Any]]:
    return [{"from_service_point": points.get(item.from_service_point_id),
             "to_service_point": points.get(item.to_service_point_id),
             "status": item.status, "reason": item.reason, "decision_comment": item.decision_comment,
             "proposed_at": item.proposed_at, "decided_at": item.decided_at} for item in items]


def _referrals(items: list[Referral], partners: dict[int, str]) -> list[dict[str, Any]]:
    return [{"service": item.service_code, "service_name": item.service.name,
             "receiving_partner": partners.get(item.receiving_partner_id),
             "status": item.status, "priority": item.priority, "reason": item.reason,
             "shared_fields": item.shared_field_list, "created_at": item.created_at, "sent_at": item.sent_at,
             "completed_at": item.completed_at, "outcome": item.outcome, "data_sent": item.sent_at is not None,
             "events": [{"action": event.action, "from_status": event.from_status, "to_status": event.to_status,
                         "at": event.at, "comment": event.comment} for event in item.events]}
            for item in items]


def _case(case: Case, records: dict[str, dict[int, list]], names: dict[str, dict[int, str]]) -> dict[str, Any]:
    of_case = {kind: rows.get(case.id, []) for kind, rows in records.items()}
    return {
        "number": case.number, "organisation": names["partners"].get(case.partner_id),
        "service_point": names["points"].get(case.service_point_id), "status": case.status,
        "opened_at": case.opened_at, "closed_at": case.closed_at, "closure_reason": case.closure_reason,
        "risk_level": case.risk_level, "reopen_reason": case.reopen_reason,
        "assessment": _assessment(of_case["assessment"]), "plan": _plan(of_case["plan"]),
        "notes": _notes(of_case["notes"]), "follow_ups": _follow_ups(of_case["follow_ups"]),
        "transfers": _transfers(of_case["transfers"], names["points"]),
        "referrals": _referrals(of_case["referrals"], names["partners"]),
    }


def subject_access_data(actor, person: Beneficiary, export_format: str, language: str | None = None) -> dict:
    """Everything held on `person` that the actor may export, and the audit event of the export.

    Document numbers are decrypted; restricted notes and flags only for `sees_restricted(actor)`; cases outside
    the actor's scope only for the data-protection officer. `left_out` names what was not included.
    """
    ensure(actor, "person.access_export", person)
    restricted = sees_restricted(actor)
    names = {"partners": dict(db.session.execute(select(Partner.id, Partner.name)).tuples().all()),
             "points": dict(db.session.execute(select(ServicePoint.id, ServicePoint.name)).tuples().all())}
    partners = names["partners"]
    cases = _exported_cases(actor, person)
    records = _case_records([case.id for case in cases], restricted)
    exported = [_case(case, records, names) for case in cases]
    recipients = sorted({referral["receiving_partner"] for case in exported for referral in case["referrals"]
                         if referral["data_sent"]})
    left_out = [] if restricted else ["restricted"]
    if actor.role != "dpo":  # said whether or not other organisations hold a case, so nothing is revealed
        left_out.append("other_organisations")
    data = {
        "generated_at": utcnow(),
        "person": _identity(person),
        "contact": {"phone": person.phone, "commune_code": person.commune_code, "commune": person.commune.name_fr},
        "documents": [{"type": doc.doc_type, "number": doc.number} for doc in person.documents],
        "flags": [{"code": item.flag_code, "name": item.flag.name, "restricted": item.flag.restricted,
                   "set_at": item.set_at} for item in _flags(person) if restricted or not item.flag.restricted],
        "consents": _consents(person, partners),
        "household": ({"id": person.household_id, "is_head": person.is_household_head}
                      if person.household_id else None),
        "cases": exported,
        "recipients": recipients,
        "left_out": left_out,
    }
    record(actor, "person.access_export", person, format=export_format, language=language,
           cases=len(exported), restricted_included=restricted)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(data: dict) -> str:
    """The export as JSON text (dates in ISO 8601, non-Latin scripts kept as written)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain)
