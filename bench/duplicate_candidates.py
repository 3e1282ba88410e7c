"""Duplicate-candidate search at scale: times `find_duplicates` among N synthetic people.

Usage: .venv/bin/python bench/duplicate_candidates.py [--people 100000] [--queries 500]
           [--database-url URL] [--rebuild] [--seed 1]
Without --database-url the database is an SQLite file in the system's temporary folder, named after N
(bench-duplicates-<N>.sqlite3), and reused by later runs with the same N; --rebuild starts afresh.
A PostgreSQL database (never the test suite's caseapp_test) is reused too when it holds N people, otherwise
emptied (DROP SCHEMA public CASCADE) and filled again.

The people have realistic names (Moroccan, West-African and Syrian given and family names, Zipf-distributed so
that Mohamed, Fatima, Diallo, El Amrani... are common, in several Latin spellings, with or without particles,
with an Arabic-script spelling for most Arabic names), birth dates (some estimated: 1 January), documents for
about a third, and one case each spread over the 11 demo service points. Their blocking keys are computed with
`blocking.person_keys`, exactly as registration stores them, and bulk-inserted.

Half the queries are variants of existing people (another spelling, Arabic script, a particle dropped, given
and family names swapped, a typo, day and month swapped, an estimated year, a document typed with spaces); the
other half are new people. Prints the median, p95 and max of `find_duplicates` in milliseconds, how many
candidates were read and checked and how many had their names compared per query, and how often the original
person was scored as a likely duplicate for the variants (recall, in the actor's scope or not; a limit that drops
the right candidate shows there). Timings are for reading, never for pass/fail tests.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import func, insert, inspect, select, text  # noqa: E402

from caseapp import create_app  # noqa: E402
from caseapp.auth.models import User  # noqa: E402
from caseapp.beneficiaries import duplicates  # noqa: E402
from caseapp.beneficiaries.blocking import candidate_keys, person_keys  # noqa: E402
from caseapp.beneficiaries.lookup import document_lookup_index  # noqa: E402
from caseapp.beneficiaries.models import Beneficiary, IdentityDocument, PersonKey  # noqa: E402
from caseapp.beneficiaries.normalize import name_search_key  # noqa: E402
from caseapp.cases.models import Case  # noqa: E402
from caseapp.demo import create_demo_accounts, create_demo_structure  # noqa: E402
from caseapp.extensions import db  # noqa: E402
from caseapp.places.models import ServicePoint  # noqa: E402
from caseapp.security.encryption import new_row_key, seal  # noqa: E402

# --- names ------------------------------------------------------------------------------------------------
# (Latin spellings, most common first; Arabic script or ""), most frequent names first (Zipf-weighted below).


def _names(text_block: str) -> list[tuple[tuple[str, ...], str]]:
    rows = []
    for line in text_block.strip().splitlines():
        latin, _, arabic = line.partition("|")
        rows.append((tuple(s.strip() for s in latin.split(",")), arabic.strip()))
    return rows


ARAB_MALE = _names("""
Mohamed, Mohammed, Muhammad, Mohamad, Mohammad | محمد
Ahmed, Ahmad, Ahmet | أحمد
Youssef, Youssouf, Yousef, Yusuf | يوسف
Abdelkader, Abd el-Kader, Abdelkadir, Abdulkader | عبد القادر
Hassan, Hasan | حسن
Omar, Umar, Omer | عمر
Ali | علي
Rachid, Rashid, Rachide | رشيد
Said, Saïd, Saeed | سعيد
Khalid, Khaled | خالد
Mustapha, Mustafa, Moustapha | مصطفى
Abdellah, Abdallah, Abdullah | عبد الله
Hicham, Hisham | هشام
Karim, Kareem | كريم
Brahim, Ibrahim | إبراهيم
Hamza | حمزة
Mahmoud, Mahmud | محمود
Ayoub, Ayub, Ayyoub | أيوب
Mehdi, Mahdi | مهدي
Noureddine, Nour Eddine, Nour-Eddine, Nureddin | نور الدين
Driss, Idriss, Idris | إدريس
Abderrahim, Abdel Rahim, Abdurrahim | عبد الرحيم
Jamal, Djamal, Gamal | جمال
Redouane, Radwan, Ridouane | رضوان
Soufiane, Sofiane, Sufyan | سفيان
Zakaria, Zakariya, Zakariae | زكرياء
Othmane, Osman, Outhmane, Uthman | عثمان
Tarik, Tariq, Tarek | طارق
Younes, Yunus, Younis | يونس
Bilal, Bilel | بلال
Adil, Adel | عادل
Nabil | نبيل
Anas | أنس
Amine, Amin | أمين
Hussein, Houcine, Hossein, Lhoussaine | حسين
Lahcen, Lahsen | لحسن
Yassine, Yasin, Yassin | ياسين
Ilyas, Ilias, Elias | إلياس
Fadi | فادي
Bashar, Bachar | بشار
Ammar, Amar | عمار
Yasser, Yasir | ياسر
Abdelaziz, Abd el-Aziz, Abdulaziz | عبد العزيز
Hamid, Hamide | حميد
""")
ARAB_FEMALE = _names("""
Fatima, Fatma, Fatimah, Fatema | فاطمة
Khadija, Khadidja, Khadijah | خديجة
Aicha, Aïcha, Aisha, Aïsha | عائشة
Meryem, Maryam, Mariam | مريم
Naima, Naïma, Naeema | نعيمة
Zineb, Zaynab, Zeinab | زينب
Amina, Aminah | أمينة
Salma | سلمى
Hanane, Hanan | حنان
Samira, Sameera | سميرة
Nadia, Nadya | نادية
Latifa, Latefa | لطيفة
Malika, Malikah | مليكة
Souad, Suad | سعاد
Hafsa, Hafsah | حفصة
Imane, Iman, Imen | إيمان
Asmae, Asmaa, Asma | أسماء
Sanaa, Sana | سناء
Karima, Kareema | كريمة
Hayat | حياة
Loubna, Lubna | لبنى
Rachida, Rashida | رشيدة
Saida, Saïda | سعيدة
Ghizlane, Ghizlan | غزلان
Siham, Sihame | سهام
Houda, Huda | هدى
Noura, Nora, Nour | نورة
Rania | رانيا
Rasha, Racha | رشا
Lina | لينا
Reem, Rim | ريم
Hiba, Heba | هبة
Kawtar, Kaoutar, Kawthar | كوثر
Yasmine, Yasmina, Jasmine | ياسمين
Ikram | إكرام
Wafae, Wafaa, Wafa | وفاء
""")
AFRICAN_MALE = _names("""
Mamadou, Mamadu, Mahamadou
Moussa, Musa, Mousa
Ibrahima, Ibrahim
Abdoulaye, Abdulai, Abdoulay
Ousmane, Usman, Ousman
Amadou, Amadu, Ahmadou
Cheikh, Sheikh, Cheick
Aliou, Alioune, Aliu
Boubacar, Boubakar, Bubacarr
Seydou, Seidou
Lamine, Lamin
Modou, Modu
Issa, Issah
Bakary, Bakari
Souleymane, Sulayman, Souleyman
Koffi, Kofi
Kouassi, Kwasi
Yao
Serge
Jean, Jean-Baptiste
Paul
Emmanuel
Adama
Sekou, Sékou
Idrissa, Idrisa
Oumar, Umaru
Samba
Daouda, Dawda
Alpha
Kwame
""")
AFRICAN_FEMALE = _names("""
Aminata, Aminatou
Fatoumata, Fatumata, Fatoumatta
Mariama, Mariam, Mariame
Awa
Aissatou, Aïssatou, Aisatou
Kadiatou, Kadiatu, Kadidiatou
Adama
Oumou, Umu
Hawa, Awa
Ramata
Aya
Bintou, Bintu
Marie, Mary
Grace
Djeneba, Jeneba
Salimata
Mariatou
Assetou
Ndeye, N'Deye
Rokia, Rokiatou
Binta
Fanta
Nafissatou, Nafisatou
Christelle
Esther
""")
AFRICAN_FAMILY = _names("""
Diallo, Jallow, Djalo
Ndiaye, N'Diaye, Ndiay
Traoré, Traore
Camara, Kamara
Coulibaly, Kulibali, Koulibaly
Diop, Diope
Barry, Bari
Sow, Sowe
Bah, Ba
Keita, Keïta
Konaté, Konate
Touré, Toure, Ture
Cissé, Cisse, Sisse
Kouassi, Kwasi
Koné, Kone
Sylla, Sila
Diarra, Jarra
Bamba
Sangaré, Sangare
Doumbia, Dumbia
Fofana, Fofanah
Kaba
Condé, Conde
Soumah, Sumah
Bangoura, Bangura
Sacko, Sako
Dembélé, Dembele
Konan
Kouamé, Kouame
Yao
Ouedraogo, Ouédraogo, Wedraogo
Sawadogo
Kaboré, Kabore
Mbarga
Nguema
Etoa
Mensah
Owusu
Balde, Baldé
Faye, Fay
Gueye, Guèye
Seck, Sek
Fall, Fal
Mbaye
Thiam, Tiam
Sarr, Sar
Kanté, Kante
Sidibé, Sidibe
Sissoko, Sisoko
Dramé, Drame
Tall, Tal
Kouyaté, Kouyate
Diakité, Diakite
Savané
Diabaté, Diabate
Ndour
Niang
Samaké
Togola
Berthe
""")
# Arabic family names: a few common ones as written, then root + ending, with particles.
ARAB_FAMILY_NAMED = _names("""
El Amrani, Amrani, El-Amrani, Elamrani | العمراني
Alaoui, El Alaoui, Elalaoui | العلوي
Idrissi, El Idrissi, El-Idrissi | الإدريسي
Benali, Ben Ali, Ben-Ali | بنعلي
Tazi, Ettazi | التازي
Bennani, Benani | بناني
Berrada, Berada | برادة
Chraibi, Cheraibi, Chraïbi | الشرايبي
Lahlou, Lahlu | لحلو
Aït Ahmed, Ait Ahmed, Ait-Ahmed | آيت أحمد
Ouali, Wali | والي
Bouzid, Bou Zid | بوزيد
El Fassi, Fassi, Elfassi | الفاسي
Benjelloun, Ben Jelloun | بنجلون
Haddad, Al-Haddad, Alhaddad | الحداد
Khalil, Khelil | خليل
Hamwi, Al-Hamwi, Hamoui | الحموي
Al-Masri, Masri, El Masri | المصري
Al-Halabi, Halabi | الحلبي
Darwish, Darouich, Darwiche | درويش
Al-Shami, Shami, Chami | الشامي
Kurdi, Al-Kurdi | الكردي
Najjar, Al-Najjar, Nejjar | النجار
Sabbagh, Al-Sabbagh | الصباغ
Hamdan, Hamdane | حمدان
Attar, Al-Attar | العطار
Jaber, Jabir | جابر
Saleh, Salah, Salih | صالح
Othman, Osman, Outhmane | عثمان
Hourani, Al-Hourani | الحوراني
Homsi, Al-Homsi | الحمصي
Khatib, Al-Khatib, El Khatib | الخطيب
Ibrahim, Brahim | إبراهيم
Mansour, Mansur | منصور
Qassem, Kassem, Qasim | قاسم
Belhaj, Bel Haj, Belhadj | بلحاج
Bakkali, El Bakkali, Bakali | البقالي
Ouazzani, El Ouazzani, Wazzani | الوزاني
Naciri, Nasiri, Nassiri | الناصري
Kabbaj, Kabaj | قباج
""")
ROOTS = [line.split("|") for line in """
Amr|عمر Mansour|منصور Hamd|حمد Rahmoun|رحمون Zeroual|زروال Moussa|موس Filal|فيلال Boukhar|بخار
Tahir|طاهر Zian|زيان Kettan|كتان Sahra|صحرا Hassan|حسن Sliman|سليمان Othman|عثمان Karim|كريم Yousf|يوسف
Azzouz|عزوز Touat|توات Meknass|مكناس Sebt|سبت Rif|ريف Cherif|شريف Salh|صالح Fadl|فضل Ghazal|غزال
Marrakch|مراكش Doukkal|دكال Rbat|رباط Oujd|وجد Hajj|حاج Amin|أمين Naim|نعيم Jamal|جمال Kamal|كمال
Bachir|بشير Rachid|رشيد Hilal|هلال Habib|حبيب Ayad|عياد Mokhtar|مختار Nour|نور Badr|بدر Sabr|صبر
Hamid|حميد Saad|سعد Zahr|زهر Kadir|قادر Jabr|جبر Majd|مجد Tlemc|تلمس Harb|حرب Ghoul|غول Madan|مدن
Sanhaj|صنهاج Shaou|شاو Zemmour|زمور Tadl|تادل Draou|دراو Zagour|زاكور Tafilal|تافيلال
""".split()]
ENDINGS = (("{}i", "{}ي"), ("El {}i", "ال{}ي"), ("{}ani", "{}اني"), ("El {}ani", "ال{}اني"), ("{}aoui", "{}اوي"),
           ("Ben {}", "بن {}"), ("Aït {}", "آيت {}"), ("Ould {}", "ولد {}"), ("Bou{}", "بو{}"))


def _root_family_names() -> list[tuple[tuple[str, ...], str]]:
    names = []
    for latin_root, arabic_root in ROOTS:
        for latin, arabic in ENDINGS:
            main = latin.format(latin_root)
            spellings = [main]
            if main.startswith("El "):
                spellings += [main.replace("El ", "El-"), main[3:], main.replace("El ", "El").capitalize()]
            if main.startswith("Ben "):
                spellings += ["Ben" + latin_root.lower(), main.replace(" ", "-")]
            if main.startswith("Aït "):
                spellings += [main.replace("Aït ", "Ait "), main.replace("Aït ", "Ait-")]
            names.append((tuple(dict.fromkeys(spellings)), arabic.format(arabic_root)))
    return names


ARAB_FAMILY = ARAB_FAMILY_NAMED + _root_family_names()
ORIGINS = (  # nationality, share of the population, given names (M, F), family names, Arabic spelling on file
    ("MAR", 0.55, ARAB_MALE, ARAB_FEMALE, ARAB_FAMILY, 0.6),
    ("SYR", 0.07, ARAB_MALE, ARAB_FEMALE, ARAB_FAMILY, 0.6),
    ("SDN", 0.03, ARAB_MALE, ARAB_FEMALE, ARAB_FAMILY, 0.5),
    ("SEN", 0.09, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("GIN", 0.08, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("MLI", 0.07, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("CIV", 0.06, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
    ("CMR", 0.05, AFRICAN_MALE, AFRICAN_FEMALE, AFRICAN_FAMILY, 0.0),
)


def _zipf(count: int, exponent: float) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


GIVEN_EXPONENT, FAMILY_EXPONENT = 1.0, 0.8  # Mohamed ≈ 22 % of Arab men; the top family name ≈ 5 % of its group
_WEIGHTS = {id(table): _zipf(len(table), GIVEN_EXPONENT) for table in (ARAB_MALE, ARAB_FEMALE, AFRICAN_MALE,
                                                                     AFRICAN_FEMALE)}
_WEIGHTS |= {id(table): _zipf(len(table), FAMILY_EXPONENT) for table in (ARAB_FAMILY, AFRICAN_FAMILY)}
# any spelling → its name entry, so that variants can be made of people read back from the database
_ENTRY = {spelling: entry for table in (ARAB_MALE, ARAB_FEMALE, AFRICAN_MALE, AFRICAN_FEMALE, ARAB_FAMILY,
                                        AFRICAN_FAMILY) for entry in table for spelling in entry[0]}


def _pick(rng: random.Random, table) -> tuple[tuple[str, ...], str]:
    return rng.choices(table, weights=_WEIGHTS[id(table)])[0]


def _spelling(rng: random.Random, entry) -> str:
    spellings = entry[0]
    return spellings[0] if rng.random() < 0.6 else rng.choice(spellings)


def new_person(rng: random.Random) -> dict:
    """One synthetic person: names, Arabic spelling, sex, birth date, nationality, maybe a document."""
    nationality, _, males, females, families, arabic_share = rng.choices(ORIGINS, weights=[o[1] for o in ORIGINS])[0]
    sex = rng.choice("MF")
    given, family = _pick(rng, males if sex == "M" else females), _pick(rng, families)
    with_arabic = given[1] and family[1] and rng.random() < arabic_share
    year = min(2022, max(1940, int(rng.gauss(1988, 13))))
    estimated = rng.random() < 0.15
    birth = date(year, 1, 1) if estimated else date(year, 1, 1) + timedelta(days=rng.randrange(365))
    document = ""
    if rng.random() < 0.35:
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(2))
        document = f"{letters}{rng.randrange(10**6, 10**7)}"
    return {"given_name": _spelling(rng, given), "family_name": _spelling(rng, family),
            "given_name_alt": given[1] if with_arabic else "", "family_name_alt": family[1] if with_arabic else "",
            "sex": sex, "date_of_birth": birth, "dob_estimated": estimated, "nationality": nationality,
            "document_number": document}


# --- filling the database ---------------------------------------------------------------------------------

def fill(count: int, seed: int) -> None:
    """Insert `count` people with their blocking keys, documents for some and one case each (bulk inserts)."""
    rng = random.Random(seed)
    points = db.session.scalars(select(ServicePoint).order_by(ServicePoint.id)).all()
    actor = db.session.scalars(select(User).order_by(User.id)).first()
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    batch, keys_total, began = 5000, 0, time.perf_counter()
    for offset in range(0, count, batch):
        people, keys, documents, cases = [], [], [], []
        for pid in range(offset + 1, min(count, offset + batch) + 1):
            person, point = new_person(rng), points[pid % len(points)]
            registered = start + timedelta(seconds=pid * 97)
            people.append(dict(
                id=pid, given_name=person["given_name"], family_name=person["family_name"],
                given_name_alt=person["given_name_alt"] or None, family_name_alt=person["family_name_alt"] or None,
                name_search=name_search_key(person["given_name"], person["family_name"], person["given_name_alt"],
                                            person["family_name_alt"]),
                sex=person["sex"], date_of_birth=person["date_of_birth"], dob_estimated=person["dob_estimated"],
                nationality=person["nationality"], profile="returnee" if person["nationality"] == "MAR" else "refugee",
                commune_code=point.commune_code, languages="ar", is_household_head=False, registered_at=registered,
                registered_by_id=actor.id, registered_at_service_point_id=point.id, version=1))
            keys.extend({"key": key, "beneficiary_id": pid} for key in person_keys(
                (person["given_name"], person["given_name_alt"]), (person["family_name"], person["family_name_alt"]),
                person["date_of_birth"]))
            if person["document_number"]:
                row_key = new_row_key()
                documents.append(dict(
                    id=len(documents) + offset + 1, beneficiary_id=pid, doc_type="passport", row_key=row_key,
                    _number_sealed=seal(person["document_number"], f"identity_document.number:{row_key}"),
                    number_index=document_lookup_index(person["document_number"])))
            cases.append(dict(id=pid, number=f"{point.commune_code}-{registered.year}-{pid:07d}", beneficiary_id=pid,
                              partner_id=point.partner_id, service_point_id=point.id, assigned_worker_id=actor.id,
                              status="active", opened_at=registered, updated_at=registered, opened_by_id=actor.id,
                              version=1))
        db.session.execute(insert(Beneficiary), people)
        db.session.execute(insert(PersonKey), keys)
        if documents:
            db.session.execute(insert(IdentityDocument), documents)
        db.session.execute(insert(Case), cases)
        db.session.commit()
        keys_total += len(keys)
        if (offset // batch) % 20 == 19:
            print(f"  {offset + batch:>9} people, {keys_total} keys, {time.perf_counter() - began:.0f} s", flush=True)
    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def prepare(url: str, count: int, seed: int, rebuild: bool) -> None:
    """Migrate and fill the database, unless it already holds `count` people."""
    tables = inspect(db.engine).get_table_names()
    if not rebuild and "beneficiary" in tables and db.session.scalar(select(func.count(Beneficiary.id))) == count:
        print(f"reusing {count} people in {db.engine.url.render_as_string(hide_password=True)}")
        return
    db.session.rollback()  # the count's transaction would hold a lock on the tables dropped below
    if tables:
        if db.engine.dialect.name != "postgresql":
            raise SystemExit(f"{url} is not empty: remove it or run with another --people")
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    flask_migrate.upgrade()
    create_demo_accounts(create_demo_structure())
    db.session.commit()
    began = time.perf_counter()
    fill(count, seed)
    keys = db.session.scalar(select(func.count()).select_from(PersonKey))
    print(f"filled {count} people ({keys} keys) in {time.perf_counter() - began:.0f} s ({db.engine.dialect.name})")


# --- queries ----------------------------------------------------------------------------------------------

def _typo(rng: random.Random, name: str) -> str:
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return name
    i = rng.choice(letters[1:])
    kind = rng.choice(("replace", "delete", "double", "swap"))
    if kind == "replace":
        return name[:i] + rng.choice("aeioulnrst") + name[i + 1:]
    if kind == "delete":
        return name[:i] + name[i + 1:]
    if kind == "double":
        return name[:i] + name[i] + name[i:]
    return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:] if i > 1 else name


def variant(rng: random.Random, person: Beneficiary, document: str) -> tuple[dict, tuple[str, str]]:
    """A record of `person` as another team might have registered them: one to three variations."""
    given, family = person.given_name, person.family_name
    birth, estimated, number = person.date_of_birth, person.dob_estimated, ""
    alt = ("", "")
    kinds = rng.sample(("spelling", "arabic", "swap", "typo", "date", "document"), rng.randint(1, 3))
    if "spelling" in kinds:
        given = _spelling(rng, _ENTRY.get(given, ((given,), "")))
        family = _spelling(rng, _ENTRY.get(family, ((family,), "")))
    if "arabic" in kinds and person.given_name_alt:
        given, family, alt = person.given_name_alt, person.family_name_alt, (given, family)
    if "typo" in kinds:
        given, family = (_typo(rng, given), family) if rng.random() < 0.5 else (given, _typo(rng, family))
    if "swap" in kinds:
        given, family = family, given
    if "date" in kinds:
        change = rng.choice(("swap", "estimate", "missing"))
        if change == "swap" and birth.day <= 12 and birth.day != birth.month:
            birth = date(birth.year, birth.day, birth.month)
        elif change == "estimate":
            birth, estimated = date(birth.year + rng.choice((-1, 0, 0, 1)), 1, 1), True
        elif change == "missing":
            birth = None
    if "document" in kinds and document:
        number = " ".join((document[:2], document[2:5], document[5:])).lower()
    record = {"given_name": given, "family_name": family, "sex": person.sex,
              "date_of_birth": birth.isoformat() if birth else "", "dob_is_estimated": estimated,
              "nationality": person.nationality, "document_number": number}
    return record, alt


def queries(rng: random.Random, count: int, total: int) -> list[tuple[dict, tuple[str, str], int | None]]:
    """`count` query records: (record, alternative names, the id of the person it is a variant of, or None)."""
    result = []
    for index in range(count):
        if index % 2 == 0:
            person = db.session.get(Beneficiary, rng.randint(1, total))
            document = person.documents[0].number if person.documents else ""
            record, alt = variant(rng, person, document)
            result.append((record, alt, person.id))
        else:
            person = new_person(rng)
            record = {key: person[key] for key in ("given_name", "family_name", "sex", "nationality",
                                                   "document_number")}
            record |= {"date_of_birth": person["date_of_birth"].isoformat(),
                       "dob_is_estimated": person["dob_estimated"]}
            result.append((record, (person["given_name_alt"], person["family_name_alt"]), None))
    db.session.expunge_all()
    return result


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[int(share * (len(ordered) - 1))]


def run(count: int, query_count: int, seed: int, username: str) -> None:
    rng = random.Random(seed + 1000)
    todo = queries(rng, query_count, count)
    checked, scored = [], []  # per query: candidates read and checked (may_match), names compared (_best_score)
    original_check, original_score = duplicates.may_match, duplicates._best_score

    def counting_check(*args):
        checked[-1] += 1
        return original_check(*args)

    def counting_score(record, alternatives, theirs, person):
        scored[-1] += 1
        score = original_score(record, alternatives, theirs, person)
        if score >= duplicates.MATCH_THRESHOLD:
            likely.add(person.id)  # in scope or not: recall does not depend on the actor
        return score

    likely = set()

    duplicates.may_match, duplicates._best_score = counting_check, counting_score
    actor_id = db.session.scalar(select(User.id).where(User.username == username))
    for record, alt, _ in todo[:20]:  # warm-up: caches and query plans, as in a running server
        checked.append(0), scored.append(0)
        duplicates.find_duplicates(db.session.get(User, actor_id), record, alt)
        db.session.expunge_all()
    checked.clear(), scored.clear()
    samples, key_rows, found, variants = [], [], 0, 0
    for record, alt, original in todo:
        birth = date.fromisoformat(record["date_of_birth"]) if record["date_of_birth"] else None
        keys = candidate_keys((record["given_name"], alt[0]), (record["family_name"], alt[1]), birth)
        key_rows.append(db.session.scalar(select(func.count()).select_from(PersonKey).where(
            PersonKey.key.in_(sorted(keys)))))
        actor = db.session.get(User, actor_id)
        actor.service_points  # noqa: B018 - loaded before timing, as a request's current user is
        checked.append(0), scored.append(0)
        likely.clear()
        began = time.perf_counter()
        duplicates.find_duplicates(actor, record, alt)
        samples.append((time.perf_counter() - began) * 1000)
        if original is not None:
            variants += 1
            found += original in likely
        db.session.expunge_all()
    duplicates.may_match, duplicates._best_score = original_check, original_score
    print(f"{query_count} queries among {count} people ({db.engine.dialect.name}, actor {username}):")
    print(f"  find_duplicates  median {statistics.median(samples):.1f} ms  p95 {percentile(samples, 0.95):.1f} ms"
          f"  max {max(samples):.1f} ms")
    for label, counts in (("candidates read and checked", checked), ("candidates with names compared", scored)):
        print(f"  {label} per query: mean {statistics.mean(counts):.0f}, median {statistics.median(counts):.0f},"
              f" p95 {percentile(counts, 0.95):.0f}, max {max(counts)}")
    print(f"  key rows matched per query (before any limit): mean {statistics.mean(key_rows):.0f},"
          f" median {statistics.median(key_rows):.0f}, p95 {percentile(key_rows, 0.95):.0f}, max {max(key_rows)}")
    print(f"  variants whose original was scored as likely (in scope or not): {found}/{variants}"
          f" ({100 * found / variants:.1f} %)")
    biggest = db.session.execute(select(PersonKey.key, func.count()).group_by(PersonKey.key)
                                 .order_by(func.count().desc()).limit(5)).all()
    print("  largest key buckets: " + ", ".join(f"{key} {n}" for key, n in biggest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument("--rebuild", action="store_true", help="fill the database again even if it holds N people")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--actor", default="supervisor", help="a demo account (default: IOM's supervisor)")
    args = parser.parse_args()
    url = args.database_url
    if not url:
        path = Path(tempfile.gettempdir()) / f"bench-duplicates-{args.people}.sqlite3"
        if args.rebuild:
            path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    if "caseapp_test" in url.rsplit("/", 1)[-1]:
        raise SystemExit("caseapp_test belongs to the test suite: use another database")
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.test_request_context():
        prepare(url, args.people, args.seed, args.rebuild)
        run(args.people, args.queries, args.seed, args.actor)


if __name__ == "__main__":
    main()
