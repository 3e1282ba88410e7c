"""Requirement 3, the service side: enrolment with an encrypted pending secret, one-time recovery codes stored as
hashes, TOTP codes accepted once (the last accepted time step refuses replays and older steps), audited refusals.

Every code here is computed from the secret for a chosen time step, and the service gets the matching `now`, so
no test depends on the wall clock or on the replay guard being cleared.
"""
import hashlib
import json

import pyotp
import pytest
from sqlalchemy import select, text

from caseapp.audit.models import AuditEvent
from caseapp.auth import mfa
from caseapp.auth.models import User
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from tests.conftest import totp_secret_of

# A fixed moment in the middle of a 30-second step, so that now ± a few seconds stays in the same step.
T = 1_800_000_015.0
STEP = int(T // mfa.TOTP_INTERVAL)


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _code(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, interval=mfa.TOTP_INTERVAL).generate_otp(step)


def _at(step: int) -> float:
    """A moment in the middle of `step`."""
    return step * mfa.TOTP_INTERVAL + 15.0


def _actions(user_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == user_id)
                                   .order_by(AuditEvent.id)))


def _enrolled(world, key: str = "caseworker_a") -> tuple[User, str, list[str]]:
    """`key` enrolled at step STEP: (user, secret, recovery codes)."""
    user = _user(world, key)
    mfa.begin_enrolment(user)
    secret = user.totp_pending_secret
    codes = mfa.confirm_enrolment(user, _code(secret, STEP), now=T)
    db.session.commit()
    return user, secret, codes


# --- enrolment -----------------------------------------------------------------------------------------------------


def test_begin_enrolment_stores_an_encrypted_pending_secret(app_ctx, world):
    user = _user(world, "caseworker_a")
    uri = mfa.begin_enrolment(user)
    db.session.commit()
    secret = user.totp_pending_secret
    assert len(secret) >= 32 and pyotp.TOTP(secret).now().isdigit()  # base32, at least 160 bits
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert not user.mfa_enabled and user.totp_secret is None  # nothing is on before a code confirms it

    stored, active = db.session.execute(text("SELECT totp_pending_secret, totp_secret FROM user_account "
                                             "WHERE id = :id"), {"id": user.id}).one()
    assert active is None
    key_id, separator, envelope = stored.partition(":")
    assert separator and key_id.isalnum() and envelope
    assert secret not in stored and secret.lower() not in stored.lower()
    assert "mfa.enrolment_start" in _actions(user.id)


def test_a_new_enrolment_draws_a_new_secret(app_ctx, world):
    user = _user(world, "caseworker_a")
    mfa.begin_enrolment(user)
    first = user.totp_pending_secret
    mfa.begin_enrolment(user)
    assert user.totp_pending_secret != first


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "wrong"])
def test_confirm_enrolment_refuses_a_malformed_code(app_ctx, world, typed):
    user = _user(world, "caseworker_a")
    mfa.begin_enrolment(user)
    with pytest.raises(ValidationFailed) as refusal:
        mfa.confirm_enrolment(user, typed, now=T)
    assert set(refusal.value.errors) == {"code"}
    assert not user.mfa_enabled


def test_confirm_enrolment_with_a_wrong_code_leaves_the_second_factor_off(app_ctx, world):
    user = _user(world, "caseworker_a")
    mfa.begin_enrolment(user)
    pending = user.totp_pending_secret
    window = {_code(pending, step) for step in range(STEP - 1, STEP + 2)}
    wrong = next(code for code in ("123456", "654321", "000000") if code not in window)
    with pytest.raises(ValidationFailed) as refusal:
        mfa.confirm_enrolment(user, wrong, now=T)
    assert set(refusal.value.errors) == {"code"}
    # A code of the right secret but of a step outside the accepted drift is refused too.
    far = _code(pending, STEP + 3)
    if far not in window:
        with pytest.raises(ValidationFailed):
            mfa.confirm_enrolment(user, far, now=T)
    db.session.commit()
    db.session.expire_all()
    user = _user(world, "caseworker_a")
    assert not user.mfa_enabled and user.totp_secret is None
    assert user.totp_pending_secret == pending  # the user can try again with the same QR code
    assert db.session.scalar(text("SELECT count(*) FROM recovery_code WHERE user_id = :id"), {"id": user.id}) == 0
    assert "mfa.enrolment_failed" in _actions(user.id)
    assert "mfa.enable" not in _actions(user.id)


