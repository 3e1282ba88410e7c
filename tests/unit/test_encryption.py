"""Requirements 13 and 14: sensitive columns hold AES-GCM envelopes bound to their row and column (raw SQL shows
ciphertext, a moved or altered ciphertext does not open, nothing plain can be written); exact lookup of document
numbers and phones goes through a keyed blind index under a key of its own; the keys are checked at start-up."""
import base64
import hashlib
import hmac
import json
import secrets
from datetime import date

import pyotp
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import StatementError

from caseapp import create_app
from caseapp.auth.models import User
from caseapp.beneficiaries.lookup import document_lookup_index, phone_lookup_index
from caseapp.beneficiaries.models import Beneficiary, IdentityDocument
from caseapp.cases.models import Case, CaseNote
from caseapp.cases.notes import add_note
from caseapp.cases.services import search_cases
from caseapp.config import TestConfig
from caseapp.extensions import db
from caseapp.security.encryption import (
    Keyring, SealedText, SealError, keyring, new_key, new_key_file_text, parse_keyring, seal, unseal,
)

DOCUMENT = "ZX 908-1726"  # as typed at registration
DOCUMENT_COMPACT = "ZX9081726"  # as the blind index normalises it
RESTRICTED_BODY = "Canary restricted note: nightmares since the crossing"
GENERAL_BODY = "Canary general note: needs a bus ticket to Oujda"


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _scalar(sql: str, **params):
    return db.session.execute(text(sql), params).scalar_one()


def _case(number: str) -> Case:
    return db.session.scalars(select(Case).where(Case.number == number)).one()


def _document(person_id: int) -> IdentityDocument:
    return db.session.scalars(select(IdentityDocument).where(IdentityDocument.beneficiary_id == person_id)).one()


def _assert_envelope(stored: str, plaintext: str) -> None:
    """`stored` is "<current key id>:<base64(nonce | ciphertext | tag)>" and does not contain the plaintext."""
    key_id, sep, encoded = stored.partition(":")
    assert sep and key_id == keyring().current_key_id == "t1"
    raw = base64.b64decode(encoded, validate=True)
    assert len(raw) == 12 + len(plaintext.encode()) + 16  # 96-bit nonce, ciphertext, 128-bit tag
    assert plaintext not in stored and plaintext.encode() not in raw
    for word in plaintext.split():
        if len(word) >= 6:
            assert word not in stored


def _every_text_value() -> list[str]:
    """Every string stored in every column of every table (read with raw SQL)."""
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
            values.extend(value for value in row if isinstance(value, str))
    return values


@pytest.fixture
def person(app, register):
    """(beneficiary id, case number) of a person registered with a passport number and a phone."""
    return register("caseworker_restricted", document_type="passport", document_number=DOCUMENT,
                    phone="+212 612 345 678")


@pytest.fixture
def notes(app, world, person):
    """{'restricted': note id, 'general': note id} written through the service by a worker with restricted access."""
    with app.app_context():
        actor = _user(world, "caseworker_restricted")
        case = _case(person[1])
        restricted = add_note(actor, case, kind="psychosocial", body=RESTRICTED_BODY, occurred_on=date.today())
        general = add_note(actor, case, kind="general", body=GENERAL_BODY, occurred_on=date.today())
        db.session.commit()
        return {"restricted": restricted.id, "general": general.id}


# --- raw SQL shows ciphertext; the ORM gives back the plaintext --------------------------------------------------

def test_document_number_is_sealed_at_rest(app_ctx, person):
    person_id, _ = person
    stored, row_key = db.session.execute(
        text("SELECT number, row_key FROM identity_document WHERE beneficiary_id = :id"), {"id": person_id}).one()
    _assert_envelope(stored, DOCUMENT)
    assert DOCUMENT_COMPACT not in stored
    assert row_key and len(row_key) == 32
    assert unseal(stored, f"identity_document.number:{row_key}") == DOCUMENT
    assert _document(person_id).number == DOCUMENT


def test_document_number_appears_nowhere_in_the_database(app_ctx, person):
    values = _every_text_value()
    assert values  # the scan did read the rows
    assert not [value for value in values if DOCUMENT in value or DOCUMENT_COMPACT in value.upper()]


