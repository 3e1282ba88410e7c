"""Referrals through HTTP: the receiving partner's minimum dataset, access on every referral URL, consent before
submission, review queue, inbox with deadlines, notifications and e-mail, printable slips, the service directory,
double submits and query budgets.

Wording may still change while translators work, so pages are checked on names, typed texts, URLs, ids, CSS
classes and labels computed with the app's own catalogue, never on translated sentences written here.
"""
import html
import re
from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from caseapp.access.policy import ROLE_PERMISSIONS
from caseapp.auth.models import User
from caseapp.beneficiaries.models import ConsentRecord
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.labels import OUTCOME_LABELS, PROFILE_LABELS, SEX_LABELS, SPOKEN_LANGUAGE_LABELS
from caseapp.models_base import utcnow
from caseapp.places.countries import country_name
from caseapp.places.models import Commune
from caseapp.referrals.models import SHAREABLE_FIELDS, DirectoryEntry, Notification, Referral, ReferralEvent
from tests.conftest import PASSWORD, csrf_token
from tests.http.test_case_pages import form_data

SERVICE = "employment.anapec"
OTHER_SERVICE = "employment.vocational_training"
BIRTH = date(1988, 3, 9)
DOCUMENT_NUMBER = "XK7741952"
REASON = "Cherche un emploi de soudeur, diplôme obtenu en 2019 — RAISON-R1"
RETURN_COMMENT = "Préciser le diplôme SECRET-RETOUR-Q7"
ASSESSMENT_TEXT = "Évaluation : dettes familiales EVAL-TEXTE-K3"
GENERAL_NOTE = "Entretien au bureau NOTE-GENERALE-G5"
RESTRICTED_NOTE = "Récit de la traversée NOTE-RESTREINTE-P8"
OTHER_REASON_B = "Aide juridique pour un litige AUTRE-ORIENTATION-B2"
OTHER_REASON_C = "Formation en couture AUTRE-ORIENTATION-C4"
OPEN_FLAGS = ("homeless", "single_parent")
ACTIONS = ("submit", "approve", "return", "accept", "decline", "start", "complete", "cancel")
# The moves that bring a new referral to each status.
PATHS = {
    "draft": (), "submitted": ("submit",), "returned": ("submit", "return"), "approved": ("submit", "approve"),
    "accepted": ("submit", "approve", "accept"), "in_progress": ("submit", "approve", "accept", "start"),
    "completed": ("submit", "approve", "accept", "start", "complete"),
    "declined": ("submit", "approve", "decline"), "cancelled": ("submit", "approve", "cancel"),
}
# Who makes each move, per side: the referring partner's caseworker and supervisor, the receiver.
SIDES = {"A-OUJ": ("caseworker_a", "supervisor_a"), "A-NAD": ("caseworker_a2", "supervisor_a"),
         "B-BEM": ("caseworker_b", "supervisor_b")}
COMMUNES = {"A-OUJ": "OUJ", "A-NAD": "NAD", "B-BEM": "BEM"}
BADGE = re.compile(r'<span class="badge text-bg-warning">([^<]+)<span class="visually-hidden">')
CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+"')


# --- helpers -----------------------------------------------------------------------------------------------------


def _body(response) -> str:
    return response.get_data(as_text=True)


def _text(response) -> str:
    """The page HTML-unescaped, with CSRF token values blanked (random text could contain anything)."""
    return html.unescape(CSRF_VALUE.sub(r'\1…"', _body(response)))


def _main(response) -> str:
    page = _text(response)
    return page[page.index("<main"):page.index("</main>")]


def _service(app, world, work):
    """Run `work(actor_of)` in a request context (actor_of(key) → that user) and commit."""
    with app.test_request_context():
        def actor_of(key):
            return db.session.get(User, world.users[key])

        result = work(actor_of)
        db.session.commit()
        return result


def _case_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Case.id).where(Case.number == number))


def _referral(app, referral_id: int) -> dict:
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        return {"status": referral.status, "version": referral.version, "consent_id": referral.consent_id,
                "outcome": referral.outcome, "events": len(referral.events)}


def _count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _in_french(app, work):
    with app.test_request_context(), force_locale("fr"):
        return work()


def _listed_ids(response) -> list[int]:
    """Referral ids linked from the list table, in page order."""
    main = _main(response)
    return [int(found) for found in re.findall(r'<td><a href="/referrals/(\d+)">', main)]


def _row(response, referral_id: int) -> str:
    main = _main(response)
    start = main.index(f'<a href="/referrals/{referral_id}">')
    return main[main.rindex("<tr", 0, start):main.index("</tr>", start)]


def _unread(client) -> int:
    """The unread count the header shows this user (0 when no badge)."""
    page = _body(client.get("/notifications"))
    header = page[page.index("<header"):page.index("</header>")]
    found = BADGE.findall(header)
    assert len(found) <= 1, found
    return int(found[0]) if found else 0


def _post(client, path: str, referer: str = "/", **data):
    return client.post(path, data={"csrf_token": csrf_token(client, referer), **data})


def _refusals(role: str, action: str) -> set[int]:
    """How a referral action on a referral out of the user's reach may be refused: 404 when the role takes this
    action on referrals it reaches; for an action the role never takes, 403 (the role is checked first) or 404
    (the referral is looked up first) both reveal nothing."""
    permissions = ROLE_PERMISSIONS[role]
    takes_it = f"referral.{action}" in permissions or (
        action in ("accept", "decline", "start", "complete") and "referral.record_answer" in permissions)
    return {404} if takes_it else {403, 404}


def _assert_refused(statuses: dict[str, int], role: str, expected: dict[str, int] | None = None) -> None:
    """Each "POST <action>" status is one of `_refusals`; every other status is `expected` (404 by default)."""
    wrong = {}
    for key, status in statuses.items():
        action = key.removeprefix("POST ")
        allowed = _refusals(role, action) if action in ACTIONS else {(expected or {}).get(key, 404)}
        if status not in allowed:
            wrong[key] = (status, allowed)
    assert wrong == {}


