"""The case page and case work through HTTP: restricted content, scope on every case-work URL, edit conflicts,
double submits, query budgets, bulk assignment, closure and transfer flows, CSRF.

Wording may still change while translators work, so pages are checked on names, numbers, typed texts, URLs and
form fields, not on translated sentences.
"""
import html
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary, VulnerabilityFlag
from caseapp.cases.models import Case, CaseNote, CaseTransfer, FollowUp, PlanAction, PlanGoal
from caseapp.extensions import db
from tests.conftest import NON_CASE_USERS, PASSWORD, csrf_token, give_second_factor, login

TODAY = date.today()
PSY_TEXT = "Souvenirs de la traversée, cauchemars 7Q2XK"
RESTRICTED_FLAG = "gbv_survivor"
OPEN_FLAG = "homeless"


# --- helpers -----------------------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """The forms of a page: action, and in document order the values a browser would post (checked boxes,
    selected options) and the named submit buttons, which a browser adds only when pressed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: list | None = None
        self._select: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "option" and self._select is not None:
            value = attributes.get("value") or ""
            self._select["first"] = value if self._select["first"] is None else self._select["first"]
            if "selected" in attributes:
                self._select["selected"] = value
        elif tag == "form":
            self._form = {"action": attributes.get("action") or "", "fields": []}
            self.forms.append(self._form)
        elif self._form is None or not attributes.get("name"):
            return
        elif tag == "button" and attributes.get("type", "submit") == "submit":
            self._form["fields"].append(("button", attributes["name"], attributes.get("value") or ""))
        elif tag == "input":
            kind = attributes.get("type", "text")
            if kind in ("submit", "button") or (kind in ("checkbox", "radio") and "checked" not in attributes):
                return
            self._form["fields"].append(("field", attributes["name"], attributes.get("value") or ""))
        elif tag == "textarea":
            self._textarea = [attributes["name"], ""]
        elif tag == "select":
            self._select = {"name": attributes["name"], "first": None, "selected": None}

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form["fields"].append(("field", self._textarea[0], self._textarea[1].lstrip("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if self._form is not None:
                chosen = self._select["selected"] if self._select["selected"] is not None else self._select["first"]
                self._form["fields"].append(("field", self._select["name"], chosen or ""))
            self._select = None


def _body(response) -> str:
    return response.get_data(as_text=True)


def form_data(page: str, action: str, press: str | None = None, **overrides) -> dict:
    """What a browser posts from the page's form posting to `action` (the one with the button `press`,
    "name=value", when given: that button's value is added where it stands, as a browser does).

    `overrides` replace what the user types or picks (None removes a field); never use them for a button.
    """
    reader = _FormReader()
    reader.feed(page)
    forms = [form for form in reader.forms if form["action"].split("#")[0] == action]
    if press:
        forms = [form for form in forms if ("button", *press.split("=", 1)) in form["fields"]]
    assert forms, f"no form posting to {action!r}" + (f" with a {press} button" if press else "") + " on the page"
    data: dict = {}
    for kind, name, value in forms[0]["fields"]:
        if name in overrides or (kind == "button" and f"{name}={value}" != press):
            continue
        data.setdefault(name, []).append(value)
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def submit_form(client, page_path: str, action: str, expected: int = 302, press: str | None = None, **overrides):
    """Load `page_path`, fill its form posting to `action` as a browser would, press `press` (or the
    unnamed submit button), post; return the response."""
    page = client.get(page_path)
    assert page.status_code == 200, (page_path, page.status_code)
    own = action == page_path  # an edit page's form has no action: it posts to the page's own URL
    response = client.post(action, data=form_data(_body(page), "" if own else action, press, **overrides))
    assert response.status_code == expected, (action, response.status_code, _body(response)[:2000])
    return response


def _count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def _case(app, case_id: int) -> dict:
    with app.app_context():
        case = db.session.get(Case, case_id)
        return {name: getattr(case, name) for name in (
            "status", "assigned_worker_id", "service_point_id", "partner_id", "closure_reason",
            "closure_requested_at", "reopen_reason", "risk_level")}


def _case_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Case.id).where(Case.number == number))


def _label(app, labels: dict, code: str) -> str:
    """A stored code's label as the French interface shows it (HTML-escaped like the page)."""
    with app.test_request_context():
        return html.escape(str(labels[code]), quote=False)


def _service(app, world, user_key: str, work):
    """Run `work(actor)` as `user_key` through the services (in a request context), and commit."""
    with app.test_request_context():
        actor = db.session.get(User, world.users[user_key])
        result = work(actor)
        db.session.commit()
        return result


@pytest.fixture
def open_case(app, world, register):
    """A case at A-OUJ (caseworker_a's), with an assessment, one goal with an action, a note and a follow-up."""
    from caseapp.cases import followups, notes, plan
    from caseapp.cases.assessment import save_assessment

    _person_id, number = register(given_name="Samira", family_name="Ouazzani", given_name_alt="", family_name_alt="")
    case_id = _case_id(app, number)

    def work(actor):
        case = db.session.get(Case, case_id)
        save_assessment(actor, case, needs={"employment": "Cherche un emploi"}, risk_level="medium",
                        flags=[OPEN_FLAG])
        goal = plan.add_goal(actor, case, area="employment", title="Trouver un emploi")
        action = plan.add_action(actor, goal, description="Atelier CV", owner="ANAPEC", due_date=TODAY)
        note = notes.add_note(actor, case, kind="general", body="Entretien au bureau", occurred_on=TODAY)
        follow_up = followups.add_follow_up(actor, case, purpose="Rappeler", due_date=TODAY, assigned_to_id=None)
        db.session.flush()
        return dict(case=case_id, number=number, person=case.beneficiary_id, goal=goal.id, action=action.id,
                    note=note.id, follow_up=follow_up.id)

    return _service(app, world, "caseworker_a", work)


# --- restricted content ------------------------------------------------------------------------------------------


def _flag_names(app, code: str) -> set[str]:
    with app.app_context():
        flag = db.session.get(VulnerabilityFlag, code)
        return {name for name in (flag.name_fr, flag.name_en, flag.name_ar) if name}


def _search_page(client, text: str) -> str:
    response = client.post("/cases/", data={"q": text, "csrf_token": csrf_token(client, "/cases/")})
    assert response.status_code == 302
    return _body(client.get("/cases/"))


@pytest.fixture
def restricted_case(app, world, register, login_as):
    """A case at A-OUJ held by caseworker_restricted: a restricted flag, a psychosocial note (written and then
    corrected through the forms), and a general note."""
    person_id, number = register("caseworker_restricted", given_name="Nadia", family_name="Berrada",
                                 given_name_alt="", family_name_alt="", flags=[RESTRICTED_FLAG, OPEN_FLAG])
    case_id = _case_id(app, number)
    client = login_as("caseworker_restricted")
    case_url = f"/cases/{case_id}"
    submit_form(client, case_url, f"/cases/{case_id}/notes", kind="general", body="Note ordinaire visible")
    submit_form(client, case_url, f"/cases/{case_id}/notes", kind="psychosocial", body=PSY_TEXT + " (brouillon)")
    with app.app_context():
        note_id = db.session.scalar(select(CaseNote.id).where(CaseNote.kind == "psychosocial"))
    submit_form(client, f"/notes/{note_id}/edit", f"/notes/{note_id}/edit", body=PSY_TEXT)
    # The assessment sets one more restricted flag: a restricted history entry.
    submit_form(client, f"/cases/{case_id}/assessment", f"/cases/{case_id}/assessment", risk_level="high",
                flags=[RESTRICTED_FLAG, OPEN_FLAG, "mental_health"])
    return dict(case=case_id, person=person_id, number=number, note=note_id)


def _pages(client, case: dict) -> dict[str, str]:
    """Every page where the case's content could show up, HTML-unescaped."""
    pages = {
        "case page": client.get(f"/cases/{case['case']}"),
        "person page": client.get(f"/beneficiaries/{case['person']}"),
        "case list": client.get("/cases/"),
        "case list filtered on the flag": client.get(f"/cases/?flag={RESTRICTED_FLAG}"),
        "home": client.get("/"),
        "assessment page": client.get(f"/cases/{case['case']}/assessment"),
    }
    for label, response in pages.items():
        assert response.status_code == 200, label
    bodies = {label: html.unescape(_body(response)) for label, response in pages.items()}
    # the filtered list echoes its own query string (links, the language form's return address): not a leak
    bodies["case list filtered on the flag"] = bodies["case list filtered on the flag"].replace(
        f"flag={RESTRICTED_FLAG}", "flag=…")
    bodies["search results"] = html.unescape(_search_page(client, "Nadia Berrada"))
    bodies["search by number"] = html.unescape(_search_page(client, case["number"]))
    return bodies


def test_restricted_note_and_flag_never_reach_a_worker_without_restricted_access(app, world, restricted_case,
                                                                               login_as):
    secrets_ = {"note text": PSY_TEXT, "note draft": "brouillon", "flag code": RESTRICTED_FLAG,
                "second flag code": "mental_health", "note edit link": f"/notes/{restricted_case['note']}/edit"}
    secrets_ |= {f"flag name {name}": name for name in _flag_names(app, RESTRICTED_FLAG)}
    secrets_ |= {f"flag name {name}": name for name in _flag_names(app, "mental_health")}
    open_names = _flag_names(app, OPEN_FLAG)

    client = login_as("caseworker_a")
    bodies = _pages(client, restricted_case)
    leaks = {(page, secret) for page, body in bodies.items() for secret, text in secrets_.items() if text in body}
    assert leaks == set()
    # The same pages do show the case, its ordinary note and its open flag: the check above is not vacuous.
    assert "Note ordinaire visible" in bodies["case page"]
    assert any(name in bodies["case page"] for name in open_names)
    assert any(name in bodies["person page"] for name in open_names)
    assert restricted_case["number"] in bodies["search results"]
    assert restricted_case["number"] in bodies["case list filtered on the flag"]  # the filter is ignored, not used
    assert client.get(f"/notes/{restricted_case['note']}/edit").status_code == 404

    for user_key in ("caseworker_restricted", "supervisor_a"):
        bodies = _pages(login_as(user_key), restricted_case)
        assert PSY_TEXT in bodies["case page"], user_key
        for page in ("case page", "person page", "assessment page"):
            assert any(name in bodies[page] for name in _flag_names(app, RESTRICTED_FLAG)), (user_key, page)
    # The supervisor (restricted access) has the restricted entries in the history, but never the notes' texts:
    # the corrected draft is gone for everyone.
    page = html.unescape(_body(login_as("supervisor_a").get(f"/cases/{restricted_case['case']}")))
    history = page[page.index('id="history"'):]
    assert _restricted_flags_label(app) in history
    assert "Note ordinaire visible" in history
    assert "brouillon" not in history and PSY_TEXT not in history
    assert login_as("caseworker_restricted").get(f"/notes/{restricted_case['note']}/edit").status_code == 200


def test_history_hides_restricted_entries_from_a_supervisor_without_restricted_access(app, world, restricted_case,
                                                                                    login_as):
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner

    with app.app_context():
        give_second_factor(create_user(
            None, username="supervisor.plain", full_name="Supervisor Plain", password=PASSWORD, role="supervisor",
            partner=db.session.get(Partner, world.partners["A"]), service_points=[], restricted_access=False))
        db.session.commit()
    client = app.test_client()
    assert login(client, "supervisor.plain").status_code == 302
    page = html.unescape(_body(client.get(f"/cases/{restricted_case['case']}")))
    assert 'id="history"' in page, "a supervisor sees the case history"
    history = page[page.index('id="history"'):]
    assert "Note ordinaire visible" in history  # the open note's creation is in the history
    for secret in [PSY_TEXT, "brouillon", RESTRICTED_FLAG, "mental_health", _restricted_flags_label(app),
                   *_flag_names(app, RESTRICTED_FLAG)]:
        assert secret not in page, secret
    # the caseworker has no history at all
    assert 'id="history"' not in _body(login_as("caseworker_a").get(f"/cases/{restricted_case['case']}"))


# --- scope on every case-work URL --------------------------------------------------------------------------------

CASE_WORK_GETS = ("/cases/{case}", "/cases/{case}/assessment", "/goals/{goal}/edit", "/actions/{action}/edit",
                  "/notes/{note}/edit")
# (URL, data, needs a supervisor's permission)
CASE_WORK_POSTS = (
    ("/cases/{case}/stage", {"target": "assessment"}, False),
    ("/cases/{case}/closure", {"reason": "goals_met"}, False),
    ("/cases/{case}/assessment", {"risk_level": "high", "need_avrr": "x"}, False),
    ("/cases/{case}/goals", {"area": "avrr", "title": "Intrus", "form_token": "t-goal"}, False),
    ("/goals/{goal}/actions", {"goal{goal}-description": "Intrus", "goal{goal}-owner": "x",
                               "goal{goal}-status": "todo", "goal{goal}-form_token": "t-action"}, False),
    ("/goals/{goal}/edit", {"area": "avrr", "title": "Intrus", "version": "1"}, False),
    ("/actions/{action}/edit", {"description": "Intrus", "owner": "x", "status": "done", "version": "1"}, False),
    ("/cases/{case}/notes", {"kind": "general", "body": "Intrus", "occurred_on": TODAY.isoformat(),
                             "form_token": "t-note"}, False),
    ("/notes/{note}/edit", {"body": "Intrus", "occurred_on": TODAY.isoformat(), "version": "1"}, False),
    ("/cases/{case}/follow-ups", {"purpose": "Intrus", "due_date": TODAY.isoformat(), "assigned_to_id": "0",
                                  "form_token": "t-follow-up"}, False),
    ("/follow-ups/{follow_up}/done", {}, False),
    ("/cases/{case}/closure/decision", {"decision": "approve"}, True),
    ("/cases/{case}/reopen", {"reason": "Intrus"}, True),
    ("/cases/{case}/transfer", {"to_service_point_id": "{b_bem}", "reason": "Intrus"}, True),
)


def _fill(text: str, ids: dict) -> str:
    return text.format(**ids)


def _snapshot(app, case_id: int) -> dict:
    with app.app_context():
        return {
            "case": _case(app, case_id),
            "goals": db.session.execute(select(PlanGoal.id, PlanGoal.title, PlanGoal.version)).all(),
            "actions": db.session.execute(select(PlanAction.id, PlanAction.description, PlanAction.status)).all(),
            "notes": db.session.execute(select(CaseNote.id, CaseNote._body_sealed, CaseNote.version)).all(),
            "follow-ups": db.session.execute(select(FollowUp.id, FollowUp.done_at)).all(),
            "transfers": db.session.scalar(select(func.count()).select_from(CaseTransfer)),
        }


def _statuses(client, ids: dict) -> dict:
    token = csrf_token(client, "/")
    statuses = {}
    for path in CASE_WORK_GETS:
        statuses["GET " + path] = client.get(_fill(path, ids)).status_code
    for path, data, _supervisor in CASE_WORK_POSTS:
        posted = {_fill(name, ids): _fill(value, ids) for name, value in data.items()} | {"csrf_token": token}
        statuses["POST " + path] = client.post(_fill(path, ids), data=posted).status_code
    return statuses


@pytest.mark.parametrize("user_key", ["caseworker_a2", "caseworker_b", "supervisor_b"])
def test_every_case_work_url_of_a_foreign_case_is_404(app, world, open_case, login_as, user_key):
    ids = open_case | {"b_bem": world.service_points["B-BEM"]}
    before = _snapshot(app, open_case["case"])
    supervisor = user_key.startswith("supervisor")
    expected = {"GET " + path: 404 for path in CASE_WORK_GETS} | {
        "POST " + path: 404 if supervisor or not needs_supervisor else 403
        for path, _data, needs_supervisor in CASE_WORK_POSTS}
    client = login_as(user_key)
    assert _statuses(client, ids) == expected
    assert _snapshot(app, open_case["case"]) == before
    body = _body(client.get(f"/cases/{open_case['case']}"))
    assert "Samira" not in body and open_case["number"] not in body


def test_roles_without_case_work_get_403_everywhere(app, world, open_case, login_as):
    ids = open_case | {"b_bem": world.service_points["B-BEM"]}
    before = _snapshot(app, open_case["case"])
    for user_key in NON_CASE_USERS:
        statuses = _statuses(login_as(user_key), ids)
        assert statuses == {key: 403 for key in statuses}, user_key
    for user_key in NON_CASE_USERS + ("caseworker_a",):
        assert login_as(user_key).get("/transfers").status_code == 403, user_key
    assert _snapshot(app, open_case["case"]) == before


def test_the_owner_gets_every_case_work_page(app, world, open_case, login_as):
    client = login_as("caseworker_a")
    for path in CASE_WORK_GETS:
        assert client.get(_fill(path, open_case)).status_code == 200, path
    # a supervisor may see the note but not correct someone else's note
    supervisor = login_as("supervisor_a")
    assert supervisor.get(f"/cases/{open_case['case']}").status_code == 200
    assert supervisor.get(f"/notes/{open_case['note']}/edit").status_code == 404


# --- edit conflicts ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("record, first_user, second_user", [
    ("note", "caseworker_a", "caseworker_a"),  # one author, two browser sessions
    ("action", "caseworker_a", "supervisor_a"),
])
def test_concurrent_edits_end_in_a_conflict_page_and_nothing_is_lost(app, world, open_case, login_as, record,
                                                                     first_user, second_user):
    path = {"note": f"/notes/{open_case['note']}/edit", "action": f"/actions/{open_case['action']}/edit"}[record]
    field = {"note": "body", "action": "description"}[record]
    first, second = login_as(first_user), login_as(second_user)
    first_page, second_page = _body(first.get(path)), _body(second.get(path))  # both open the edit page
    first_data = form_data(first_page, "", **{field: "Première version 1A"})
    second_data = form_data(second_page, "", **{field: "Seconde version 2B"})
    assert first_data["version"] == second_data["version"]

    saved = first.post(path, data=first_data)
    assert saved.status_code == 302, _body(saved)
    conflict = second.post(path, data=second_data)
    assert conflict.status_code == 409
    body = html.unescape(_body(conflict))
    assert "Première version 1A" in body and "Seconde version 2B" in body
    model, object_id = {"note": (CaseNote, open_case["note"]), "action": (PlanAction, open_case["action"])}[record]
    with app.app_context():
        assert getattr(db.session.get(model, object_id), field) == "Première version 1A"

    # "Save my version over the saved one": the form on the conflict page posts the second version again.
    overwrite = form_data(_body(conflict), path)
    assert overwrite[field] == ["Seconde version 2B"]
    assert int(overwrite["version"][0]) > int(second_data["version"][0])
    assert second.post(path, data=overwrite).status_code == 302
    with app.app_context():
        assert getattr(db.session.get(model, object_id), field) == "Seconde version 2B"
    # both versions are in the history (a supervisor reads it)
    history = html.unescape(_body(login_as("supervisor_a").get(f"/cases/{open_case['case']}")))
    assert "Première version 1A" in history and "Seconde version 2B" in history


