"""The registration form through HTTP: who may open it, success, errors next to their fields, tampering, CSRF."""
import html
import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from flask_babel import gettext
from sqlalchemy import func, select

from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.extensions import db
from tests.conftest import csrf_token

FORM = "/beneficiaries/new"
TODAY = date.today()
ERRORS_DIV = re.compile(r'<div id="([\w-]+)-errors" class="invalid-feedback">((?:\s*<div>.*?</div>)*)\s*</div>', re.S)


def _form(world, token: str, **overrides) -> dict:
    """A valid registration as the browser posts it; None removes a field (an unticked box, an unset radio)."""
    data = {
        "service_point_id": str(world.service_points["A-OUJ"]), "given_name": "Zineb", "family_name": "Tahiri",
        "given_name_alt": "زينب", "family_name_alt": "الطاهري", "sex": "F", "date_of_birth": "1990-05-17",
        "nationality": "MAR", "profile": "returnee", "country_returned_from": "LBY", "commune_code": "OUJ",
        "phone": "+212 612 345 678", "languages": ["ar", "fr"], "document_type": "", "document_number": "",
        "processing_basis": "signed_form", "witness_name": "", "legal_basis": "", "statistics_consent": "y",
        "csrf_token": token,
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _translated(app, message: str, **values) -> str:
    """`message` as shown to a browser that asks for no particular language (French by default)."""
    with app.test_request_context():
        return gettext(message, **values)


def _field_errors(body: str) -> dict[str, list[str]]:
    """Field id → the messages shown in its `-errors` block."""
    return {field: [html.unescape(m).strip() for m in re.findall(r"<div>(.*?)</div>", block, re.S)]
            for field, block in ERRORS_DIV.findall(body)}


def _beneficiary_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Beneficiary))


# --- who may open the form ---------------------------------------------------------------------------------------


def test_case_workers_and_supervisors_get_the_form(app, world, login_as):
    for user_key in ("caseworker_a", "caseworker_b", "supervisor_a"):
        response = login_as(user_key).get(FORM)
        assert response.status_code == 200, user_key
        assert 'name="given_name"' in response.get_data(as_text=True)


def test_other_roles_are_refused_the_form(app, world, login_as):
    statuses = {}
    for user_key in ("me_officer", "dpo", "admin", "receiver"):
        client = login_as(user_key)
        statuses[user_key] = (client.get(FORM).status_code,
                              client.post(FORM, data=_form(world, csrf_token(client, "/"))).status_code)
    assert statuses == {key: (403, 403) for key in statuses}
    assert _beneficiary_count(app) == 0


def test_anonymous_is_sent_to_login(app, world):
    client = app.test_client()
    response = client.get(FORM)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"
    response = client.post(FORM, data=_form(world, csrf_token(client, "/login")))
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    assert _beneficiary_count(app) == 0


def test_the_form_offers_only_the_users_own_service_points_and_allowed_flags(app, world, login_as):
    body = login_as("caseworker_a").get(FORM).get_data(as_text=True)
    assert f'value="{world.service_points["A-OUJ"]}"' in body
    assert "Point A-NAD" not in body and "Point B-BEM" not in body
    assert 'value="homeless"' in body and 'value="gbv_survivor"' not in body
    restricted = login_as("caseworker_restricted").get(FORM).get_data(as_text=True)
    assert 'value="gbv_survivor"' in restricted
    supervisor = login_as("supervisor_a").get(FORM).get_data(as_text=True)
    assert "Point A-NAD" in supervisor and "Point B-BEM" not in supervisor


# --- success -----------------------------------------------------------------------------------------------------


