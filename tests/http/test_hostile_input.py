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
  SQL parameter, no integer parameter outside INTEGER's range, no string longer than its VARCHAR column.

Adding a form: append a FormSpec to FORMS (see its fields). If it works on records, build them in `build_scene`
under a new `needs` part; if an accepted post consumes its record (a decision, a state change), give a `prepare`
hook that restores it before each post. A form whose acceptance is a page shown once (a temporary password,
recovery codes) names what marks it in `accepted`; a form that needs more than a login (a password accepted, a
second factor due) builds its client with `client`. Keep the whole file within about 60 s on SQLite: `examples`
counts random posts per form, on top of the edge ones.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, event, func, inspect, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from caseapp.auth.models import RecoveryCode, User
from caseapp.beneficiaries.models import (
    Beneficiary, BeneficiaryFlag, ConsentRecord, Household, IdentityDocument,
)
from caseapp.cases.models import Assessment, Case, CaseNote, CaseTransfer, ChangeRecord, FollowUp, PlanAction, PlanGoal
from caseapp.extensions import db
from caseapp.partners.models import Partner
from caseapp.places.models import ServicePoint
from caseapp.referrals.models import DirectoryEntry, Referral, ReferralEvent
from caseapp.security.form_tokens import FormSubmission
from tests.conftest import PASSWORD, csrf_token, give_second_factor, totp_secret_of, valid_registration
from tests.http.hostile_strategies import (
    BOOL, CHOICE, DATE, HUGE_INT, INT, MISSING, MULTI, RAW_MARKUP, TEXT, URL, edge_mutations, mutations,
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
    path_choices: what replaces "{choice}" in the url, "{key}" in a choice filled from ids when posting (so that
        a record `prepare` replaced is used); each is posted once with the valid post, then drawn at random.
    accepted: when given, an answer is accepted only when one of these strings is in it or in the page it
        redirects to (a page shown once, a success message); every other answer is a refusal, which must show
        a message (on the page or the page it redirects to) and save nothing.
    client: (app, ids) → the client to post with instead of a fresh or logged-in one (e.g. a login waiting
        for its second factor); with fresh_client, a new one before each post.
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
    accepted: tuple[str, ...] = ()
    client: Callable[[object, Ids], object] | None = None


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
    # Every example registers the same Karim Tazi: past the first, the likely-duplicate step would answer each post
    # (tests/http/test_registration_duplicates.py covers it); the posted decision goes straight to the checks here.
    "confirm_new_person": ("y", BOOL),
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


# --- administration, data protection, audit and second-factor forms -------------------------------------------------

USER_ACTIONS = ("disable", "enable", "mfa-reset", "logout-everywhere", "unlock", "temporary-password")
# "{key}/action" choices of the account buttons: other accounts, the administrator's own (refused, except logging
# itself out everywhere, which would end the test's session), unknown and out-of-range ids, unknown actions.
USER_ACTION_CHOICES = (
    tuple(f"{{caseworker_a}}/{action}" for action in USER_ACTIONS)
    + tuple(f"{{supervisor_a}}/{action}" for action in USER_ACTIONS)
    + tuple(f"{{admin}}/{action}" for action in USER_ACTIONS if action != "logout-everywhere")
    + tuple(f"{user_id}/{action}" for user_id in ("0", "2147483648", HUGE_INT, "-1", "x", "١")
            for action in ("disable", "temporary-password"))
    + ("{caseworker_a}/delete", "{caseworker_a}/DISABLE", "{caseworker_a}/disable.json", "{caseworker_a}/..")
)
CONSENT_CHOICES = ("{consent}", "{consent}", "{foreign_consent}", "0", "2147483648", HUGE_INT, "x")
ERASURE_REASONS = ("subject_request", "retention", "consent_withdrawn", "legal_obligation", "other")
PARTNER_KINDS = ("international_organisation", "ministry", "public_agency", "association", "other")
# Codes that pass a length check, then grow when upper-cased (ß → SS, ﬃ → FFI) into letters a code may hold.
GROWING_CODES = ("ß" * 30, "\ufb03" * 20, "a-ß" * 10)
ROLE_CODES = ("caseworker", "supervisor", "referral_receiver", "me_officer", "dpo", "admin")
CODE_VARIANTS = ("١٢٣٤٥٦", "۱۲۳۴۵۶", "１２３４５６", "000000", "123456", "12345", "1234567", "123 456", "123-456",
                 "abcde-fghjk", "ABCDE FGHJK", "\x00" * 6, "12\x0034", "١" * 10_000)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
AUDIT_FILTERS = {"date_from": DATE, "date_to": DATE, "actor": TEXT, "partner": CHOICE, "action": TEXT,
                 "object_type": CHOICE, "object_id": INT, "ip": TEXT, "page": INT}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _audit_filters(ids: Ids) -> dict:
    return {"date_from": (TODAY - timedelta(days=7)).isoformat(), "date_to": TODAY.isoformat(),
            "actor": "caseworker.a", "partner": "A", "action": "login", "object_type": "user_account",
            "object_id": str(ids["caseworker_a"]), "ip": "127.0.0.1", "page": "1"}


def _second_factor_code(ids: Ids) -> dict:
    """The supervisor's current code, in Arabic-Indic digits with a space (the replay guard cleared first)."""
    db.session.execute(update(User).where(User.id == ids["supervisor_a"]).values(totp_last_step=None))
    db.session.commit()
    code = pyotp.TOTP(totp_secret_of("supervisor.a")).now()
    return {"code": f"{code[:3]} {code[3:]}".translate(ARABIC_INDIC)}


def _pending_second_factor(app, ids: Ids):
    """A client whose password login as supervisor_a waits for its second factor (the account unlocked first:
    wrong codes count as failed logins)."""
    with app.app_context():
        user = db.session.get(User, ids["supervisor_a"])
        user.failed_logins, user.locked_until = 0, None
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": "supervisor.a", "password": PASSWORD,
                                           "csrf_token": csrf_token(client, "/login")})
    assert urlsplit(response.headers.get("Location", "")).path == "/login/code", "no second factor asked"
    return client


