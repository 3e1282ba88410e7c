"""Synthetic identities: Zipf-distributed names in several spellings (and Arabic script), sex, birth date,
nationality and sometimes a document number; and other spellings of a name, as another team would write it."""
import random
from datetime import date, timedelta
from itertools import accumulate

from caseapp.generate.name_tables import (
    AFRICAN_FAMILY, AFRICAN_FEMALE, AFRICAN_MALE, ARAB_FAMILY, ARAB_FEMALE, ARAB_MALE, ORIGINS,
)

NameEntry = tuple[tuple[str, ...], str]  # (Latin spellings, most common first; Arabic script or "")


def _zipf(count: int, exponent: float) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


GIVEN_EXPONENT, FAMILY_EXPONENT = 1.0, 0.8  # Mohamed ≈ 22 % of Arab men; the top family name ≈ 5 % of its group
# Cumulative weights, summed once (random.choices would sum the weights of a 600-name table at every pick).
_WEIGHTS = {id(table): list(accumulate(_zipf(len(table), GIVEN_EXPONENT)))
            for table in (ARAB_MALE, ARAB_FEMALE, AFRICAN_MALE, AFRICAN_FEMALE)}
_WEIGHTS |= {id(table): list(accumulate(_zipf(len(table), FAMILY_EXPONENT))) for table in (ARAB_FAMILY, AFRICAN_FAMILY)}
# any spelling → its name entry, so that variants can be made of people read back from the database
_ENTRY = {spelling: entry for table in (ARAB_MALE, ARAB_FEMALE, AFRICAN_MALE, AFRICAN_FEMALE, ARAB_FAMILY,
                                        AFRICAN_FAMILY) for entry in table for spelling in entry[0]}
_ORIGIN_WEIGHTS = [origin[1] for origin in ORIGINS]


def _pick(rng: random.Random, table: list[NameEntry]) -> NameEntry:
    return rng.choices(table, cum_weights=_WEIGHTS[id(table)])[0]


def _spelling(rng: random.Random, entry: NameEntry) -> str:
    spellings = entry[0]
    return spellings[0] if rng.random() < 0.6 else rng.choice(spellings)


def another_spelling(rng: random.Random, name: str) -> str:
    """A spelling of the same name (Mohamed → Muhammad...), or the name itself when it has no other."""
    return _spelling(rng, _ENTRY.get(name, ((name,), "")))


def new_person(rng: random.Random) -> dict:
    """One synthetic person: names, Arabic spelling, sex, birth date, nationality, maybe a document."""
    nationality, _, males, females, families, arabic_share = rng.choices(ORIGINS, weights=_ORIGIN_WEIGHTS)[0]
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
