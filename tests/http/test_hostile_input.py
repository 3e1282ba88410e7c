"""Every form of the app fed random and hostile values (property-based, hypothesis, fixed seed).

Each example takes a post that the form accepts, changes some fields (markup, SQL fragments, 10k-character and
2-MiB values, NUL and other control characters, bidi overrides and odd Unicode, impossible dates, huge and negative
numbers, wrong choice codes, the field left out or posted twice, extra mass-assignment fields) and sends it. First the
deterministic edge examples of hostile_strategies.edge_mutations, then `examples` random ones (derandomize=True: the
same posts on every run). For every post:

- no 5xx: the status is in ALLOWED; a refusal is a 200/422 page with a message, a redirect to a page with a
  "danger" message, or 400/404/409/413;
- a refused post saved nothing: the row counts of the form's `tables` and the rows it `watch`es are unchanged;
- typed markup never reaches the answer, or the page it redirects to, unescaped;
- what reaches the database would also pass on PostgreSQL (these tests run on SQLite, which is lax): no NUL in a
  SQL parameter, no string longer than its VARCHAR column.

Adding a form (admin, audit and privacy forms are not covered yet): append a FormSpec to FORMS (see its fields).
If it works on records, build them in `build_scene` under a new `needs` part; if an accepted post consumes its
record (a decision, a state change), give a `prepare` hook that restores it before each post. Keep the whole file
within about 40 s on SQLite: `examples` counts random posts per form, on top of the edge ones.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, event, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from caseapp.auth.models import User
from caseapp.beneficiaries.models import (
    Beneficiary, BeneficiaryFlag, ConsentRecord, Household, IdentityDocument,
)
from caseapp.cases.models import Assessment, Case, CaseNote, CaseTransfer, ChangeRecord, FollowUp, PlanAction, PlanGoal
from caseapp.extensions import db
from caseapp.referrals.models import DirectoryEntry, Referral, ReferralEvent
from caseapp.security.form_tokens import FormSubmission
from tests.conftest import PASSWORD, csrf_token, valid_registration
from tests.http.hostile_strategies import (
    BOOL, CHOICE, DATE, INT, MISSING, MULTI, RAW_MARKUP, TEXT, URL, edge_mutations, mutations,
)

ALLOWED = {200, 302, 400, 404, 409, 413, 422, 429}
SERVICE = "employment.anapec"
TODAY = date.today()
REFERRAL_ACTIONS = ("return", "submit", "approve", "accept", "decline", "start", "complete", "cancel", "drop",
                    "..", "submit.json", "SUBMIT")

Ids = dict


@dataclass(frozen=True)
class FormSpec:
    """One form of the table.

    name: the test id. user: the conftest user key to log in as (login_as), None for anonymous.
    url: ids → the URL the form posts to; "{choice}" in it is replaced by one of `path_choices`.
    valid: ids → a post the form accepts, without csrf_token (called in an app context: may read the database).
    fields: field name → kind (hostile_strategies.TEXT, INT, DATE, CHOICE, MULTI, BOOL, URL): the fields to fuzz;
        "{key}" in a name is filled from ids (a prefixed form: "goal{goal}-title").
    needs: parts of build_scene the form works on. page: ids → the page the form is on (default: url), where the
        CSRF token and a create form's one-time token (`form_token`, its field name) are read.
    tables: models whose row count must not change when the post is refused. watch: (model, ids key) pairs of
        rows that must not change when the post is refused.
    extra: ids → more values worth posting (ids of other partners' records...). method: "GET" for filter forms.
    """

    name: str
    user: str | None
    url: Callable[[Ids], str]
    valid: Callable[[Ids], dict]
    fields: dict[str, str]
    needs: frozenset[str] = frozenset()
    tables: tuple = ()
    watch: tuple = ()
    page: Callable[[Ids], str] | None = None
    form_token: str | None = None
    extra: Callable[[Ids], tuple] = lambda ids: ()
    method: str = "POST"
    fresh_client: bool = False
    examples: int = 20  # random examples, after the deterministic edge examples (see hostile_strategies)
    path_choices: tuple[str, ...] = ()  # substituted for "{choice}" in the url; edge examples use the first
    prepare: Callable[[object, Ids], None] | None = None  # (app, ids) before each post: restore what it consumes
    rotates_session: bool = False  # an accepted post starts a new session: fetch a new CSRF token


def _ids(ids: Ids, *keys: str) -> tuple:
    """Ids as posted strings (to try records of other partners, or records that are not of this kind)."""
    return tuple(str(ids[key]) for key in keys)


def _needs(*parts: str) -> frozenset[str]:
    return frozenset(parts)


CASE = _needs("case")
CASE_TABLES = (ChangeRecord, PlanGoal, PlanAction, CaseNote, FollowUp, CaseTransfer, FormSubmission)
REGISTRATION = {
    "service_point_id": ("{sp_a_ouj}", INT), "given_name": ("Karim", TEXT), "family_name": ("Tazi", TEXT),
    "given_name_alt": ("كريم", TEXT), "family_name_alt": ("التازي", TEXT), "sex": ("M", CHOICE),
    "date_of_birth": ("1991-04-02", DATE), "dob_estimated": ("", BOOL), "birth_year": ("", INT),
    "nationality": ("MAR", CHOICE), "profile": ("returnee", CHOICE), "country_returned_from": ("LBY", CHOICE),
    "arrival_date": ("2025-01-10", DATE), "phone": ("+212 611 222 333", TEXT), "commune_code": ("OUJ", CHOICE),
    "languages": (["ar", "fr"], MULTI), "document_type": ("passport", CHOICE), "document_number": ("AB123456", TEXT),
    "flags": (["homeless"], MULTI), "processing_basis": ("signed_form", CHOICE), "witness_name": ("", TEXT),
    "legal_basis": ("", TEXT), "statistics_consent": ("y", BOOL),
}


def _as(app, ids: Ids, user_key: str, work):
    """Run `work(actor)` as `user_key` through the services, and commit."""
    with app.test_request_context():
        result = work(db.session.get(User, ids[user_key]))
        db.session.commit()
        return result


def _version(model, ids: Ids, key: str) -> str:
    """The record's current version (valid() runs in an app context), so that only a posted version conflicts."""
    return str(db.session.get(model, ids[key]).version)


def _next_step(ids: Ids) -> str:
    from caseapp.cases.workflow import next_steps

    return (next_steps(db.session.get(Case, ids["case"])) or ["active"])[0]


def _keep_closure_requested(app, ids: Ids) -> None:
    """A closure decision or a reopening consumed the request: reopen the case if needed and ask again."""
    from caseapp.cases import workflow

    case_id = ids["closing_case"]
    if _as(app, ids, "supervisor_a", lambda actor: db.session.get(Case, case_id).awaiting_closure):
        return
    if _as(app, ids, "supervisor_a", lambda actor: db.session.get(Case, case_id).status == "closed"):
        _as(app, ids, "supervisor_a", lambda actor: workflow.reopen(actor, db.session.get(Case, case_id), "Again"))
    _as(app, ids, "caseworker_a", lambda actor: workflow.request_closure(actor, db.session.get(Case, case_id),
                                                                        "goals_met"))


def _keep_closed(app, ids: Ids) -> None:
    """A reopening consumed the closed case: close it again."""
    from caseapp.cases import workflow

    case_id = ids["closed_case"]
    if _as(app, ids, "supervisor_a", lambda actor: db.session.get(Case, case_id).status == "closed"):
        return
    if not _as(app, ids, "supervisor_a", lambda actor: db.session.get(Case, case_id).awaiting_closure):
        _as(app, ids, "caseworker_a", lambda actor: workflow.request_closure(actor, db.session.get(Case, case_id),
                                                                            "goals_met"))
    _as(app, ids, "supervisor_a", lambda actor: workflow.decide_closure(actor, db.session.get(Case, case_id), True))


def _keep_open_without_closure_request(app, ids: Ids) -> None:
    from caseapp.cases import workflow

    if _as(app, ids, "supervisor_a", lambda actor: db.session.get(Case, ids["case"]).awaiting_closure):
        _as(app, ids, "supervisor_a", lambda actor: workflow.decide_closure(actor, db.session.get(Case, ids["case"]),
                                                                           False))


def _keep_follow_up_open(app, ids: Ids) -> None:
    from caseapp.cases import followups

    def work(actor):
        if db.session.get(FollowUp, ids["follow_up"]).done_at is not None:
            follow_up = followups.add_follow_up(actor, db.session.get(Case, ids["case"]), purpose="Call again",
                                                due_date=TODAY, assigned_to_id=None)
            db.session.flush()
            ids["follow_up"] = follow_up.id

    _as(app, ids, "caseworker_a", work)


def _keep_transfer_proposed(app, ids: Ids) -> None:
    """A decision consumed the proposal: propose the case again (a new person's case once one was accepted)."""
    from caseapp.beneficiaries.services import register_beneficiary
    from caseapp.cases import assignment

    def work(actor):
        if db.session.get(CaseTransfer, ids["transfer"]).status == "proposed":
            return
        case = db.session.get(Case, ids["transfer_case"])
        if case.partner_id != actor.partner_id:
            case = register_beneficiary(actor, valid_registration(ids["sp_a_ouj"], given_name="Hind"))[1]
            ids["transfer_case"] = case.id
        transfer = assignment.propose_transfer(actor, case, ids["sp_b_bem"], "Moves to Bemta")
        db.session.flush()
        ids["transfer"] = transfer.id

    _as(app, ids, "supervisor_a", work)


def _keep_referral_submitted(app, ids: Ids) -> None:
    from caseapp.referrals import services as referrals

    def work(actor):
        if db.session.get(Referral, ids["submitted_referral"]).status != "submitted":
            referral = referrals.create_referral(
                actor, db.session.get(Case, ids["case"]), service_code=SERVICE, receiving_partner_id=ids["partner_c"],
                priority="normal", reason="Looks for work", consent_method="signed_form")
            db.session.flush()
            referrals.transition(actor, referral, "submit")
            ids["submitted_referral"] = referral.id

    _as(app, ids, "caseworker_a", work)


FORMS: tuple[FormSpec, ...] = (
    FormSpec("login", None, lambda ids: "/login", lambda ids: {"username": "caseworker.a", "password": PASSWORD},
             {"username": TEXT, "password": TEXT}, tables=(User,), fresh_client=True),
    FormSpec("password_change", "caseworker_a", lambda ids: "/account/password",
             lambda ids: {"current_password": PASSWORD, "new_password": "a brand new long passphrase 7",
                          "confirm_password": "a brand new long passphrase 7"},
             {"current_password": TEXT, "new_password": TEXT, "confirm_password": TEXT}, tables=(User,),
             rotates_session=True),
    FormSpec("language", "caseworker_a", lambda ids: "/language", lambda ids: {"language": "ar", "next": "/cases/"},
             {"language": CHOICE, "next": URL}, watch=((User, "caseworker_a"),), page=lambda ids: "/"),
    FormSpec("registration", "caseworker_a", lambda ids: "/beneficiaries/new",
             lambda ids: {name: value.format(**ids) if isinstance(value, str) else value
                          for name, (value, _kind) in REGISTRATION.items()},
             {name: kind for name, (_value, kind) in REGISTRATION.items()}, form_token="form_token", examples=50,
             tables=(Beneficiary, Case, ConsentRecord, IdentityDocument, BeneficiaryFlag, FormSubmission),
             extra=lambda ids: _ids(ids, "sp_a_nad", "sp_b_bem")),
    FormSpec("household_link", "caseworker_a", lambda ids: f"/beneficiaries/{ids['person']}/household",
             lambda ids: {"case_number": ids["other_number"]}, {"case_number": TEXT}, needs=_needs("case", "other"),
             tables=(Household,), watch=((Beneficiary, "person"), (Beneficiary, "other_person")),
             page=lambda ids: f"/beneficiaries/{ids['person']}",
             extra=lambda ids: (ids["number"], ids["b_number"], ids["other_number"].lower()) if "b_number" in ids
             else (ids["number"], ids["other_number"].lower())),
    FormSpec("case_search", "caseworker_a", lambda ids: "/cases/", lambda ids: {"q": "Ouazzani"}, {"q": TEXT},
             needs=CASE, extra=lambda ids: (ids["number"], "OUJ-", "+212 6", "AB123456")),
    FormSpec("case_filters", "supervisor_a", lambda ids: "/cases/",
             lambda ids: {"status": "registered", "service_point": str(ids["sp_a_ouj"]), "risk": "medium",
                          "worker": str(ids["caseworker_a"]), "flag": "homeless", "overdue": "y",
                          "sort": "number", "page": "1"},
             {"status": CHOICE, "service_point": INT, "worker": INT, "risk": CHOICE, "flag": CHOICE, "overdue": BOOL,
              "sort": CHOICE, "page": INT}, needs=CASE, method="GET",
             extra=lambda ids: _ids(ids, "sp_b_bem", "caseworker_b")),
    FormSpec("case_assign", "supervisor_a", lambda ids: "/cases/assign",
             lambda ids: {"case_ids": [str(ids["case"]), str(ids["other_case"])],
                          "worker_id": str(ids["caseworker_restricted"]), "next": "/cases/"},
             {"case_ids": MULTI, "worker_id": INT, "next": URL}, needs=_needs("case", "other", "b"),
             tables=(ChangeRecord,), watch=((Case, "case"), (Case, "other_case")), page=lambda ids: "/cases/",
             extra=lambda ids: _ids(ids, "b_case", "caseworker_b", "caseworker_a2", "case")),
    FormSpec("stage_move", "caseworker_a", lambda ids: f"/cases/{ids['case']}/stage",
             lambda ids: {"target": _next_step(ids)}, {"target": CHOICE}, needs=CASE, tables=(ChangeRecord,),
             watch=((Case, "case"),), page=lambda ids: f"/cases/{ids['case']}"),
    FormSpec("closure_request", "caseworker_a", lambda ids: f"/cases/{ids['case']}/closure",
             lambda ids: {"reason": "goals_met"}, {"reason": CHOICE}, needs=CASE, tables=(ChangeRecord,),
             watch=((Case, "case"),), page=lambda ids: f"/cases/{ids['case']}",
             prepare=_keep_open_without_closure_request),
    FormSpec("closure_decision", "supervisor_a", lambda ids: f"/cases/{ids['closing_case']}/closure/decision",
             lambda ids: {"decision": "reject"}, {"decision": CHOICE, "comment": TEXT}, needs=_needs("closing"),
             tables=(ChangeRecord,), watch=((Case, "closing_case"),),
             page=lambda ids: f"/cases/{ids['closing_case']}", prepare=_keep_closure_requested),
    FormSpec("reopen", "supervisor_a", lambda ids: f"/cases/{ids['closed_case']}/reopen",
             lambda ids: {"reason": "New facts"}, {"reason": TEXT}, needs=_needs("closed"), tables=(ChangeRecord,),
             watch=((Case, "closed_case"),), page=lambda ids: f"/cases/{ids['closed_case']}", prepare=_keep_closed),
    FormSpec("goal_add", "caseworker_a", lambda ids: f"/cases/{ids['case']}/goals",
             lambda ids: {"area": "employment", "title": "Find work"}, {"area": CHOICE, "title": TEXT}, needs=CASE,
             tables=CASE_TABLES, page=lambda ids: f"/cases/{ids['case']}", form_token="form_token", examples=10),
    FormSpec("action_add", "caseworker_a", lambda ids: f"/goals/{ids['goal']}/actions",
             lambda ids: {f"goal{ids['goal']}-{name}": value for name, value in (
                 ("description", "CV workshop"), ("owner", "ANAPEC"), ("due_date", TODAY.isoformat()),
                 ("status", "todo"))},
             {"goal{goal}-description": TEXT, "goal{goal}-owner": TEXT, "goal{goal}-due_date": DATE,
              "goal{goal}-status": CHOICE}, needs=CASE, tables=CASE_TABLES,
             page=lambda ids: f"/cases/{ids['case']}", form_token="goal{goal}-form_token", examples=10),
    FormSpec("note_add", "caseworker_a", lambda ids: f"/cases/{ids['case']}/notes",
             lambda ids: {"kind": "general", "body": "Met at the office", "occurred_on": TODAY.isoformat()},
             {"kind": CHOICE, "body": TEXT, "occurred_on": DATE}, needs=CASE, tables=CASE_TABLES,
             page=lambda ids: f"/cases/{ids['case']}", form_token="form_token", examples=10),
    FormSpec("follow_up_add", "caseworker_a", lambda ids: f"/cases/{ids['case']}/follow-ups",
             lambda ids: {"purpose": "Call back", "due_date": (TODAY + timedelta(days=3)).isoformat(),
                          "assigned_to_id": "0"},
             {"purpose": TEXT, "due_date": DATE, "assigned_to_id": INT}, needs=CASE, tables=CASE_TABLES,
             page=lambda ids: f"/cases/{ids['case']}", form_token="form_token", examples=10,
             extra=lambda ids: _ids(ids, "caseworker_b", "caseworker_a2", "caseworker_a")),
    FormSpec("follow_up_done", "caseworker_a", lambda ids: f"/follow-ups/{ids['follow_up']}/done",
             lambda ids: {"decision": ""}, {"decision": CHOICE, "comment": TEXT}, needs=CASE, tables=CASE_TABLES,
             watch=((FollowUp, "follow_up"),), page=lambda ids: f"/cases/{ids['case']}", examples=6,
             prepare=_keep_follow_up_open),
    FormSpec("transfer_propose", "supervisor_a", lambda ids: f"/cases/{ids['case']}/transfer",
             lambda ids: {"to_service_point_id": str(ids["sp_b_bem"]), "reason": "Moved to Bemta"},
             {"to_service_point_id": INT, "reason": TEXT}, needs=CASE, tables=CASE_TABLES, watch=((Case, "case"),),
             page=lambda ids: f"/cases/{ids['case']}", extra=lambda ids: _ids(ids, "sp_a_nad", "sp_a_ouj")),
    FormSpec("transfer_decision", "supervisor_b", lambda ids: f"/transfers/{ids['transfer']}/decision",
             lambda ids: {"decision": "decline", "comment": "No capacity"}, {"decision": CHOICE, "comment": TEXT},
             needs=_needs("transfer"), tables=CASE_TABLES, watch=((CaseTransfer, "transfer"), (Case, "transfer_case")),
             page=lambda ids: "/transfers", prepare=_keep_transfer_proposed),
    FormSpec("goal_edit", "caseworker_a", lambda ids: f"/goals/{ids['goal']}/edit",
             lambda ids: {"area": "employment", "title": "Find work", "version": _version(PlanGoal, ids, "goal")},
             {"area": CHOICE, "title": TEXT, "version": INT}, needs=CASE, tables=CASE_TABLES,
             watch=((PlanGoal, "goal"),)),
    FormSpec("action_edit", "caseworker_a", lambda ids: f"/actions/{ids['action']}/edit",
             lambda ids: {"description": "CV workshop", "owner": "ANAPEC", "due_date": TODAY.isoformat(),
                          "status": "todo", "version": _version(PlanAction, ids, "action")},
             {"description": TEXT, "owner": TEXT, "due_date": DATE, "status": CHOICE, "version": INT}, needs=CASE,
             tables=CASE_TABLES, watch=((PlanAction, "action"),)),
    FormSpec("note_edit", "caseworker_a", lambda ids: f"/notes/{ids['note']}/edit",
             lambda ids: {"body": "Met at the office", "occurred_on": TODAY.isoformat(),
                          "version": _version(CaseNote, ids, "note")},
             {"body": TEXT, "occurred_on": DATE, "version": INT}, needs=CASE, tables=CASE_TABLES,
             watch=((CaseNote, "note"),)),
    FormSpec("assessment", "caseworker_a", lambda ids: f"/cases/{ids['case']}/assessment",
             lambda ids: {"need_avrr": "", "need_social_rights": "", "need_employment": "Looks for work",
                          "need_psychosocial": "", "flags": ["homeless"], "risk_level": "medium",
                          "version": _version(Assessment, ids, "assessment")},
             {"need_avrr": TEXT, "need_social_rights": TEXT, "need_employment": TEXT, "need_psychosocial": TEXT,
              "flags": MULTI, "risk_level": CHOICE, "version": INT}, needs=CASE,
             tables=CASE_TABLES + (BeneficiaryFlag,), watch=((Case, "case"),)),
    FormSpec("referral_new", "caseworker_a", lambda ids: f"/cases/{ids['case']}/referrals/new",
             lambda ids: {"service_code": SERVICE, "receiving_partner_id": str(ids["partner_c"]),
                          "priority": "normal", "reason": "Looks for work", "consent_method": "signed_form",
                          "consent_witness": "", "shared_fields": []},
             {"service_code": CHOICE, "receiving_partner_id": INT, "priority": CHOICE, "reason": TEXT,
              "consent_method": CHOICE, "consent_witness": TEXT, "shared_fields": MULTI}, needs=CASE,
             tables=(Referral, ConsentRecord, FormSubmission), form_token="form_token",
             extra=lambda ids: _ids(ids, "partner_a", "partner_b") + ("phone", "date_of_birth", "nationality")),
    FormSpec("referral_consent", "caseworker_a", lambda ids: f"/referrals/{ids['referral']}/consent",
             lambda ids: {"consent_method": "oral_witness", "consent_witness": "Fatima, interpreter"},
             {"consent_method": CHOICE, "consent_witness": TEXT}, needs=CASE, tables=(ConsentRecord, Referral),
             watch=((Referral, "referral"),), page=lambda ids: f"/referrals/{ids['referral']}"),
    FormSpec("referral_transition", "supervisor_a", lambda ids: f"/referrals/{ids['submitted_referral']}/{{choice}}",
             lambda ids: {"comment": "Please add the diploma", "outcome": ""}, {"comment": TEXT, "outcome": CHOICE},
             needs=CASE, tables=(Referral, ReferralEvent), watch=((Referral, "submitted_referral"),),
             page=lambda ids: f"/referrals/{ids['submitted_referral']}", path_choices=REFERRAL_ACTIONS,
             prepare=_keep_referral_submitted),
    FormSpec("directory_add", "admin", lambda ids: "/directory/",
             lambda ids: {"partner_id": str(ids["partner_b"]), "service_code": SERVICE, "commune_code": "BEM",
                          "contact": "0536 00 00 00", "hours": "Mon-Fri 9-17", "languages": "ar, fr",
                          "eligibility": "Adults"},
             {"partner_id": INT, "service_code": CHOICE, "commune_code": CHOICE, "contact": TEXT, "hours": TEXT,
              "languages": TEXT, "eligibility": TEXT}, tables=(DirectoryEntry,)),
    FormSpec("directory_search", "caseworker_a", lambda ids: "/directory/",
             lambda ids: {"service": SERVICE, "commune": "OUJ", "active_only": "y"},
             {"service": CHOICE, "commune": CHOICE, "active_only": BOOL}, method="GET"),
)


# --- the scene: records the forms work on, built as each form needs -------------------------------------------------


def _service(app, world, user_key: str, work):
    with app.test_request_context():
        actor = db.session.get(User, world.users[user_key])
        result = work(actor)
        db.session.commit()
        return result


def build_scene(app, world, register, needs: frozenset[str]) -> Ids:
    """Ids of users, service points, partners, and of the parts in `needs`:
    case: a worked case of caseworker_a (assessment, goal, action, note, follow-up, a draft referral and a
          referral submitted for review, with consent, to partner C, which the directory lists);
    other: a second person at A-OUJ; b: a case of partner B; closing: a case awaiting closure;
    closed: a closed case; transfer: a case proposed for transfer to partner B."""
    from caseapp.cases import assignment, followups, notes, plan, workflow
    from caseapp.cases.assessment import save_assessment
    from caseapp.referrals import services as referrals

    ids: Ids = dict(world.users)
    ids |= {f"sp_{code.lower().replace('-', '_')}": point for code, point in world.service_points.items()}
    ids |= {f"partner_{code.lower()}": partner for code, partner in world.partners.items()}
    people = {"case": ("Samira", "Ouazzani"), "other": ("Youssef", "Ouazzani"), "closing": ("Amina", "Berrada"),
              "closed": ("Omar", "Sefrioui"), "transfer": ("Hind", "Alaoui")}
    for part, (given_name, family) in people.items():
        if part in needs:
            person, number = register(given_name=given_name, family_name=family, given_name_alt="", family_name_alt="")
            prefix = "" if part == "case" else f"{part}_"
            ids |= {f"{prefix}number": number, f"{prefix}person": person}
    if "b" in needs:
        ids["b_number"] = register("caseworker_b", "B-BEM", given_name="Rachid", family_name="Bennani",
                                   commune_code="BEM")[1]
    with app.app_context():
        for key in [key for key in ids if key.endswith("number")]:
            ids[key.replace("number", "case")] = db.session.scalar(select(Case.id).where(Case.number == ids[key]))
        if "case" in needs:
            db.session.add(DirectoryEntry(partner_id=world.partners["C"], service_code=SERVICE, commune_code="OUJ"))
            db.session.commit()

    def caseworker_work(actor):
        found = {}
        if "case" in needs:
            case = db.session.get(Case, ids["case"])
            found["assessment"] = save_assessment(actor, case, needs={"employment": "Looks for work"},
                                                  risk_level="medium", flags=["homeless"])
            goal = plan.add_goal(actor, case, area="employment", title="Find work")
            db.session.flush()
            found |= dict(goal=goal, note=notes.add_note(actor, case, kind="general", body="Met at the office",
                                                         occurred_on=TODAY),
                          action=plan.add_action(actor, goal, description="CV workshop", owner="ANAPEC",
                                                 due_date=TODAY),
                          follow_up=followups.add_follow_up(actor, case, purpose="Call back", due_date=TODAY,
                                                            assigned_to_id=None))
            for key, consent in (("referral", ""), ("submitted_referral", "signed_form")):
                found[key] = referrals.create_referral(
                    actor, case, service_code=SERVICE, receiving_partner_id=world.partners["C"], priority="normal",
                    reason="Looks for work", consent_method=consent)
            db.session.flush()
            referrals.transition(actor, found["submitted_referral"], "submit")
        for key in ("closing_case", "closed_case"):
            if key in ids:
                workflow.request_closure(actor, db.session.get(Case, ids[key]), "goals_met")
        db.session.flush()
        return {key: obj.id for key, obj in found.items()}

    ids |= _service(app, world, "caseworker_a", caseworker_work)

    def supervisor_work(actor):
        if "closed_case" in ids:
            workflow.decide_closure(actor, db.session.get(Case, ids["closed_case"]), True)
        if "transfer_case" in ids:
            transfer = assignment.propose_transfer(actor, db.session.get(Case, ids["transfer_case"]),
                                                   world.service_points["B-BEM"], "Moves to Bemta")
            db.session.flush()
            return {"transfer": transfer.id}
        return {}

    ids |= _service(app, world, "supervisor_a", supervisor_work)
    return ids


# --- what PostgreSQL would refuse ------------------------------------------------------------------------------------


class PostgresFaithfulness:
    """Collects what SQLite stores but PostgreSQL refuses (a 500 there): NUL characters in SQL parameters, and
    strings longer than their VARCHAR column."""

    def __init__(self, engine):
        self.engine = engine
        self.problems: list[str] = []

    def _on_execute(self, _conn, _cursor, statement, parameters, _context, _many):
        rows = parameters if isinstance(parameters, list) else [parameters]
        for row in rows:
            values = row.values() if isinstance(row, dict) else (row or ())
            if any(isinstance(value, str) and "\x00" in value for value in values):
                self.problems.append(f"NUL character in a SQL parameter: {statement[:120]}")

    def _before_flush(self, session, _context, _instances):
        for obj in list(session.new) + list(session.dirty):
            mapper = inspect(obj).mapper
            for column in mapper.columns:
                kind = column.type
                if not isinstance(kind, String) or isinstance(kind, TypeDecorator) or not kind.length:
                    continue
                value = getattr(obj, mapper.get_property_by_column(column).key, None)
                if isinstance(value, str) and len(value) > kind.length:
                    self.problems.append(f"{column.table.name}.{column.name}: {len(value)} characters "
                                         f"for VARCHAR({kind.length})")

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        event.listen(Session, "before_flush", self._before_flush)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on_execute)
        event.remove(Session, "before_flush", self._before_flush)


