"""`flask caseapp generate`: synthetic people with two years of history, written as the services would have."""
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from caseapp.audit.chain import verify_chain
from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.beneficiaries.models import PROFILES, Beneficiary, ConsentRecord, IdentityDocument, PersonKey
from caseapp.cases.models import CASE_STATUSES, Case, CaseNote, CaseNumberCounter, ChangeRecord, FollowUp
from caseapp.extensions import db
from caseapp.places.models import ServicePoint
from caseapp.referrals.models import REFERRAL_STATUSES, Referral, ReferralEvent
from caseapp.referrals.services import TRANSITIONS
from tests.conftest import login, valid_registration
from tests.unit.test_cli import cli  # noqa: F401 - the fixture: an app whose instance folder is tmp_path

PEOPLE = 60
UNTIL = "2026-06-30"


def _generate(runner, people=PEOPLE, seed=5, until=UNTIL):
    args = ["caseapp", "generate", "--people", str(people), "--seed", str(seed)] + (["--until", until] if until else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def generated(cli):
    """60 people generated on the empty test database; yields the app, the runner and the command's output."""
    cli_app, runner = cli
    result = _generate(runner)
    return cli_app, runner, result.output


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _logins(tmp_path) -> dict[str, str]:
    lines = (tmp_path / "demo-logins.txt").read_text(encoding="utf-8").splitlines()
    return {line.split()[0]: line.split()[1] for line in lines}


def test_an_empty_database_gets_the_demo_organisations_accounts_and_people(generated, tmp_path):
    cli_app, _, output = generated
    assert "Demo data loaded: 0 people" in output and "supervisor" in output and f"Generated {PEOPLE} people" in output
    assert set(_logins(tmp_path)) >= {"caseworker", "supervisor", "receiver", "dpo"}
    with cli_app.app_context():
        assert _count(Beneficiary) == PEOPLE and _count(Case) == PEOPLE
        assert _count(PersonKey) >= 4 * PEOPLE
        assert PEOPLE < _count(CaseNote) < 10 * PEOPLE and PEOPLE // 2 < _count(FollowUp) < 5 * PEOPLE
        assert _count(AuditEvent) > 10 * PEOPLE
        people = db.session.scalars(select(Beneficiary)).all()
        points = db.session.scalars(select(ServicePoint.id)).all()
        assert len(points) == 11 and {p.registered_at_service_point_id for p in people} == set(points)
        assert {p.profile for p in people} == set(PROFILES) and {p.sex for p in people} == {"F", "M"}
        assert len({p.nationality for p in people}) >= 6
        ages = [(date.fromisoformat(UNTIL) - p.date_of_birth).days // 365 for p in people]
        assert min(ages) < 18 and max(ages) >= 50
        counted = db.session.scalar(select(func.count(func.distinct(ConsentRecord.beneficiary_id))).where(
            ConsentRecord.kind == "statistics", ConsentRecord.withdrawn_at.is_(None)))
        assert counted >= 0.7 * PEOPLE  # most people are counted: reports have figures
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord).where(
            ConsentRecord.kind == "processing")) == PEOPLE


def test_every_case_status_and_referral_status_with_consistent_history(generated):
    cli_app, _, _ = generated
    with cli_app.app_context():
        cases = db.session.scalars(select(Case)).all()
        assert {case.status for case in cases} == set(CASE_STATUSES)
        referrals = db.session.scalars(select(Referral)).all()
        assert {referral.status for referral in referrals} == set(REFERRAL_STATUSES)
        history = defaultdict(list)
        for entry in db.session.scalars(select(ChangeRecord).where(ChangeRecord.object_type == "case_file")
                                        .order_by(ChangeRecord.changed_at, ChangeRecord.id)):
            history[entry.case_id].append(json.loads(entry.changes))
        for case in cases:
            status = "registered"
            for changes in history[case.id]:
                if "status" in changes:
                    assert changes["status"][0] == status
                    status = changes["status"][1]
            assert status == case.status
            assert case.version == 1 + len(history[case.id])  # one version per recorded change of the case
            if case.status == "closed":
                assert case.closure_reason and case.closed_at and case.closure_requested_by_id
        for referral in referrals:
            status, moments = "draft", [referral.created_at]
            for event in referral.events:
                assert event.from_status == status and event.to_status == TRANSITIONS[event.action][1]
                status = event.to_status
                moments.append(event.at)
            assert status == referral.status and moments == sorted(moments)
            assert referral.version == 1 + len(referral.events)
            assert (referral.sent_at is not None) == any(event.action == "approve" for event in referral.events)
            if referral.status != "draft":
                consent = db.session.get(ConsentRecord, referral.consent_id)
                assert consent.kind == "sharing" and consent.partner_id == referral.receiving_partner_id


