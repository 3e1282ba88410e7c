"""Encryption at rest (AES-256-GCM) of sensitive columns, and keyed blind indexes for exact lookup.

Keys never live in the database. `CASEAPP_ENCRYPTION_KEYS` holds "id:base64key" entries separated by commas;
the first is the current key (new values are sealed with it), the others are kept to open older values until
`flask caseapp keys rotate` has re-sealed every row. `CASEAPP_BLIND_INDEX_KEY` is a separate key (base64) for
the HMAC-SHA256 blind indexes of document numbers and phone numbers. Instead of the variables, the keys can be
read from a file (`CASEAPP_KEY_FILE`, lines `ENCRYPTION_KEYS=...` and `BLIND_INDEX_KEY=...`), which `make run`
generates under instance/ (outside git) for the demo.

A sealed value is "<key id>:<base64(nonce ‖ ciphertext ‖ tag)>" with a random 96-bit nonce. The associated
data is "<table>.<column>:<row key>", where the row key is a random identifier the row receives before it is
first written (so the associated data is known before the database assigns an integer id): a ciphertext
copied into another row or another column does not open.
"""
import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

_NONCE_BYTES = 12
_EXTENSION_KEY = "caseapp.keyring"


class SealError(ValueError):
    """A sealed value does not open: wrong key, wrong row or column, or tampered ciphertext."""


@dataclass(frozen=True)
class Keyring:
    """Encryption keys by id (the first is current) and the blind-index key."""

    encryption_keys: dict[str, bytes]
    current_key_id: str
    blind_index_key: bytes


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise RuntimeError(f"{what} is not valid base64") from error
    if len(key) != 32:
        raise RuntimeError(f"{what} must be 32 bytes (256 bits), base64-encoded")
    return key


def parse_keyring(encryption_keys: str, blind_index_key: str) -> Keyring:
    """Build a keyring from the two settings; raises RuntimeError with a plain message when they are malformed."""
    keys: dict[str, bytes] = {}
    for entry in (item.strip() for item in encryption_keys.split(",") if item.strip()):
        key_id, sep, encoded = entry.partition(":")
        if not sep or not key_id.isalnum() or len(key_id) > 16:
            raise RuntimeError("CASEAPP_ENCRYPTION_KEYS entries are 'id:base64key' with a short alphanumeric id")
        if key_id in keys:
            raise RuntimeError(f"encryption key id {key_id!r} appears twice")
        keys[key_id] = _decode_key(encoded, f"encryption key {key_id!r}")
    if not keys:
        raise RuntimeError("CASEAPP_ENCRYPTION_KEYS must hold at least one key")
    index_key = _decode_key(blind_index_key, "CASEAPP_BLIND_INDEX_KEY")
    if index_key in keys.values():
        raise RuntimeError("the blind-index key must differ from every encryption key")
    return Keyring(keys, next(iter(keys)), index_key)


def read_key_file(path: Path) -> dict[str, str]:
    """The settings in a key file written by `new_key_file_text` (KEY=value lines)."""
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            values[name.strip()] = value.strip()
    return values


def new_key(key_id: str) -> str:
    """A fresh 'id:base64key' entry."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def new_key_file_text() -> str:
    """The text of a new key file: one encryption key and one blind-index key."""
    return (f"# caseapp keys: keep this file out of backups of the database and out of version control\n"
            f"ENCRYPTION_KEYS={new_key('k1')}\n"
            f"BLIND_INDEX_KEY={base64.b64encode(secrets.token_bytes(32)).decode()}\n")


def keyring_from_config(config) -> Keyring:
    """The keyring from the app's configuration (ENCRYPTION_KEYS / BLIND_INDEX_KEY, or KEY_FILE)."""
    encryption_keys, index_key = config.get("ENCRYPTION_KEYS"), config.get("BLIND_INDEX_KEY")
    if (not encryption_keys or not index_key) and config.get("KEY_FILE"):
        values = read_key_file(Path(config["KEY_FILE"]))
        encryption_keys = encryption_keys or values.get("ENCRYPTION_KEYS")
        index_key = index_key or values.get("BLIND_INDEX_KEY")
    if not encryption_keys or not index_key:
        raise RuntimeError("Encryption keys are missing: set CASEAPP_ENCRYPTION_KEYS and CASEAPP_BLIND_INDEX_KEY "
                           "(or CASEAPP_KEY_FILE); `python -m caseapp.security.encryption` prints a fresh key file.")
    return parse_keyring(encryption_keys, index_key)


