"""Registering a beneficiary (with the opening of their first case) and viewing one; audited."""
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from caseapp.access.policy import can
from caseapp.audit.service import record, record_read
from caseapp.beneficiaries.flags import allowed_flag_codes
from caseapp.beneficiaries.blocking import person_keys
from caseapp.beneficiaries.models import (
    CONSENT_METHODS, DOCUMENT_TYPES, PROFILES, SEXES, Beneficiary, BeneficiaryFlag, ConsentRecord,
    IdentityDocument, PersonKey,
)
from caseapp.beneficiaries.lookup import document_lookup_index, phone_lookup_index
from caseapp.beneficiaries.normalize import name_search_key, phone_digits
from caseapp.cases.models import Case
from caseapp.cases.services import open_case
from caseapp.errors import ValidationFailed
from caseapp.extensions import db
from caseapp.labels import SPOKEN_LANGUAGE_LABELS
from caseapp.places.countries import is_country_code
from caseapp.places.models import Commune, ServicePoint
from caseapp.security.form_tokens import bind_form_token, claim_form_token

MAX_AGE_YEARS = 120
MAX_NAME_LENGTH = 120
MAX_SEARCH_KEY_LENGTH = Beneficiary.__table__.c.name_search.type.length  # every form of the names, normalized
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()./-]{6,24}$")


@dataclass
class RegistrationData:
    """Plain values of a registration, as typed by the caseworker."""

    service_point_id: int | None
    given_name: str
    family_name: str
    sex: str
    nationality: str
    profile: str
    commune_code: str
    date_of_birth: date | None = None
    dob_estimated: bool = False
    birth_year: int | None = None
    given_name_alt: str = ""
    family_name_alt: str = ""
    country_returned_from: str = ""
    arrival_date: date | None = None
    phone: str = ""
    languages: list[str] = field(default_factory=list)
    document_type: str = ""
    document_number: str = ""
    flags: list[str] = field(default_factory=list)
    processing_basis: str = ""
    witness_name: str = ""
    legal_basis: str = ""
    statistics_consent: bool = False


class _Errors(dict):
    """Field → messages; fields whose input could not even be parsed keep only that first message."""

    def __init__(self, unparsed: set[str]):
        super().__init__()
        self.unparsed = unparsed

    def add(self, name: str, message: str) -> None:
        if name not in self.unparsed:
            self.setdefault(name, []).append(message)


def _years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _birth_date(data: RegistrationData, today: date, errors: _Errors) -> date | None:
    if data.dob_estimated:
        if data.birth_year is None:
            errors.add("birth_year", _("Enter the estimated year of birth."))
        elif data.birth_year > today.year:
            errors.add("birth_year", _("The year of birth cannot be in the future."))
        elif data.birth_year < today.year - MAX_AGE_YEARS:
            errors.add("birth_year", _("An age over %(years)d years is not possible.", years=MAX_AGE_YEARS))
        else:
            return date(data.birth_year, 1, 1)
        return None
    if data.date_of_birth is None:
        errors.add("date_of_birth", _("Enter the date of birth, or tick “only the year is known”."))
    elif data.date_of_birth > today:
        errors.add("date_of_birth", _("The date of birth cannot be in the future."))
    elif data.date_of_birth <= _years_before(today, MAX_AGE_YEARS + 1):
        errors.add("date_of_birth", _("An age over %(years)d years is not possible.", years=MAX_AGE_YEARS))
    else:
        return data.date_of_birth
    return None