# --- the harness -----------------------------------------------------------------------------------------------------


def _state(app, spec: FormSpec, ids: Ids) -> tuple:
    """Row counts of the form's tables and the watched rows' column values."""
    with app.app_context():
        counts = tuple(db.session.scalar(select(func.count()).select_from(model)) for model in spec.tables)
        rows = []
        for model, key in spec.watch:
            obj = db.session.get(model, ids[key])
            rows.append(tuple((column.key, getattr(obj, column.key)) for column in inspect(model).column_attrs))
        return counts, tuple(rows)


def _apply(valid: dict, mutation: dict) -> dict:
    data = dict(valid)
    for name, value in mutation.items():
        if value is MISSING:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def _body(response) -> str:
    return response.get_data(as_text=True)


def _assert_escaped(body: str, where: str) -> None:
    for markup in RAW_MARKUP:
        assert markup not in body, f"unescaped {markup!r} in {where}"


class Poster:
    """Posts one mutated form for a spec and checks the answer; keeps the client, its CSRF token, and the last
    page it loaded (a create form's fresh token is read from it when it is the form's page)."""

    def __init__(self, app, spec: FormSpec, ids: Ids, client):
        self.app, self.spec, self.ids, self.client = app, spec, ids, client
        self.page = spec.page(ids) if spec.page else spec.url(ids).replace("{choice}", "")
        self.token = csrf_token(client, self.page)
        self.last_page: tuple[str, str] | None = None  # (path, body) of a page loaded since the last post

    def _form_token(self, name: str) -> str:
        if self.last_page is None or self.last_page[0] != self.page:
            self.last_page = (self.page, _body(self.client.get(self.page)))
        match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]+)"', self.last_page[1])
        assert match, f"no {name} on {self.page}"
        self.last_page = None  # used: the next post reads a fresh one
        return match.group(1)

    def post(self, mutation: dict, choice: str = "") -> None:
        spec, app = self.spec, self.app
        if spec.fresh_client:
            self.client = app.test_client()
            self.token = csrf_token(self.client, self.page)
        if spec.prepare:
            spec.prepare(app, self.ids)
        url = spec.url(self.ids).replace("{choice}", choice)
        with app.app_context():
            data = _apply(spec.valid(self.ids), mutation)
        before = _state(app, spec, self.ids)
        with app.app_context():
            guard = PostgresFaithfulness(db.engine)
        with guard:
            if spec.method == "GET":
                response = self.client.get(url, query_string=data)
            else:
                if spec.form_token:
                    name = spec.form_token.format(**self.ids)
                    data[name] = self._form_token(name)
                data["csrf_token"] = self.token
                response = self.client.post(url, data=data)
            status = response.status_code
            body = _body(response)
            shown = f"{data!r:.400}"
            assert status in ALLOWED, f"{spec.name}: status {status} for {shown}"
            _assert_escaped(body, f"the answer to {spec.name}")
            refused = status != 302
            if status == 302:
                location = urlsplit(response.headers["Location"])
                assert not location.netloc, f"{spec.name} redirects off-site: {response.headers['Location']}"
                followed = self.client.get(location.path, query_string=location.query)
                assert followed.status_code == 200, (spec.name, location, followed.status_code)
                self.last_page = (location.path, _body(followed))
                _assert_escaped(self.last_page[1], f"the page {spec.name} redirects to")
                refused = 'class="alert alert-danger"' in self.last_page[1]
            elif status in (200, 422) and spec.method == "POST" and spec.name != "login":
                assert "invalid-feedback" in body or "alert-danger" in body, \
                    f"{spec.name}: refused ({status}) without a message for {shown}"
        problems = guard.problems
        assert problems == [], f"{spec.name}: PostgreSQL would refuse {shown}: {problems}"
        if spec.rotates_session and not refused:
            self.token = csrf_token(self.client, self.page)
        if refused:
            assert _state(app, spec, self.ids) == before, f"{spec.name}: refused ({status}) but saved {shown}"


@pytest.mark.parametrize("spec", FORMS, ids=[spec.name for spec in FORMS])
def test_form_survives_hostile_input(app, world, register, login_as, spec: FormSpec):
    ids = build_scene(app, world, register, spec.needs)
    poster = Poster(app, spec, ids, login_as(spec.user) if spec.user else app.test_client())
    kinds = {name.format(**ids): kind for name, kind in spec.fields.items()}
    choices = spec.path_choices or ("",)

    @settings(max_examples=spec.examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(mutation=mutations(kinds, tuple(spec.extra(ids))), choice=st.sampled_from(choices))
    def check(mutation, choice):
        poster.post(mutation, choice)

    with app.app_context():
        valid = spec.valid(ids)
    for edge in reversed(edge_mutations(kinds, valid)):
        check = example(mutation=edge, choice=choices[0])(check)
    check()