def test_the_audit_chain_verifies_after_one_and_two_runs(generated):
    cli_app, runner, _ = generated
    first = runner.invoke(args=["caseapp", "audit", "verify"])
    assert first.exit_code == 0 and first.output.startswith("audit chain OK")
    _generate(runner, people=25, seed=9, until=None)
    second = runner.invoke(args=["caseapp", "audit", "verify"])
    assert second.exit_code == 0, second.output
    with cli_app.app_context():
        assert verify_chain(db.session).events == _count(AuditEvent)
        assert _count(Beneficiary) == PEOPLE + 25
        actions = set(db.session.scalars(select(AuditEvent.action).distinct()))
        assert {"beneficiary.create", "case.open", "case_file.stage", "case_file.close", "case_note.create",
                "follow_up.create", "referral.create", "referral.approve", "consent.record"} <= actions


def test_the_same_seed_gives_the_same_people_and_numbers_follow_the_counters(generated):
    cli_app, runner, _ = generated
    _generate(runner)  # the same seed again, on the same database
    with cli_app.app_context():
        rows = db.session.execute(select(
            Beneficiary.given_name, Beneficiary.family_name, Beneficiary.given_name_alt, Beneficiary.date_of_birth,
            Beneficiary.sex, Beneficiary.nationality, Beneficiary.profile, Case.status, Case.number)
            .join(Case, Case.beneficiary_id == Beneficiary.id).order_by(Beneficiary.id)).all()
        first, second = rows[:PEOPLE], rows[PEOPLE:]
        assert [row[:-1] for row in first] == [row[:-1] for row in second]
        used = Counter()
        for row in first:
            used[row.number.rsplit("-", 1)[0]] += 1
        for before, again in zip(first, second):
            prefix, sequence = before.number.rsplit("-", 1)
            assert again.number == f"{prefix}-{int(sequence) + used[prefix]:05d}"
        counters = {f"{c.commune_code}-{c.year}": c.last_value for c in db.session.scalars(select(CaseNumberCounter))}
        highest = Counter()
        for row in rows:
            prefix, sequence = row.number.rsplit("-", 1)
            highest[prefix] = max(highest[prefix], int(sequence))
        assert counters == dict(highest)


