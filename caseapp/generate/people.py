"""Registering a generated person as `beneficiaries.services.register_beneficiary` does: the person, document,
flags, consents, blocking keys and first case, with their audit events."""
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from caseapp.beneficiaries.blocking import person_keys
from caseapp.beneficiaries.lookup import document_lookup_index, phone_lookup_index
from caseapp.beneficiaries.models import IdentityDocument
from caseapp.beneficiaries.normalize import name_search_key
from caseapp.cases.services import CASE_OPEN_FIELDS
from caseapp.demo import RETURN_COUNTRIES
from caseapp.generate import texts
from caseapp.generate.names import new_person
from caseapp.generate.records import Chunk
from caseapp.generate.setting import Point, Setting, Staff

FOREIGN_PROFILES = (("foreign_migrant", 40), ("asylum_seeker", 20), ("refugee", 25), ("family_member", 15))
LANGUAGES = {"MAR": ("ar",), "SYR": ("ar",), "SDN": ("ar",), "SEN": ("wo", "fr"), "GIN": ("ff", "fr"),
             "MLI": ("bm", "fr"), "CIV": ("fr",), "CMR": ("fr", "en")}
EXTRA_LANGUAGES = {"MAR": ("ber", "fr", "es"), "SYR": ("en",), "SDN": ("en",)}
DOCUMENT_TYPES = {"returnee": ("cnie", "passport"), "refugee": ("refugee_card", "passport"),
                  "asylum_seeker": ("other", "passport"), "foreign_migrant": ("passport", "consular_card",
                                                                              "residence_card")}


@dataclass
class Registered:
    """A generated person and their first case, as the later case work needs them."""

    person: dict
    case: dict
    worker: Staff
    point: Point
    flags: list[str]  # set at registration
    flag_candidates: list[str]  # flags the assessment may add
    statistics_consent: dict | None


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _flag_candidates(rng: random.Random, setting: Setting, person: dict, today: date, female: bool) -> list[str]:
    """Vulnerability flags that fit the person (each with its own likelihood), among those the database has."""
    age = _age(person["date_of_birth"], today)
    odds = {"older_person": 0.9 if age >= 60 else 0, "unaccompanied_child": 0.4 if age < 18 else 0,
            "single_parent": 0.12 if female and age >= 18 else 0.02, "no_documents": 0.15, "no_income": 0.2,
            "pregnant_lactating": 0.06 if female and 18 <= age < 45 else 0, "homeless": 0.05, "disability": 0.04,
            "stranded_migrant": 0.12 if person["nationality"] != "MAR" else 0, "serious_medical": 0.04,
            "mental_health": 0.05, "gbv_survivor": 0.05 if female else 0.01, "trafficking_victim": 0.01}
    return [code for code, _restricted in setting.flags if rng.random() < odds.get(code, 0.02)]


def _profile(rng: random.Random, nationality: str) -> str:
    if nationality == "MAR":
        return "returnee" if rng.random() < 0.88 else "family_member"
    return rng.choices([name for name, _ in FOREIGN_PROFILES], weights=[w for _, w in FOREIGN_PROFILES])[0]


def _birth(rng: random.Random, identity: dict, profile: str, today: date) -> tuple[date, bool]:
    """The birth date (1 January when estimated); some family members are children."""
    birth, estimated = identity["date_of_birth"], identity["dob_estimated"]
    if (profile == "family_member" and rng.random() < 0.4) or birth >= today:
        birth = today - timedelta(days=rng.randint(100, 17 * 365))
        if estimated:
            birth = date(birth.year, 1, 1)
    return birth, estimated


def _phone(rng: random.Random) -> str:
    number = f"6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    return rng.choice((f"+212 {number}", f"0{number}", f"00212 {number}"))


def _languages(rng: random.Random, nationality: str) -> list[str]:
    spoken = set(LANGUAGES[nationality])
    spoken.update(code for code in EXTRA_LANGUAGES.get(nationality, ()) if rng.random() < 0.3)
    if nationality != "MAR" and rng.random() < 0.2:
        spoken.add("ar")  # learnt in Morocco
    return sorted(spoken)


def _consents(chunk: Chunk, rng: random.Random, person: dict, actor: Staff, at: datetime) -> tuple[dict, dict | None]:
    """Processing consent (or legal basis) and, most often, consent to statistical use (`services._consents`)."""
    method = rng.choices(("signed_form", "oral_witness", "legal_basis"), weights=(72, 23, 5))[0]
    witness = rng.choice(texts.WITNESSES) if method == "oral_witness" else None
    common = {"beneficiary_id": person["id"], "method": method, "partner_id": None, "witness_name": witness,
              "given_at": at, "recorded_by_id": actor.id, "withdrawn_at": None, "withdrawn_by_id": None}
    processing = chunk.add("consent_record", {**common, "kind": "processing", "legal_basis": (
        texts.LEGAL_BASIS if method == "legal_basis" else None)})
    statistics = None
    if method != "legal_basis" and rng.random() < 0.95:
        statistics = chunk.add("consent_record", {**common, "kind": "statistics", "legal_basis": None})
    return processing, statistics