@pytest.fixture
def directory(app, world):
    """Partner C offers ANAPEC registration in OUJ, NAD and BEM and vocational training in OUJ; B legal aid in OUJ."""
    rows = [("C", SERVICE, "OUJ"), ("C", SERVICE, "NAD"), ("C", SERVICE, "BEM"), ("C", OTHER_SERVICE, "OUJ"),
            ("B", "social.legal_aid", "OUJ")]
    with app.app_context():
        entries = [DirectoryEntry(partner_id=world.partners[partner], service_code=service, commune_code=commune,
                                  contact="0536 00 00 00", hours="Lun-Ven 9h-16h", languages="ar, fr",
                                  eligibility="Sur orientation")
                   for partner, service, commune in rows]
        db.session.add_all(entries)
        db.session.commit()
        return {row: entry.id for row, entry in zip(rows, entries)}


@pytest.fixture
def refer(app, world, directory):
    """refer(case_id, status=..., point="A-OUJ", shared=(), partner="C", ...) → a referral brought to `status`
    through the services, each move by the user whose role makes it."""

    def _refer(case_id: int, status: str = "approved", point: str = "A-OUJ", shared=(), partner: str = "C",
               service: str = SERVICE, reason: str = REASON, priority: str = "normal", consent: bool = True,
               return_comment: str | None = None) -> int:
        from caseapp.referrals import services

        worker, supervisor = SIDES[point]
        actors = dict.fromkeys(("submit", "cancel"), worker) | dict.fromkeys(("approve", "return"), supervisor)
        actors |= dict.fromkeys(("accept", "decline", "start", "complete"), "receiver")
        moves = PATHS[status]
        if return_comment:  # returned once with this comment, then submitted again
            moves = ("submit", "return", *moves)

        def work(actor_of):
            case = db.session.get(Case, case_id)
            referral = services.create_referral(
                actor_of(worker), case, service_code=service, receiving_partner_id=world.partners[partner],
                priority=priority, reason=reason, consent_method="signed_form" if consent else "",
                shared_fields=list(shared))
            for move in moves:
                comment = {"return": return_comment or "À compléter", "decline": "Plus de places"}.get(move, "")
                services.transition(actor_of(actors[move]), referral, move, comment=comment,
                                    outcome="service_delivered")
            return referral.id

        return _service(app, world, work)

    return _refer


@pytest.fixture
def person_case(app, world, register, directory):
    """A person at A-OUJ with a document, open flags, an assessment, a general and a restricted note, and two
    other referrals (a draft to C for another service, one sent to B). Returns ids, number and the person's data."""
    from caseapp.cases import notes
    from caseapp.cases.assessment import save_assessment
    from caseapp.referrals import services

    person_id, number = register(
        given_name="Khadija", family_name="Benali", given_name_alt="خديجة", family_name_alt="بنعلي", sex="F",
        date_of_birth=BIRTH, nationality="SEN", profile="foreign_migrant", country_returned_from="",
        phone="+212 661 234 567", languages=["ar", "fr"], document_type="passport", document_number=DOCUMENT_NUMBER,
        flags=list(OPEN_FLAGS))
    case_id = _case_id(app, number)

    def work(actor_of):
        case = db.session.get(Case, case_id)
        worker = actor_of("caseworker_a")
        save_assessment(worker, case, needs={"employment": ASSESSMENT_TEXT}, risk_level="medium",
                        flags=list(OPEN_FLAGS))
        notes.add_note(worker, case, kind="general", body=GENERAL_NOTE, occurred_on=date.today())
        notes.add_note(actor_of("supervisor_a"), case, kind="psychosocial", body=RESTRICTED_NOTE,
                       occurred_on=date.today())
        draft = services.create_referral(worker, case, service_code=OTHER_SERVICE,
                                         receiving_partner_id=world.partners["C"], priority="urgent",
                                         reason=OTHER_REASON_C, consent_method="signed_form")
        to_b = services.create_referral(worker, case, service_code="social.legal_aid",
                                        receiving_partner_id=world.partners["B"], priority="urgent",
                                        reason=OTHER_REASON_B, consent_method="signed_form")
        services.transition(worker, to_b, "submit")
        services.transition(actor_of("supervisor_a"), to_b, "approve")
        return draft.id, to_b.id

    draft_id, to_b_id = _service(app, world, work)
    return dict(case=case_id, person=person_id, number=number, other_referrals=(draft_id, to_b_id))


def _flag_names(app) -> set[str]:
    from caseapp.beneficiaries.models import VulnerabilityFlag

    with app.app_context():
        names = set()
        for code in OPEN_FLAGS:
            flag = db.session.get(VulnerabilityFlag, code)
            names |= {name for name in (flag.name_fr, flag.name_en, flag.name_ar) if name}
        return names


def _never_shared(app, person_case) -> dict[str, str]:
    """What the receiving side must never be shown, whatever the consent names."""
    secrets_ = {"assessment": ASSESSMENT_TEXT, "general note": GENERAL_NOTE, "restricted note": RESTRICTED_NOTE,
                "case number": person_case["number"], "return comment": RETURN_COMMENT,
                "other referral to C": OTHER_REASON_C, "other referral to B": OTHER_REASON_B,
                "case link": f"/cases/{person_case['case']}", "person link": f"/beneficiaries/{person_case['person']}"}
    secrets_ |= {f"flag {name}": name for name in _flag_names(app)}
    secrets_ |= {f"flag code {code}": code for code in OPEN_FLAGS}
    return secrets_


def _optional_values(app, language: str = "fr") -> dict[str, dict[str, str]]:
    """Per shareable field, the texts that show it (as the page in `language` would)."""
    from caseapp.templating import date_text

    with app.test_request_context(), force_locale(language):
        return {
            "date_of_birth": {"date of birth": date_text(BIRTH), "year of birth": str(BIRTH.year),
                              "ISO date of birth": BIRTH.isoformat()},
            "nationality": {"nationality": country_name("SEN")},
            "profile": {"profile": str(PROFILE_LABELS["foreign_migrant"])},
            "documents": {"document number": DOCUMENT_NUMBER},
        }


def _always_values(app, language: str = "fr") -> dict[str, str]:
    """The minimum dataset, as the page in `language` shows it."""
    from caseapp.templating import _age

    with app.test_request_context(), force_locale(language):
        commune = db.session.get(Commune, "OUJ").name
        return {"name": "Khadija Benali", "arabic name": "خديجة", "sex": str(SEX_LABELS["F"]), "age": _age(BIRTH),
                "phone": "+212 661 234 567", "commune": commune, "reason": REASON,
                **{f"language {code}": str(SPOKEN_LANGUAGE_LABELS[code]) for code in ("ar", "fr")}}