def test_confirm_enrolment_without_a_pending_secret_is_refused(app_ctx, world):
    user = _user(world, "caseworker_a")
    with pytest.raises(ValidationFailed):
        mfa.confirm_enrolment(user, "123456", now=T)
    assert not user.mfa_enabled


def test_confirm_enrolment_with_the_right_code_turns_it_on_and_stores_only_hashes(app_ctx, world):
    user, secret, codes = _enrolled(world)
    db.session.expire_all()
    user = _user(world, "caseworker_a")
    assert user.mfa_enabled
    assert user.totp_secret == secret and user.totp_pending_secret is None
    assert user.totp_last_step == STEP  # the code typed to confirm cannot be used again to log in

    assert len(codes) == mfa.RECOVERY_CODE_COUNT == 10
    assert len(set(codes)) == 10
    assert all(len(mfa._normalise(code)) == 10 for code in codes)

    rows = db.session.execute(text("SELECT * FROM recovery_code WHERE user_id = :id"), {"id": user.id}).mappings().all()
    assert len(rows) == 10
    assert {row["code_hash"] for row in rows} == {
        hashlib.sha256(mfa._normalise(code).encode()).hexdigest() for code in codes}
    assert all(row["used_at"] is None for row in rows)
    stored = " ".join(str(value) for row in rows for value in row.values())
    for code in codes:
        assert code not in stored and mfa._normalise(code) not in stored
    # Nor in the audit trail, nor in the account row.
    details = " ".join(db.session.scalars(text("SELECT details FROM audit_event")))
    account = " ".join(str(value) for value in db.session.execute(
        text("SELECT * FROM user_account WHERE id = :id"), {"id": user.id}).one())
    for code in codes:
        assert mfa._normalise(code) not in details and code not in details and code not in account
    assert secret not in account and secret not in details
    assert _actions(user.id)[-2:] == ["mfa.enable", "mfa.recovery_codes_issued"]
    assert mfa.remaining_recovery_codes(user) == 10


def test_the_enrolment_code_cannot_be_replayed_to_log_in(app_ctx, world):
    user, secret, _codes = _enrolled(world)
    assert mfa.check_second_factor(user, _code(secret, STEP), now=T) == "reused"


# --- TOTP codes at login -------------------------------------------------------------------------------------------


def test_a_right_code_is_accepted_once(app_ctx, world):
    user = _user(world, "supervisor_a")
    code = _code(totp_secret_of(user.username), STEP)
    assert mfa.check_second_factor(user, code, now=T) == "totp"
    assert user.totp_last_step == STEP
    db.session.commit()

    assert mfa.check_second_factor(user, code, now=T + 5) == "reused"
    db.session.commit()
    reused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login.mfa_reused")).all()
    assert [(event.actor_id, event.object_id) for event in reused] == [(user.id, user.id)]
    assert code not in reused[0].details
    assert user.totp_last_step == STEP


def test_the_replay_guard_survives_a_new_database_session(app_ctx, world):
    user = _user(world, "supervisor_a")
    code = _code(totp_secret_of(user.username), STEP)
    assert mfa.check_second_factor(user, code, now=T) == "totp"
    db.session.commit()
    db.session.expire_all()
    db.session.close()
    assert mfa.check_second_factor(_user(world, "supervisor_a"), code, now=T) == "reused"


