"""Registration shows likely duplicates before saving: in scope by name (with a link), outside scope only as a
count; the user then opens the existing record or registers a new person, and that decision is audited."""
import html
import json
import re
from datetime import date

from sqlalchemy import func, select

from caseapp.audit.models import AuditEvent
from caseapp.beneficiaries.models import Beneficiary
from caseapp.extensions import db
from tests.conftest import csrf_token
from tests.http.test_registration_http import FORM, _form

TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Beneficiary))


def _post(client, world, point="A-OUJ", **overrides):
    page = client.get(FORM).get_data(as_text=True)
    token = TOKEN.search(page).group(1)
    data = _form(world, csrf_token(client, FORM), service_point_id=str(world.service_points[point]),
                 form_token=token, given_name="Mohammed", family_name="Amrani", given_name_alt="",
                 family_name_alt="", sex="M", date_of_birth="1990-05-17", **overrides)
    return client.post(FORM, data=data), data


def test_a_likely_duplicate_in_scope_is_shown_and_nothing_is_saved(app, world, register, login_as):
    existing, number = register("caseworker_a", given_name="Mohamed", family_name="El Amrani",
                                date_of_birth=date(1990, 5, 17))
    client = login_as("caseworker_a")
    response, data = _post(client, world)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and f"/beneficiaries/{existing}" in body and number in body
    assert 'name="confirm_new_person"' in body
    assert _count(app) == 1
    # The user decides it is someone else: the same form, with the button's value, registers a new person.
    confirmed = client.post(FORM, data=dict(data, confirm_new_person="y"))
    assert confirmed.status_code == 302 and _count(app) == 2
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "beneficiary.not_a_duplicate"))
        assert event.actor_id == world.users["caseworker_a"]
        assert json.loads(event.details) == {"candidates": [existing], "outside_scope": 0}
    # Posting that form once more (a double click) finds the record it created, without asking again.
    again = client.post(FORM, data=dict(data, confirm_new_person="y"))
    assert again.status_code == 302 and _count(app) == 2


def test_a_likely_duplicate_elsewhere_is_only_counted(app, world, register, login_as):
    register("caseworker_a", given_name="Mohamed", family_name="El Amrani", phone="0612000000",
             date_of_birth=date(1990, 5, 17))
    client = login_as("caseworker_b")
    response, _ = _post(client, world, point="B-BEM", commune_code="BEM")
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200 and 'name="confirm_new_person"' in body
    assert "El Amrani" not in body and "/beneficiaries/" not in body.split("<main", 1)[1].split("</form>", 1)[0] \
        .replace(FORM, "")
    assert _count(app) == 1


def test_no_panel_when_nobody_matches(app, world, register, login_as):
    register("caseworker_a", given_name="Zineb", family_name="Tahiri", given_name_alt="", family_name_alt="")
    client = login_as("caseworker_a")
    response, _ = _post(client, world)
    assert response.status_code == 302 and _count(app) == 2