SHARED_CASES = [(), ("date_of_birth",), ("nationality", "profile"), ("documents",), SHAREABLE_FIELDS]


# --- the receiving side sees the minimum dataset only -------------------------------------------------------------


@pytest.mark.parametrize("shared", SHARED_CASES, ids=lambda shared: "+".join(shared) or "minimum")
def test_the_receiver_sees_exactly_the_minimum_dataset_and_the_consented_fields(app, world, person_case, refer,
                                                                              login_as, shared):
    referral_id = refer(person_case["case"], "approved", shared=shared, return_comment=RETURN_COMMENT)
    client = login_as("receiver")
    response = client.get(f"/referrals/{referral_id}")
    assert response.status_code == 200
    page, main = _text(response), _main(response)

    for label, value in _always_values(app).items():
        assert value in main, f"minimum dataset: {label} ({value!r}) missing"
    for field, values in _optional_values(app).items():
        for label, value in values.items():
            if field in shared and label not in ("year of birth", "ISO date of birth"):
                assert value in main, f"{label} is shared but not shown"
            elif field not in shared:
                assert value not in page, f"{label} ({value!r}) shown without consent"
    leaks = {label for label, secret in _never_shared(app, person_case).items() if secret in page}
    assert leaks == set()
    # Exactly: name, sex, age, phone, commune, languages, reason and the deadline, plus one line per shared
    # field (one per document for documents).
    assert main.count("<dt") == 8 + len(shared)
    # The timeline names no one from the referring side.
    assert "Caseworker A" not in page and "Supervisor A" not in page


def test_the_referring_side_sees_the_case_and_the_timeline(app, world, person_case, refer, login_as):
    referral_id = refer(person_case["case"], "approved", return_comment=RETURN_COMMENT)
    for user_key in ("caseworker_a", "supervisor_a"):
        main = _main(login_as(user_key).get(f"/referrals/{referral_id}"))
        assert person_case["number"] in main and RETURN_COMMENT in main and "Supervisor A" in main, user_key
        assert f"/cases/{person_case['case']}" in main


def test_the_receiver_never_reaches_the_case_the_person_or_the_slip(app, world, person_case, refer, login_as):
    referral_id = refer(person_case["case"], "accepted")
    client = login_as("receiver")
    assert client.get(f"/referrals/{referral_id}").status_code == 200
    assert client.get(f"/referrals/{referral_id}/slip").status_code == 404
    assert client.get(f"/referrals/{referral_id}/slip?lang=ar").status_code == 404
    # Case and person pages need a permission the role does not have (403 for a role without it, as everywhere
    # in the app): refused the same way for every id, so the answer tells nothing about what exists.
    for path, missing in ((f"/cases/{person_case['case']}", "/cases/999999"),
                          (f"/beneficiaries/{person_case['person']}", "/beneficiaries/999999"),
                          (f"/cases/{person_case['case']}/referrals/new", "/cases/999999/referrals/new")):
        response = client.get(path)
        assert response.status_code == client.get(missing).status_code == 403, path
        assert "Khadija" not in _body(response)
    # Nor the other referrals of the person.
    for other in person_case["other_referrals"]:
        assert client.get(f"/referrals/{other}").status_code == 404


@pytest.mark.parametrize("ending", ["complete", "decline", "cancel"])
def test_the_receivers_access_ends_with_the_referral(app, world, person_case, refer, login_as, ending):
    referral_id = refer(person_case["case"], "in_progress" if ending == "complete" else "approved")
    receiver = login_as("receiver")
    path = f"/referrals/{referral_id}"
    assert receiver.get(path).status_code == 200
    assert referral_id in _listed_ids(receiver.get("/referrals/inbox"))
    if ending == "cancel":
        response = _post(login_as("caseworker_a"), f"{path}/cancel", path, comment="La personne a déménagé")
        assert response.status_code == 302 and response.location.endswith(path)
    else:
        data = {"outcome": "service_delivered"} if ending == "complete" else {"comment": "Plus de places"}
        response = _post(receiver, f"{path}/{ending}", path, **data)
        assert response.status_code == 302 and response.location.endswith("/referrals/inbox")
    assert _referral(app, referral_id)["status"] == {"complete": "completed", "decline": "declined",
                                                     "cancel": "cancelled"}[ending]
    before = _referral(app, referral_id)
    assert receiver.get(path).status_code == 404
    assert receiver.get(f"{path}/slip").status_code == 404
    token = csrf_token(receiver, "/referrals/inbox")
    _assert_refused({f"POST {action}": receiver.post(f"{path}/{action}", data={
        "csrf_token": token, "comment": "x", "outcome": "no_show"}).status_code for action in ACTIONS},
        "referral_receiver")
    assert referral_id not in _listed_ids(receiver.get("/referrals/inbox"))
    assert _referral(app, referral_id) == before
    if ending == "cancel":  # the receiver is told, and the notification leads nowhere now
        with app.app_context():
            notice = db.session.scalar(select(Notification).where(
                Notification.user_id == world.users["receiver"], Notification.kind == "referral.cancelled"))
            assert notice is not None and notice.referral_id == referral_id
        opened = _post(receiver, f"/notifications/{notice.id}/open", "/notifications")
        assert opened.status_code == 302 and opened.location.endswith("/notifications")


def _another_receiver(app, world) -> str:
    """A referral focal point of partner B; returns the username."""
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner

    with app.app_context():
        create_user(None, username="receiver.b", full_name="Receiver B", password=PASSWORD, role="referral_receiver",
                    partner=db.session.get(Partner, world.partners["B"]), service_points=[])
        db.session.commit()
    return "receiver.b"