def _enrolment_code(ids: Ids) -> dict:
    secret = db.session.get(User, ids["caseworker_a"]).totp_pending_secret
    return {"code": pyotp.TOTP(secret).now() if secret else "000000"}  # no secret yet: `prepare` draws one


def _keep_enrolment_pending(app, ids: Ids) -> None:
    """An accepted code turned the second factor on: take it off again and draw a new pending secret."""
    from caseapp.auth.mfa import clear_second_factor

    def work(actor):
        if actor.mfa_enabled or actor.totp_pending_secret is None:
            clear_second_factor(actor)
            actor.totp_pending_secret = pyotp.random_base32()

    _as(app, ids, "caseworker_a", work)


def _keep_second_factor(app, ids: Ids) -> None:
    """Turning the second factor off consumed it: give caseworker_a2 one again."""

    def work(actor):
        if not actor.mfa_enabled:
            give_second_factor(actor)

    _as(app, ids, "caseworker_a2", work)


def _keep_consent_given(app, ids: Ids) -> None:
    """A withdrawal consumed the consent: record a new one (and find a consent of another person)."""
    from caseapp.privacy import consents

    def work(actor):
        if "foreign_consent" not in ids:
            ids["foreign_consent"] = db.session.scalar(select(ConsentRecord.id).where(
                ConsentRecord.beneficiary_id == ids["closing_person"]).limit(1))
        consent = db.session.get(ConsentRecord, ids["consent"]) if "consent" in ids else None
        if consent is None or consent.withdrawn_at is not None:
            consent = consents.record_consent(actor, db.session.get(Beneficiary, ids["other_person"]),
                                              kind="statistics", method="signed_form")
            db.session.flush()
            ids["consent"] = consent.id

    _as(app, ids, "caseworker_a", work)


