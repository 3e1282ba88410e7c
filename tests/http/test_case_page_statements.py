"""The case page's scoped statements (its notes, its referrals) are kept per process and reader
(caseapp.fragments.kept_statement) with the case bound at each visit: no reader ever runs another's, a right granted
or taken elsewhere shows at the next visit, and a second visit, of any case, builds neither again."""
import html
import re
from datetime import date

import pytest

from caseapp.auth.models import User
from caseapp.cases import notes
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.referrals import queries, services
from tests.http.test_case_list_fragments import _elsewhere
from tests.http.test_referral_pages import _case_id, _service, directory  # noqa: F401 (a fixture)

GENERAL, RESTRICTED, REASON = "Note ordinaire 4HV8", "Note psychosociale 9KQ2", "Accès aux droits 3TZP"


@pytest.fixture
def case_ids(app, world, register, directory) -> list[int]:
    """Two cases at A-OUJ. The first has a general note, a psychosocial note and a referral sent on to partner B;
    the second a general note only."""
    first = _case_id(app, register("caseworker_a", given_name="Amina")[1])
    second = _case_id(app, register("caseworker_a", given_name="Youssef")[1])

    def work(actor_of):
        worker, case = actor_of("caseworker_a"), db.session.get(Case, first)
        notes.add_note(worker, case, kind="general", body=GENERAL, occurred_on=date.today())
        notes.add_note(actor_of("caseworker_restricted"), case, kind="psychosocial", body=RESTRICTED,
                       occurred_on=date.today())
        referral = services.create_referral(worker, case, service_code="social.legal_aid",
                                            receiving_partner_id=world.partners["B"], priority="urgent",
                                            reason=REASON, consent_method="signed_form")
        services.transition(worker, referral, "submit")
        services.transition(actor_of("supervisor_a"), referral, "approve")
        notes.add_note(worker, db.session.get(Case, second), kind="general", body=GENERAL, occurred_on=date.today())

    _service(app, world, work)
    return [first, second]


def _shown(client, case_id: int) -> dict[str, bool]:
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    referrals = page[page.index('id="referrals"'):page.index('id="notes"')]
    return {"general": GENERAL in page, "restricted": RESTRICTED in page,
            "referral": re.search(r'href="/referrals/\d+"', referrals) is not None,
            "timeline": referrals.count(" · ") >= 3}  # its status, then its two steps (submitted, approved)


EVERYTHING = {"general": True, "restricted": True, "referral": True, "timeline": True}
NOT_RESTRICTED = EVERYTHING | {"restricted": False}


def test_readers_never_run_each_others_statements(app, world, case_ids, login_as):
    expected = {"caseworker_a": NOT_RESTRICTED, "caseworker_restricted": EVERYTHING, "supervisor_a": EVERYTHING}
    readers = {key: login_as(key) for key in expected}
    for _ in range(2):  # the second round runs what the first kept
        assert {key: _shown(client, case_ids[0]) for key, client in readers.items()} == expected
    assert login_as("caseworker_b").get(f"/cases/{case_ids[0]}").status_code == 404


def test_restricted_access_granted_and_taken_elsewhere_shows_at_the_next_visit(app, world, case_ids, login_as):
    client = login_as("caseworker_a")
    assert _shown(client, case_ids[0]) == NOT_RESTRICTED
    assert _shown(client, case_ids[0]) == NOT_RESTRICTED  # kept
    _elsewhere(app, "UPDATE user_account SET restricted_access = :on WHERE id = :user",
               on=True, user=world.users["caseworker_a"])
    assert _shown(client, case_ids[0]) == EVERYTHING
    _elsewhere(app, "UPDATE user_account SET restricted_access = :on WHERE id = :user",
               on=False, user=world.users["caseworker_a"])
    assert _shown(client, case_ids[0]) == NOT_RESTRICTED


def test_a_second_visit_of_any_case_builds_neither_statement(app, world, case_ids, login_as, monkeypatch):
    built = {"notes": 0, "referrals": 0}
    for module, name, key in ((notes, "_visible_notes", "notes"), (queries, "_case_referrals", "referrals")):
        original = getattr(module, name)

        def counted(actor, _original=original, _key=key):
            built[_key] += 1
            return _original(actor)

        monkeypatch.setattr(module, name, counted)
    client = login_as("caseworker_a")
    assert _shown(client, case_ids[0]) == NOT_RESTRICTED and built == {"notes": 1, "referrals": 1}
    assert _shown(client, case_ids[1]) == {"general": True, "restricted": False, "referral": False,
                                           "timeline": False}
    assert _shown(client, case_ids[0]) == NOT_RESTRICTED
    assert built == {"notes": 1, "referrals": 1}
    _shown(login_as("caseworker_restricted"), case_ids[0])
    assert built == {"notes": 2, "referrals": 2}  # another reader: their own
    with app.app_context():
        assert db.session.get(User, world.users["caseworker_a"]).restricted_access is False