def _login(app, username: str):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("status", ["approved", "accepted", "in_progress"])
def test_another_partners_receiver_gets_404_throughout(app, world, person_case, refer, login_as, status):
    referral_id = refer(person_case["case"], status)
    client = _login(app, _another_receiver(app, world))
    before = _referral(app, referral_id)
    path = f"/referrals/{referral_id}"
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/slip").status_code == 404
    token = csrf_token(client, "/referrals/inbox")
    data = {"csrf_token": token, "comment": "Intrus", "outcome": "service_delivered"}
    _assert_refused({f"POST {action}": client.post(f"{path}/{action}", data=data).status_code
                     for action in ACTIONS}, "referral_receiver")
    # Routes the role has no permission for at all: 403, as for any id.
    consent = client.post(f"{path}/consent", data={"csrf_token": token, "consent_method": "signed_form"})
    assert consent.status_code == 403
    assert client.get(f"/cases/{person_case['case']}/referrals/new").status_code == 403
    # Their inbox holds only what was sent to B (the person's other referral).
    assert _listed_ids(client.get("/referrals/inbox")) == [person_case["other_referrals"][1]]
    assert _referral(app, referral_id) == before


# --- every route of the referral blueprint -----------------------------------------------------------------------


def _route_statuses(client, referral_id: int, case_id: int, notification_id: int) -> dict[str, int]:
    token = csrf_token(client, "/notifications")
    base = f"/referrals/{referral_id}"
    statuses = {
        "GET new": client.get(f"/cases/{case_id}/referrals/new").status_code,
        "POST new": client.post(f"/cases/{case_id}/referrals/new", data={
            "csrf_token": token, "service_code": SERVICE, "receiving_partner_id": "1", "priority": "normal",
            "reason": "Intrus", "consent_method": "signed_form", "form_token": "t-intrus"}).status_code,
        "GET show": client.get(base).status_code,
        "POST consent": client.post(f"{base}/consent", data={"csrf_token": token,
                                                             "consent_method": "signed_form"}).status_code,
        "GET slip": client.get(f"{base}/slip?lang=ar").status_code,
        "POST open notification": client.post(f"/notifications/{notification_id}/open",
                                              data={"csrf_token": token}).status_code,
    }
    for action in ACTIONS:
        statuses[f"POST {action}"] = client.post(f"{base}/{action}", data={
            "csrf_token": token, "comment": "Intrus", "outcome": "no_show"}).status_code
    return statuses


def _snapshot(app) -> dict:
    with app.app_context():
        referrals = db.session.execute(select(Referral.id, Referral.status, Referral.version)
                                       .order_by(Referral.id)).all()
        unread = db.session.scalars(select(Notification.id).where(Notification.read_at.is_(None))).all()
    return {"referrals": referrals, "unread": unread, "events": _count(app, ReferralEvent),
            "consents": _count(app, ConsentRecord)}


@pytest.fixture
def submitted_referral(app, world, person_case, refer):
    """A referral of person_case submitted for review; supervisor_a has an unread notification for it."""
    referral_id = refer(person_case["case"], "submitted")
    with app.app_context():
        notification_id = db.session.scalar(select(Notification.id).where(
            Notification.user_id == world.users["supervisor_a"], Notification.referral_id == referral_id))
    return dict(referral=referral_id, case=person_case["case"], notification=notification_id)


@pytest.mark.parametrize("user_key", ["caseworker_a2", "caseworker_b", "supervisor_b"])
def test_every_referral_url_is_404_out_of_scope(app, world, submitted_referral, login_as, user_key):
    before = _snapshot(app)
    client = login_as(user_key)
    statuses = _route_statuses(client, submitted_referral["referral"], submitted_referral["case"],
                               submitted_referral["notification"])
    _assert_refused(statuses, user_key.split("_")[0])
    assert _snapshot(app) == before
    assert _listed_ids(client.get("/referrals/")) == []
    if user_key.startswith("supervisor"):
        assert _listed_ids(client.get("/referrals/review")) == []


@pytest.mark.parametrize("user_key", ["me_officer", "dpo", "admin"])
def test_every_referral_url_is_403_without_the_permission(app, world, submitted_referral, login_as, user_key):
    before = _snapshot(app)
    client = login_as(user_key)
    statuses = _route_statuses(client, submitted_referral["referral"], submitted_referral["case"],
                               submitted_referral["notification"])
    # Opening a notification needs only a login: someone else's is simply not found.
    assert statuses.pop("POST open notification") == 404
    assert statuses == {key: 403 for key in statuses}
    for path in ("/referrals/", "/referrals/review", "/referrals/inbox"):
        assert client.get(path).status_code == 403, path
    assert client.get("/notifications").status_code == 200
    assert _snapshot(app) == before


def test_list_routes_answer_by_role(app, world, submitted_referral, login_as):
    expected = {
        "caseworker_a": {"/referrals/": 200, "/referrals/review": 403, "/referrals/inbox": 403},
        "supervisor_a": {"/referrals/": 200, "/referrals/review": 200, "/referrals/inbox": 403},
        "receiver": {"/referrals/": 302, "/referrals/review": 403, "/referrals/inbox": 200},
    }
    for user_key, paths in expected.items():
        client = login_as(user_key)
        assert {path: client.get(path).status_code for path in paths} == paths, user_key
        assert client.get("/notifications").status_code == 200
    # The receiver may not see a referral still in preparation, nor act on it; the supervisor may not open the
    # caseworker's notifications.
    receiver = login_as("receiver")
    statuses = _route_statuses(receiver, submitted_referral["referral"], submitted_referral["case"],
                               submitted_referral["notification"])
    _assert_refused(statuses, "referral_receiver", {"GET new": 403, "POST new": 403, "POST consent": 403})
    token = csrf_token(receiver, "/notifications")
    assert receiver.post(f"/referrals/{submitted_referral['referral']}/frobnicate",
                         data={"csrf_token": token}).status_code == 404
    assert _referral(app, submitted_referral["referral"])["status"] == "submitted"


@pytest.mark.parametrize("user_key, status, refused", [
    ("caseworker_a", "submitted", ("approve", "return")),  # a supervisor's decision
    ("receiver", "approved", ("submit", "approve", "return", "cancel")),  # the referring side's moves
])
def test_an_action_the_role_may_never_take_is_403(app, world, person_case, refer, login_as, user_key, status,
                                                  refused):
    referral_id = refer(person_case["case"], status)
    before = _snapshot(app)
    client = login_as(user_key)
    path = f"/referrals/{referral_id}"
    token = csrf_token(client, path)
    statuses = {action: client.post(f"{path}/{action}", data={"csrf_token": token, "comment": "Intrus"}).status_code
                for action in refused}
    assert _snapshot(app) == before
    assert "alert-success" not in _body(client.get(path))
    assert statuses == dict.fromkeys(refused, 403)


