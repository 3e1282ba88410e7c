"""Demo data for `flask caseapp seed-demo`: partners, service points, one account per role, ~200 people."""
import random
import secrets
from datetime import date, timedelta

import pyotp

from caseapp.auth.mfa import mfa_required
from caseapp.auth.services import create_user
from caseapp.beneficiaries.services import RegistrationData, register_beneficiary
from caseapp.extensions import db
from caseapp.labels import SPOKEN_LANGUAGE_LABELS
from caseapp.models_base import utcnow
from caseapp.partners.models import Partner
from caseapp.places.loader import load_partners, load_reference_data
from caseapp.places.models import Commune, ServicePoint
from caseapp.referrals.models import DirectoryEntry

SERVICE_POINT_PARTNERS = {
    "IOM": ("OUJ", "NAD", "BER", "DRI", "GUE", "FIG"),
    "EN": ("BEM", "KHO", "FBS"),
    "MD": ("TIZ", "TAL"),
}
# username, full name, role, partner, service-point communes (None = all of the partner's), restricted access
DEMO_ACCOUNTS = (
    ("caseworker", "Salma Berrada", "caseworker", "IOM", ("OUJ",), True),
    ("caseworker.nador", "Youssef Amrani", "caseworker", "IOM", ("NAD",), False),
    ("caseworker.bm", "Hanane Lahlou", "caseworker", "EN", ("BEM",), False),
    ("supervisor", "Karim Benali", "supervisor", "IOM", None, True),
    ("supervisor.en", "Fatima Zahra Idrissi", "supervisor", "EN", None, False),
    ("supervisor.md", "Omar Aït Lahcen", "supervisor", "MD", None, False),
    ("receiver", "Nadia Chraibi", "referral_receiver", "ANAPEC", (), False),
    ("me", "Rachid Tazi", "me_officer", "IOM", (), False),
    ("dpo", "Leila Bennani", "dpo", "IOM", (), False),
    ("admin", "Mehdi Alaoui", "admin", "IOM", (), False),
)
MOROCCAN_NAMES = (
    ("Mohamed", "محمد", "M"), ("Youssef", "يوسف", "M"), ("Hamza", "حمزة", "M"), ("Said", "سعيد", "M"),
    ("Rachid", "رشيد", "M"), ("Khadija", "خديجة", "F"), ("Fatima", "فاطمة", "F"), ("Aicha", "عائشة", "F"),
    ("Naima", "نعيمة", "F"), ("Zineb", "زينب", "F"),
)
MOROCCAN_FAMILY_NAMES = (
    ("El Amrani", "العمراني"), ("Benali", "بنعلي"), ("Ouali", "والي"), ("Bouzid", "بوزيد"),
    ("Lahlou", "لحلو"), ("Aït Ahmed", "آيت أحمد"), ("Tazi", "التازي"), ("Chraibi", "الشرايبي"),
)
FOREIGN_NAMES = {
    "SEN": (("Mamadou", "Diallo", "M"), ("Awa", "Ndiaye", "F"), ("Cheikh", "Sow", "M")),
    "GIN": (("Fatoumata", "Camara", "F"), ("Ibrahima", "Bah", "M"), ("Mariama", "Barry", "F")),
    "CIV": (("Koffi", "Kouassi", "M"), ("Aya", "Yao", "F"), ("Serge", "Konan", "M")),
    "MLI": (("Moussa", "Traoré", "M"), ("Aminata", "Coulibaly", "F"), ("Bakary", "Keita", "M")),
    "CMR": (("Jean", "Mbarga", "M"), ("Brigitte", "Nguema", "F"), ("Paul", "Etoa", "M")),
    "SYR": (("Ahmad", "Haddad", "M"), ("Rania", "Khalil", "F"), ("Omar", "Hamwi", "M")),
    "SDN": (("Abdelrahman", "Osman", "M"), ("Amna", "Ibrahim", "F"), ("Hassan", "Adam", "M")),
}
RETURN_COUNTRIES = ("LBY", "DZA", "ESP", "FRA", "ITA", "BEL", "NLD", "TUR", "DEU")


# partner → service codes it offers in every service-point commune (the demo's service directory)
DEMO_DIRECTORY = {
    "IOM": ("avrr.counselling", "avrr.travel_documents", "avrr.medical_fitness", "avrr.reintegration_grant"),
    "ANAPEC": ("employment.anapec", "employment.job_placement", "employment.vocational_training"),
    "CNSS": ("social.cnss", "social.pension_transfer", "social.family_allowance"),
    "EN": ("social.health_cover", "social.civil_documents", "social.education", "employment.income_generating"),
    "MD": ("social.legal_aid", "employment.income_generating"),
    "ASSOC_PSY": ("psychosocial.individual", "psychosocial.group", "psychosocial.specialised"),
}