INVISIBLE_CONTROLS = re.compile("[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _check_identity(data: RegistrationData, errors: _Errors) -> None:
    for name in ("given_name", "family_name", "given_name_alt", "family_name_alt"):
        if len(getattr(data, name)) > MAX_NAME_LENGTH:
            errors.add(name, _("At most %(count)d characters.", count=MAX_NAME_LENGTH))
        elif INVISIBLE_CONTROLS.search(getattr(data, name)):
            # Direction overrides and other invisible controls can make a name display as another one in lists.
            errors.add(name, _("Remove the invisible control characters (direction marks, overrides...)."))
    for name in ("given_name", "family_name"):
        if not getattr(data, name).strip():
            errors.add(name, _("This field is required."))
    search_key = name_search_key(data.given_name, data.family_name, data.given_name_alt, data.family_name_alt)
    if len(search_key) > MAX_SEARCH_KEY_LENGTH and not errors:
        errors.add("given_name", _("These names are too long together to be searchable: shorten one of them."))
    if data.sex not in SEXES:
        errors.add("sex", _("Choose the sex."))
    if not is_country_code(data.nationality):
        errors.add("nationality", _("Choose a nationality from the list."))
    if data.profile not in PROFILES:
        errors.add("profile", _("Choose a profile from the list."))
    if data.profile == "returnee" and not is_country_code(data.country_returned_from):
        errors.add("country_returned_from", _("Choose the country the person returned from."))
    elif data.country_returned_from and not is_country_code(data.country_returned_from):
        errors.add("country_returned_from", _("Choose a country from the list."))


def _check_contact(data: RegistrationData, actor, today: date, birth: date | None, errors: _Errors):
    if not data.commune_code or db.session.get(Commune, data.commune_code) is None:
        errors.add("commune_code", _("Choose a commune from the list."))
    service_point = db.session.get(ServicePoint, data.service_point_id) if data.service_point_id else None
    if service_point is None or not can(actor, "beneficiary.register", service_point):
        errors.add("service_point_id", _("Choose one of your service points."))
    if data.arrival_date and data.arrival_date > today:
        errors.add("arrival_date", _("The arrival date cannot be in the future."))
    elif data.arrival_date and birth and data.arrival_date < birth:
        errors.add("arrival_date", _("The arrival date cannot be before the date of birth."))
    if data.phone and (not PHONE_PATTERN.match(data.phone) or len(phone_digits(data.phone) or "") < 6):
        errors.add("phone", _("Enter a phone number made of digits, for example +212 612 345 678."))
    unknown_languages = set(data.languages) - set(SPOKEN_LANGUAGE_LABELS)
    if unknown_languages:
        errors.add("languages", _("Choose languages from the list."))


def _check_document(data: RegistrationData, errors: _Errors) -> None:
    if data.document_type and data.document_type not in DOCUMENT_TYPES:
        errors.add("document_type", _("Choose a document type from the list."))
    if data.document_type and not data.document_number.strip():
        errors.add("document_number", _("Enter the document number."))
    if data.document_number.strip() and not data.document_type:
        errors.add("document_type", _("Choose the type of the document."))


def _check_consent(data: RegistrationData, actor, errors: _Errors) -> None:
    if data.processing_basis not in CONSENT_METHODS:
        errors.add("processing_basis", _("Record the person's consent to data processing, or a legal basis."))
    elif data.processing_basis == "oral_witness" and not data.witness_name.strip():
        errors.add("witness_name", _("Oral consent needs the name of a witness."))
    elif data.processing_basis == "legal_basis" and not data.legal_basis.strip():
        errors.add("legal_basis", _("Describe the legal basis for processing without consent."))
    if data.statistics_consent and data.processing_basis == "legal_basis":
        errors.add("statistics_consent", _("Consent to statistical use must be given by the person (signed or oral)."))
    if set(data.flags) - allowed_flag_codes(actor):
        errors.add("flags", _("Choose flags from the list."))


def validate_registration(actor, data: RegistrationData, today: date, unparsed: dict | None = None) -> date:
    """Check every field; raise ValidationFailed with all field errors at once, or return the birth date.

    `unparsed` holds errors already found while reading the input (a date that is not a date...);
    they are reported together with the others.
    """
    unparsed = {name: list(messages) for name, messages in (unparsed or {}).items()}
    errors = _Errors(set(unparsed))
    _check_identity(data, errors)
    birth = _birth_date(data, today, errors)
    _check_contact(data, actor, today, birth, errors)
    _check_document(data, errors)
    _check_consent(data, actor, errors)
    if errors or unparsed:
        raise ValidationFailed({**unparsed, **errors})
    return birth


def _consents(data: RegistrationData, actor) -> list[ConsentRecord]:
    processing = ConsentRecord(
        kind="processing", method=data.processing_basis, recorded_by_id=actor.id,
        witness_name=data.witness_name.strip() or None if data.processing_basis == "oral_witness" else None,
        legal_basis=data.legal_basis.strip() if data.processing_basis == "legal_basis" else None,
    )
    consents = [processing]
    if data.statistics_consent:
        consents.append(ConsentRecord(kind="statistics", method=data.processing_basis, recorded_by_id=actor.id,
                                      witness_name=processing.witness_name))
    return consents


def register_beneficiary(actor, data: RegistrationData, today: date | None = None,
                         unparsed: dict | None = None, form_token: str | None = None) -> tuple[Beneficiary, Case]:
    """Register a person at one of the actor's service points and open their first case.

    Validates everything first and raises ValidationFailed before any row is added. A second post of the
    same form (same `form_token`) returns the person the first one registered.
    """
    today = today or date.today()
    birth = validate_registration(actor, data, today, unparsed)
    earlier = claim_form_token(form_token, Beneficiary.__tablename__)
    if earlier:
        person = db.session.get(Beneficiary, earlier)
        return person, person.cases[0]
    service_point = db.session.get(ServicePoint, data.service_point_id)
    person = Beneficiary(
        given_name=data.given_name.strip(), family_name=data.family_name.strip(),
        given_name_alt=data.given_name_alt.strip() or None, family_name_alt=data.family_name_alt.strip() or None,
        name_search=name_search_key(data.given_name, data.family_name, data.given_name_alt, data.family_name_alt),
        sex=data.sex, date_of_birth=birth, dob_estimated=data.dob_estimated, nationality=data.nationality,
        profile=data.profile, country_returned_from=data.country_returned_from or None,
        arrival_date=data.arrival_date, phone=data.phone.strip() or None, phone_index=phone_lookup_index(data.phone),
        commune_code=data.commune_code, languages=",".join(sorted(set(data.languages))),
        registered_by_id=actor.id, registered_at_service_point_id=service_point.id,
    )
    if data.document_type:
        person.documents.append(IdentityDocument(doc_type=data.document_type, number=data.document_number.strip(),
                                                 number_index=document_lookup_index(data.document_number)))
    person.flags.extend(BeneficiaryFlag(flag_code=code, set_by_id=actor.id) for code in sorted(set(data.flags)))
    person.consents.extend(_consents(data, actor))
    db.session.add(person)
    db.session.flush()
    db.session.add_all(PersonKey(key=key, beneficiary_id=person.id) for key in sorted(person_keys(
        (person.given_name, person.given_name_alt), (person.family_name, person.family_name_alt), birth)))
    bind_form_token(form_token, person)
    record(actor, "beneficiary.create", person, fields=sorted(_filled_fields(data)))
    case = open_case(actor, person, service_point)
    return person, case


def _filled_fields(data: RegistrationData) -> set[str]:
    return {name for name, value in vars(data).items() if value not in (None, "", [], False)}


def view_beneficiary(actor, person: Beneficiary) -> None:
    """Record that `actor` opened this person's page."""
    record_read(actor, "beneficiary.view", person)


def visible_flags(actor, person: Beneficiary) -> list[BeneficiaryFlag]:
    """The person's flags the actor may see (restricted ones need restricted access)."""
    return [item for item in person.flags if can(actor, "flag.view", item.flag)]


def visible_cases(actor, person: Beneficiary) -> list[Case]:
    """The person's cases within the actor's scope."""
    return [case for case in person.cases if can(actor, "case.view", case)]


def likely_duplicates(actor, data: RegistrationData):
    """People who are probably the person being registered: shown when in the actor's scope, else only counted."""
    from caseapp.beneficiaries.duplicates import find_duplicates

    birth = date(data.birth_year, 1, 1) if data.dob_estimated and data.birth_year else data.date_of_birth
    record = {"given_name": data.given_name, "family_name": data.family_name, "sex": data.sex,
              "date_of_birth": birth.isoformat() if birth else "", "dob_is_estimated": data.dob_estimated,
              "nationality": data.nationality, "document_number": data.document_number}
    return find_duplicates(actor, record, (data.given_name_alt, data.family_name_alt))


def record_new_person_decision(actor, person: Beneficiary, duplicates) -> None:
    """Audit that `actor` registered `person` as new although likely duplicates were shown (ids only)."""
    record(actor, "beneficiary.not_a_duplicate", person,
           candidates=sorted(candidate.id for candidate, _ in duplicates.visible),
           outside_scope=duplicates.outside_scope)