# --- creating and submitting over HTTP ----------------------------------------------------------------------------


def _new_referral(client, case_id: int, partner_id: int, expected: int = 302, **overrides):
    """Fill the new-referral form as a browser would (service, partner, priority, reason) and post it."""
    path = f"/cases/{case_id}/referrals/new"
    page = client.get(path)
    assert page.status_code == 200
    values = {"service_code": SERVICE, "receiving_partner_id": str(partner_id), "priority": "urgent",
              "reason": REASON} | overrides
    response = client.post(path, data=form_data(_body(page), "", **values))
    assert response.status_code == expected, _body(response)[:3000]
    return response


def _settle_notifications(app) -> None:
    """Mark every notification so far read and e-mailed, so that a test counts only its own."""
    with app.app_context():
        for notification in db.session.scalars(select(Notification)):
            notification.read_at = notification.emailed_at = utcnow()
        db.session.commit()


@pytest.fixture
def partner_c(world) -> int:
    return world.partners["C"]


def _referral_id(response) -> int:
    match = re.fullmatch(r"(?:http://localhost)?/referrals/(\d+)", response.location)
    assert match, response.location
    return int(match.group(1))


def test_submission_needs_the_sharing_consent(app, world, person_case, partner_c, login_as):
    client = login_as("caseworker_a")
    referral_id = _referral_id(_new_referral(client, person_case["case"], partner_c, consent_method="",
                                             shared_fields=["date_of_birth"]))
    path = f"/referrals/{referral_id}"
    assert _referral(app, referral_id) == {"status": "draft", "version": 1, "consent_id": None, "outcome": None,
                                           "events": 0}
    response = _post(client, f"{path}/submit", path)
    assert response.status_code == 302 and response.location.endswith(path)
    page = client.get(path)
    assert page.status_code == 200 and _main(page).count("alert-danger") == 1
    assert _referral(app, referral_id)["status"] == "draft"
    assert _count(app, Notification, Notification.referral_id == referral_id) == 0

    # Oral consent without a witness is refused; a signed form is recorded; then the submission goes through.
    response = client.post(f"{path}/consent", data=form_data(_body(page), f"{path}/consent",
                                                             consent_method="oral_witness", consent_witness=""))
    assert response.status_code == 302 and "alert-danger" in _body(client.get(path))
    assert _referral(app, referral_id)["consent_id"] is None
    response = client.post(f"{path}/consent", data=form_data(_body(client.get(path)), f"{path}/consent",
                                                             consent_method="signed_form"))
    assert response.status_code == 302
    consent_id = _referral(app, referral_id)["consent_id"]
    with app.app_context():
        consent = db.session.get(ConsentRecord, consent_id)
        assert (consent.kind, consent.method, consent.partner_id) == ("sharing", "signed_form", partner_c)
        assert consent.beneficiary_id == person_case["person"]
    assert f'action="{path}/consent"' not in _body(client.get(path))  # the form is gone once recorded
    assert _post(client, f"{path}/submit", path).status_code == 302
    assert _referral(app, referral_id)["status"] == "submitted"


@pytest.mark.parametrize("status", ["submitted", "approved", "completed"])
def test_consent_is_recorded_only_while_the_referral_is_in_preparation(app, world, person_case, refer, login_as,
                                                                       status):
    referral_id = refer(person_case["case"], status)
    client = login_as("caseworker_a")
    path = f"/referrals/{referral_id}"
    assert f'action="{path}/consent"' not in _body(client.get(path))  # no form offered
    before, consents = _referral(app, referral_id), _count(app, ConsentRecord)
    response = _post(client, f"{path}/consent", path, consent_method="oral_witness", consent_witness="Voisin")
    assert response.status_code in (302, 403, 404)
    # The consent the referral was sent under stays the one on file.
    assert (_referral(app, referral_id), _count(app, ConsentRecord)) == (before, consents)


def test_the_new_referral_form_refuses_incomplete_input(app, world, person_case, partner_c, login_as):
    client = login_as("caseworker_a")
    before = _count(app, Referral)
    for overrides in ({"reason": "  "}, {"service_code": ""}, {"priority": "whenever"},
                      {"consent_method": "oral_witness", "consent_witness": ""},
                      {"shared_fields": ["case_notes"]}, {"receiving_partner_id": str(world.partners["B"])}):
        response = _new_referral(client, person_case["case"], partner_c, expected=200, **overrides)
        assert 'class="invalid-feedback' in _body(response) or "is-invalid" in _body(response), overrides
    assert _count(app, Referral) == before


def test_a_double_submitted_form_creates_one_referral(app, world, person_case, partner_c, login_as):
    client = login_as("caseworker_a")
    path = f"/cases/{person_case['case']}/referrals/new"
    data = form_data(_body(client.get(path)), "", service_code=SERVICE, receiving_partner_id=str(partner_c),
                     priority="normal", reason=REASON, consent_method="signed_form")
    before, consents = _count(app, Referral), _count(app, ConsentRecord)
    first, second = client.post(path, data=data), client.post(path, data=data)
    assert first.status_code == second.status_code == 302
    assert first.location == second.location
    assert _count(app, Referral) == before + 1
    assert _count(app, ConsentRecord) == consents + 1


# --- review queue and inbox ---------------------------------------------------------------------------------------


def _set(app, referral_id: int, **values) -> None:
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        for name, value in values.items():
            setattr(referral, name, value)
        db.session.commit()


