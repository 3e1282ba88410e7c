"""Audited reads (record_read): written at commit, so the audit writers' lock is not held while a page renders."""
import json

import pytest
from sqlalchemy import func, select, text

from caseapp.audit.chain import verify_chain
from caseapp.audit.models import AuditEvent
from caseapp.audit.service import record, record_read
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary
from caseapp.beneficiaries.services import view_beneficiary
from caseapp.extensions import db


def _audit_statements(statements: list[str]) -> list[str]:
    return [statement for statement in statements
            if "audit_event" in statement or "pg_advisory_xact_lock" in statement]


@pytest.fixture
def person_and_actor(app, world, register):
    person_id, _ = register("caseworker_a")
    with app.app_context():
        yield db.session.get(Beneficiary, person_id), db.session.get(User, world.users["caseworker_a"])
        db.session.rollback()


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_read_touches_the_audit_chain_only_when_the_transaction_commits(person_and_actor, count_queries):
    person, actor = person_and_actor
    with count_queries() as before_commit:
        view_beneficiary(actor, person)
        db.session.scalar(select(func.count(Beneficiary.id)))  # the page goes on reading, with autoflush
    assert _audit_statements(before_commit.statements) == []  # neither the chain lock nor the event yet
    with count_queries() as committing:
        db.session.commit()
    assert any(statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT")
               for statement in committing.statements)
    [event] = _events("beneficiary.view")
    assert (event.actor_id, event.partner_id, event.object_type, event.object_id) == (
        actor.id, actor.partner_id, "beneficiary", person.id)
    assert verify_chain(db.session).ok


def test_reads_are_chained_after_the_transactions_own_events_with_their_fields(person_and_actor):
    person, actor = person_and_actor
    record_read(actor, "test.read", person, page="first")
    written = record(actor, "test.write", person)
    record_read(actor, "test.read", None, page="second")
    db.session.commit()
    reads = _events("test.read")
    assert [json.loads(event.details) for event in reads] == [{"page": "first"}, {"page": "second"}]
    assert written.id < reads[0].id < reads[1].id
    assert reads[1].object_id is None and reads[1].object_type is None
    assert verify_chain(db.session).ok


def test_a_rolled_back_read_is_never_written(person_and_actor):
    person, actor = person_and_actor
    view_beneficiary(actor, person)
    db.session.rollback()
    record(actor, "test.later", person)  # a later transaction that does commit
    db.session.commit()
    assert _events("beneficiary.view") == []
    assert len(_events("test.later")) == 1


def test_a_savepoint_rolled_back_keeps_the_read_of_its_transaction(person_and_actor):
    person, actor = person_and_actor
    view_beneficiary(actor, person)
    savepoint = db.session.begin_nested()
    person.given_name = "Changed"
    savepoint.rollback()
    db.session.commit()
    assert len(_events("beneficiary.view")) == 1
    assert db.session.get(Beneficiary, person.id).given_name != "Changed"


def test_each_read_is_written_once(person_and_actor):
    person, actor = person_and_actor
    view_beneficiary(actor, person)
    db.session.commit()
    db.session.commit()  # nothing left to write
    assert len(_events("beneficiary.view")) == 1


def test_a_released_savepoint_leaves_the_read_to_the_outer_commit(person_and_actor, count_queries):
    person, actor = person_and_actor
    view_beneficiary(actor, person)
    with count_queries() as savepoint:
        with db.session.begin_nested():
            person.languages = "fr"
    assert _audit_statements(savepoint.statements) == []  # no chain lock taken half-way through the transaction
    db.session.commit()
    assert len(_events("beneficiary.view")) == 1


def test_a_savepoint_that_fails_keeps_the_read_of_its_transaction(person_and_actor):
    from sqlalchemy.exc import IntegrityError

    person, actor = person_and_actor
    view_beneficiary(actor, person)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():  # a partner copied with its own primary key: refused
            db.session.execute(text("INSERT INTO partner (id, code, name, kind, active) "
                                    "SELECT id, code, name, kind, active FROM partner LIMIT 1"))
    db.session.commit()
    assert len(_events("beneficiary.view")) == 1


def test_a_read_with_changes_pending_or_no_transaction_is_written_at_once(person_and_actor, count_queries):
    person, actor = person_and_actor
    person.languages = "ar"  # a pending change: the chain lock must come before its row lock
    with count_queries() as pending:
        view_beneficiary(actor, person)
    assert any("INSERT INTO audit_event" in statement.upper().replace("AUDIT_EVENT", "audit_event")
               for statement in pending.statements)
    db.session.commit()
    view_beneficiary(actor, person)  # right after a commit: no transaction begun yet
    db.session.rollback()
    record(actor, "test.later", person)
    db.session.commit()
    assert len(_events("beneficiary.view")) == 1  # the first; the second went with its rollback


def test_what_a_read_says_is_taken_when_it_is_recorded(person_and_actor):
    person, actor = person_and_actor
    fields = {"page": "first"}
    record_read(actor, "test.read", person, **fields)
    fields["page"] = "changed"
    db.session.commit()
    [event] = _events("test.read")
    assert json.loads(event.details) == {"page": "first"} and event.object_id == person.id