def install_keyring(app) -> None:
    """Read the keys once at start-up; a missing or malformed key stops the start, not the first save."""
    app.extensions[_EXTENSION_KEY] = keyring_from_config(app.config)


def keyring() -> Keyring:
    return current_app.extensions[_EXTENSION_KEY]


def new_row_key() -> str:
    """A random, never-reused identifier binding a row's ciphertexts to that row."""
    return secrets.token_hex(16)


@lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    """One AESGCM object per key, kept: a page opens dozens of values and `generate` seals millions."""
    return AESGCM(key)


def seal(plaintext: str, associated_data: str, ring: Keyring | None = None) -> str:
    """Encrypt `plaintext` with the current key, bound to `associated_data`."""
    ring = ring or keyring()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(ring.encryption_keys[ring.current_key_id]).encrypt(
        nonce, plaintext.encode(), associated_data.encode())
    return f"{ring.current_key_id}:{base64.b64encode(nonce + sealed).decode()}"


def key_id_of(token: str) -> str:
    return token.partition(":")[0]


def unseal(token: str, associated_data: str, ring: Keyring | None = None) -> str:
    """Decrypt a sealed value; raises SealError if it was sealed for another row/column, altered, or its key is gone."""
    ring = ring or keyring()
    key_id, _, encoded = token.partition(":")
    key = ring.encryption_keys.get(key_id)
    if key is None:
        raise SealError(f"no key {key_id!r} in the keyring")
    try:
        raw = base64.b64decode(encoded, validate=True)
        return _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], associated_data.encode()).decode()
    except (binascii.Error, ValueError, InvalidTag) as error:
        raise SealError(f"sealed value for {associated_data.split(':')[0]} does not open") from error


def blind_index(value: str | None, purpose: str, ring: Keyring | None = None) -> str | None:
    """HMAC-SHA256 of a normalised value under the blind-index key; `purpose` keeps indexes of different fields apart."""
    if not value:
        return None
    ring = ring or keyring()
    return hmac.new(ring.blind_index_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def is_sealed(value: object) -> bool:
    """Whether `value` has the shape of an envelope: a short alphanumeric key id, then base64 of nonce + data + tag."""
    if not isinstance(value, str):
        return False
    key_id, sep, encoded = value.partition(":")
    if not sep or not key_id.isalnum() or len(key_id) > 16:
        return False
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) >= _NONCE_BYTES + 16


class SealedText(TypeDecorator):
    """Column type holding AES-GCM envelopes only: binding anything that is not a sealed value is refused."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and not is_sealed(value):
            raise TypeError("a SealedText column only stores values made by seal()")
        return value


class Encrypted:
    """A model attribute whose plaintext lives only in memory; its column `_<name>_sealed` holds the envelope.

    The owner needs a `row_key` column; it is filled on first assignment. Reading decrypts each time, so
    plaintext is never cached on the instance.
    """

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.column_attr = f"_{name}_sealed"

    def associated_data(self, obj) -> str:
        return f"{obj.__tablename__}.{self.name}:{obj.row_key}"

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        token = getattr(obj, self.column_attr)
        return None if token is None else unseal(token, self.associated_data(obj))

    def __set__(self, obj, value: str | None) -> None:
        if obj.row_key is None:
            obj.row_key = new_row_key()
        setattr(obj, self.column_attr, None if value is None else seal(value, self.associated_data(obj)))

    def reseal(self, obj, ring: Keyring) -> bool:
        """Re-encrypt this attribute with the current key if another key sealed it; True when it changed."""
        token = getattr(obj, self.column_attr)
        if token is None or key_id_of(token) == ring.current_key_id:
            return False
        setattr(obj, self.column_attr, seal(unseal(token, self.associated_data(obj), ring),
                                            self.associated_data(obj), ring))
        return True


if __name__ == "__main__":  # `python -m caseapp.security.encryption > keyfile`: a fresh key file, before any app exists
    print(new_key_file_text(), end="")
