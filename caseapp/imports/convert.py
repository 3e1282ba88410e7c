"""Turning one spreadsheet row into the RegistrationData a caseworker would have typed, with conversion errors.

Conversions: sex F/M, femme/homme, female/male, أنثى/ذكر; dates ISO (2024-05-17), dd/mm/yyyy (also with - or .)
or a date cell; yes/no, oui/non, نعم/لا (also 1/0, true/false, x); codes or their labels in French, English or
Arabic for profile, document type, consent, languages; ISO country codes (alpha-3 or alpha-2) or country names;
commune codes or names. What cannot be read is reported for its field, as the registration form would.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

import pycountry
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from caseapp.beneficiaries.services import RegistrationData
from caseapp.extensions import db
from caseapp.i18n import LANGUAGES
from caseapp.labels import CONSENT_METHOD_LABELS, DOCUMENT_TYPE_LABELS, PROFILE_LABELS, SPOKEN_LANGUAGE_LABELS
from caseapp.places.countries import country_name
from caseapp.places.models import Commune

_SEXES = {"f": "F", "femme": "F", "female": "F", "woman": "F", "feminin": "F", "أنثى": "F", "انثى": "F",
          "امرأة": "F", "m": "M", "h": "M", "homme": "M", "male": "M", "man": "M", "masculin": "M", "ذكر": "M",
          "رجل": "M"}
_YES = {"yes", "y", "oui", "o", "true", "vrai", "1", "x", "نعم"}
_NO = {"no", "n", "non", "false", "faux", "0", "لا"}
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$")
_LIST_SEPARATORS = re.compile(r"[,;/|]+|\s+-\s+")
_BOOLEAN_FIELDS = ("dob_estimated", "statistics_consent")
_DATE_FIELDS = ("date_of_birth", "arrival_date")


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c) or "\u0600" <= c <= "\u06ff")
                    .replace("’", "'").split())


_SEXES = {_key(value): code for value, code in _SEXES.items()}
_YES = {_key(value) for value in _YES}
_NO = {_key(value) for value in _NO}


@dataclass
class Lookups:
    """Value → code tables, built once per file (labels in every interface language, communes, countries)."""

    profiles: dict[str, str]
    documents: dict[str, str]
    consents: dict[str, str]
    languages: dict[str, str]
    countries: dict[str, str]
    communes: dict[str, str]


def _label_table(labels: dict) -> dict[str, str]:
    table = {_key(code): code for code in labels}
    for language in LANGUAGES:
        with force_locale(language):
            table.update({_key(str(label)): code for code, label in labels.items()})
    return table


def build_lookups() -> Lookups:
    """The conversion tables for one file."""
    countries = {}
    for country in pycountry.countries:
        alpha3, alpha2 = country.alpha_3, country.alpha_2
        countries[_key(alpha3)] = alpha3
        countries.setdefault(_key(alpha2), alpha3)
        for language in LANGUAGES:
            countries.setdefault(_key(country_name(alpha3, language)), alpha3)
    communes = {}
    for code, name_fr, name_ar in db.session.execute(select(Commune.code, Commune.name_fr, Commune.name_ar)):
        communes[_key(code)] = code
        communes.setdefault(_key(name_fr), code)
        if name_ar:
            communes.setdefault(_key(name_ar), code)
    extra_languages = {"arabe": "ar", "darija": "ar", "العربية": "ar", "amazigh": "ber", "tamazight": "ber",
                       "الأمازيغية": "ber", "francais": "fr", "الفرنسية": "fr", "anglais": "en", "الإنجليزية": "en",
                       "espagnol": "es", "الإسبانية": "es"}
    return Lookups(profiles=_label_table(PROFILE_LABELS), documents=_label_table(DOCUMENT_TYPE_LABELS),
                   consents=_label_table(CONSENT_METHOD_LABELS),
                   languages={**_label_table(SPOKEN_LANGUAGE_LABELS), **extra_languages},
                   countries=countries, communes=communes)


def parse_date(value: object) -> date | None:
    """A date cell, ISO text or dd/mm/yyyy text; None when empty; ValueError when not a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    if match := _ISO.match(text):
        year, month, day = match.groups()
    elif match := _DAY_FIRST.match(text):
        day, month, year = match.groups()
    else:
        raise ValueError(text)
    return date(int(year), int(month), int(day))


def parse_yes_no(value: object) -> bool | None:
    """True, False, or None when the cell is empty; ValueError for anything else."""
    text = _key(str(value or ""))
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(text)


def _coded(value: str, table: dict[str, str]) -> str:
    """The code for a code or a label; an unknown value is kept as written (validation then names the field)."""
    return table.get(_key(value), value.strip()) if value.strip() else ""


def row_to_registration(row: dict[str, object], mapping: dict[str, str], service_point_id: int,
                        lookups: Lookups) -> tuple[RegistrationData, dict[str, list[str]]]:
    """The registration a row stands for, and the fields whose cell could not even be read (field → messages)."""
    unparsed: dict[str, list[str]] = {}

    def cell(name: str) -> object:
        heading = mapping.get(name)
        return row.get(heading, "") if heading else ""

    def text(name: str) -> str:
        value = cell(name)
        return value.isoformat() if isinstance(value, date) else str(value or "").strip()

    values: dict[str, object] = {name: text(name) for name in (
        "given_name", "family_name", "given_name_alt", "family_name_alt", "phone", "document_number",
        "witness_name", "legal_basis")}
    for name in _DATE_FIELDS:
        try:
            values[name] = parse_date(cell(name))
        except ValueError:
            values[name] = None
            unparsed[name] = [_("Enter a date as 2024-05-17 or 17/05/2024.")]
    for name in _BOOLEAN_FIELDS:
        try:
            values[name] = parse_yes_no(cell(name))
        except ValueError:
            values[name] = None
            unparsed[name] = [_("Answer yes or no.")]
    year_text = text("birth_year")
    values["birth_year"] = None
    if year_text:
        if re.fullmatch(r"\d{4}", year_text):
            values["birth_year"] = int(year_text)
        else:
            unparsed["birth_year"] = [_("Enter a year of four digits, for example 1990.")]
    if values["dob_estimated"] is None:  # not said: a year without a date is an estimate
        values["dob_estimated"] = values["date_of_birth"] is None and values["birth_year"] is not None
    elif values["dob_estimated"] and values["birth_year"] is None and values["date_of_birth"] is not None:
        values["birth_year"] = values["date_of_birth"].year
    values["statistics_consent"] = bool(values["statistics_consent"])
    sex = text("sex")
    values["sex"] = _SEXES.get(_key(sex), sex)
    values["profile"] = _coded(text("profile"), lookups.profiles)
    values["document_type"] = _coded(text("document_type"), lookups.documents)
    values["processing_basis"] = _coded(text("processing_basis"), lookups.consents)
    values["nationality"] = _coded(text("nationality"), lookups.countries)
    values["country_returned_from"] = _coded(text("country_returned_from"), lookups.countries)
    values["commune_code"] = _coded(text("commune_code"), lookups.communes)
    values["languages"] = sorted({_coded(part, lookups.languages)
                                  for part in _LIST_SEPARATORS.split(text("languages")) if part.strip()})
    return RegistrationData(service_point_id=service_point_id, **values), unparsed
