"""Exact lookup of phone and document numbers through keyed blind indexes (never the plain values)."""
from caseapp.beneficiaries.normalize import normalize_document_number, phone_digits
from caseapp.security.encryption import blind_index


def phone_lookup_index(phone: str | None) -> str | None:
    """The blind index of a phone number in national digits (+212 6.., 00212 6.. and 06.. index alike)."""
    digits = phone_digits(phone)
    if digits and len(digits) == 9 and digits[0] in "5678":
        digits = "0" + digits  # a Moroccan number typed without its leading 0
    return blind_index(digits, "phone")


def document_lookup_index(number: str | None) -> str | None:
    """The blind index of a document number, ignoring case, spaces, dots, dashes and slashes."""
    return blind_index(normalize_document_number(number), "document")
