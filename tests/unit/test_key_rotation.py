"""Requirement 13 (key rotation): `rotate_keys` / `flask caseapp keys rotate` re-seal every stored value with the
current key and recompute the blind indexes, audited, in one transaction; values sealed by a key no longer in the
keyring stop the rotation with SealError and nothing is committed."""
import base64
import hashlib
import hmac
import json
import secrets
from datetime import date

import pytest
from sqlalchemy import select, text

from caseapp import create_app
from caseapp.audit.models import AuditEvent
from caseapp.auth.models import User
from caseapp.beneficiaries.lookup import document_lookup_index, phone_lookup_index
from caseapp.beneficiaries.models import Beneficiary, IdentityDocument
from caseapp.cases.models import Case, CaseNote
from caseapp.cases.notes import add_note
from caseapp.cases.services import search_cases
from caseapp.config import TestConfig
from caseapp.extensions import db
from caseapp.security.encryption import SealError, keyring, unseal
from caseapp.security.keys import key_ids_in_use, rotate_keys

OLD = TestConfig.ENCRYPTION_KEYS  # "t1:<key>", what the session `app` seals with
NEW = "t2:" + base64.b64encode(secrets.token_bytes(32)).decode()
NEWER = "t3:" + base64.b64encode(secrets.token_bytes(32)).decode()

DOCUMENT = "QR 4455-667"
RESTRICTED_BODY = "Rotation canary: protection concern"
GENERAL_BODY = "Rotation canary: general follow-up"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
PENDING_SECRET = "KRSXG5CTMVRXEZLU"

SEALED_COLUMNS = {  # table.column as key_ids_in_use reports it → (table, column)
    "case_note.body": ("case_note", "body"),
    "change_record.changes": ("change_record", "changes"),
    "person_merge.snapshot": ("person_merge", "snapshot"),
    "identity_document.number": ("identity_document", "number"),
    "user_account.totp_pending_secret": ("user_account", "totp_pending_secret"),
    "user_account.totp_secret": ("user_account", "totp_secret"),
}


