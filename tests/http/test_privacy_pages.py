"""Data-protection pages through HTTP: consents on the person page, subject access (page and JSON), the dpo's lookup
and erasure; permissions (403 by role, 404 out of scope), CSRF, rate limit, audit.

Messages are computed with the app's own catalogue (French, as the test client asks for no language), never written
here in another language."""
import html
import json
import re

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary, ConsentRecord
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.referrals.models import Referral
from tests.conftest import csrf_token
from tests.unit.test_privacy_services import CANARY, new_person, privacy_setup, referral_at, rich_person


@pytest.fixture
def canary(app, world) -> dict:
    """The canary person of the service tests (case at A-OUJ) and its case number."""
    with app.app_context():
        ids = rich_person(privacy_setup(world))
        ids["number"] = db.session.get(Case, ids["case"]).number
        return ids


def _person_with(app, world, **overrides) -> int:
    with app.app_context():
        person, _ = new_person(privacy_setup(world), **overrides)
        db.session.commit()
        return person.id


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                         .order_by(AuditEvent.id)))  # in the order they happened, on both databases
        db.session.expunge_all()
        return events


def _set_user(app, world, key: str, **values) -> None:
    with app.app_context():
        user = db.session.get(User, world.users[key])
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def _text(response) -> str:
    return response.get_data(as_text=True)


def _shown(response) -> str:
    """The page's text with HTML entities decoded (apostrophes are escaped in pages)."""
    return html.unescape(_text(response))


def _french(app, message: str, **values) -> str:
    """`message` through the French catalogue, as the test client's pages show it."""
    with app.test_request_context(), force_locale("fr"):
        return gettext(message, **values)


def _french_plural(app, singular: str, plural: str, num: int) -> str:
    """A plural entry through the French catalogue, formatted with `num` as the template's ngettext does."""
    with app.test_request_context(), force_locale("fr"):
        return ngettext(singular, plural, num)


WITHDRAWAL_WARNING = ("The withdrawal is recorded and dated. If the person asks for their data to be erased, that is a "
                      "request to the data-protection officer, who decides on it and carries it out.")
WITHDRAWN_PROCESSING = ("Withdrawing consent to processing erases nothing: erasure of the person's data is a "
                        "request to the data-protection officer.")
REFERRALS_TO_CANCEL = ("%(num)d open referral of this person to the partner will be cancelled, and its receiving "
                       "partner told (without the person's name).",
                       "%(num)d open referrals of this person to the partner will be cancelled, and their receiving "
                       "partners told (without the person's name).")


# --- consents on the person page ---------------------------------------------------------------------------------


def test_the_person_page_lists_every_consent_with_its_actions(app, world, canary, login_as):
    page = _text(login_as("caseworker_a").get(f"/beneficiaries/{canary['person']}"))
    assert 'id="consents"' in page
    assert page.count("/withdraw") == 4  # processing (oral, legal basis), statistics, sharing: all active
    assert "Wittycanary" in page and "Partner C" in page and "Caseworker A" in page
    assert f"/people/{canary['person']}/consents/new" in page
    assert "subject-access" not in page  # a caseworker does not export personal data
    supervisor_page = _text(login_as("supervisor_a").get(f"/beneficiaries/{canary['person']}"))
    assert f"/people/{canary['person']}/subject-access" in supervisor_page
    assert "/anonymise" not in supervisor_page and "/audit" not in supervisor_page


def test_recording_a_consent_shows_errors_next_to_fields_and_saves_nothing(app, world, login_as):
    person_id = _person_with(app, world)
    client = login_as("caseworker_a")
    url = f"/people/{person_id}/consents/new"
    page = _text(client.get(url))
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token(client, url), "kind": "processing", "method": "oral_witness",
            "witness_name": "", "partner_id": "0", "form_token": token}
    refused = client.post(url, data=data)
    assert refused.status_code == 200
    assert 'id="witness_name-errors"' in _text(refused)
    with app.app_context():
        assert len(db.session.get(Beneficiary, person_id).consents) == 2
    accepted = client.post(url, data=dict(data, witness_name="Aicha Witness"))
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith(f"/beneficiaries/{person_id}#consents")
    assert client.post(url, data=dict(data, witness_name="Aicha Witness")).status_code == 302  # double post
    with app.app_context():
        consents = db.session.get(Beneficiary, person_id).consents
        assert [consent.witness_name for consent in consents][-1] == "Aicha Witness" and len(consents) == 3