def test_the_review_queue_lists_the_partners_submitted_referrals_oldest_first(app, world, register, refer, login_as):
    from caseapp.referrals import services

    ouj = _case_id(app, register("caseworker_a", "A-OUJ")[1])
    nad = _case_id(app, register("caseworker_a2", "A-NAD", given_name="Youssef", commune_code="NAD",
                                 phone="+212 600 111 222")[1])
    bem = _case_id(app, register("caseworker_b", "B-BEM", given_name="Fatima", commune_code="BEM",
                                 phone="+212 600 333 444")[1])
    newer = refer(ouj, "submitted")
    older = refer(nad, "submitted", point="A-NAD")
    oldest_returned = refer(ouj, "returned")
    others = [refer(ouj, status) for status in ("draft", "approved", "cancelled")]
    foreign = refer(bem, "submitted", point="B-BEM")
    now = utcnow()
    _set(app, newer, created_at=now - timedelta(days=1))
    _set(app, older, created_at=now - timedelta(days=3))
    _set(app, oldest_returned, created_at=now - timedelta(days=9))

    assert _listed_ids(login_as("supervisor_a").get("/referrals/review")) == [older, newer]
    assert _listed_ids(login_as("supervisor_b").get("/referrals/review")) == [foreign]
    # Once resubmitted, the returned referral is in the queue again, first by age.
    _service(app, world, lambda actor_of: services.transition(actor_of("caseworker_a"),
                                                             db.session.get(Referral, oldest_returned), "submit"))
    page = login_as("supervisor_a").get("/referrals/review")
    assert _listed_ids(page) == [oldest_returned, older, newer]
    assert "Youssef" in _main(page) and "Fatima" not in _main(page)
    assert not set(others) & set(_listed_ids(page))


def test_the_inbox_comes_in_pages_oldest_deadline_first(app, world, person_case, refer, login_as, monkeypatch):
    """A long inbox is shown a page at a time, with the total; a page past the end shows the last one."""
    ids = [refer(person_case["case"], "approved") for _ in range(5)]
    now = utcnow()
    for days, referral_id in enumerate(ids, start=1):
        _set(app, referral_id, deadline_at=now + timedelta(days=days))
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    receiver = login_as("receiver")
    pages = {number: receiver.get(f"/referrals/inbox?page={number}") for number in ("1", "2", "3", "9", "x")}
    assert {number: _listed_ids(page) for number, page in pages.items()} == {
        "1": ids[0:2], "2": ids[2:4], "3": ids[4:], "9": ids[4:], "x": ids[0:2]}
    assert all(re.search(r'role="status">5 ', _main(page)) for page in pages.values())
    assert 'href="/referrals/inbox?page=2"' in _main(pages["1"]) and 'href="/referrals/inbox?page=2"' in _main(pages["3"])


def test_the_inbox_lists_open_referrals_and_marks_overdue_ones(app, world, person_case, refer, login_as):
    case_id = person_case["case"]
    by_status = {status: refer(case_id, status) for status in PATHS}
    overdue = refer(case_id, "approved", priority="emergency")
    answered_late = by_status["accepted"]
    to_b = person_case["other_referrals"][1]  # approved, sent to partner B
    now = utcnow()
    _set(app, overdue, deadline_at=now - timedelta(hours=2))
    _set(app, answered_late, deadline_at=now - timedelta(days=1))  # accepted in time to count; not overdue
    _set(app, by_status["approved"], deadline_at=now + timedelta(days=5))

    receiver = login_as("receiver")
    page = receiver.get("/referrals/inbox")
    assert page.status_code == 200
    listed = _listed_ids(page)  # oldest deadline first
    assert listed == [answered_late, overdue, by_status["approved"], by_status["in_progress"]]
    assert to_b not in listed and person_case["other_referrals"][0] not in listed
    assert "text-bg-danger" in _row(page, overdue)
    for referral_id in set(listed) - {overdue}:
        assert "text-bg-danger" not in _row(page, referral_id), referral_id
    assert person_case["number"] not in _text(page)
    # The referral page says so too, and the home page counts it.
    assert "text-bg-danger" in _main(receiver.get(f"/referrals/{overdue}"))
    assert "text-bg-danger" not in _main(receiver.get(f"/referrals/{by_status['approved']}"))
    assert "text-bg-danger" in _main(receiver.get("/"))
    # Once accepted, it is no longer overdue.
    _post(receiver, f"/referrals/{overdue}/accept", f"/referrals/{overdue}")
    assert "text-bg-danger" not in _row(receiver.get("/referrals/inbox"), overdue)


# --- notifications and e-mail -------------------------------------------------------------------------------------

WATCHED = ("caseworker_a", "caseworker_a2", "supervisor_a", "supervisor_b", "receiver", "me_officer")


def test_notifications_follow_the_referral_and_opening_one_marks_it_read(app, world, person_case, partner_c,
                                                                         login_as):
    clients = {key: login_as(key) for key in WATCHED}

    def unread() -> dict[str, int]:
        return {key: count for key in WATCHED if (count := _unread(clients[key]))}

    worker, boss, receiver = clients["caseworker_a"], clients["supervisor_a"], clients["receiver"]
    _settle_notifications(app)  # those of person_case's other referrals
    referral_id = _referral_id(_new_referral(worker, person_case["case"], partner_c, consent_method="signed_form"))
    path = f"/referrals/{referral_id}"
    assert unread() == {}
    _post(worker, f"{path}/submit", path)
    assert unread() == {"supervisor_a": 1}
    _post(boss, f"{path}/return", path, comment=RETURN_COMMENT)
    assert unread() == {"supervisor_a": 1, "caseworker_a": 1}

    # The caseworker opens the "returned" notification: it leads to the referral and is read.
    with app.app_context():
        returned = db.session.scalar(select(Notification).where(Notification.user_id == world.users["caseworker_a"]))
        assert returned.kind == "referral.returned" and returned.read_at is None
    notifications_page = _main(worker.get("/notifications"))
    assert notifications_page.count("fw-bold") == 1
    opened = _post(worker, f"/notifications/{returned.id}/open", "/notifications")
    assert opened.status_code == 302 and opened.location.endswith(path)
    with app.app_context():
        assert db.session.get(Notification, returned.id).read_at is not None
    assert "fw-bold" not in _main(worker.get("/notifications"))
    assert unread() == {"supervisor_a": 1}
    # Opening it again changes nothing; someone else cannot open it.
    assert _post(worker, f"/notifications/{returned.id}/open", "/notifications").status_code == 302
    assert _post(boss, f"/notifications/{returned.id}/open", "/notifications").status_code == 404

    _post(worker, f"{path}/submit", path)
    assert unread() == {"supervisor_a": 2}
    _post(boss, f"{path}/approve", path)
    assert unread() == {"supervisor_a": 2, "receiver": 1}
    _post(receiver, f"{path}/accept", path)
    assert unread() == {"supervisor_a": 2, "receiver": 1, "caseworker_a": 1}
    _post(receiver, f"{path}/start", path)
    assert unread() == {"supervisor_a": 2, "receiver": 1, "caseworker_a": 1}
    with app.app_context():
        approved = db.session.scalar(select(Notification).where(Notification.user_id == world.users["receiver"]))
    _post(receiver, f"{path}/complete", path, outcome="service_delivered")
    assert unread() == {"supervisor_a": 2, "receiver": 1, "caseworker_a": 2}
    assert _referral(app, referral_id)["outcome"] == "service_delivered"
    # The receiver's notification is read when opened, but the referral is closed to them now.
    opened = _post(receiver, f"/notifications/{approved.id}/open", "/notifications")
    assert opened.status_code == 302 and opened.location.endswith("/notifications")
    assert unread() == {"supervisor_a": 2, "caseworker_a": 2}
    # The supervisor's two notifications: one read, one unread afterwards.
    with app.app_context():
        first = db.session.scalar(select(Notification.id).where(Notification.user_id == world.users["supervisor_a"],
                                                                Notification.referral_id == referral_id)
                                  .order_by(Notification.id))
    _post(boss, f"/notifications/{first}/open", "/notifications")
    assert unread() == {"supervisor_a": 1, "caseworker_a": 2}
    # The caseworker sees the outcome on the case page.
    case_page = _main(worker.get(f"/cases/{person_case['case']}"))
    assert _in_french(app, lambda: str(OUTCOME_LABELS["service_delivered"])) in case_page