def _keep_person_to_anonymise(app, ids: Ids) -> None:
    """An anonymisation consumed the person: register a new one."""
    from caseapp.beneficiaries.services import register_beneficiary

    def work(actor):
        person = db.session.get(Beneficiary, ids["anon_person"]) if "anon_person" in ids else None
        if person is None or person.anonymised_at is not None:
            person = register_beneficiary(actor, valid_registration(ids["sp_a_ouj"], given_name="Leila",
                                                                    family_name="Chraibi"))[0]
            db.session.flush()
            ids["anon_person"] = person.id

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
    # --- administration (admin) ---
    FormSpec("partner_new", "admin", lambda ids: "/admin/partners/new",
             lambda ids: {"code": f"NEW{_count(Partner)}", "name": "Fondation Orient", "kind": "association",
                          "active": "y"},
             {"code": TEXT, "name": TEXT, "kind": CHOICE, "active": BOOL}, tables=(Partner, FormSubmission),
             form_token="form_token", examples=10, extra=lambda ids: ("A", "b", " C ") + PARTNER_KINDS + GROWING_CODES),
    FormSpec("partner_edit", "admin", lambda ids: f"/admin/partners/{ids['partner_c']}",
             lambda ids: {"code": "C", "name": "Partner C", "kind": "association", "active": "y"},
             {"code": TEXT, "name": TEXT, "kind": CHOICE, "active": BOOL}, tables=(Partner,),
             watch=((Partner, "partner_c"),), examples=10,
             extra=lambda ids: ("A", "b") + PARTNER_KINDS + GROWING_CODES),
    FormSpec("service_point_new", "admin", lambda ids: "/admin/service-points/new",
             lambda ids: {"code": f"C-NEW{_count(ServicePoint)}", "name": "Antenne Berkane", "commune_code": "BEM",
                          "partner_id": str(ids["partner_c"]), "active": "y"},
             {"code": TEXT, "name": TEXT, "commune_code": CHOICE, "partner_id": INT, "active": BOOL},
             tables=(ServicePoint, FormSubmission), form_token="form_token", examples=10,
             extra=lambda ids: _ids(ids, "partner_a", "partner_b", "sp_a_ouj") + ("A-OUJ", "a-nad") + GROWING_CODES),
    FormSpec("service_point_edit", "admin", lambda ids: f"/admin/service-points/{ids['sp_a_nad']}",
             lambda ids: {"code": "A-NAD", "name": "Point A-NAD", "commune_code": "NAD",
                          "partner_id": str(ids["partner_a"]), "active": "y"},
             {"code": TEXT, "name": TEXT, "commune_code": CHOICE, "partner_id": INT, "active": BOOL},
             tables=(ServicePoint,), watch=((ServicePoint, "sp_a_nad"),), examples=10,
             extra=lambda ids: _ids(ids, "partner_b", "partner_c") + ("A-OUJ", "B-BEM") + GROWING_CODES),
    FormSpec("user_new", "admin", lambda ids: "/admin/users/new",
             lambda ids: {"username": f"new.user{_count(User)}", "full_name": "Nadia Idrissi",
                          "email": "nadia@example.org", "preferred_language": "fr", "role": "caseworker",
                          "partner_id": str(ids["partner_a"]), "service_point_ids": [str(ids["sp_a_ouj"])],
                          "restricted_access": ""},
             {"username": TEXT, "full_name": TEXT, "email": TEXT, "preferred_language": CHOICE, "role": CHOICE,
              "partner_id": INT, "service_point_ids": MULTI, "restricted_access": BOOL},
             tables=(User, FormSubmission), form_token="form_token", examples=10,
             accepted=('id="temporary-password"', "alert alert-info"),
             extra=lambda ids: _ids(ids, "partner_b", "partner_c", "sp_b_bem", "sp_a_nad") + ROLE_CODES
             + ("caseworker.a", "CASEWORKER.A", "a@b.c")),
    FormSpec("user_edit", "admin", lambda ids: "/admin/users/{choice}",
             lambda ids: {"full_name": "Caseworker A", "email": "", "preferred_language": "", "role": "caseworker",
                          "partner_id": str(ids["partner_a"]), "service_point_ids": [str(ids["sp_a_ouj"])],
                          "restricted_access": ""},
             {"full_name": TEXT, "email": TEXT, "preferred_language": CHOICE, "role": CHOICE, "partner_id": INT,
              "service_point_ids": MULTI, "restricted_access": BOOL},
             tables=(User,), watch=((User, "caseworker_a"), (User, "admin")), examples=10,
             page=lambda ids: f"/admin/users/{ids['caseworker_a']}", path_choices=("{caseworker_a}", "{admin}"),
             extra=lambda ids: _ids(ids, "partner_b", "partner_c", "sp_b_bem", "sp_a_nad") + ROLE_CODES),
    FormSpec("user_action", "admin", lambda ids: "/admin/users/{choice}", lambda ids: {},
             {"user_id": INT, "active": BOOL}, tables=(User, RecoveryCode),
             watch=((User, "caseworker_a"), (User, "supervisor_a"), (User, "admin")),
             page=lambda ids: f"/admin/users/{ids['caseworker_a']}", path_choices=USER_ACTION_CHOICES, examples=10,
             accepted=('id="temporary-password"', "alert alert-success"),
             extra=lambda ids: _ids(ids, "admin", "supervisor_a")),
    FormSpec("users_filter", "admin", lambda ids: "/admin/users",
             lambda ids: {"partner": str(ids["partner_a"]), "role": "caseworker"}, {"partner": INT, "role": CHOICE},
             method="GET", examples=10, extra=lambda ids: _ids(ids, "partner_b", "sp_a_ouj") + ROLE_CODES),
    # --- data protection ---
    FormSpec("consent_new", "caseworker_a", lambda ids: f"/people/{ids['other_person']}/consents/new",
             lambda ids: {"kind": "sharing", "method": "signed_form", "partner_id": str(ids["partner_c"]),
                          "witness_name": "", "legal_basis": ""},
             {"kind": CHOICE, "method": CHOICE, "partner_id": INT, "witness_name": TEXT, "legal_basis": TEXT},
             needs=_needs("other"), tables=(ConsentRecord, FormSubmission, Referral), form_token="form_token",
             examples=10, extra=lambda ids: _ids(ids, "partner_a", "partner_b") + ("processing", "statistics")),
    FormSpec("consent_withdraw", "caseworker_a",
             lambda ids: f"/people/{ids['other_person']}/consents/{{choice}}/withdraw", lambda ids: {},
             {"kind": CHOICE, "withdrawn_at": DATE}, needs=_needs("other", "closing"),
             tables=(ConsentRecord, Referral), watch=((ConsentRecord, "consent"), (ConsentRecord, "foreign_consent")),
             page=lambda ids: f"/beneficiaries/{ids['other_person']}", path_choices=CONSENT_CHOICES, examples=10,
             prepare=_keep_consent_given),
    FormSpec("dpo_lookup", "dpo", lambda ids: "/privacy", lambda ids: {"case_number": ids["other_number"]},
             {"case_number": TEXT}, needs=_needs("other"), tables=(Beneficiary, Case), examples=10,
             extra=lambda ids: (ids["other_number"].lower(), f" {ids['other_number']} ", ids["other_number"][:-1],
                                "OUJ-", "%")),
    FormSpec("anonymise", "dpo", lambda ids: f"/privacy/people/{ids['anon_person']}/anonymise",
             lambda ids: {"reason": "subject_request", "confirm": "y"}, {"reason": CHOICE, "confirm": BOOL},
             tables=(Beneficiary, Case, ConsentRecord, IdentityDocument), watch=((Beneficiary, "anon_person"),),
             page=lambda ids: "/privacy", examples=10, prepare=_keep_person_to_anonymise,
             extra=lambda ids: ERASURE_REASONS),
    FormSpec("subject_access", "supervisor_a", lambda ids: f"/people/{ids['other_person']}/subject-access",
             lambda ids: {"lang": "ar"}, {"lang": CHOICE}, needs=_needs("other"), method="GET", examples=10),
    # --- the audit trail (dpo) ---
    FormSpec("audit_search", "dpo", lambda ids: "/audit", _audit_filters, AUDIT_FILTERS, method="GET", examples=10,
             extra=lambda ids: _ids(ids, "caseworker_a") + ("B", "C", "case_file", "beneficiary", "::1", "login.",
                                                            "user.create", "1" * 18, "1" * 19)),
    FormSpec("audit_export", "dpo", lambda ids: "/audit/export.csv", _audit_filters, AUDIT_FILTERS, method="GET",
             page=lambda ids: "/audit", examples=10,
             extra=lambda ids: _ids(ids, "caseworker_a") + ("B", "case_file", "::1", "login.", "1" * 18)),
    # --- second factor ---
    FormSpec("login_code", None, lambda ids: "/login/code", _second_factor_code, {"code": TEXT},
             tables=(User, RecoveryCode), fresh_client=True, client=_pending_second_factor, examples=10,
             extra=lambda ids: CODE_VARIANTS),
    FormSpec("mfa_enrolment", "caseworker_a", lambda ids: "/account/second-factor", _enrolment_code, {"code": TEXT},
             tables=(User, RecoveryCode), watch=((User, "caseworker_a"),), page=lambda ids: "/account/password",
             accepted=("fs-5 recovery-codes",), rotates_session=True, prepare=_keep_enrolment_pending, examples=10,
             extra=lambda ids: CODE_VARIANTS),
    FormSpec("recovery_codes", "supervisor_a", lambda ids: "/account/recovery-codes",
             lambda ids: {"password": PASSWORD}, {"password": TEXT}, tables=(RecoveryCode,),
             watch=((User, "supervisor_a"),), page=lambda ids: "/account/security", accepted=("fs-5 recovery-codes",),
             examples=8, extra=lambda ids: (PASSWORD.upper(), PASSWORD + " ", "\x00" + PASSWORD)),
    FormSpec("mfa_off", "caseworker_a2", lambda ids: "/account/second-factor/off",
             lambda ids: {"password": PASSWORD}, {"password": TEXT}, tables=(RecoveryCode,),
             watch=((User, "caseworker_a2"),), page=lambda ids: "/account/security", accepted=("alert alert-info",),
             prepare=_keep_second_factor, examples=8,
             extra=lambda ids: (PASSWORD.upper(), PASSWORD + " ", "\x00" + PASSWORD)),
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


INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1


class PostgresFaithfulness:
    """Collects what SQLite stores but PostgreSQL refuses (a 500 there): NUL characters in SQL parameters, integers
    outside INTEGER's range (psycopg binds them as `::INTEGER`; every id column is an INTEGER), and strings longer
    than their VARCHAR column."""

    def __init__(self, engine):
        self.engine = engine
        self.problems: list[str] = []

    def _on_execute(self, _conn, _cursor, statement, parameters, _context, _many):
        rows = parameters if isinstance(parameters, list) else [parameters]
        for row in rows:
            values = row.values() if isinstance(row, dict) else (row or ())
            if any(isinstance(value, str) and "\x00" in value for value in values):
                self.problems.append(f"NUL character in a SQL parameter: {statement[:120]}")
            if any(isinstance(value, int) and not isinstance(value, bool) and not INT4_MIN <= value <= INT4_MAX
                   for value in values):
                self.problems.append(f"integer out of INTEGER range in a SQL parameter: {statement[:120]}")

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
            self.client = spec.client(app, self.ids) if spec.client else app.test_client()
            self.token = csrf_token(self.client, self.page)
        if spec.prepare:
            spec.prepare(app, self.ids)
        url = spec.url(self.ids).replace("{choice}", choice.format(**self.ids))
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
            page = body  # what the person sees: the answer, or the page it redirects to
            if status == 302:
                location = urlsplit(response.headers["Location"])
                assert not location.netloc, f"{spec.name} redirects off-site: {response.headers['Location']}"
                followed = self.client.get(location.path, query_string=location.query)
                assert followed.status_code == 200, (spec.name, location, followed.status_code)
                self.last_page = (location.path, _body(followed))
                page = self.last_page[1]
                _assert_escaped(page, f"the page {spec.name} redirects to")
                refused = 'class="alert alert-danger"' in page
            if spec.accepted:
                refused = not any(marker in page for marker in spec.accepted)
                if refused and status in (200, 302, 422):
                    assert "invalid-feedback" in page or "alert-danger" in page, \
                        f"{spec.name}: refused ({status}) without a message for {shown}"
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
    if spec.client:
        client = spec.client(app, ids)
    else:
        client = login_as(spec.user) if spec.user else app.test_client()
    poster = Poster(app, spec, ids, client)
    kinds = {name.format(**ids): kind for name, kind in spec.fields.items()}
    choices = spec.path_choices or ("",)

    @settings(max_examples=spec.examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(mutation=mutations(kinds, tuple(spec.extra(ids))), choice=st.sampled_from(choices))
    def check(mutation, choice):
        poster.post(mutation, choice)

    with app.app_context():
        valid = spec.valid(ids)
    edges = [(edge, choices[0]) for edge in edge_mutations(kinds, valid)]
    edges += [({}, choice) for choice in choices[1:]]  # every path choice once, with the valid post
    for edge, choice in reversed(edges):
        check = example(mutation=edge, choice=choice)(check)
    check()