def test_withdrawing_needs_a_post_with_csrf_and_warns_about_erasure(app, world, login_as):
    person_id = _person_with(app, world)
    with app.app_context():
        processing = next(c.id for c in db.session.get(Beneficiary, person_id).consents if c.kind == "processing")
    client = login_as("caseworker_a")
    url = f"/people/{person_id}/consents/{processing}/withdraw"
    confirm = _shown(client.get(url))
    assert _french(app, WITHDRAWAL_WARNING) in confirm  # erasure is a request to the data-protection officer
    assert client.post(url, data={}).status_code == 400
    with app.app_context():
        assert db.session.get(ConsentRecord, processing).withdrawn_at is None
    done = client.post(url, data={"csrf_token": csrf_token(client, url)}, follow_redirects=True)
    assert done.status_code == 200 and _french(app, WITHDRAWN_PROCESSING) in _shown(done)
    with app.app_context():
        consent = db.session.get(ConsentRecord, processing)
        assert consent.withdrawn_at is not None and consent.withdrawn_by_id == world.users["caseworker_a"]
    assert len(_events(app, "consent.withdraw")) == 1


def test_withdrawing_a_sharing_consent_through_the_page_cancels_the_referral(app, world, login_as):
    with app.app_context():
        ps = privacy_setup(world)
        person, case = new_person(ps)
        referral = referral_at(ps, case, "C", "approved")
        ids = (person.id, referral.consent_id, referral.id)
        db.session.commit()
    client = login_as("supervisor_a")
    url = f"/people/{ids[0]}/consents/{ids[1]}/withdraw"
    assert _french_plural(app, *REFERRALS_TO_CANCEL, 1) in _shown(client.get(url))
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
    with app.app_context():
        assert db.session.get(Referral, ids[2]).status == "cancelled"


def test_consent_urls_are_404_out_of_scope_and_for_another_persons_consent(app, world, login_as):
    first = _person_with(app, world)
    second = _person_with(app, world, given_name="Second")
    with app.app_context():
        foreign = db.session.get(Beneficiary, second).consents[0].id
    client = login_as("caseworker_a")
    assert client.get(f"/people/{first}/consents/{foreign}/withdraw").status_code == 404
    for key in ("caseworker_b", "supervisor_b", "caseworker_a2"):
        other = login_as(key)
        assert other.get(f"/people/{first}/consents/new").status_code == 404
    assert login_as("dpo").get(f"/people/{first}/consents/new").status_code == 403


# --- subject access ----------------------------------------------------------------------------------------------