@pytest.mark.parametrize("kind", ["restricted", "general"])
def test_note_body_is_sealed_at_rest(app_ctx, notes, kind):
    body = RESTRICTED_BODY if kind == "restricted" else GENERAL_BODY
    stored, row_key, restricted = db.session.execute(
        text("SELECT body, row_key, restricted FROM case_note WHERE id = :id"), {"id": notes[kind]}).one()
    assert bool(restricted) is (kind == "restricted")
    _assert_envelope(stored, body)
    assert unseal(stored, f"case_note.body:{row_key}") == body
    assert db.session.get(CaseNote, notes[kind]).body == body


def test_restricted_note_body_appears_nowhere_in_the_database(app_ctx, notes):
    # Not in the note, nor in the case history, nor in the audit trail.
    assert not [value for value in _every_text_value() if "nightmares" in value]


def test_totp_secrets_are_sealed_at_rest(app_ctx, world):
    from caseapp.auth.mfa import TOTP_INTERVAL, begin_enrolment, confirm_enrolment

    user = _user(world, "supervisor_a")
    begin_enrolment(user)
    db.session.commit()
    pending = user.totp_pending_secret
    stored, row_key = db.session.execute(text("SELECT totp_pending_secret, row_key FROM user_account WHERE id = :id"),
                                         {"id": user.id}).one()
    _assert_envelope(stored, pending)
    assert unseal(stored, f"user_account.totp_pending_secret:{row_key}") == pending

    confirm_enrolment(user, pyotp.TOTP(pending, interval=TOTP_INTERVAL).now())
    db.session.commit()
    db.session.expire_all()
    stored, empty = db.session.execute(text("SELECT totp_secret, totp_pending_secret FROM user_account "
                                            "WHERE id = :id"), {"id": user.id}).one()
    assert empty is None
    _assert_envelope(stored, pending)
    assert unseal(stored, f"user_account.totp_secret:{row_key}") == pending
    assert db.session.get(User, user.id).totp_secret == pending


# --- a ciphertext only opens in its own row and column, unaltered, under a known key --------------------------------

def test_ciphertext_copied_to_another_row_does_not_open(app_ctx, register):
    first, _ = register("caseworker_a", document_type="passport", document_number="AA1111111")
    second, _ = register("caseworker_a", document_type="passport", document_number="BB2222222")
    token = _scalar("SELECT number FROM identity_document WHERE beneficiary_id = :id", id=first)
    db.session.execute(text("UPDATE identity_document SET number = :token WHERE beneficiary_id = :id"),
                       {"token": token, "id": second})
    db.session.commit()
    db.session.expire_all()
    assert _document(first).number == "AA1111111"
    with pytest.raises(SealError):
        _document(second).number  # noqa: B018


def test_note_ciphertext_copied_to_another_note_does_not_open(app_ctx, notes):
    token = _scalar("SELECT body FROM case_note WHERE id = :id", id=notes["restricted"])
    db.session.execute(text("UPDATE case_note SET body = :token WHERE id = :id"),
                       {"token": token, "id": notes["general"]})
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(SealError):
        db.session.get(CaseNote, notes["general"]).body  # noqa: B018
    assert db.session.get(CaseNote, notes["restricted"]).body == RESTRICTED_BODY


def test_ciphertext_copied_to_another_table_does_not_open(app_ctx, person, notes):
    token = _scalar("SELECT number FROM identity_document WHERE beneficiary_id = :id", id=person[0])
    db.session.execute(text("UPDATE case_note SET body = :token WHERE id = :id"), {"token": token, "id": notes["general"]})
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(SealError):
        db.session.get(CaseNote, notes["general"]).body  # noqa: B018


def test_ciphertext_copied_to_another_column_of_the_same_row_does_not_open(app_ctx, world):
    # Same row key, other column: only the column name in the associated data tells them apart.
    user = _user(world, "dpo")
    user.totp_secret = "JBSWY3DPEHPK3PXP"
    db.session.commit()
    token = _scalar("SELECT totp_secret FROM user_account WHERE id = :id", id=user.id)
    db.session.execute(text("UPDATE user_account SET totp_pending_secret = :token WHERE id = :id"),
                       {"token": token, "id": user.id})
    db.session.commit()
    db.session.expire_all()
    user = _user(world, "dpo")
    assert user.totp_secret == "JBSWY3DPEHPK3PXP"
    with pytest.raises(SealError):
        user.totp_pending_secret  # noqa: B018


