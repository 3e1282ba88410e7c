"""Requirements 13 and 14 for data written before encryption: migration 4ecfd3a40403 seals the document numbers and
note bodies already stored and computes the blind indexes of documents and phones.

Like test_migrations.py's down-and-up test, this runs on a temporary SQLite database of its own whatever the test
backend is: it needs a database at an older revision, which the shared test database never is."""
import flask_migrate
import pytest
from sqlalchemy import text

from caseapp import create_app
from caseapp.auth.models import User
from caseapp.beneficiaries.lookup import document_lookup_index, phone_lookup_index
from caseapp.beneficiaries.models import Beneficiary, IdentityDocument
from caseapp.cases.models import CaseNote
from caseapp.cases.services import search_cases
from caseapp.extensions import db
from caseapp.security.encryption import SealError, keyring, unseal

BEFORE_SEALING = "f4ae8037ac64"

PEOPLE = {  # beneficiary id → (phone as stored before the migration, document number as stored before)
    1: ("+212 612 345 678", "ab 123-456/7"),
    2: ("06 61 22 33 44", "P-778899"),
    3: ("612 345 679", "CD.998877"),  # a Moroccan mobile typed without its leading 0
    4: (None, "EF 10 20 30"),
}
NOTES = {  # note id → (restricted, body as stored before the migration)
    1: (True, "Legacy restricted note: fled an abusive employer"),
    2: (False, "Legacy general note: needs shoes"),
    3: (True, "Legacy restricted note: second one"),
}


def _insert_legacy_rows(connection) -> None:
    """Rows as the schema of revision f4ae8037ac64 holds them: plain document numbers and note bodies."""
    def run(sql: str, rows: list[dict] | dict) -> None:
        connection.execute(text(sql), rows)

    run("INSERT INTO region (code, name_fr, name_ar, name_en) VALUES ('04', 'Oriental', 'الشرق', 'Oriental')", {})
    run("INSERT INTO province (id, region_code, name_fr, name_ar) VALUES (1, '04', 'Oujda-Angad', 'وجدة أنجاد')", {})
    run("INSERT INTO commune (code, name_fr, name_ar, province_id) VALUES ('OUJ', 'Oujda', 'وجدة', 1)", {})
    run("INSERT INTO partner (id, code, name, kind, active) VALUES (1, 'A', 'Partner A', 'association', :yes)",
        {"yes": True})
    run("INSERT INTO service_point (id, code, name, commune_code, partner_id, active) "
        "VALUES (1, 'A-OUJ', 'Point A-OUJ', 'OUJ', 1, :yes)", {"yes": True})
    run("INSERT INTO user_account (id, username, full_name, password_hash, role, partner_id, restricted_access, "
        "active, session_version, created_at) VALUES (1, 'worker', 'Worker', 'x', 'caseworker', 1, :yes, :yes, 1, "
        "'2025-01-02 09:00:00')", {"yes": True})
    run("INSERT INTO user_service_point (user_id, service_point_id) VALUES (1, 1)", {})
    run("INSERT INTO beneficiary (id, given_name, family_name, name_search, sex, date_of_birth, dob_estimated, "
        "nationality, profile, phone, phone_digits, commune_code, languages, is_household_head, registered_at, "
        "registered_by_id, registered_at_service_point_id, version) VALUES (:id, 'Person', :family, :search, 'M', "
        "'1990-05-17', :no, 'MAR', 'returnee', :phone, NULL, 'OUJ', 'ar', :no, '2025-01-02 10:00:00', 1, 1, 1)",
        [{"id": pid, "family": f"Legacy{pid}", "search": f"person legacy{pid}", "phone": phone, "no": False}
         for pid, (phone, _) in PEOPLE.items()])
    run("INSERT INTO case_file (id, number, beneficiary_id, partner_id, service_point_id, assigned_worker_id, status, "
        "opened_at, opened_by_id, version, updated_at) VALUES (:id, :number, :id, 1, 1, 1, 'registered', "
        "'2025-01-02 10:00:00', 1, 1, '2025-01-02 10:00:00')",
        [{"id": pid, "number": f"OUJ-2025-{pid:05d}"} for pid in PEOPLE])
    run("INSERT INTO identity_document (id, beneficiary_id, doc_type, number) VALUES (:id, :id, 'passport', :number)",
        [{"id": pid, "number": number} for pid, (_, number) in PEOPLE.items()])
    run("INSERT INTO case_note (id, case_id, kind, restricted, body, occurred_on, author_id, created_at, version) "
        "VALUES (:id, 1, :kind, :restricted, :body, '2025-01-03', 1, '2025-01-03 10:00:00', 1)",
        [{"id": nid, "kind": "psychosocial" if restricted else "general", "restricted": restricted, "body": body}
         for nid, (restricted, body) in NOTES.items()])


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """An app on a database brought to f4ae8037ac64, given plain legacy rows, then upgraded to head."""
    folder = tmp_path_factory.mktemp("sealing")
    application = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'mig.sqlite3'}",
                              "INSTANCE_PATH": str(folder)})
    with application.app_context():
        flask_migrate.upgrade(revision=BEFORE_SEALING)
        with db.engine.begin() as connection:
            _insert_legacy_rows(connection)
            assert connection.execute(text("SELECT number FROM identity_document WHERE id = 1")).scalar_one() \
                == "ab 123-456/7"
        flask_migrate.upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def ctx(migrated):
    with migrated.app_context():
        yield
        db.session.rollback()