def test_a_code_of_an_older_step_after_a_newer_one_is_reused(app_ctx, world):
    user = _user(world, "supervisor_a")
    secret = totp_secret_of(user.username)
    later = _at(STEP + 1)
    # Both codes are within the accepted drift at `later`; the newer one goes first.
    assert mfa.check_second_factor(user, _code(secret, STEP + 1), now=later) == "totp"
    older = _code(secret, STEP)
    if older != _code(secret, STEP + 1):
        assert mfa.check_second_factor(user, older, now=later) == "reused"
    assert user.totp_last_step == STEP + 1


def test_codes_one_step_either_side_are_accepted(app_ctx, world):
    secret = totp_secret_of("supervisor.a")
    user = _user(world, "supervisor_a")
    assert mfa.check_second_factor(user, _code(secret, STEP - 1), now=T) == "totp"  # a phone a little slow
    assert user.totp_last_step == STEP - 1
    assert mfa.check_second_factor(user, _code(secret, STEP + 1), now=T) == "totp"  # a phone a little fast
    assert user.totp_last_step == STEP + 1


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_a_code_two_or_more_steps_away_is_wrong(app_ctx, world, offset):
    user = _user(world, "supervisor_a")
    secret = totp_secret_of(user.username)
    code = _code(secret, STEP + offset)
    assert code not in {_code(secret, step) for step in range(STEP - 1, STEP + 2)}  # these secrets differ here
    assert mfa.check_second_factor(user, code, now=T) == "wrong"
    assert user.totp_last_step is None
    assert _actions(user.id)[-1] == "login.mfa_failed"


def test_codes_of_another_users_secret_are_refused(app_ctx, world):
    user = _user(world, "supervisor_a")
    own = {_code(totp_secret_of(user.username), step) for step in range(STEP - 1, STEP + 2)}
    others = [_code(totp_secret_of(world.username(key)), STEP) for key in ("supervisor_b", "dpo", "admin")]
    assert not own & set(others)
    for code in others:
        assert mfa.check_second_factor(user, code, now=T) == "wrong"
    assert user.totp_last_step is None
    assert _actions(user.id).count("login.mfa_failed") == 3


@pytest.mark.parametrize("typed", ["", "      ", "12345", "1234567", "abcdef", "12 34", "12345678901"])
def test_malformed_codes_are_wrong(app_ctx, world, typed):
    user = _user(world, "supervisor_a")
    assert mfa.check_second_factor(user, typed, now=T) == "wrong"


# Digits other than ASCII ones pass str.isdigit(): Arabic-Indic (an Arabic keyboard), full-width, superscript.
NON_ASCII_DIGITS = ["٠١٢٣٤٥", "١٢٣٤٥٦", "１２３４５６", "12345²"]


def test_a_login_code_in_non_ascii_digits_is_wrong_not_an_error(app_ctx, world):
    user = _user(world, "supervisor_a")
    for typed in NON_ASCII_DIGITS:
        assert mfa.check_second_factor(user, typed, now=T) == "wrong", typed


def test_an_enrolment_code_in_non_ascii_digits_is_refused_not_an_error(app_ctx, world):
    user = _user(world, "caseworker_a")
    mfa.begin_enrolment(user)
    for typed in NON_ASCII_DIGITS:
        with pytest.raises(ValidationFailed):
            mfa.confirm_enrolment(user, typed, now=T)
    assert not user.mfa_enabled


def test_a_user_without_a_second_factor_has_no_valid_code(app_ctx, world):
    user = _user(world, "caseworker_a")
    assert mfa.check_second_factor(user, _code(totp_secret_of(user.username), STEP), now=T) == "wrong"


# --- recovery codes ------------------------------------------------------------------------------------------------


