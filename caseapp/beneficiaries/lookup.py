"""Exact lookup of phone and document numbers through keyed blind indexes (never the plain values)."""
from caseapp.beneficiaries.normalize import normalize_document_number, phone_digits
from caseapp.security.encryption import blind_index


def lookup_phone_digits(phone: str | None) -> str | None:
    """A phone number's national digits as indexed: +212 6.., 00212 6.., 06.. and 6.. (9 digits) alike."""
    digits = phone_digits(phone)
    if digits and len(digits) == 9 and digits[0] in "5678":
        digits = "0" + digits  # a Moroccan number typed without its leading 0
    return digits


def phone_lookup_index(phone: str | None) -> str | None:
    """The blind index of a phone number (see lookup_phone_digits)."""
    return blind_index(lookup_phone_digits(phone), "phone")


def document_lookup_index(number: str | None) -> str | None:
    """The blind index of a document number, ignoring case, spaces, dots, dashes and slashes."""
    return blind_index(normalize_document_number(number), "document")