# --- double submits ----------------------------------------------------------------------------------------------


def test_posting_the_registration_form_twice_registers_one_person(app, world, login_as):
    client = login_as("caseworker_a")
    data = form_data(_body(client.get("/beneficiaries/new")), "", **{
        "service_point_id": str(world.service_points["A-OUJ"]), "given_name": "Zineb", "family_name": "Tahiri",
        "sex": "F", "date_of_birth": "1990-05-17", "nationality": "MAR", "profile": "returnee",
        "country_returned_from": "LBY", "commune_code": "OUJ", "phone": "+212 612 345 678", "languages": ["ar"],
        "processing_basis": "signed_form", "statistics_consent": "y"})
    assert data.get("form_token", [""])[0], "the registration form carries a one-time token"
    first = client.post("/beneficiaries/new", data=data)
    second = client.post("/beneficiaries/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(app, Beneficiary) == 1
    assert _count(app, Case) == 1


@pytest.mark.parametrize("kind", ["note", "goal", "action", "follow-up"])
def test_posting_a_create_form_twice_creates_one_record(app, world, open_case, login_as, kind):
    case_id, goal_id = open_case["case"], open_case["goal"]
    action, values, model = {
        "note": (f"/cases/{case_id}/notes", {"kind": "general", "body": "Deux fois"}, CaseNote),
        "goal": (f"/cases/{case_id}/goals", {"area": "avrr", "title": "Deux fois"}, PlanGoal),
        "action": (f"/goals/{goal_id}/actions", {f"goal{goal_id}-description": "Deux fois",
                                                 f"goal{goal_id}-owner": "Moi"}, PlanAction),
        "follow-up": (f"/cases/{case_id}/follow-ups", {"purpose": "Deux fois", "due_date": TODAY.isoformat()},
                      FollowUp),
    }[kind]
    client = login_as("caseworker_a")
    before = _count(app, model)
    data = form_data(_body(client.get(f"/cases/{case_id}")), action, **values)
    token = next(value for name, value in data.items() if name.endswith("form_token"))[0]
    assert token
    response = client.post(action, data=data)
    assert response.status_code == 302, _body(response)
    assert client.post(action, data=data).status_code == 302
    assert _count(app, model) == before + 1
    # a new page hands out a new token: the same text posted from it is a second record
    fresh = form_data(_body(client.get(f"/cases/{case_id}")), action, **values)
    assert next(value for name, value in fresh.items() if name.endswith("form_token")) != [token]
    assert client.post(action, data=fresh).status_code == 302
    assert _count(app, model) == before + 2


# --- query budgets -----------------------------------------------------------------------------------------------


def _add_work(app, world, case_id: int, count: int, user_key: str = "caseworker_a") -> None:
    from caseapp.cases import followups, notes, plan

    def work(actor):
        case = db.session.get(Case, case_id)
        for index in range(count):
            goal = plan.add_goal(actor, case, area="employment", title=f"Objectif {index}")
            plan.add_action(actor, goal, description=f"Action {index}", owner="ANAPEC", due_date=TODAY)
            plan.add_action(actor, goal, description=f"Action {index}b", owner="Moi", due_date=None)
            notes.add_note(actor, case, kind="general", body=f"Note {index}", occurred_on=TODAY)
            followups.add_follow_up(actor, case, purpose=f"Suivi {index}", due_date=TODAY + timedelta(days=index),
                                    assigned_to_id=None)

    _service(app, world, user_key, work)


@pytest.mark.parametrize("viewer", ["caseworker_a", "supervisor_a"])
def test_case_page_statements_do_not_grow_with_its_content(app, world, register, login_as, count_queries, viewer):
    small = _case_id(app, register(given_name="Petit", phone="+212 600 000 001")[1])
    large = _case_id(app, register(given_name="Grand", phone="+212 600 000 002")[1])
    _add_work(app, world, small, 1)
    _add_work(app, world, large, 10)
    client = login_as(viewer)
    counts, statements = {}, {}
    for label, case_id in (("1 of each", small), ("10 of each", large)):
        client.get(f"/cases/{case_id}")  # warm-up: the first view of a page may differ (nothing cached here)
        with count_queries() as counter:
            response = client.get(f"/cases/{case_id}")
        assert response.status_code == 200
        assert _body(response).count("note-body") == (1 if case_id == small else 10)
        counts[label], statements[label] = counter.count, counter.statements
    assert counts["1 of each"] == counts["10 of each"], (counts, statements["10 of each"])
    assert counts["10 of each"] <= 40, statements["10 of each"]


@pytest.fixture
def thirty_cases(app, world, register):
    """30 cases at A-OUJ: high risk, an open flag and an overdue follow-up on each; the last 5 at medium risk."""
    from caseapp.cases import followups

    numbers = [register(given_name=f"Personne{index}", phone=f"+212 600 000 {index:03d}", flags=[OPEN_FLAG])[1]
               for index in range(30)]

    def work(actor):
        cases = db.session.scalars(select(Case).where(Case.number.in_(numbers))).all()
        for index, case in enumerate(sorted(cases, key=lambda c: c.number)):
            case.risk_level = "high" if index < 25 else "medium"
            followups.add_follow_up(actor, case, purpose="En retard", due_date=TODAY - timedelta(days=3),
                                    assigned_to_id=None, today=TODAY - timedelta(days=10))

    _service(app, world, "caseworker_a", work)
    return numbers


@pytest.mark.parametrize("viewer", ["caseworker_a", "supervisor_a"])
def test_filtered_case_list_statements_do_not_depend_on_the_page_size(app, world, thirty_cases, login_as,
                                                                      count_queries, viewer):
    client = login_as(viewer)
    query = (f"status=registered&service_point={world.service_points['A-OUJ']}"
             f"&worker={world.users['caseworker_a']}&risk=high&flag={OPEN_FLAG}&overdue=y&sort=number")
    counts, rows = {}, {}
    for page_size in (5, 25):
        app.config["PAGE_SIZE"] = page_size
        try:
            client.get(f"/cases/?{query}")
            with count_queries() as counter:
                response = client.get(f"/cases/?{query}")
        finally:
            app.config["PAGE_SIZE"] = 25
        assert response.status_code == 200
        rows[page_size] = _body(response).count('class="case-number"')
        counts[page_size] = counter.count
    assert rows == {5: 5, 25: 25}
    assert counts[5] == counts[25], counts
    assert counts[25] <= 14, counter.statements
    # the filters really filter: 25 high-risk cases, 5 medium
    assert "Personne29" in _body(client.get(f"/cases/?{query.replace('risk=high', 'risk=medium')}"))


# --- bulk assignment ---------------------------------------------------------------------------------------------


def _assign(client, case_ids: list[int], worker_id: int, list_path: str = "/cases/"):
    page = _body(client.get(list_path))
    data = form_data(page, "/cases/assign", case_ids=[str(i) for i in case_ids], worker_id=str(worker_id))
    return client.post("/cases/assign", data=data)


def test_a_supervisor_assigns_ticked_cases_from_the_list(app, world, register, login_as):
    ouj = [_case_id(app, register(given_name=f"Ouj{i}", phone=f"+212 600 000 10{i}")[1]) for i in range(3)]
    client = login_as("supervisor_a")
    response = _assign(client, ouj[:2], world.users["caseworker_restricted"], "/cases/?sort=number")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cases/?sort=number")  # back to the same list
    workers = {case_id: _case(app, case_id)["assigned_worker_id"] for case_id in ouj}
    assert workers == {ouj[0]: world.users["caseworker_restricted"], ouj[1]: world.users["caseworker_restricted"],
                       ouj[2]: world.users["caseworker_a"]}
    # the list shows the new worker
    assert "Caseworker Restricted" in _body(client.get(f"/cases/?worker={world.users['caseworker_restricted']}"))


def test_bulk_assignment_refusals_change_nothing(app, world, register, login_as):
    ouj = _case_id(app, register(given_name="Ouj", phone="+212 600 000 201")[1])
    nad = _case_id(app, register("caseworker_a2", "A-NAD", given_name="Nad", phone="+212 600 000 202",
                                 commune_code="NAD")[1])
    bem = _case_id(app, register("caseworker_b", "B-BEM", given_name="Bem", phone="+212 600 000 203",
                                 commune_code="BEM")[1])
    before = {case_id: _case(app, case_id) for case_id in (ouj, nad, bem)}
    supervisor = login_as("supervisor_a")
    # a worker of another service point: refused for all the ticked cases (all or nothing)
    response = _assign(supervisor, [ouj, nad], world.users["caseworker_a"])
    assert response.status_code == 302
    page = _body(supervisor.get("/cases/"))
    assert "alert-danger" in page
    # a worker of another organisation, and a case of another organisation
    assert _assign(supervisor, [ouj], world.users["caseworker_b"]).status_code == 302
    token = csrf_token(supervisor, "/cases/")
    assert supervisor.post("/cases/assign", data={"case_ids": [str(bem)], "worker_id": world.users["caseworker_a"],
                                                  "csrf_token": token}).status_code == 302
    other = login_as("supervisor_b")
    assert other.post("/cases/assign", data={"case_ids": [str(ouj)], "worker_id": world.users["caseworker_b"],
                                             "csrf_token": csrf_token(other, "/cases/")}).status_code == 302
    # caseworkers cannot assign at all
    worker = login_as("caseworker_a")
    assert "/cases/assign" not in _body(worker.get("/cases/"))
    assert worker.post("/cases/assign", data={"case_ids": [str(ouj)], "worker_id": world.users["caseworker_a"],
                                              "csrf_token": csrf_token(worker, "/cases/")}).status_code == 403
    assert {case_id: _case(app, case_id) for case_id in (ouj, nad, bem)} == before


# --- closure and transfer flows ----------------------------------------------------------------------------------


def test_closure_request_approval_and_reopening(app, world, open_case, login_as):
    from caseapp.labels import CASE_STATUS_LABELS

    case_id, case_url = open_case["case"], f"/cases/{open_case['case']}"
    worker = login_as("caseworker_a")
    # the stage buttons move the case one step at a time
    submit_form(worker, case_url, f"{case_url}/stage", press="target=assessment")
    assert _case(app, case_id)["status"] == "assessment"
    submit_form(worker, case_url, f"{case_url}/stage", press="target=plan")
    assert _case(app, case_id)["status"] == "plan"
    # a request without a reason is refused and shown on the page
    response = submit_form(worker, case_url, f"{case_url}/closure", expected=422, reason="")
    assert 'id="reason-errors"' in _body(response) or "alert-danger" in _body(response)
    assert _case(app, case_id)["closure_requested_at"] is None

    submit_form(worker, case_url, f"{case_url}/closure", reason="goals_met")
    state = _case(app, case_id)
    assert state["closure_reason"] == "goals_met" and state["closure_requested_at"] is not None
    page = _body(worker.get(case_url))
    assert f"{case_url}/closure/decision" not in page  # the worker cannot decide
    assert f'action="{case_url}/stage"' not in page  # no stage move while awaiting closure
    token = csrf_token(worker, case_url)
    assert worker.post(f"{case_url}/closure/decision", data={"decision": "approve", "csrf_token": token}
                       ).status_code == 403
    assert worker.post(f"{case_url}/stage", data={"target": "active", "csrf_token": token}).status_code == 422
    assert _case(app, case_id)["status"] == "plan"

    supervisor = login_as("supervisor_a")
    home = _body(supervisor.get("/"))
    awaiting = home[home.index('id="closure-heading"'):home.index('id="workload-heading"')]
    assert open_case["number"] in awaiting
    submit_form(supervisor, case_url, f"{case_url}/closure/decision", press="decision=approve")
    assert _case(app, case_id)["status"] == "closed"
    page = _body(supervisor.get(case_url))
    assert _label(app, CASE_STATUS_LABELS, "closed") in page
    assert f"{case_url}/notes" in page  # notes can still be written on a closed case
    assert f"{case_url}/goals" not in page and f"{case_url}/closure\"" not in page
    home = _body(supervisor.get("/"))
    assert open_case["number"] not in home[home.index('id="closure-heading"'):home.index('id="workload-heading"')]
    # a closed case takes no new follow-up
    assert worker.post(f"{case_url}/follow-ups", data={"purpose": "Après", "due_date": TODAY.isoformat(),
                                                       "assigned_to_id": "0", "csrf_token": token}).status_code == 422

    # reopening: only a supervisor, only with a reason
    assert worker.post(f"{case_url}/reopen", data={"reason": "Retour", "csrf_token": token}).status_code == 403
    submit_form(supervisor, case_url, f"{case_url}/reopen", expected=422, reason="  ")
    assert _case(app, case_id)["status"] == "closed"
    submit_form(supervisor, case_url, f"{case_url}/reopen", reason="La personne est revenue")
    state = _case(app, case_id)
    assert state["status"] == "reopened" and state["reopen_reason"] == "La personne est revenue"
    assert state["closure_requested_at"] is None
    page = html.unescape(_body(worker.get(case_url)))
    assert "La personne est revenue" in page
    assert f"{case_url}/closure" in page  # open again: closure can be requested again


def test_closure_refusal_keeps_the_case_open(app, world, open_case, login_as):
    case_url = f"/cases/{open_case['case']}"
    submit_form(login_as("caseworker_a"), case_url, f"{case_url}/closure", reason="withdrew")
    submit_form(login_as("supervisor_a"), case_url, f"{case_url}/closure/decision", press="decision=reject")
    state = _case(app, open_case["case"])
    assert state["status"] == "registered" and state["closure_requested_at"] is None


def test_transfer_to_another_organisation(app, world, open_case, login_as):
    case_id, case_url = open_case["case"], f"/cases/{open_case['case']}"
    supervisor_a = login_as("supervisor_a")
    page = _body(supervisor_a.get(case_url))
    offered = form_data(page, f"{case_url}/transfer")
    assert "Point A-NAD" not in page[page.index('id="transfer"'):]  # only other organisations' points
    submit_form(supervisor_a, case_url, f"{case_url}/transfer", to_service_point_id=str(world.service_points["B-BEM"]),
                reason="Déménage à Béni Mellal")
    assert offered
    assert _case(app, case_id)["service_point_id"] == world.service_points["A-OUJ"]  # nothing moves yet
    # a second proposal while one waits is refused
    waiting = _body(supervisor_a.get(case_url))
    assert f"{case_url}/transfer" not in waiting
    assert 'role="status">Transfert vers Point B-BEM proposé le' in waiting  # the proposal, named on the page
    assert supervisor_a.post(f"{case_url}/transfer", data={
        "to_service_point_id": str(world.service_points["B-BEM"]), "reason": "Encore",
        "csrf_token": csrf_token(supervisor_a, "/")}).status_code == 422
    with app.app_context():
        transfer_id = db.session.scalar(select(CaseTransfer.id))
        assert db.session.scalar(select(func.count()).select_from(CaseTransfer)) == 1

    supervisor_b = login_as("supervisor_b")
    assert supervisor_b.get(case_url).status_code == 404  # not theirs until they accept
    transfers = html.unescape(_body(supervisor_b.get("/transfers")))
    assert open_case["number"] in transfers and "Déménage à Béni Mellal" in transfers
    assert f"/transfers/{transfer_id}/decision" in transfers
    assert "/transfers/" not in _body(login_as("supervisor_a").get("/transfers"))  # not proposed to A
    # only the receiving organisation decides
    assert supervisor_a.post(f"/transfers/{transfer_id}/decision", data={
        "decision": "accept", "csrf_token": csrf_token(supervisor_a, "/")}).status_code == 404

    response = submit_form(supervisor_b, "/transfers", f"/transfers/{transfer_id}/decision", press="decision=accept")
    assert response.headers["Location"].endswith(case_url)
    state = _case(app, case_id)
    assert state["service_point_id"] == world.service_points["B-BEM"] and state["partner_id"] == world.partners["B"]
    assert state["assigned_worker_id"] is None
    assert login_as("caseworker_a").get(case_url).status_code == 404
    assert login_as("caseworker_a").get(f"/notes/{open_case['note']}/edit").status_code == 404
    assert supervisor_a.get(case_url).status_code == 404
    assert supervisor_b.get(case_url).status_code == 200
    assert login_as("caseworker_b").get(case_url).status_code == 200
    assert open_case["number"] not in _body(supervisor_b.get("/transfers"))
    assert open_case["number"] not in _body(login_as("caseworker_a").get("/cases/"))


def test_a_declined_transfer_leaves_the_case_where_it_was(app, world, open_case, login_as):
    case_url = f"/cases/{open_case['case']}"
    submit_form(login_as("supervisor_a"), case_url, f"{case_url}/transfer",
                to_service_point_id=str(world.service_points["B-BEM"]), reason="Essai")
    with app.app_context():
        transfer_id = db.session.scalar(select(CaseTransfer.id))
    supervisor_b = login_as("supervisor_b")
    submit_form(supervisor_b, "/transfers", f"/transfers/{transfer_id}/decision", press="decision=decline")
    assert _case(app, open_case["case"])["service_point_id"] == world.service_points["A-OUJ"]
    page = _body(login_as("supervisor_a").get(case_url))
    assert "Point B-BEM proposé" not in page and f"{case_url}/transfer" in page  # no longer waiting: offered again
    assert supervisor_b.get(case_url).status_code == 404
    assert login_as("caseworker_a").get(case_url).status_code == 200


# --- CSRF --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, data", [
    ("/cases/{case}/notes", {"kind": "general", "body": "Sans jeton", "occurred_on": TODAY.isoformat()}),
    ("/cases/{case}/stage", {"target": "assessment"}),
    ("/cases/{case}/closure", {"reason": "goals_met"}),
    ("/notes/{note}/edit", {"body": "Sans jeton", "occurred_on": TODAY.isoformat(), "version": "1"}),
    ("/cases/assign", {"case_ids": "{case}", "worker_id": "{worker}"}),
])
@pytest.mark.parametrize("token", [None, "forged"])
def test_a_post_without_a_valid_csrf_token_is_400(app, world, open_case, login_as, path, data, token):
    ids = open_case | {"worker": world.users["caseworker_restricted"]}
    client = login_as("supervisor_a" if path == "/cases/assign" else "caseworker_a")
    before = _snapshot(app, open_case["case"])
    posted = {name: _fill(value, ids) for name, value in data.items()}
    if token:
        posted["csrf_token"] = token
    response = client.post(_fill(path, ids), data=posted)
    assert response.status_code == 400
    assert "Sans jeton" not in _body(response)
    assert _snapshot(app, open_case["case"]) == before


def _restricted_flags_label(app) -> str:
    """How the history names the restricted-flags field, in French (the test client's language)."""
    from flask_babel import force_locale

    from caseapp.labels import FIELD_LABELS

    with app.test_request_context(), force_locale("fr"):
        return str(FIELD_LABELS["restricted_flags"])


def test_opening_an_edit_form_is_audited_as_a_view_of_that_record(app, world, restricted_case, login_as):
    """An edit form shows the record's content (a note's text): opening it is a view, audited like the case page."""
    from caseapp.audit.models import AuditEvent

    client = login_as("caseworker_restricted")
    with app.app_context():
        last_id = db.session.scalar(select(func.max(AuditEvent.id)))
    assert client.get(f"/notes/{restricted_case['note']}/edit").status_code == 200
    assert client.get(f"/cases/{restricted_case['case']}/assessment").status_code == 200
    with app.app_context():
        views = db.session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)).all()
    assert [(event.action, event.object_type, event.actor_id) for event in views] == [
        ("case_note.view", "case_note", world.users["caseworker_restricted"]),
        ("case_assessment.view", "case_assessment", world.users["caseworker_restricted"])]
    assert views[0].object_id == restricted_case["note"]
    assert all(PSY_TEXT not in event.details for event in views)