@pytest.fixture
def make_app(app, tmp_path):
    """make_app(ENCRYPTION_KEYS=..., BLIND_INDEX_KEY=...) → another app on the test database with those keys."""
    made = []

    def _make(**keys):
        settings = {"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "INSTANCE_PATH": str(tmp_path)}
        made.append(create_app({**settings, **keys}))
        return made[-1]

    yield _make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def data(app, world, register):
    """A document number, a restricted and a general note, and a user's TOTP secrets, all sealed under t1."""
    person_id, case_number = register("caseworker_restricted", document_type="passport", document_number=DOCUMENT,
                                      phone="0612 34 56 78")
    with app.app_context():
        actor = db.session.get(User, world.users["caseworker_restricted"])
        case = db.session.scalars(select(Case).where(Case.number == case_number)).one()
        restricted = add_note(actor, case, kind="protection", body=RESTRICTED_BODY, occurred_on=date.today())
        general = add_note(actor, case, kind="general", body=GENERAL_BODY, occurred_on=date.today())
        user = db.session.get(User, world.users["supervisor_a"])
        user.totp_secret = TOTP_SECRET
        user.totp_pending_secret = PENDING_SECRET
        db.session.commit()
        return {"person": person_id, "restricted": restricted.id, "general": general.id, "user": user.id,
                "document": db.session.scalars(select(IdentityDocument.id).where(
                    IdentityDocument.beneficiary_id == person_id)).one()}


def _stored_tokens() -> dict[str, list[str]]:
    """Every stored envelope per table.column, read with raw SQL."""
    return {name: list(db.session.scalars(text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")))
            for name, (table, column) in SEALED_COLUMNS.items()}


def _plaintexts(data) -> dict[str, str]:
    db.session.expire_all()
    user = db.session.get(User, data["user"])
    return {
        "number": db.session.get(IdentityDocument, data["document"]).number,
        "restricted": db.session.get(CaseNote, data["restricted"]).body,
        "general": db.session.get(CaseNote, data["general"]).body,
        "totp_secret": user.totp_secret,
        "totp_pending_secret": user.totp_pending_secret,
    }


EXPECTED = {"number": DOCUMENT, "restricted": RESTRICTED_BODY, "general": GENERAL_BODY,
            "totp_secret": TOTP_SECRET, "totp_pending_secret": PENDING_SECRET}


def _in_use() -> dict[str, dict[str, int]]:
    """key_ids_in_use() without the sealed columns that hold no value yet."""
    return {column: counts for column, counts in key_ids_in_use().items() if counts}


def _counts() -> dict[str, int]:
    """How many values each sealed column holds (the world may have turned the second factor on for some users)."""
    counts = {name: len(tokens) for name, tokens in _stored_tokens().items() if tokens}  # columns holding values
    assert counts["case_note.body"] == 2 and counts["identity_document.number"] == 1
    assert counts["user_account.totp_pending_secret"] >= 1 and counts["user_account.totp_secret"] >= 1
    return counts


def _rotation_events() -> list[dict]:
    return [json.loads(event.details) for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "keys.rotate").order_by(AuditEvent.id))]


def _found(world, query: str) -> set[int]:
    actor = db.session.get(User, world.users["caseworker_restricted"])
    return {case.beneficiary_id for case in search_cases(actor, text=query, audit=False).items}


def test_everything_starts_sealed_under_t1(app, data):
    with app.app_context():
        assert _in_use() == {name: {"t1": count} for name, count in _counts().items()}
        assert _plaintexts(data) == EXPECTED


def test_rotate_keys_reseals_every_value_under_the_new_key(app, world, data, make_app):
    rotated = make_app(ENCRYPTION_KEYS=f"{NEW},{OLD}")
    with rotated.app_context():
        assert keyring().current_key_id == "t2"
        before = _stored_tokens()
        expected_resealed = _counts()
        assert _plaintexts(data) == EXPECTED  # t1 still opens in the new app
        report = rotate_keys()
        db.session.commit()
        assert report.resealed == expected_resealed
        assert report.reindexed == {"identity_document.number_index": 0, "beneficiary.phone_index": 0}

        assert _in_use() == {name: {"t2": count} for name, count in expected_resealed.items()}
        after = {name: tokens for name, tokens in _stored_tokens().items() if name in expected_resealed}
        for name, tokens in after.items():
            assert tokens and all(token.startswith("t2:") for token in tokens), name
            assert not set(tokens) & set(before[name]), name
        assert _plaintexts(data) == EXPECTED
        # Still bound to their row and column after re-sealing.
        number, row_key = db.session.execute(text("SELECT number, row_key FROM identity_document WHERE id = :id"),
                                             {"id": data["document"]}).one()
        assert unseal(number, f"identity_document.number:{row_key}") == DOCUMENT
        with pytest.raises(SealError):
            unseal(number, f"case_note.body:{row_key}")

        events = _rotation_events()
        assert len(events) == 1
        assert events[0]["current_key"] == "t2"
        assert events[0]["resealed"] == expected_resealed
        assert events[0]["reindexed"] == {"identity_document.number_index": 0, "beneficiary.phone_index": 0}
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "keys.rotate")).one()
        assert event.actor_id is None and event.object_id is None
        assert DOCUMENT not in event.details and "canary" not in event.details

        # Run again: nothing left to re-seal.
        assert rotate_keys().resealed == {}
        db.session.commit()

    only_new = make_app(ENCRYPTION_KEYS=NEW)
    with only_new.app_context():
        assert _plaintexts(data) == EXPECTED
        assert _found(world, "qr4455667") == {data["person"]}
        assert _found(world, "+212 612 345 678") == {data["person"]}

    with app.app_context():  # the old app, with t1 only, can no longer open them
        with pytest.raises(SealError, match="no key 't2'"):
            db.session.get(IdentityDocument, data["document"]).number  # noqa: B018


def test_values_written_between_rotations_use_the_current_key(app, world, data, make_app):
    rotated = make_app(ENCRYPTION_KEYS=f"{NEW},{OLD}")
    with rotated.app_context():
        note = db.session.get(CaseNote, data["general"])
        note.body = "Written after t2 became current"
        db.session.commit()
        assert key_ids_in_use()["case_note.body"] == {"t1": 1, "t2": 1}
        report = rotate_keys()
        db.session.commit()
        assert report.resealed["case_note.body"] == 1  # only the t1 one
        assert key_ids_in_use()["case_note.body"] == {"t2": 2}
        assert db.session.get(CaseNote, data["general"]).body == "Written after t2 became current"


