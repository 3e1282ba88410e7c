"""The fields a column can be mapped to, the mapping suggested from common headings (fr/en/ar), and its checks."""
import json
import re
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# Field → label, in the order of the mapping page. The names are those of RegistrationData.
FIELD_LABELS = {
    "given_name": _l("Given name(s)"),
    "family_name": _l("Family name"),
    "given_name_alt": _l("Given name in the other script"),
    "family_name_alt": _l("Family name in the other script"),
    "sex": _l("Sex"),
    "date_of_birth": _l("Date of birth"),
    "dob_estimated": _l("Only the year of birth is known (estimated)"),
    "birth_year": _l("Estimated year of birth"),
    "nationality": _l("Nationality"),
    "profile": _l("Profile"),
    "country_returned_from": _l("Country returned from (returnees)"),
    "arrival_date": _l("Date of arrival or return"),
    "commune_code": _l("Commune of residence"),
    "phone": _l("Phone"),
    "languages": _l("Languages spoken"),
    "document_type": _l("Identity document"),
    "document_number": _l("Document number"),
    "processing_basis": _l("Consent to data processing"),
    "witness_name": _l("Witness (oral consent)"),
    "legal_basis": _l("Legal basis (when there is no consent)"),
    "statistics_consent": _l("The person agrees to be counted in anonymous statistics"),
}
FIELDS = tuple(FIELD_LABELS)
# Fields every file must provide a column for (a date of birth or an estimated year is checked apart).
REQUIRED_FIELDS = ("given_name", "family_name", "sex", "nationality", "profile", "commune_code", "processing_basis")
MAX_MAPPING_NAME = 80

# Common headings of the registers teams keep, normalized by `heading_key` (lower case, no accents or punctuation).
_SYNONYMS = {
    "given_name": ("prenom", "prenoms", "given name", "given names", "first name", "firstname", "forename",
                   "الاسم", "الاسم الشخصي", "الإسم الشخصي", "اسم"),
    "family_name": ("nom", "nom de famille", "family name", "last name", "lastname", "surname",
                    "اللقب", "الاسم العائلي", "الإسم العائلي", "النسب", "اسم العائلة"),
    "given_name_alt": ("prenom arabe", "prenom en arabe", "given name arabic", "first name arabic",
                       "الاسم بالعربية", "الاسم الشخصي بالعربية"),
    "family_name_alt": ("nom arabe", "nom en arabe", "family name arabic", "last name arabic",
                        "اللقب بالعربية", "الاسم العائلي بالعربية"),
    "sex": ("sexe", "sex", "gender", "genre", "الجنس", "النوع"),
    "date_of_birth": ("date de naissance", "naissance", "date naissance", "ddn", "date of birth", "dob",
                      "birth date", "birthdate", "تاريخ الازدياد", "تاريخ الميلاد", "تاريخ الولادة"),
    "dob_estimated": ("date estimee", "naissance estimee", "age estime", "estimated", "dob estimated",
                      "estimated date", "تاريخ تقريبي"),
    "birth_year": ("annee de naissance", "annee naissance", "birth year", "year of birth", "سنة الازدياد",
                   "سنة الميلاد"),
    "nationality": ("nationalite", "nationality", "pays d origine", "الجنسية"),
    "profile": ("profil", "profile", "categorie", "category", "statut", "status", "الفئة"),
    "country_returned_from": ("pays de retour", "retour de", "pays retour", "country returned from",
                              "returned from", "بلد العودة"),
    "arrival_date": ("date d arrivee", "date de retour", "arrivee", "arrival date", "date of arrival",
                     "return date", "تاريخ الوصول", "تاريخ العودة"),
    "commune_code": ("commune", "code commune", "commune de residence", "municipality", "commune code",
                     "الجماعة", "جماعة الإقامة"),
    "phone": ("telephone", "tel", "gsm", "portable", "phone", "mobile", "phone number", "الهاتف", "رقم الهاتف"),
    "languages": ("langues", "langue", "langues parlees", "languages", "language", "languages spoken", "اللغات",
                  "اللغة"),
    "document_type": ("type de document", "type document", "piece d identite", "document type", "id type",
                      "نوع الوثيقة"),
    "document_number": ("numero de document", "numero document", "n document", "numero piece", "cin", "cnie",
                        "passeport", "document number", "id number", "passport number", "رقم الوثيقة",
                        "رقم البطاقة"),
    "processing_basis": ("consentement", "consentement traitement", "base du traitement", "consent",
                         "processing basis", "consent basis", "الموافقة"),
    "witness_name": ("temoin", "nom du temoin", "witness", "witness name", "الشاهد"),
    "legal_basis": ("base legale", "fondement juridique", "legal basis", "الأساس القانوني"),
    "statistics_consent": ("consentement statistiques", "statistiques", "statistics consent", "statistics",
                           "الموافقة على الإحصاء"),
}


def heading_key(text: str) -> str:
    """A heading as compared: lower case, accents and punctuation removed, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char) or "\u0600" <= char <= "\u06ff")
    return " ".join(re.sub(r"[\W_]+", " ", bare).split())


_BY_HEADING = {heading_key(synonym): name for name, synonyms in _SYNONYMS.items() for synonym in synonyms}


def suggest_mapping(headings: list[str]) -> dict[str, str]:
    """field → heading for the headings recognised (each field and each heading used once, first come first)."""
    mapping: dict[str, str] = {}
    for heading in headings:
        name = _BY_HEADING.get(heading_key(heading)) if heading else None
        if name is None and heading:
            name = _BY_HEADING.get(heading_key(re.sub(r"\(.*?\)|\[.*?\]", "", heading)))  # "Sexe (F/M)"
        if name and name not in mapping:
            mapping[name] = heading
    return mapping


def mapping_errors(mapping: dict[str, str], headings: list[str]) -> list[str]:
    """Translated reasons why `mapping` cannot be used with these headings (empty when it can)."""
    errors = []
    unknown = sorted(name for name in mapping if name not in FIELD_LABELS)
    if unknown:
        errors.append(_("Unknown fields in the mapping: %(fields)s.", fields=", ".join(unknown)))
    missing_headings = sorted({heading for heading in mapping.values() if heading not in headings})
    if missing_headings:
        errors.append(_("These columns are not in the file: %(headings)s.", headings=", ".join(missing_headings)))
    missing = [str(FIELD_LABELS[name]) for name in REQUIRED_FIELDS if name not in mapping]
    if "date_of_birth" not in mapping and "birth_year" not in mapping:
        missing.append(str(FIELD_LABELS["date_of_birth"]))
    if missing:
        errors.append(_("Choose a column for: %(fields)s.", fields=", ".join(missing)))
    return errors


def mapping_to_json(mapping: dict[str, str]) -> str:
    """The stored form of a mapping (ImportBatch.mapping, ImportMapping.mapping): field → heading, sorted."""
    return json.dumps({name: mapping[name] for name in FIELDS if mapping.get(name)}, ensure_ascii=False,
                      sort_keys=True)


def mapping_from_json(text: str | None) -> dict[str, str]:
    """A mapping read back from JSON; anything that is not a field → heading table gives an empty mapping."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(name): str(heading) for name, heading in value.items()
            if isinstance(heading, str) and heading and name in FIELD_LABELS}