def _give_emails(app, world) -> None:
    with app.app_context():
        for key in ("caseworker_a", "supervisor_a", "receiver"):
            db.session.get(User, world.users[key]).email = f"{key}@example.org"
        db.session.commit()


def test_the_header_badge_is_read_with_the_account_in_one_statement(app, world, login_as, count_queries):
    """The unread count comes in the statement that loads the account: no page sends one of its own for it."""
    client = login_as("supervisor_a")
    _settle_notifications(app)
    with app.app_context():
        db.session.add_all([Notification(user_id=world.users["supervisor_a"], kind="referral.submitted")
                            for _ in range(3)])
        db.session.commit()
    with count_queries() as counter:
        page = _body(client.get("/"))
    reading = [statement for statement in counter.statements if "notification" in statement.lower()]
    assert len(reading) == 1 and "user_account" in reading[0].lower(), reading
    assert BADGE.findall(page[page.index("<header"):page.index("</header>")]) == ["3"]


def test_without_a_mail_server_notifications_stay_in_the_app(app, world, person_case, refer, login_as, monkeypatch):
    import smtplib

    monkeypatch.setitem(app.config, "MAIL_SERVER", None)

    def no_smtp(*_args, **_kwargs):
        raise AssertionError("no SMTP connection without MAIL_SERVER")

    monkeypatch.setattr(smtplib, "SMTP", no_smtp)
    _give_emails(app, world)
    referral_id = refer(person_case["case"], "draft")
    _settle_notifications(app)
    path = f"/referrals/{referral_id}"
    worker = login_as("caseworker_a")
    response = _post(worker, f"{path}/submit", path)
    assert response.status_code == 302
    assert "alert-success" in _body(worker.get(path))
    assert _referral(app, referral_id)["status"] == "submitted"
    assert _unread(login_as("supervisor_a")) == 1
    assert _post(login_as("supervisor_a"), f"{path}/approve", path).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.referral_id == referral_id, Notification.emailed_at.is_not(None))) == 0


class _FakeSMTP:
    sent: list = []
    fail = False

    def __init__(self, host, port, timeout=None):
        if self.fail:
            raise ConnectionRefusedError("no server")
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        self.sent.append(message)


def test_with_a_mail_server_a_copy_is_sent_without_personal_data(app, world, person_case, refer, login_as,
                                                                   monkeypatch):
    import smtplib

    monkeypatch.setitem(app.config, "MAIL_SERVER", "mail.invalid")
    monkeypatch.setattr(_FakeSMTP, "sent", [])
    monkeypatch.setattr(smtplib, "SMTP", _FakeSMTP)
    _give_emails(app, world)
    referral_id = refer(person_case["case"], "draft")
    _settle_notifications(app)
    path = f"/referrals/{referral_id}"
    assert _post(login_as("caseworker_a"), f"{path}/submit", path).status_code == 302
    assert [message["To"] for message in _FakeSMTP.sent] == ["supervisor_a@example.org"]
    text = str(_FakeSMTP.sent[0])
    for secret in ("Khadija", "Benali", "661 234", REASON, person_case["number"]):
        assert secret not in text, secret
    with app.app_context():
        assert _count(app, Notification, Notification.emailed_at.is_(None)) == 0

    # The server down: the action still goes through, and the copy waits for the next delivery.
    monkeypatch.setattr(_FakeSMTP, "fail", True)
    response = _post(login_as("supervisor_a"), f"{path}/approve", path)
    assert response.status_code == 302
    assert _referral(app, referral_id)["status"] == "approved"
    assert _count(app, Notification, Notification.emailed_at.is_(None)) == 1


# --- slips --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [(), SHAREABLE_FIELDS, ("nationality",)], ids=["minimum", "all", "nationality"])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_slip_carries_the_shared_data_only(app, world, person_case, refer, login_as, language, shared):
    referral_id = refer(person_case["case"], "approved", shared=shared, return_comment=RETURN_COMMENT)
    client = login_as("caseworker_a")
    response = client.get(f"/referrals/{referral_id}/slip?lang={language}")
    assert response.status_code == 200
    page = _text(response)
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page
    for label, value in _always_values(app, language).items():
        assert value in page, f"slip ({language}): {label} ({value!r}) missing"
    for field, values in _optional_values(app, language).items():
        for label, value in values.items():
            if field in shared and label not in ("year of birth", "ISO date of birth"):
                assert value in page, f"slip ({language}): {label} is shared but missing"
            elif field not in shared:
                assert value not in page, f"slip ({language}): {label} ({value!r}) printed without consent"
    secrets_ = _never_shared(app, person_case)
    # The slip's reference line names the case so that the paper answer finds its way back.
    secrets_.pop("case number")
    leaks = {label for label, secret in secrets_.items() if secret in page}
    assert leaks == set()