def _rows(sql: str) -> dict:
    return {row.id: row for row in db.session.execute(text(sql))}


def test_document_numbers_are_sealed_and_open_to_the_originals(ctx):
    rows = _rows("SELECT id, number, row_key, number_index FROM identity_document")
    assert set(rows) == set(PEOPLE)
    assert len({row.row_key for row in rows.values()}) == len(rows)  # one row key per row
    for pid, (_, plain) in PEOPLE.items():
        row = rows[pid]
        assert row.number.startswith("t1:") and plain not in row.number
        assert row.row_key and len(row.row_key) == 32
        assert unseal(row.number, f"identity_document.number:{row.row_key}", keyring()) == plain
        assert db.session.get(IdentityDocument, pid).number == plain
        with pytest.raises(SealError):  # bound to its own row
            other = rows[pid % len(PEOPLE) + 1]
            unseal(row.number, f"identity_document.number:{other.row_key}")


def test_note_bodies_are_sealed_and_open_to_the_originals(ctx):
    rows = _rows("SELECT id, body, row_key, restricted FROM case_note")
    assert set(rows) == set(NOTES)
    for nid, (restricted, plain) in NOTES.items():
        row = rows[nid]
        assert bool(row.restricted) is restricted
        assert row.body.startswith("t1:") and plain not in row.body and "abusive" not in row.body
        assert unseal(row.body, f"case_note.body:{row.row_key}") == plain
        assert db.session.get(CaseNote, nid).body == plain
        with pytest.raises(SealError):  # bound to its column
            unseal(row.body, f"identity_document.number:{row.row_key}")


def test_plain_values_are_gone_from_every_table(ctx):
    plain = [number for _, number in PEOPLE.values()] + [body for _, body in NOTES.values()]
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
            for value in row:
                assert not (isinstance(value, str) and any(secret in value for secret in plain)), table.name


def test_document_indexes_equal_the_lookup_index(ctx):
    rows = _rows("SELECT id, number_index FROM identity_document")
    for pid, (_, number) in PEOPLE.items():
        assert rows[pid].number_index == document_lookup_index(number)
        assert rows[pid].number_index == document_lookup_index(number.upper().replace(" ", "-"))
    assert rows[1].number_index == document_lookup_index("AB1234567")


def test_phone_indexes_equal_the_lookup_index(ctx):
    rows = _rows("SELECT id, phone, phone_index FROM beneficiary")
    assert rows[4].phone_index is None
    for pid in (1, 2):
        phone = PEOPLE[pid][0]
        assert rows[pid].phone == phone  # the phone itself is not a sealed column
        assert rows[pid].phone_index == phone_lookup_index(phone)
        assert db.session.get(Beneficiary, pid).phone_index == phone_lookup_index(phone)


def test_phone_typed_without_its_leading_zero_is_indexed_as_the_lookup_does(ctx):
    # Registration indexes "612 345 679" as 0612345679 (phone_lookup_index); the migration must do the same, or
    # the person is not found by phone until the next key rotation recomputes the index.
    phone_index = db.session.scalar(text("SELECT phone_index FROM beneficiary WHERE id = 3"))
    assert phone_index == phone_lookup_index(PEOPLE[3][0]) == phone_lookup_index("0612345679")


def _found(query: str) -> set[int]:
    actor = db.session.get(User, 1)
    return {case.beneficiary_id for case in search_cases(actor, text=query, audit=False).items}


def test_migrated_people_are_found_by_document_and_phone(ctx):
    assert _found("AB1234567") == {1}
    assert _found("ab-123-456-7") == {1}
    assert _found("p778899") == {2}
    assert _found("0612345678") == {1}
    assert _found("+212 661 22 33 44") == {2}
    assert _found("ef102030") == {4}
    assert _found("123456") == set()


def test_migrated_person_with_a_phone_without_its_leading_zero_is_found_by_phone(ctx):
    assert _found("0612345679") == {3}
    assert _found("612 345 679") == {3}
