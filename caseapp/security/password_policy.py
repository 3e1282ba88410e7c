"""Password policy (ASVS 2.1.1, 2.1.2, 2.1.7, 2.1.9): length and a list of common passwords, no composition rules.

A password is accepted when it has 12 to 128 characters, is not on the bundled list of common and breached
passwords (data/common-passwords.txt.gz, see data/README.md) and is neither the account's username nor its
full name. The list and the identity checks ignore case (and, for the identity checks, spaces); the password
itself is never changed or truncated before hashing.
"""
import gzip
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list, lowercased; read once per process."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def is_common(password: str) -> bool:
    """True when the password (ignoring case and surrounding spaces) is on the bundled list."""
    return password.strip().lower() in common_passwords()


def _identity_form(text: str) -> str:
    """Lowercase without any whitespace: 'Jean  Dupont' and 'jeandupont' compare equal."""
    return "".join(text.lower().split())


def password_problems(password: str, username: str = "", full_name: str = "") -> list[str]:
    """Translated reasons why `password` is refused; an empty list means it is accepted."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password needs at least %(count)d characters.", count=MIN_LENGTH))
    elif len(password) > MAX_LENGTH:
        problems.append(_("The password can have at most %(count)d characters.", count=MAX_LENGTH))
        return problems  # nothing that long is on the list, and the rest would only add noise
    candidate = _identity_form(password)
    if username and candidate == _identity_form(username):
        problems.append(_("The password must not be the username."))
    elif full_name and candidate == _identity_form(full_name):
        problems.append(_("The password must not be the person's name."))
    elif is_common(password):
        problems.append(_("This password is too common: choose another one."))
    return problems