def test_cli_rotate_then_status(app, world, data, make_app):
    rotated = make_app(ENCRYPTION_KEYS=f"{NEW},{OLD}")
    runner = rotated.test_cli_runner()
    with rotated.app_context():
        expected_resealed = _counts()

    status = runner.invoke(args=["caseapp", "keys", "status"])
    assert status.exit_code == 0, status.output
    assert "current key: t2" in status.output
    assert "identity_document.number: t1 1" in status.output and "case_note.body: t1 2" in status.output

    result = runner.invoke(args=["caseapp", "keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted case_note.body: 2" in result.output
    assert "re-encrypted identity_document.number: 1" in result.output
    for name, count in expected_resealed.items():
        assert f"re-encrypted {name}: {count}" in result.output
    assert "re-indexed identity_document.number_index: 0" in result.output

    status = runner.invoke(args=["caseapp", "keys", "status"])
    assert status.exit_code == 0 and "t1" not in status.output.replace("current key: t2", "")
    assert "identity_document.number: t2 1" in status.output and "case_note.body: t2 2" in status.output

    # Committed: another app (and another session) sees the result, and t1 can go.
    with make_app(ENCRYPTION_KEYS=NEW).app_context():
        assert {key for counts in key_ids_in_use().values() for key in counts} == {"t2"}
        assert all(token.startswith("t2:") for tokens in _stored_tokens().values() for token in tokens)
        assert _plaintexts(data) == EXPECTED
        assert _rotation_events()[0]["resealed"] == expected_resealed


def test_app_reads_its_keys_from_a_key_file(app, tmp_path, make_app):
    from caseapp.security.encryption import new_key_file_text

    path = tmp_path / "keys"
    path.write_text(new_key_file_text())
    fresh = make_app(ENCRYPTION_KEYS=None, BLIND_INDEX_KEY=None, KEY_FILE=str(path))
    with fresh.app_context():
        assert keyring().current_key_id == "k1"
        assert keyring().blind_index_key != base64.b64decode(TestConfig.BLIND_INDEX_KEY)


def _seal_notes_under_t2(data, make_app):
    """The notes re-saved under t2; the document number and the TOTP secrets stay under t1."""
    with make_app(ENCRYPTION_KEYS=f"{NEW},{OLD}").app_context():
        for key in ("restricted", "general"):
            note = db.session.get(CaseNote, data[key])
            note.body = note.body
        db.session.commit()
        usage = key_ids_in_use()
        assert usage["case_note.body"] == {"t2": 2} and usage["identity_document.number"] == {"t1": 1}
        return _stored_tokens()


def test_rotation_without_the_old_key_fails_and_commits_nothing(app, data, make_app):
    before = _seal_notes_under_t2(data, make_app)
    # t1 dropped too early: the notes (t2) could be re-sealed under t3, the document number (t1) cannot.
    broken = make_app(ENCRYPTION_KEYS=f"{NEWER},{NEW}")
    with broken.app_context():
        with pytest.raises(SealError, match="no key 't1'"):
            rotate_keys()
        # The notes had been re-sealed under t3 inside the transaction before the document number failed...
        assert key_ids_in_use()["case_note.body"] == {"t3": 2}
        db.session.rollback()  # ...and the caller (the CLI) does not commit
    with make_app(ENCRYPTION_KEYS=f"{NEW},{OLD}").app_context():
        assert _stored_tokens() == before
        assert key_ids_in_use()["case_note.body"] == {"t2": 2}
        assert _rotation_events() == []
        assert _plaintexts(data) == EXPECTED


def test_cli_rotation_without_the_old_key_fails_and_commits_nothing(app, data, make_app):
    before = _seal_notes_under_t2(data, make_app)
    broken = make_app(ENCRYPTION_KEYS=f"{NEWER},{NEW}")
    result = broken.test_cli_runner().invoke(args=["caseapp", "keys", "rotate"])
    assert result.exit_code != 0
    assert isinstance(result.exception, SealError) and "no key 't1'" in str(result.exception)
    assert "key rotation done" not in result.output
    with make_app(ENCRYPTION_KEYS=f"{NEW},{OLD}").app_context():
        assert _stored_tokens() == before
        assert {key for counts in key_ids_in_use().values() for key in counts} == {"t1", "t2"}
        assert _rotation_events() == []
        assert _plaintexts(data) == EXPECTED


def test_new_blind_index_key_reindexes_documents_and_phones(app, world, data, make_app):
    new_index_key = secrets.token_bytes(32)
    reindexing = make_app(BLIND_INDEX_KEY=base64.b64encode(new_index_key).decode())
    old_number_index = None
    with app.app_context():
        old_number_index = db.session.get(IdentityDocument, data["document"]).number_index
        assert _found(world, "QR4455667") == {data["person"]}
    with reindexing.app_context():
        assert document_lookup_index(DOCUMENT) != old_number_index
        assert _found(world, "QR4455667") == set()  # stored indexes are still under the old key
        report = rotate_keys()
        db.session.commit()
        assert report.resealed == {}  # the encryption key did not change
        phones = db.session.scalar(text("SELECT COUNT(*) FROM beneficiary WHERE phone IS NOT NULL"))
        assert report.reindexed == {"identity_document.number_index": 1, "beneficiary.phone_index": phones}

        number_index = db.session.scalar(text("SELECT number_index FROM identity_document WHERE id = :id"),
                                         {"id": data["document"]})
        phone_index = db.session.scalar(text("SELECT phone_index FROM beneficiary WHERE id = :id"),
                                        {"id": data["person"]})
        assert number_index != old_number_index
        assert number_index == hmac.new(new_index_key, b"document:QR4455667", hashlib.sha256).hexdigest()
        assert phone_index == hmac.new(new_index_key, b"phone:0612345678", hashlib.sha256).hexdigest()
        assert phone_index == phone_lookup_index("0612345678")
        assert _found(world, "qr-4455-667") == {data["person"]}
        assert _found(world, "06 12 34 56 78") == {data["person"]}
        assert db.session.get(Beneficiary, data["person"]).phone == "0612 34 56 78"