def _person(chunk: Chunk, setting: Setting, point: Point, actor: Staff, identity: dict, rng: random.Random,
            at: datetime) -> dict:
    """The person's row, as registration fills it from the form."""
    today = at.date()
    nationality = identity["nationality"]
    profile = _profile(rng, nationality)
    birth, estimated = _birth(rng, identity, profile, today)
    phone = _phone(rng) if rng.random() < 0.85 else ""
    given, family = identity["given_name"], identity["family_name"]
    given_alt, family_alt = identity["given_name_alt"], identity["family_name_alt"]
    return chunk.add("beneficiary", {
        "given_name": given, "family_name": family, "given_name_alt": given_alt or None,
        "family_name_alt": family_alt or None, "name_search": name_search_key(given, family, given_alt, family_alt),
        "sex": identity["sex"], "date_of_birth": birth, "dob_estimated": estimated, "nationality": nationality,
        "profile": profile, "country_returned_from": rng.choice(RETURN_COUNTRIES) if profile == "returnee" else None,
        "arrival_date": today - timedelta(days=rng.randint(1, max(1, min((today - birth).days, 700)))),
        "phone": phone or None, "phone_index": phone_lookup_index(phone), "commune_code": (
            point.commune_code if rng.random() < 0.9 else rng.choice(setting.communes)),
        "languages": ",".join(_languages(rng, nationality)), "household_id": None, "is_household_head": False,
        "registered_at": at, "registered_by_id": actor.id, "registered_at_service_point_id": point.id,
        "anonymised_at": None, "merged_into_id": None, "import_batch_id": None, "version": 1})


def _filled_fields(person: dict, document: bool, flags: list[str], processing: dict, statistics: dict | None) -> set:
    """The registration form's fields that were filled in (`services._filled_fields`), for the audit event."""
    filled = {"service_point_id", "given_name", "family_name", "sex", "nationality", "profile", "commune_code",
              "arrival_date", "languages", "processing_basis"}
    filled |= {"dob_estimated", "birth_year"} if person["dob_estimated"] else {"date_of_birth"}
    optional = {name: person[name] for name in ("given_name_alt", "family_name_alt", "phone", "country_returned_from")}
    optional |= {"document_type": document, "document_number": document, "flags": flags,
                 "statistics_consent": statistics, "witness_name": processing["witness_name"],
                 "legal_basis": processing["legal_basis"]}
    return filled | {name for name, value in optional.items() if value}


def register(chunk: Chunk, setting: Setting, point: Point, rng: random.Random, at: datetime) -> Registered:
    """One person registered at `point` by one of its workers at `at`, with their first case opened."""
    identity = new_person(rng)  # first: a person's identity depends on the seed and their index only
    actor = rng.choice(point.workers)
    person = _person(chunk, setting, point, actor, identity, rng, at)
    number = identity["document_number"]
    if number:
        row_key, token = chunk.sealed(IdentityDocument, "number", number)
        chunk.add("identity_document", {"beneficiary_id": person["id"], "row_key": row_key, "number": token,
                                        "doc_type": rng.choice(DOCUMENT_TYPES.get(person["profile"], ("passport",))),
                                        "number_index": document_lookup_index(number)})
    candidates = _flag_candidates(rng, setting, person, at.date(), person["sex"] == "F")
    restricted = {code for code, is_restricted in setting.flags if is_restricted}
    flags = sorted(code for code in candidates if rng.random() < 0.5
                   and (actor.restricted_access or code not in restricted))
    for code in flags:
        chunk.add("beneficiary_flag", {"beneficiary_id": person["id"], "flag_code": code, "set_at": at,
                                       "set_by_id": actor.id})
    processing, statistics = _consents(chunk, rng, person, actor, at)
    for key in sorted(person_keys((person["given_name"], identity["given_name_alt"]),
                                  (person["family_name"], identity["family_name_alt"]), person["date_of_birth"])):
        chunk.add("person_key", {"key": key, "beneficiary_id": person["id"]})
    chunk.audit(at, actor, "beneficiary.create", "beneficiary", person["id"],
                fields=sorted(_filled_fields(person, bool(number), flags, processing, statistics)))
    case = chunk.add("case_file", {
        "number": chunk.case_number(point.commune_code, at), "beneficiary_id": person["id"],
        "partner_id": point.partner_id, "service_point_id": point.id, "assigned_worker_id": actor.id,
        "status": "registered", "opened_at": at, "opened_by_id": actor.id, "closed_at": None, "updated_at": at,
        "risk_level": None, "closure_reason": None, "closure_requested_at": None, "closure_requested_by_id": None,
        "reopen_reason": None, "version": 1})
    chunk.audit(at, actor, "case.open", "case_file", case["id"], fields=CASE_OPEN_FIELDS)
    return Registered(person, case, actor, point, flags, [code for code in candidates if code not in flags],
                      statistics)