def test_a_recovery_code_works_once(app_ctx, world):
    user, _secret, codes = _enrolled(world)
    assert mfa.check_second_factor(user, codes[0], now=T) == "recovery"
    db.session.commit()
    assert mfa.remaining_recovery_codes(user) == 9
    assert mfa.check_second_factor(user, codes[0], now=T) == "wrong"
    assert mfa.check_second_factor(user, codes[0].upper(), now=T) == "wrong"
    db.session.commit()
    used = db.session.execute(text("SELECT count(*) FROM recovery_code WHERE user_id = :id AND used_at IS NOT NULL"),
                              {"id": user.id}).scalar_one()
    assert used == 1
    actions = _actions(user.id)
    assert actions.count("mfa.recovery_code_used") == 1
    assert actions[-2:] == ["login.mfa_failed", "login.mfa_failed"]


def test_recovery_codes_ignore_case_spaces_and_dashes(app_ctx, world):
    user, _secret, codes = _enrolled(world)
    compact = [mfa._normalise(code) for code in codes]
    variants = [
        codes[1].upper(),
        f"  {codes[2]}  ",
        compact[3],
        " ".join(compact[4]),  # one character at a time, as read aloud
        f"{compact[5][:3]}-{compact[5][3:6]} - {compact[5][6:].upper()}",
        codes[6].replace("-", "\t"),
    ]
    for typed in variants:
        assert mfa.check_second_factor(user, typed, now=T) == "recovery", typed
    assert mfa.remaining_recovery_codes(user) == 10 - len(variants)


def test_recovery_codes_of_another_user_are_refused(app_ctx, world):
    _first, _secret, codes = _enrolled(world, "caseworker_a")
    other, _other_secret, _other_codes = _enrolled(world, "caseworker_b")
    assert mfa.check_second_factor(other, codes[0], now=T) == "wrong"
    assert mfa.remaining_recovery_codes(_user(world, "caseworker_a")) == 10


def test_new_recovery_codes_replace_the_old_ones(app_ctx, world):
    user, _secret, old = _enrolled(world)
    new = mfa.new_recovery_codes(user)
    db.session.commit()
    assert not set(old) & set(new)
    assert mfa.check_second_factor(user, old[0], now=T) == "wrong"
    assert mfa.check_second_factor(user, new[0], now=T) == "recovery"
    assert db.session.scalar(text("SELECT count(*) FROM recovery_code WHERE user_id = :id"), {"id": user.id}) == 10


# --- turning it off -----------------------------------------------------------------------------------------------


def test_an_optional_second_factor_can_be_turned_off_and_forgets_everything(app_ctx, world):
    user, secret, codes = _enrolled(world)
    mfa.disable_mfa(user)
    db.session.commit()
    row = db.session.execute(text("SELECT totp_secret, totp_pending_secret, totp_last_step, mfa_enabled_at "
                                  "FROM user_account WHERE id = :id"), {"id": user.id}).one()
    assert tuple(row) == (None, None, None, None)
    assert db.session.scalar(text("SELECT count(*) FROM recovery_code WHERE user_id = :id"), {"id": user.id}) == 0
    assert mfa.check_second_factor(user, _code(secret, STEP + 1), now=_at(STEP + 1)) == "wrong"
    assert mfa.check_second_factor(user, codes[0], now=T) == "wrong"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "mfa.disable")).one()
    assert json.loads(event.details) == {"fields": ["totp_secret", "mfa_enabled_at"]}


@pytest.mark.parametrize("key", ["supervisor_a", "dpo", "admin"])
def test_a_required_second_factor_cannot_be_turned_off(app_ctx, world, key):
    user = _user(world, key)
    assert mfa.mfa_required(user)
    with pytest.raises(ValidationFailed):
        mfa.disable_mfa(user)
    assert user.mfa_enabled and user.totp_secret == totp_secret_of(user.username)


def test_which_roles_require_a_second_factor(app_ctx, world):
    required = {key for key in world.users if mfa.mfa_required(_user(world, key))}
    assert required == {"supervisor_a", "supervisor_b", "dpo", "admin"}