def test_the_json_export_is_an_attachment_with_the_document_number_and_notes(app, world, canary, login_as):
    response = login_as("dpo").get(f"/people/{canary['person']}/subject-access.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json" and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"] == f'attachment; filename="subject-access-{canary["person"]}.json"'
    data = json.loads(response.get_data(as_text=True))
    assert data["documents"][0]["number"] == CANARY["document"]
    notes = [note["body"] for case in data["cases"] for note in case["notes"]]
    # The dpo's role reaches every person but not restricted content (no restricted access in the world).
    assert CANARY["note"] in notes and CANARY["restricted_note"] not in notes
    [event] = _events(app, "person.access_export")
    assert json.loads(event.details)["format"] == "json" and event.object_id == canary["person"]
    assert CANARY["document"] not in event.details


def test_a_supervisor_without_restricted_access_gets_no_restricted_note(app, world, canary, login_as):
    _set_user(app, world, "supervisor_a", restricted_access=False)
    client = login_as("supervisor_a")
    body = _text(client.get(f"/people/{canary['person']}/subject-access.json"))
    assert CANARY["note"] in body and CANARY["restricted_note"] not in body
    page = _text(client.get(f"/people/{canary['person']}/subject-access?lang=en"))
    assert CANARY["note"] in page and CANARY["restricted_note"] not in page
    assert "Restricted items" in page and "left out" in page


def test_the_printed_export_speaks_the_persons_language(app, world, login_as):
    arabic = _person_with(app, world, languages=["ar", "ber"])
    english = _person_with(app, world, given_name="Second", languages=["en"])
    neither = _person_with(app, world, given_name="Third", languages=["wo", "bm"])
    _set_user(app, world, "supervisor_a", preferred_language="fr")
    client = login_as("supervisor_a")
    page = _text(client.get(f"/people/{arabic}/subject-access"))
    assert '<html lang="ar" dir="rtl">' in page and "bootstrap.rtl.min." in page
    assert '<html lang="en" dir="ltr">' in _text(client.get(f"/people/{english}/subject-access"))
    assert '<html lang="fr" dir="ltr">' in _text(client.get(f"/people/{neither}/subject-access"))
    assert '<html lang="en" dir="ltr">' in _text(client.get(f"/people/{arabic}/subject-access?lang=en"))
    assert '<html lang="fr"' in _text(client.get("/"))  # the user's own pages stay in their language
    formats = [json.loads(event.details)["format"] for event in _events(app, "person.access_export")]
    assert formats == ["print"] * 4


def test_exports_are_rate_limited_per_user(app, world, monkeypatch, login_as):
    person_id = _person_with(app, world)
    monkeypatch.setitem(app.config, "EXPORT_RATE_LIMIT", "1/hour")
    client = login_as("supervisor_a")
    assert client.get(f"/people/{person_id}/subject-access.json").status_code == 200
    limited = client.get(f"/people/{person_id}/subject-access")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert client.get(f"/people/{person_id}/subject-access.json").status_code == 429
    assert len(_events(app, "person.access_export")) == 1
    assert login_as("dpo").get(f"/people/{person_id}/subject-access.json").status_code == 200  # per user


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_export_permissions_403_by_role_and_404_out_of_scope(app, world, login_as, suffix):
    person_id = _person_with(app, world)
    url = f"/people/{person_id}/subject-access{suffix}"
    statuses = {key: login_as(key).get(url).status_code for key in
                ("caseworker_a", "caseworker_restricted", "receiver", "me_officer", "admin", "supervisor_b",
                 "supervisor_a", "dpo")}
    assert statuses == {"caseworker_a": 403, "caseworker_restricted": 403, "receiver": 403, "me_officer": 403,
                        "admin": 403, "supervisor_b": 404, "supervisor_a": 200, "dpo": 200}
    assert len(_events(app, "person.access_export")) == 2


# --- the dpo's lookup and erasure --------------------------------------------------------------------------------


def test_the_dpo_finds_a_person_by_exact_case_number_without_it_in_the_url(app, world, canary, login_as):
    client = login_as("dpo")
    assert client.get("/privacy").status_code == 200
    token = csrf_token(client, "/privacy")
    found = client.post("/privacy", data={"csrf_token": token, "case_number": canary["number"].lower()})
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/privacy/people/{canary['person']}")
    assert canary["number"] not in found.headers["Location"]
    page = _text(client.get(found.headers["Location"]))
    assert CANARY["given_name"] in page and canary["number"] in page
    assert f"/privacy/people/{canary['person']}/anonymise" in page and "subject-access.json" in page
    missing = client.post("/privacy", data={"csrf_token": token, "case_number": canary["number"][:-1] + "9"})
    assert missing.status_code == 200 and _french(app, "No case has this number.") in _shown(missing)
    partial = client.post("/privacy", data={"csrf_token": token, "case_number": canary["number"][:-2]})
    assert partial.status_code == 200  # exact numbers only
    events = _events(app, "person.lookup")
    assert [json.loads(event.details)["found"] for event in events] == [True, False, False]
    assert all(canary["number"][:8] not in event.details for event in events)


def test_only_the_dpo_looks_people_up_and_erases(app, world, canary, login_as):
    for key in ("supervisor_a", "caseworker_a", "admin", "me_officer", "receiver"):
        client = login_as(key)
        for url in ("/privacy", f"/privacy/people/{canary['person']}",
                    f"/privacy/people/{canary['person']}/anonymise"):
            assert client.get(url).status_code == 403, (key, url)
        assert client.post(f"/privacy/people/{canary['person']}/anonymise",
                           data={"csrf_token": csrf_token(client, "/"), "reason": "other", "confirm": "y"}
                           ).status_code == 403
    assert login_as("dpo").get("/privacy/people/999999").status_code == 404


def test_anonymisation_through_the_page_needs_confirmation_and_happens_once(app, world, canary, login_as):
    client = login_as("dpo")
    url = f"/privacy/people/{canary['person']}/anonymise"
    token = csrf_token(client, url)
    unconfirmed = client.post(url, data={"csrf_token": token, "reason": "subject_request"})
    assert unconfirmed.status_code == 200 and 'id="confirm-errors"' in _text(unconfirmed)
    no_reason = client.post(url, data={"csrf_token": token, "reason": "", "confirm": "y"})
    assert no_reason.status_code == 200 and 'id="reason-errors"' in _text(no_reason)
    with app.app_context():
        assert db.session.get(Beneficiary, canary["person"]).anonymised_at is None
    done = client.post(url, data={"csrf_token": token, "reason": "subject_request", "confirm": "y"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/privacy/people/{canary['person']}")
    anonymised = _french(app, "Anonymised")
    summary = _shown(client.get(done.headers["Location"]))
    assert anonymised in summary and CANARY["given_name"] not in summary and canary["number"] in summary
    again = client.post(url, data={"csrf_token": token, "reason": "subject_request", "confirm": "y"})
    assert again.status_code == 200 and _french(app, "This person's data has already been anonymised.") in _shown(again)
    assert len(_events(app, "person.anonymise")) == 1
    person_page = _shown(login_as("caseworker_a").get(f"/beneficiaries/{canary['person']}"))
    assert anonymised in person_page and CANARY["given_name"] not in person_page
    assert CANARY["document"] not in person_page and "/consents/new" not in person_page