def test_a_valid_registration_redirects_to_the_person_page(app, world, login_as):
    client = login_as("caseworker_a")
    response = client.post(FORM, data=_form(world, csrf_token(client, FORM)))
    assert response.status_code == 302
    with app.app_context():
        people = db.session.scalars(select(Beneficiary)).all()
        assert len(people) == 1
        person_id, number = people[0].id, people[0].cases[0].number
    assert urlsplit(response.headers["Location"]).path == f"/beneficiaries/{person_id}"
    page = client.get(f"/beneficiaries/{person_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Zineb Tahiri" in body and "زينب" in body and number in body


def test_a_supervisor_registers_at_any_point_of_the_partner(app, world, login_as):
    client = login_as("supervisor_a")
    response = client.post(FORM, data=_form(world, csrf_token(client, FORM),
                                            service_point_id=str(world.service_points["A-NAD"])))
    assert response.status_code == 302
    with app.app_context():
        case = db.session.scalars(select(Case)).one()
        assert case.service_point_id == world.service_points["A-NAD"] and case.number.startswith("NAD-")


def test_posted_fields_outside_the_form_are_ignored(app, world, login_as):
    client = login_as("caseworker_a")
    tampered = _form(world, csrf_token(client, FORM), partner_id=str(world.partners["B"]), role="admin",
                     registered_by_id=str(world.users["caseworker_b"]),
                     opened_by_id=str(world.users["caseworker_b"]),
                     assigned_worker_id=str(world.users["caseworker_b"]), status="closed",
                     registered_at_service_point_id=str(world.service_points["B-BEM"]), restricted_access="y")
    response = client.post(FORM, data=tampered)
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalars(select(Beneficiary)).one()
        case = person.cases[0]
        assert person.registered_by_id == world.users["caseworker_a"]
        assert person.registered_at_service_point_id == world.service_points["A-OUJ"]
        assert case.partner_id == world.partners["A"]
        assert case.service_point_id == world.service_points["A-OUJ"]
        assert case.opened_by_id == case.assigned_worker_id == world.users["caseworker_a"]
        assert case.status == "registered"


@pytest.mark.parametrize("token", [None, "forged"])
def test_post_without_a_valid_csrf_token_is_refused(app, world, login_as, token):
    client = login_as("caseworker_a")
    response = client.post(FORM, data=_form(world, token))
    assert response.status_code == 400
    assert _beneficiary_count(app) == 0


# --- errors next to their fields ---------------------------------------------------------------------------------

# name → (field, form overrides, message id and values, or None for the form library's own parse message)
FAILURES = {
    "future date of birth": ("date_of_birth", dict(date_of_birth=(TODAY + timedelta(days=1)).isoformat()),
                             ("The date of birth cannot be in the future.", {})),
    "age over 120": ("date_of_birth", dict(date_of_birth=f"{TODAY.year - 121}-01-01"),
                     ("An age over %(years)d years is not possible.", {"years": 120})),
    "no date of birth": ("date_of_birth", dict(date_of_birth=""),
                         ("Enter the date of birth, or tick “only the year is known”.", {})),
    "date of birth not a date": ("date_of_birth", dict(date_of_birth="17/05/1990"), None),
    "estimated without year": ("birth_year", dict(date_of_birth="", dob_estimated="y", birth_year=""),
                               ("Enter the estimated year of birth.", {})),
    "future birth year": ("birth_year", dict(date_of_birth="", dob_estimated="y", birth_year=str(TODAY.year + 1)),
                          ("The year of birth cannot be in the future.", {})),
    "birth year not a number": ("birth_year", dict(date_of_birth="", dob_estimated="y", birth_year="abc"), None),
    "missing given name": ("given_name", dict(given_name=" "), ("This field is required.", {})),
    "unset sex": ("sex", dict(sex=None), ("Choose the sex.", {})),
    "unknown commune": ("commune_code", dict(commune_code="XXX"), ("Choose a commune from the list.", {})),
    "unknown nationality": ("nationality", dict(nationality="ZZZ"), ("Choose a nationality from the list.", {})),
    "returnee without country": ("country_returned_from", dict(country_returned_from=""),
                                 ("Choose the country the person returned from.", {})),
    "missing consent": ("processing_basis", dict(processing_basis=None, statistics_consent=None),
                        ("Record the person's consent to data processing, or a legal basis.", {})),
    "oral consent without witness": ("witness_name", dict(processing_basis="oral_witness"),
                                     ("Oral consent needs the name of a witness.", {})),
    "legal basis without text": ("legal_basis", dict(processing_basis="legal_basis", statistics_consent=None),
                                 ("Describe the legal basis for processing without consent.", {})),
    "statistics consent with legal basis": (
        "statistics_consent", dict(processing_basis="legal_basis", legal_basis="Loi 09-08"),
        ("Consent to statistical use must be given by the person (signed or oral).", {})),
    "document number without type": ("document_type", dict(document_number="AB123456"),
                                     ("Choose the type of the document.", {})),
    "document type without number": ("document_number", dict(document_type="passport"),
                                     ("Enter the document number.", {})),
    "restricted flag": ("flags", dict(flags=["gbv_survivor"]), ("Choose flags from the list.", {})),
    "service point not the actor's": ("service_point_id", dict(service_point_id="{A-NAD}"),
                                      ("Choose one of your service points.", {})),
    "service point of another partner": ("service_point_id", dict(service_point_id="{B-BEM}"),
                                         ("Choose one of your service points.", {})),
    "phone with letters": ("phone", dict(phone="06 12 AB 34 56"),
                           ("Enter a phone number made of digits, for example +212 612 345 678.", {})),
    "arrival date in the future": ("arrival_date", dict(arrival_date=(TODAY + timedelta(days=1)).isoformat()),
                                   ("The arrival date cannot be in the future.", {})),
    "arrival date not a date": ("arrival_date", dict(arrival_date="tomorrow"), None),
}


def _resolve(world, overrides: dict) -> dict:
    return {name: (str(world.service_points[value[1:-1]]) if isinstance(value, str) and value.startswith("{")
                   else value) for name, value in overrides.items()}


def test_each_refusal_is_shown_next_to_its_field_and_saves_nothing(app, world, login_as):
    client = login_as("caseworker_a")
    token = csrf_token(client, FORM)
    shown, expected = {}, {}
    for failure, (field, overrides, message) in FAILURES.items():
        response = client.post(FORM, data=_form(world, token, **_resolve(world, overrides)))
        assert response.status_code == 200, failure
        body = response.get_data(as_text=True)
        errors = _field_errors(body)
        assert errors.get(field) and all(errors[field]), failure
        shown[failure] = errors if message else {name: ["(parse error)"] for name in errors}
        expected[failure] = {field: [_translated(app, message[0], **message[1])] if message else ["(parse error)"]}
        # The control (or its group) points at the message, and the summary links to the field.
        assert re.search(rf'aria-describedby="[^"]*\b{field}-errors\b', body), failure
        assert f'href="#{field}"' in body, failure
    assert shown == expected
    assert _beneficiary_count(app) == 0


def test_several_errors_are_shown_at_once_and_typed_values_are_kept(app, world, login_as):
    client = login_as("caseworker_a")
    data = _form(world, csrf_token(client, FORM), phone="call me", commune_code="XXX", nationality="ZZZ",
                 date_of_birth="not a date", processing_basis=None, statistics_consent=None)
    response = client.post(FORM, data=data)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert set(_field_errors(body)) == {"phone", "commune_code", "nationality", "date_of_birth", "processing_basis"}
    assert 'value="Zineb"' in body and 'value="Tahiri"' in body
    assert _beneficiary_count(app) == 0
