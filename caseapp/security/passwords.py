"""argon2id password hashing with parameters from the configuration, and rehash on change."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# A fixed hash to verify against when the account does not exist, so timing does not reveal usernames.
_DUMMY_PASSWORD = "not-a-real-password-for-timing"


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same work when there is no hash."""
    hasher = _hasher()
    if password_hash is None:
        hasher.hash(_DUMMY_PASSWORD)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash was made with other parameters than the current ones."""
    return _hasher().check_needs_rehash(password_hash)
