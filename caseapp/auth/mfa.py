"""Second factor: TOTP (RFC 6238) with replay refusal, and one-time recovery codes; audited, never commits.

The secret is encrypted at rest (User.totp_secret). A code is accepted for the current 30-second step or one
step either side (clock drift); the last accepted step is stored and any code for that step or an earlier
one is refused as a replay (pyotp does not do this itself). Wrong codes count as failed logins, so the
account lockout also bounds guessing of codes. Recovery codes are random 50-bit values, stored as SHA-256
hashes (their entropy makes a slow hash unnecessary) and usable once each.
"""
import hashlib
import hmac
import secrets
import time
import unicodedata

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update

from caseapp.audit.service import record
from caseapp.auth.models import RecoveryCode, User
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow

TOTP_INTERVAL = 30
ACCEPTED_DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def mfa_required(user: User) -> bool:
    """Whether the user's role must use a second factor (supervisor, dpo and admin by default)."""
    return user.role in current_app.config["MFA_REQUIRED_ROLES"]


def _step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // TOTP_INTERVAL)


def _hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _normalise(code: str) -> str:
    """Without spaces and dashes, in lower case, with any script's digits (Arabic-Indic...) as ASCII digits."""
    compact = "".join(code.split()).replace("-", "").lower()
    return "".join(str(unicodedata.decimal(char)) if unicodedata.decimal(char, None) is not None else char
                   for char in compact)


def _is_totp_code(code: str) -> bool:
    return len(code) == 6 and code.isascii() and code.isdigit()


def begin_enrolment(actor: User) -> str:
    """Draw a new secret, kept as pending until a code from it is confirmed; returns the provisioning URI."""
    actor.totp_pending_secret = pyotp.random_base32()
    record(actor, "mfa.enrolment_start", actor)
    return provisioning_uri(actor)


def provisioning_uri(actor: User) -> str:
    """The otpauth:// URI of the pending secret (what the QR code holds)."""
    return pyotp.TOTP(actor.totp_pending_secret, interval=TOTP_INTERVAL).provisioning_uri(
        name=actor.username, issuer_name=current_app.config["MFA_ISSUER"])


def qr_code_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG, drawn here (no external service, no script)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff")


def _matching_step(secret: str, code: str, now: float | None) -> int | None:
    """The time step (current ± drift) whose code equals `code`, or None."""
    totp = pyotp.TOTP(secret, interval=TOTP_INTERVAL)
    current = _step(now)
    for step in range(current - ACCEPTED_DRIFT_STEPS, current + ACCEPTED_DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(actor: User) -> list[str]:
    """Replace the actor's recovery codes by fresh ones; the plain codes are returned once, only hashes are kept."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == actor.id))
    codes = ["-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
             for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=actor.id, code_hash=_hash_recovery_code(_normalise(code)))
                       for code in codes)
    record(actor, "mfa.recovery_codes_issued", actor, count=len(codes))
    return codes


def confirm_enrolment(actor: User, code: str, now: float | None = None) -> list[str]:
    """Turn the pending secret on if `code` comes from it; returns the new recovery codes (shown once)."""
    code = _normalise(code or "")
    if actor.totp_pending_secret is None:
        raise ValidationFailed({"code": [_("Start again: the set-up has expired.")]})
    step = _matching_step(actor.totp_pending_secret, code, now) if _is_totp_code(code) else None
    if step is None:
        record(actor, "mfa.enrolment_failed", actor)
        raise ValidationFailed({"code": [_("This code does not match. Check the time on your phone and type the "
                                           "current 6-digit code.")]})
    actor.totp_secret = actor.totp_pending_secret
    actor.totp_pending_secret = None
    actor.totp_last_step = step
    actor.mfa_enabled_at = utcnow()
    actor.session_version += 1  # sessions opened with the password alone end; the caller starts a fresh one
    record(actor, "mfa.enable", actor, fields=["totp_secret", "mfa_enabled_at", "session_version"])
    return new_recovery_codes(actor)


def check_second_factor(user: User, code: str, now: float | None = None) -> str:
    """'totp' or 'recovery' when `code` is valid (and consumes it), 'reused' for a replayed TOTP code, else 'wrong'.

    Audits the refusals; the caller audits the successful login and counts failures.
    """
    code = _normalise(code or "")
    if _is_totp_code(code) and user.totp_secret is not None:
        step = _matching_step(user.totp_secret, code, now)
        if step is not None:
            # One conditional UPDATE: of two requests racing with the same code, only one moves the step on.
            moved = db.session.execute(
                update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)).rowcount
            if not moved:
                record(user, "login.mfa_reused", user)
                return "reused"
            return "totp"
    elif len(code) == 10:
        stored_id = db.session.scalar(select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None),
            RecoveryCode.code_hash == _hash_recovery_code(code)))
        if stored_id is not None and db.session.execute(
                update(RecoveryCode).where(RecoveryCode.id == stored_id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())).rowcount:
            record(user, "mfa.recovery_code_used", user)
            return "recovery"
    record(user, "login.mfa_failed", user)
    return "wrong"


def remaining_recovery_codes(user: User) -> int:
    return len(db.session.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).all())


def disable_mfa(actor: User) -> None:
    """Turn one's own optional second factor off (refused for roles that require it)."""
    if mfa_required(actor):
        raise ValidationFailed({"code": [_("Your role requires a second factor.")]})
    clear_second_factor(actor)
    record(actor, "mfa.disable", actor, fields=["totp_secret", "mfa_enabled_at"])


def clear_second_factor(user: User) -> int:
    """Forget the user's secret, pending secret, replay guard and recovery codes (not audited here).

    Returns how many recovery codes were removed."""
    user.totp_secret = None
    user.totp_pending_secret = None
    user.totp_last_step = None
    user.mfa_enabled_at = None
    return db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)).rowcount