def create_demo_directory(partners: dict[str, Partner]) -> None:
    """Directory entries: each demo partner offers its services in every service-point commune."""
    communes = [commune for codes in SERVICE_POINT_PARTNERS.values() for commune in codes]
    for partner_code, service_codes in DEMO_DIRECTORY.items():
        for service_code in service_codes:
            for commune_code in communes:
                db.session.add(DirectoryEntry(partner_id=partners[partner_code].id, service_code=service_code,
                                              commune_code=commune_code, contact=f"{partner_code} — 05 36 00 00 00",
                                              hours="Lun–Ven 8h30–16h30", languages="ar, fr"))
    db.session.flush()


def create_demo_structure() -> dict[str, Partner]:
    """Reference data, demo partners and one service point per service-point commune."""
    load_reference_data()
    partners = {partner.code: partner for partner in load_partners()}
    for partner_code, communes in SERVICE_POINT_PARTNERS.items():
        for commune_code in communes:
            commune = db.session.get(Commune, commune_code)
            db.session.add(ServicePoint(code=f"{partner_code}-{commune_code}", name=f"{partner_code} {commune.name_fr}",
                                        commune_code=commune_code, partner_id=partners[partner_code].id))
    db.session.flush()
    return partners


def create_demo_accounts(partners: dict[str, Partner]) -> dict[str, tuple]:
    """One account per role (and a few more to show isolation); returns username → (user, password)."""
    accounts = {}
    for username, full_name, role, partner_code, communes, restricted in DEMO_ACCOUNTS:
        partner = partners[partner_code]
        points = [sp for sp in partner.service_points if communes is None or sp.commune_code in communes]
        password = secrets.token_urlsafe(12)
        user = create_user(None, username=username, full_name=full_name, password=password, role=role,
                           partner=partner, service_points=points, restricted_access=restricted)
        if mfa_required(user):  # enrolled already, so the demo needs no phone: `make demo-code` gives the codes
            user.totp_secret = pyotp.random_base32()
            user.mfa_enabled_at = utcnow()
        accounts[username] = (user, password)
    return accounts


def _person(rng: random.Random, service_point: ServicePoint, communes: list[str], today: date) -> RegistrationData:
    returnee = rng.random() < 0.5
    if returnee:
        (given, given_ar, sex), (family, family_ar) = rng.choice(MOROCCAN_NAMES), rng.choice(MOROCCAN_FAMILY_NAMES)
        nationality, profile, alt = "MAR", "returnee", (given_ar, family_ar)
    else:
        nationality = rng.choice(sorted(FOREIGN_NAMES))
        given, family, sex = rng.choice(FOREIGN_NAMES[nationality])
        profile, alt = rng.choice(("foreign_migrant", "asylum_seeker", "refugee", "family_member")), ("", "")
    age_days = rng.randint(200, 70 * 365)
    estimated = rng.random() < 0.15
    born = today - timedelta(days=age_days)
    return RegistrationData(
        service_point_id=service_point.id, given_name=given, family_name=family,
        given_name_alt=alt[0], family_name_alt=alt[1], sex=sex,
        nationality=nationality, profile=profile, commune_code=rng.choice(communes),
        date_of_birth=None if estimated else born, dob_estimated=estimated, birth_year=born.year,
        country_returned_from=rng.choice(RETURN_COUNTRIES) if returnee else "",
        arrival_date=today - timedelta(days=rng.randint(1, min(age_days, 700))),
        phone=f"+212 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        languages=rng.sample(sorted(SPOKEN_LANGUAGE_LABELS), 2),
        processing_basis=rng.choice(("signed_form", "signed_form", "oral_witness")), witness_name="Témoin démo",
        statistics_consent=rng.random() < 0.9,
    )


def create_demo_people(accounts: dict[str, tuple], count: int, seed: int = 2026) -> int:
    """Register `count` synthetic people spread over every service point, each with a case."""
    rng = random.Random(seed)
    today = date.today()
    supervisors = [user for user, _password in accounts.values() if user.role == "supervisor"]
    points = [(user, sp) for user in supervisors for sp in user.service_points]
    communes = [sp.commune_code for _user, sp in points]
    for index in range(count):
        actor, service_point = points[index % len(points)]
        register_beneficiary(actor, _person(rng, service_point, communes, today), today=today)
    return count


def seed_demo(people: int = 200) -> dict[str, tuple]:
    """The whole demo; the caller commits."""
    partners = create_demo_structure()
    create_demo_directory(partners)
    accounts = create_demo_accounts(partners)
    create_demo_people(accounts, people)
    return accounts