@pytest.mark.parametrize("position", [0, 11, 12, -17, -1], ids=["nonce", "nonce-end", "ciphertext", "ct-end", "tag"])
def test_altered_byte_does_not_open(app_ctx, person, position):
    person_id, _ = person
    token = _scalar("SELECT number FROM identity_document WHERE beneficiary_id = :id", id=person_id)
    key_id, _, encoded = token.partition(":")
    raw = bytearray(base64.b64decode(encoded))
    raw[position] ^= 0x01
    altered = f"{key_id}:{base64.b64encode(bytes(raw)).decode()}"
    db.session.execute(text("UPDATE identity_document SET number = :token WHERE beneficiary_id = :id"),
                       {"token": altered, "id": person_id})
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(SealError, match="identity_document"):
        _document(person_id).number  # noqa: B018


@pytest.mark.parametrize("token", ["t1:", "t1:not base64!", "t1:AAAA", "t1:" + base64.b64encode(b"x" * 40).decode()])
def test_malformed_envelope_does_not_open(app_ctx, token):
    with pytest.raises(SealError):
        unseal(token, "identity_document.number:0123")


def test_value_sealed_under_an_unknown_key_id_fails_clearly(app_ctx, person):
    person_id, _ = person
    row_key = _scalar("SELECT row_key FROM identity_document WHERE beneficiary_id = :id", id=person_id)
    stranger = Keyring({"zz9": secrets.token_bytes(32)}, "zz9", secrets.token_bytes(32))
    token = seal(DOCUMENT, f"identity_document.number:{row_key}", stranger)
    assert token.startswith("zz9:")
    db.session.execute(text("UPDATE identity_document SET number = :token WHERE beneficiary_id = :id"),
                       {"token": token, "id": person_id})
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(SealError, match="no key 'zz9' in the keyring"):
        _document(person_id).number  # noqa: B018


def test_value_sealed_under_another_key_with_a_known_id_does_not_open(app_ctx, person):
    person_id, _ = person
    row_key = _scalar("SELECT row_key FROM identity_document WHERE beneficiary_id = :id", id=person_id)
    impostor = Keyring({"t1": secrets.token_bytes(32)}, "t1", secrets.token_bytes(32))
    db.session.execute(text("UPDATE identity_document SET number = :token WHERE beneficiary_id = :id"),
                       {"token": seal(DOCUMENT, f"identity_document.number:{row_key}", impostor), "id": person_id})
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(SealError):
        _document(person_id).number  # noqa: B018


# --- nothing plain can be written ---------------------------------------------------------------------------------

PLAIN_VALUES = ["AB123456", "", "not sealed at all", b"t1:AAAA", 12345]
# Plain text that merely looks like "<word>:<anything>" is not a sealed value either.
PLAIN_VALUES_WITH_A_COLON = ["Passport:AB123456", "Urgent:call the family", "t1:"]


@pytest.mark.parametrize("value", PLAIN_VALUES + PLAIN_VALUES_WITH_A_COLON)
def test_sealed_text_type_refuses_a_non_envelope(app_ctx, value):
    with pytest.raises(TypeError):
        SealedText().process_bind_param(value, db.engine.dialect)


def test_sealed_text_type_accepts_an_envelope_and_none(app_ctx):
    token = seal("AB123456", "identity_document.number:0123")
    assert SealedText().process_bind_param(token, db.engine.dialect) == token
    assert SealedText().process_bind_param(None, db.engine.dialect) is None


@pytest.mark.parametrize("value", ["AB123456", "Passport:AB123456"])
def test_plain_value_cannot_be_written_through_the_orm(app_ctx, person, value):
    document = _document(person[0])
    document._number_sealed = value
    with pytest.raises(StatementError) as caught:
        db.session.flush()
    assert isinstance(caught.value.orig, TypeError)
    db.session.rollback()
    assert "AB123456" not in _scalar("SELECT number FROM identity_document WHERE id = :id", id=document.id)


@pytest.mark.parametrize("value", ["AB123456", "Passport:AB123456"])
def test_plain_value_cannot_be_written_by_a_bulk_update(app_ctx, notes, value):
    with pytest.raises(StatementError) as caught:
        db.session.execute(update(CaseNote).where(CaseNote.id == notes["general"]).values({CaseNote._body_sealed: value}))
    assert isinstance(caught.value.orig, TypeError)
    db.session.rollback()
    assert db.session.get(CaseNote, notes["general"]).body == GENERAL_BODY


