"""Search keys for names and phone numbers, so that spelling, accents and Arabic letter forms don't matter."""
import re
import unicodedata

_ARABIC_FOLDS = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه", "ـ": None,
})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`.,_/]+")


def normalize_name(text: str | None) -> str:
    """Lower-case, accent-free, Arabic-folded form of a name; words separated by single spaces."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    folded = unicodedata.normalize("NFC", stripped).translate(_ARABIC_FOLDS)
    return _SEPARATORS.sub(" ", folded).strip()


def name_search_key(*names: str | None) -> str:
    """The indexed search text of a person: every written form of their names, normalized.

    A name of several words is also stored joined ("el amrani" and "elamrani"), so that a name typed
    with or without its particle's space is found.
    """
    parts = []
    for name in names:
        normalized = normalize_name(name)
        if normalized:
            parts.append(normalized)
            if " " in normalized:
                parts.append(normalized.replace(" ", ""))
    return " ".join(parts)


def phone_digits(phone: str | None) -> str | None:
    """Digits of a phone number in national form (+212 6.. and 00212 6.. become 06..)."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    for prefix in ("00212", "212"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 7:
            digits = "0" + digits[len(prefix):]
            break
    return digits or None


def normalize_document_number(number: str | None) -> str | None:
    """A document number as compared for lookup: upper case, without spaces, dots, dashes or slashes."""
    if not number:
        return None
    return re.sub(r"[\s./-]", "", number).upper() or None