def test_the_slip_falls_back_to_french(app, world, person_case, refer, login_as):
    referral_id = refer(person_case["case"], "approved")
    page = _body(login_as("caseworker_a").get(f"/referrals/{referral_id}/slip?lang=xx"))
    assert '<html lang="fr" dir="ltr">' in page


# --- the service directory ----------------------------------------------------------------------------------------


def _directory_rows(response) -> list[str]:
    main = _main(response)
    body = main[main.index("<tbody>"):main.index("</tbody>")]
    return [row for row in body.split("<tr")[1:] if "colspan" not in row]


def test_caseworkers_search_the_directory(app, world, directory, login_as):
    client = login_as("caseworker_a")
    assert len(_directory_rows(client.get("/directory/"))) == len(directory)
    assert len(_directory_rows(client.get("/directory/?commune=OUJ"))) == 3
    rows = _directory_rows(client.get(f"/directory/?service={SERVICE}&commune=NAD"))
    assert len(rows) == 1 and "Partner C" in rows[0]
    assert _directory_rows(client.get("/directory/?service=psychosocial.group")) == []
    assert "<form method=\"post\"" not in _main(client.get("/directory/"))  # nothing to edit
    for user_key in ("receiver", "me_officer", "dpo"):
        assert login_as(user_key).get("/directory/").status_code == 403, user_key


def test_only_admins_edit_the_directory(app, world, directory, login_as):
    entry_id = directory[("C", SERVICE, "OUJ")]
    new_entry = {"partner_id": str(world.partners["B"]), "service_code": "psychosocial.group",
                 "commune_code": "OUJ", "contact": "Intrus", "hours": "", "languages": "", "eligibility": ""}
    before = _count(app, DirectoryEntry)
    for user_key in ("caseworker_a", "supervisor_a"):
        client = login_as(user_key)
        token = csrf_token(client, "/directory/")
        assert client.post("/directory/", data={"csrf_token": token, **new_entry}).status_code == 403, user_key
        assert client.post(f"/directory/{entry_id}/active", data={"csrf_token": token}).status_code == 403, user_key
    assert _count(app, DirectoryEntry) == before
    assert _count(app, DirectoryEntry, DirectoryEntry.active.is_(False)) == 0

    admin = login_as("admin")
    page = admin.get("/directory/")
    assert 'name="partner_id"' in _body(page)  # the add form is there for admins only
    token = csrf_token(admin, "/directory/")
    response = admin.post("/directory/", data={"csrf_token": token, **new_entry})
    assert response.status_code == 302
    assert _count(app, DirectoryEntry) == before + 1
    response = admin.post("/directory/", data={"csrf_token": token, **new_entry, "commune_code": "XXX"})
    assert response.status_code == 200 and "is-invalid" in _body(response)
    assert _count(app, DirectoryEntry) == before + 1


def test_a_withdrawn_entry_leaves_the_referral_form(app, world, person_case, partner_c, login_as):
    entries = {row: entry_id for row, entry_id in _entries(app).items() if row[0] == "C" and row[2] == "OUJ"}
    worker, admin = login_as("caseworker_a"), login_as("admin")
    form_path = f"/cases/{person_case['case']}/referrals/new"

    def offered() -> set[str]:
        page = _body(worker.get(form_path))
        select_ = page[page.index('name="receiving_partner_id"'):]
        return set(re.findall(r'<option[^>]*value="(\d+)"', select_[:select_.index("</select>")])) - {"0"}

    partner_b = str(world.partners["B"])  # B offers legal aid in OUJ
    assert offered() == {str(partner_c), partner_b}
    for entry_id in entries.values():  # both of C's services in OUJ
        assert _post(admin, f"/directory/{entry_id}/active", "/directory/").status_code == 302
    assert _count(app, DirectoryEntry, DirectoryEntry.active.is_(False)) == len(entries)
    assert offered() == {partner_b}
    assert "Partner C" not in _main(worker.get(form_path))
    assert "Partner C" not in _main(worker.get("/directory/?commune=OUJ&active_only="))
    before = _count(app, Referral)
    _new_referral(worker, person_case["case"], partner_c, expected=200, consent_method="signed_form")
    assert _count(app, Referral) == before
    # Brought back, it is offered again.
    for entry_id in entries.values():
        _post(admin, f"/directory/{entry_id}/active", "/directory/")
    assert offered() == {str(partner_c), partner_b}


def _entries(app) -> dict[tuple, int]:
    from caseapp.partners.models import Partner

    with app.app_context():
        rows = db.session.execute(select(DirectoryEntry.id, Partner.code, DirectoryEntry.service_code,
                                         DirectoryEntry.commune_code).join(Partner)).all()
        return {(code, service, commune): entry_id for entry_id, code, service, commune in rows}


# --- query budgets ------------------------------------------------------------------------------------------------


def test_referral_lists_have_a_fixed_query_budget(app, world, register, refer, login_as, count_queries):
    pages = {"receiver": "/referrals/inbox", "caseworker_a": "/referrals/", "supervisor_a": "/referrals/review"}
    clients = {key: login_as(key) for key in pages}

    def make(count: int, start: int) -> None:
        for index in range(start, start + count):
            case_id = _case_id(app, register(given_name=f"Personne{index}", phone=f"+212 600 000 {index:03d}")[1])
            refer(case_id, ("approved", "accepted", "in_progress")[index % 3])
            refer(case_id, "submitted")

    def counts() -> dict[str, int]:
        result = {}
        for key, path in pages.items():
            with count_queries() as counter:
                assert clients[key].get(path).status_code == 200
            result[key] = counter.count
        return result

    make(1, 0)
    one = counts()
    make(9, 1)
    ten = counts()
    assert len(_listed_ids(clients["receiver"].get("/referrals/inbox"))) == 10
    assert len(_listed_ids(clients["supervisor_a"].get("/referrals/review"))) == 10
    assert one == ten, (one, ten)
    assert max(ten.values()) <= 12, ten
