"""Security requirement 7 over the whole URL map: for every GET route that takes a record id, every user of
another partner (and every role without case work) gets 403 or 404 for each of partner A's records — never the
page, never a word of it. Walks `app.url_map`, so a route added later is covered without editing this file."""
import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from caseapp.auth.models import User
from caseapp.beneficiaries.models import ConsentRecord, IdentityDocument
from caseapp.cases import followups, notes, plan
from caseapp.cases.models import Case
from caseapp.extensions import db
from caseapp.referrals.models import DirectoryEntry
from caseapp.referrals.services import create_referral, transition

SECRET_WORD = "Quixotrandel"  # given name of partner A's person: must never reach a foreign user
# Users outside partner A's case scope; the dpo and admin have their own programme-wide rules (tested elsewhere).
FOREIGN_USERS = ("caseworker_b", "supervisor_b", "receiver", "me_officer")


@pytest.fixture
def partner_a_records(app, world, register) -> list[int]:
    """Ids of one of each kind of record of partner A (a person with documents and consents, a case with notes,
    a goal, an action, a follow-up, and a referral sent to partner B, which has no receiver)."""
    person_id, number = register("caseworker_restricted", given_name=SECRET_WORD, document_type="passport",
                                 document_number="QX1234567")
    with app.app_context():
        worker = db.session.get(User, world.users["caseworker_restricted"])
        supervisor = db.session.get(User, world.users["supervisor_a"])
        case = db.session.scalar(select(Case).where(Case.number == number))
        note = notes.add_note(worker, case, kind="general", body=f"{SECRET_WORD} note", occurred_on=date.today())
        restricted = notes.add_note(worker, case, kind="psychosocial", body=f"{SECRET_WORD} psy",
                                    occurred_on=date.today())
        goal = plan.add_goal(worker, case, area="employment", title=f"{SECRET_WORD} goal")
        action = plan.add_action(worker, goal, description=f"{SECRET_WORD} action", owner="Me",
                                 due_date=date.today() + timedelta(days=7))
        follow_up = followups.add_follow_up(worker, case, purpose=f"{SECRET_WORD} visit",
                                            due_date=date.today() + timedelta(days=3), assigned_to_id=None)
        db.session.add(DirectoryEntry(partner_id=world.partners["B"], service_code="employment.anapec", commune_code="OUJ"))
        db.session.flush()
        referral = create_referral(worker, case, service_code="employment.anapec", receiving_partner_id=world.partners["B"],
                                   priority="normal", reason=f"{SECRET_WORD} reason", consent_method="signed_form",
                                   consent_witness="", shared_fields=["nationality"])
        transition(worker, referral, "submit")
        transition(supervisor, referral, "approve")
        ids = {person_id, case.id, note.id, restricted.id, goal.id, action.id, follow_up.id, referral.id}
        ids |= set(db.session.scalars(select(ConsentRecord.id).where(ConsentRecord.beneficiary_id == person_id)))
        ids |= set(db.session.scalars(select(IdentityDocument.id).where(IdentityDocument.beneficiary_id == person_id)))
        db.session.commit()
    return sorted(ids)


def _id_routes(app):
    """GET rules with at least one integer argument (and no other argument)."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        converters = rule._converters
        if "GET" in rule.methods and rule.arguments and all(
                isinstance(converters[name], IntegerConverter) for name in rule.arguments):
            yield rule


def _urls(app, rule, ids: list[int]):
    names = sorted(rule.arguments)
    adapter = app.url_map.bind("localhost")
    for values in itertools.product(ids, repeat=len(names)):
        yield adapter.build(rule.endpoint, dict(zip(names, values)))


def test_no_route_shows_a_foreign_record(app, world, partner_a_records, login_as):
    rules = list(_id_routes(app))
    assert len(rules) >= 15, "the walk found the id routes"  # guards against a converter rename emptying the walk
    shown = []
    for user_key in FOREIGN_USERS:
        client = login_as(user_key)
        for rule in rules:
            for url in _urls(app, rule, partner_a_records):
                response = client.get(url)
                if response.status_code not in (403, 404) or SECRET_WORD in response.get_data(as_text=True):
                    shown.append((user_key, url, response.status_code))
    assert shown == []


def test_the_owner_does_see_them(app, world, partner_a_records, login_as):
    """The same walk as partner A's worker finds pages: the 403/404 above are about scope, not broken URLs."""
    client = login_as("caseworker_restricted")
    found = {rule.endpoint for rule in _id_routes(app)
             for url in _urls(app, rule, partner_a_records) if client.get(url).status_code == 200}
    assert {"beneficiaries.show", "cases.show", "casework.edit_note", "referrals.show"} <= found


@pytest.mark.parametrize("user_key, allowed_prefixes", [
    ("dpo", ("privacy.", "audit.")),  # people's rights and access logs, never case contents
    ("admin", ("admin.",)),  # accounts, partners, service points: ids of those tables, never a case
])
def test_programme_wide_roles_reach_only_their_own_pages(app, world, partner_a_records, login_as, user_key,
                                                          allowed_prefixes):
    client = login_as(user_key)
    opened = {(rule.endpoint, url) for rule in _id_routes(app) for url in _urls(app, rule, partner_a_records)
              if client.get(url).status_code == 200}
    assert opened, "the walk reached pages of this role"
    assert {endpoint for endpoint, _ in opened if not endpoint.startswith(allowed_prefixes)} == set()