def test_generated_records_decrypt_and_open_through_the_app(generated, tmp_path):
    cli_app, _, _ = generated
    with cli_app.app_context():
        assert all(document.number for document in db.session.scalars(select(IdentityDocument)))
        assert all(note.body for note in db.session.scalars(select(CaseNote)))
        assert all(json.loads(entry.changes) is not None for entry in db.session.scalars(select(ChangeRecord)))
        nador = db.session.scalar(select(ServicePoint.id).where(ServicePoint.code == "IOM-NAD"))
        note = db.session.scalars(select(CaseNote).join(Case, Case.id == CaseNote.case_id).where(
            Case.service_point_id == nador, CaseNote.restricted.is_(False)).order_by(CaseNote.id)).first()
        case_id, body, person = note.case_id, note.body, note.case.beneficiary
        person_id, name = person.id, person.given_name
    client = cli_app.test_client()
    assert login(client, "caseworker.nador", _logins(tmp_path)["caseworker.nador"]).status_code == 302
    page = client.get(f"/beneficiaries/{person_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and name in page.get_data(as_text=True)
    case_page = client.get(f"/cases/{case_id}", headers={"Accept-Language": "en"})
    assert case_page.status_code == 200
    escaped = body.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")
    assert escaped in case_page.get_data(as_text=True)


def test_after_generate_registration_numbers_continue_and_duplicates_are_found(generated):
    from caseapp.beneficiaries.duplicates import find_duplicates
    from caseapp.beneficiaries.services import register_beneficiary

    cli_app, _, _ = generated
    with cli_app.test_request_context():
        worker = db.session.scalar(select(User).where(User.username == "caseworker.nador"))
        nador = worker.service_points[0]
        numbers = set(db.session.scalars(select(Case.number)))
        person, case = register_beneficiary(worker, valid_registration(nador.id, commune_code="NAD"))
        prefix, sequence = case.number.rsplit("-", 1)
        counter = db.session.get(CaseNumberCounter, (nador.commune_code, int(prefix.split("-")[1])))
        assert case.number not in numbers and int(sequence) == counter.last_value
        assert int(sequence) == 1 + max((int(n.rsplit("-", 1)[1]) for n in numbers if n.startswith(prefix + "-")),
                                        default=0)
        db.session.rollback()
        known = db.session.scalars(select(Beneficiary).join(Case, Case.beneficiary_id == Beneficiary.id).where(
            Case.service_point_id == nador.id, Beneficiary.dob_estimated.is_(False)).order_by(Beneficiary.id)).first()
        variant = {"given_name": known.family_name, "family_name": known.given_name.upper(), "sex": known.sex,
                   "date_of_birth": known.date_of_birth.isoformat(), "dob_is_estimated": False,
                   "nationality": known.nationality, "document_number": ""}  # names swapped, in capitals
        found = find_duplicates(worker, variant)
        assert known.id in [candidate.id for candidate, _ in found.visible]
        db.session.rollback()


def test_people_go_to_the_existing_organisations_of_a_database_with_users(app, world, cli):
    cli_app, runner = cli
    result = _generate(runner, people=30, seed=2)
    assert "Demo data loaded" not in result.output
    with cli_app.app_context():
        assert _count(User) == len(world.users)
        points = set(db.session.scalars(select(Case.service_point_id)))
        assert points == set(world.service_points.values())
        registrars = set(db.session.scalars(select(Beneficiary.registered_by_id)))
        assert registrars <= {world.users[key] for key in ("caseworker_a", "caseworker_a2", "caseworker_b",
                                                           "caseworker_restricted")}
        assert _count(Referral) == 0  # no service directory: nowhere to refer to
        assert verify_chain(db.session).ok


def test_generate_refuses_to_run_in_production(cli):
    cli_app, runner = cli
    cli_app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["caseapp", "generate", "--people", "5"])
    assert result.exit_code != 0 and "production" in result.output
    with cli_app.app_context():
        assert _count(Beneficiary) == 0 and _count(User) == 0


def test_case_numbers_have_the_commune_and_local_year(generated):
    cli_app, _, _ = generated
    with cli_app.app_context():
        for number, commune in db.session.execute(select(Case.number, ServicePoint.commune_code).join(
                ServicePoint, ServicePoint.id == Case.service_point_id)):
            assert re.fullmatch(rf"{commune}-20(24|25|26)-\d{{5}}", number)
        assert _count(ReferralEvent) > 0


def _people_and_cases():
    return db.session.execute(select(
        Beneficiary.given_name, Beneficiary.family_name, Beneficiary.date_of_birth, Beneficiary.nationality,
        Case.status, Case.number).join(Case, Case.beneficiary_id == Beneficiary.id).order_by(Beneficiary.id)).all()


def test_chunks_made_by_a_second_process_are_the_chunks_made_in_one(cli):
    from caseapp.demo import seed_demo
    from caseapp.generate.run import generate

    cli_app, _ = cli
    end = datetime(2026, 6, 30, tzinfo=timezone.utc)
    with cli_app.app_context():
        seed_demo(0)
        db.session.commit()
        serial = generate(40, 5, end, chunk_size=40)
        pipelined = generate(40, 5, end, chunk_size=10)  # four chunks: made ahead in a forked process
        assert serial == pipelined
        rows = _people_and_cases()
        assert [row[:-1] for row in rows[:40]] == [row[:-1] for row in rows[40:]]
        assert len({row.number for row in rows}) == 80
        assert verify_chain(db.session).ok


def test_someone_registering_between_two_chunks_gets_and_leaves_consistent_numbers(cli):
    from caseapp.beneficiaries.services import register_beneficiary
    from caseapp.demo import seed_demo
    from caseapp.generate.run import generate

    cli_app, _ = cli
    with cli_app.test_request_context():
        seed_demo(0)
        db.session.commit()
        worker = db.session.scalar(select(User).where(User.username == "caseworker.nador"))
        registered = []

        def register_once(_people):  # runs after the first chunk is written, while the next ones are made ahead
            if not registered:
                registered.append(register_beneficiary(worker, valid_registration(
                    worker.service_points[0].id, commune_code="NAD"))[1].number)
                db.session.commit()

        generate(30, 3, chunk_size=10, progress=register_once)
        numbers = db.session.scalars(select(Case.number)).all()
        assert len(numbers) == len(set(numbers)) == 31 and registered[0] in numbers
        highest = Counter()
        for number in numbers:
            prefix, sequence = number.rsplit("-", 1)
            highest[prefix] = max(highest[prefix], int(sequence))
        counters = {f"{c.commune_code}-{c.year}": c.last_value for c in db.session.scalars(select(CaseNumberCounter))}
        assert counters == dict(highest)
        assert verify_chain(db.session).ok