def test_assigning_plaintext_through_the_attribute_seals_it(app_ctx, person):
    document = _document(person[0])
    document.number = "NEW 555 666"
    db.session.commit()
    stored = _scalar("SELECT number FROM identity_document WHERE id = :id", id=document.id)
    _assert_envelope(stored, "NEW 555 666")
    db.session.expire_all()
    assert _document(person[0]).number == "NEW 555 666"


# --- nonces are random ----------------------------------------------------------------------------------------------

def test_sealing_the_same_text_twice_gives_two_envelopes(app_ctx):
    associated = "case_note.body:00112233445566778899aabbccddeeff"
    tokens = {seal("the same text", associated) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {base64.b64decode(token.partition(":")[2])[:12] for token in tokens}
    assert len(nonces) == 50
    assert {unseal(token, associated) for token in tokens} == {"the same text"}


def test_same_number_stored_twice_gives_two_envelopes_and_one_index(app_ctx, register):
    first, _ = register("caseworker_a", document_type="passport", document_number="CC3333333")
    second, _ = register("caseworker_a", document_type="passport", document_number="CC3333333")
    rows = db.session.execute(text("SELECT number, number_index, row_key FROM identity_document "
                                   "WHERE beneficiary_id IN (:a, :b)"), {"a": first, "b": second}).all()
    assert len(rows) == 2
    assert rows[0].number != rows[1].number and rows[0].row_key != rows[1].row_key
    assert rows[0].number_index == rows[1].number_index == document_lookup_index("CC3333333")


def test_resaving_the_same_note_text_changes_the_envelope(app_ctx, notes):
    note = db.session.get(CaseNote, notes["general"])
    before = _scalar("SELECT body FROM case_note WHERE id = :id", id=note.id)
    note.body = GENERAL_BODY
    db.session.commit()
    after = _scalar("SELECT body FROM case_note WHERE id = :id", id=note.id)
    assert before != after
    assert db.session.get(CaseNote, notes["general"]).body == GENERAL_BODY


# --- blind indexes: exact lookup, keyed HMAC under a key of its own ------------------------------------------------

def _found(world, query: str) -> set[int]:
    actor = _user(world, "caseworker_restricted")
    return {case.beneficiary_id for case in search_cases(actor, text=query, audit=False).items}


@pytest.mark.parametrize("query", ["ZX 908-1726", "ZX9081726", "zx9081726", "zx 908 1726", "ZX-908-1726",
                                   " zx-908 1726 ", "Zx.908/1726"])
def test_search_finds_a_person_by_document_number_in_another_format(app_ctx, world, person, query):
    assert _found(world, query) == {person[0]}


@pytest.mark.parametrize("query", ["+212 612 345 678", "0612345678", "06 12 34 56 78", "00212 612-345-678",
                                   "+212612345678", "612 345 678", "(06) 12.34.56.78"])
def test_search_finds_a_person_by_phone_in_another_format(app_ctx, world, person, query):
    assert _found(world, query) == {person[0]}


@pytest.mark.parametrize("query", ["ZX90817", "9081726", "ZX 908", "1726", "908-1726", "ZX90817266",
                                   "0612345", "345 678", "612 345", "06123456789"])
def test_search_finds_nothing_for_a_fragment(app_ctx, world, person, query):
    assert _found(world, query) == set()


def test_stored_indexes_are_hmac_sha256_under_the_blind_index_key(app_ctx, person):
    person_id, _ = person
    index_key = base64.b64decode(TestConfig.BLIND_INDEX_KEY)
    encryption_key = base64.b64decode(TestConfig.ENCRYPTION_KEYS.partition(":")[2])
    assert index_key != encryption_key

    number_index = _scalar("SELECT number_index FROM identity_document WHERE beneficiary_id = :id", id=person_id)
    phone_index = _scalar("SELECT phone_index FROM beneficiary WHERE id = :id", id=person_id)
    expected_number = hmac.new(index_key, f"document:{DOCUMENT_COMPACT}".encode(), hashlib.sha256).hexdigest()
    expected_phone = hmac.new(index_key, b"phone:0612345678", hashlib.sha256).hexdigest()
    assert number_index == expected_number == document_lookup_index(DOCUMENT)
    assert phone_index == expected_phone == phone_lookup_index("+212 612 345 678")
    # Not under the encryption key, not a bare hash, and no plain digits in the index columns.
    assert number_index != hmac.new(encryption_key, f"document:{DOCUMENT_COMPACT}".encode(), hashlib.sha256).hexdigest()
    assert phone_index != hmac.new(encryption_key, b"phone:0612345678", hashlib.sha256).hexdigest()
    assert number_index != hashlib.sha256(f"document:{DOCUMENT_COMPACT}".encode()).hexdigest()
    assert "612345678" not in phone_index and "9081726" not in number_index


def test_indexes_of_different_fields_differ_for_the_same_value(app_ctx):
    from caseapp.security.encryption import blind_index

    assert blind_index("0612345678", "phone") != blind_index("0612345678", "document")


def test_index_changes_with_the_blind_index_key(app_ctx):
    ring = keyring()
    other = Keyring(ring.encryption_keys, ring.current_key_id, secrets.token_bytes(32))
    from caseapp.security.encryption import blind_index

    assert blind_index(DOCUMENT_COMPACT, "document", other) != blind_index(DOCUMENT_COMPACT, "document", ring)
    assert blind_index(DOCUMENT_COMPACT, "document", other) == hmac.new(
        other.blind_index_key, f"document:{DOCUMENT_COMPACT}".encode(), hashlib.sha256).hexdigest()
    # The encryption key plays no part in the index.
    same_index_key = Keyring({"x1": secrets.token_bytes(32)}, "x1", ring.blind_index_key)
    assert blind_index(DOCUMENT_COMPACT, "document", same_index_key) == document_lookup_index(DOCUMENT)


def test_empty_values_have_no_index(app_ctx):
    assert document_lookup_index(None) is None and document_lookup_index(" -/ ") is None
    assert phone_lookup_index(None) is None and phone_lookup_index("") is None


def test_registration_without_phone_or_document_stores_no_index(app_ctx, register):
    person_id, _ = register("caseworker_a", phone="")
    assert _scalar("SELECT phone_index FROM beneficiary WHERE id = :id", id=person_id) is None
    assert db.session.get(Beneficiary, person_id).documents == []


# --- keys: parsed and checked at start-up ----------------------------------------------------------------------------

def test_parse_keyring_first_key_is_current():
    first, second, index = _key(), _key(), _key()
    ring = parse_keyring(f"k2:{first}, k1:{second}", index)
    assert ring.current_key_id == "k2"
    assert ring.encryption_keys == {"k2": base64.b64decode(first), "k1": base64.b64decode(second)}
    assert ring.blind_index_key == base64.b64decode(index)


def test_parse_keyring_refuses_the_same_key_for_both_roles():
    shared = _key()
    with pytest.raises(RuntimeError, match="blind-index key must differ"):
        parse_keyring(f"k1:{shared}", shared)
    with pytest.raises(RuntimeError, match="blind-index key must differ"):
        parse_keyring(f"k2:{_key()},k1:{shared}", shared)  # an older encryption key counts too


@pytest.mark.parametrize("size", [0, 16, 24, 31, 33, 64])
def test_parse_keyring_refuses_a_key_of_the_wrong_size(size):
    short = base64.b64encode(secrets.token_bytes(size)).decode()
    with pytest.raises(RuntimeError, match="32 bytes"):
        parse_keyring(f"k1:{short}", _key())
    with pytest.raises(RuntimeError, match="32 bytes"):
        parse_keyring(f"k1:{_key()}", short)


FIXED_KEY = base64.b64encode(bytes(range(32))).decode()  # parameters must be the same in every xdist worker


@pytest.mark.parametrize("bad", ["not base64!", "####", FIXED_KEY[:-2] + "!!", FIXED_KEY + "A"])
def test_parse_keyring_refuses_bad_base64(bad):
    with pytest.raises(RuntimeError, match="base64"):
        parse_keyring(f"k1:{bad}", _key())
    with pytest.raises(RuntimeError, match="base64"):
        parse_keyring(f"k1:{_key()}", bad)


def test_parse_keyring_refuses_a_duplicate_id():
    with pytest.raises(RuntimeError, match="appears twice"):
        parse_keyring(f"k1:{_key()},k1:{_key()}", _key())


@pytest.mark.parametrize("entries", ["", " , ", "k1", ":{key}", "k-1:{key}", "k 1:{key}", "averyveryverylongid:{key}"])
def test_parse_keyring_refuses_malformed_entries(entries):
    with pytest.raises(RuntimeError):
        parse_keyring(entries.format(key=_key()), _key())


def test_new_key_file_text_gives_a_valid_keyring(tmp_path):
    from caseapp.security.encryption import read_key_file

    path = tmp_path / "keys"
    path.write_text(new_key_file_text())
    values = read_key_file(path)
    ring = parse_keyring(values["ENCRYPTION_KEYS"], values["BLIND_INDEX_KEY"])
    assert ring.current_key_id == "k1" and ring.blind_index_key not in ring.encryption_keys.values()
    assert new_key("k9").startswith("k9:") and new_key("k9") != new_key("k9")


NO_KEYS = {"ENCRYPTION_KEYS": None, "BLIND_INDEX_KEY": None, "KEY_FILE": None}


def _production(tmp_path, **settings) -> dict:
    return {"ENV_NAME": "production", "SECRET_KEY": "a-production-secret", "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite3'}", **NO_KEYS, **settings}


def test_production_refuses_to_start_without_keys(tmp_path):
    with pytest.raises(RuntimeError, match="Encryption keys are missing"):
        create_app(_production(tmp_path))
    with pytest.raises(RuntimeError, match="Encryption keys are missing"):
        create_app(_production(tmp_path, ENCRYPTION_KEYS=f"k1:{_key()}"))
    with pytest.raises(RuntimeError, match="Encryption keys are missing"):
        create_app(_production(tmp_path, BLIND_INDEX_KEY=_key()))


def test_secret_key_is_checked_before_the_keys(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(_production(tmp_path, SECRET_KEY=None))


@pytest.mark.parametrize("settings", [
    {"ENCRYPTION_KEYS": "k1:short", "BLIND_INDEX_KEY": "c2hvcnQ="},
    {"ENCRYPTION_KEYS": "k-1:" + base64.b64encode(b"e" * 32).decode(), "BLIND_INDEX_KEY": base64.b64encode(b"i" * 32).decode()},
    {"ENCRYPTION_KEYS": "nokeyid", "BLIND_INDEX_KEY": base64.b64encode(b"i" * 32).decode()},
])
def test_production_refuses_to_start_with_malformed_keys(tmp_path, settings):
    with pytest.raises(RuntimeError):
        create_app(_production(tmp_path, **settings))


def test_production_refuses_the_same_key_for_both_roles(tmp_path):
    shared = _key()
    with pytest.raises(RuntimeError, match="must differ"):
        create_app(_production(tmp_path, ENCRYPTION_KEYS=f"k1:{shared}", BLIND_INDEX_KEY=shared))


def test_production_starts_with_keys_from_a_key_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text(new_key_file_text())
    application = create_app(_production(tmp_path, KEY_FILE=str(path)))
    try:
        with application.app_context():
            ring = keyring()
            assert ring.current_key_id == "k1"
            token = seal("AB123456", "identity_document.number:0123")
            assert unseal(token, "identity_document.number:0123") == "AB123456"
    finally:
        with application.app_context():
            db.engine.dispose()


def test_test_keys_are_not_stored_in_the_database(app_ctx, person, notes):
    # Keys come from the configuration only: no column anywhere holds them, raw or base64.
    ring = keyring()
    secrets_in_config = [TestConfig.BLIND_INDEX_KEY, TestConfig.ENCRYPTION_KEYS.partition(":")[2]]
    secrets_in_config += [key.hex() for key in (ring.blind_index_key, *ring.encryption_keys.values())]
    values = _every_text_value()
    assert not [value for value in values if any(secret in value for secret in secrets_in_config)]


def test_audit_details_of_a_registration_hold_no_document_number(app_ctx, person):
    details = [json.loads(value) for value in db.session.scalars(text("SELECT details FROM audit_event"))]
    assert details and DOCUMENT_COMPACT not in json.dumps(details) and "9081726" not in json.dumps(details)


def test_sealed_columns_are_text_columns():
    # The envelope is longer than the plain value: the columns must not truncate it.
    for model, column in ((IdentityDocument, "number"), (CaseNote, "body"), (User, "totp_secret"),
                          (User, "totp_pending_secret")):
        column_type = model.__table__.c[column].type
        assert isinstance(column_type, SealedText)
        assert column_type.impl_instance.length is None
