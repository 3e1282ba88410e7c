"""Households over HTTP: link by case number within scope, head, leave; members outside scope never shown."""
from sqlalchemy import select

from caseapp.audit.models import AuditEvent
from caseapp.beneficiaries.models import Beneficiary
from caseapp.extensions import db
from tests.conftest import csrf_token


def test_link_head_and_leave(app, world, register, login_as):
    first, _ = register(given_name="Aziz")
    second, second_number = register(given_name="Badia")
    foreign, foreign_number = register("caseworker_b", "B-BEM", given_name="Chama", commune_code="BEM")
    client = login_as("caseworker_a")
    token = csrf_token(client, f"/beneficiaries/{first}")

    linked = client.post(f"/beneficiaries/{first}/household", data={"csrf_token": token,
                                                                     "case_number": second_number.lower()})
    assert linked.status_code == 302
    assert "Badia" in client.get(f"/beneficiaries/{first}").get_data(as_text=True)
    assert "Aziz" in client.get(f"/beneficiaries/{second}").get_data(as_text=True)

    # A case number outside the user's scope is refused like an unknown one, and nothing changes.
    client.post(f"/beneficiaries/{first}/household", data={"csrf_token": token, "case_number": foreign_number})
    with app.app_context():
        assert db.session.get(Beneficiary, foreign).household_id is None
    assert "Chama" not in client.get(f"/beneficiaries/{first}").get_data(as_text=True)

    client.post(f"/beneficiaries/{second}/household/head", data={"csrf_token": token})
    with app.app_context():
        heads = {person.given_name: person.is_household_head for person in
                 db.session.scalars(select(Beneficiary).where(Beneficiary.id.in_([first, second])))}
        assert heads == {"Aziz": False, "Badia": True}

    client.post(f"/beneficiaries/{second}/household/leave", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Beneficiary, first).household_id is None  # one member left: dissolved
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("household.%"))))
    assert actions == {"household.link", "household.head", "household.leave"}


def test_other_service_point_cannot_touch_a_household(app, world, register, login_as):
    person, _ = register()
    client = login_as("caseworker_a2")
    token = csrf_token(client, "/")
    for path in ("household", "household/head", "household/leave"):
        response = client.post(f"/beneficiaries/{person}/{path}", data={"csrf_token": token, "case_number": "X"})
        assert response.status_code == 404, path