# --- an empty database: one transaction, indexes and foreign keys made once at the end ----------------------------


def _schema_checks() -> dict:
    """Every index (columns, uniqueness, partial condition) and foreign key of every table, as the database
    reports them."""
    from sqlalchemy import inspect

    inspector = inspect(db.engine)
    checks = {}
    for table in inspector.get_table_names():
        checks[table] = (
            sorted((index["name"], tuple(index["column_names"]), index["unique"],
                    sorted((name, str(value)) for name, value in index.get("dialect_options", {}).items()))
                   for index in inspector.get_indexes(table)),
            sorted((key["name"], tuple(key["constrained_columns"]), key["referred_table"],
                    tuple(key["referred_columns"]), sorted(key.get("options", {}).items()))
                   for key in inspector.get_foreign_keys(table)))
    return checks


def test_a_run_on_an_empty_database_is_one_transaction_that_makes_the_indexes_again(cli, monkeypatch):
    from caseapp.generate import run

    cli_app, runner = cli
    with cli_app.app_context():
        before = _schema_checks()
    names = {index[0] for indexes, _ in before.values() for index in indexes}
    assert {"ix_audit_event_partner_time", "ix_case_file_awaiting_closure", "ix_referral_scope_status"} <= names
    calls = []
    dropped = run.drop_secondary_indexes
    monkeypatch.setattr(run, "drop_secondary_indexes",
                        lambda connection, tables: calls.append(tables) or dropped(connection, tables))
    _generate(runner)
    assert calls == [run.BULK_TABLES]  # the database was empty: one transaction
    with cli_app.app_context():
        assert _schema_checks() == before
        assert _count(Case) == PEOPLE and verify_chain(db.session).ok
    _generate(runner, seed=6)  # people now exist: chunk by chunk, nothing dropped
    assert len(calls) == 1


def test_a_run_in_one_transaction_that_stops_leaves_the_database_as_it_was(cli, monkeypatch):
    from caseapp.demo import seed_demo
    from caseapp.generate import run

    cli_app, _ = cli
    made = []

    def stop_at_the_third_chunk(*args):
        made.append(args)
        if len(made) == 3:
            raise RuntimeError("stopped")
        return make_chunk(*args)

    make_chunk = run.make_chunk
    monkeypatch.setattr(run, "make_chunk", stop_at_the_third_chunk)
    monkeypatch.setattr(run.pipeline, "available", lambda: False)  # the chunks are made in this process
    with cli_app.app_context():
        seed_demo(0)
        db.session.commit()
        before, events = _schema_checks(), _count(AuditEvent)
        with pytest.raises(RuntimeError, match="stopped"):
            run.generate(30, 3, chunk_size=10, in_one=True)
        assert len(made) == 3  # two chunks were written in the transaction before it stopped
        assert _schema_checks() == before
        assert _count(Beneficiary) == _count(Case) == _count(Referral) == 0 and _count(AuditEvent) == events
        run.generate(20, 3, chunk_size=10)  # and the next run writes as usual
        assert _count(Case) == 20 and verify_chain(db.session).ok


def test_a_run_meant_for_an_empty_database_that_has_people_by_then_goes_chunk_by_chunk(cli, monkeypatch):
    from caseapp.demo import seed_demo
    from caseapp.generate import run

    cli_app, _ = cli
    monkeypatch.setattr(run, "drop_secondary_indexes", lambda *args: pytest.fail("indexes dropped with people"))
    with cli_app.app_context():
        seed_demo(2)  # two people registered between the command's look and the run's locks
        db.session.commit()
        before = _schema_checks()
        run.generate(20, 3, chunk_size=10, in_one=True)
        assert _schema_checks() == before  # (first: on SQLite the counts' transaction holds the write lock)
        assert _count(Case) == 22 and verify_chain(db.session).ok
