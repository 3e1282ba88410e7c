"""ISO 3166 alpha-3 country codes with names in the interface language (pycountry + Babel's CLDR)."""
from functools import lru_cache

import pycountry
from babel import Locale

from caseapp.i18n import current_language


@lru_cache(maxsize=1)
def _alpha3_to_alpha2() -> dict[str, str]:
    return {country.alpha_3: country.alpha_2 for country in pycountry.countries}


def is_country_code(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-3 code."""
    return code in _alpha3_to_alpha2()


@lru_cache(maxsize=8)
def _territories(language: str) -> dict[str, str]:
    return Locale.parse(language).territories


def country_name(code: str | None, language: str | None = None) -> str:
    """Localized country name for an alpha-3 code, or the code itself when unknown."""
    if not code:
        return ""
    alpha2 = _alpha3_to_alpha2().get(code)
    if alpha2 is None:
        return code
    return _territories(language or current_language()).get(alpha2, code)


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """(alpha-3, localized name) pairs sorted by name, for select fields."""
    language = language or current_language()
    pairs = [(code, country_name(code, language)) for code in _alpha3_to_alpha2()]
    return sorted(pairs, key=lambda pair: pair[1])
