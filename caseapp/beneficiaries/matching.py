"""Duplicate detection: how likely two person records describe the same person.

`score_pair(a, b)` returns a score in [0, 1]; `score_pair(a, b) >= MATCH_THRESHOLD` means "probably the
same person". Records are mappings with the keys given_name, family_name, sex, date_of_birth (ISO date,
or empty/None), dob_is_estimated (0/1, "0"/"1", True/False), nationality and document_number.

Method
------
The score is a logistic function of a sum of evidence weights (log-odds), in the spirit of
Fellegi-Sunter record linkage, each field contributing for or against:

* **Names** (`matching_names`): each name field becomes a phonetic key that is the same for Arabic
  script and its Latin transliterations and for the usual Latin spelling variants (accents, ou/u/w,
  ee/i, kh/h, dj/j, doubled letters, optional El-/Al-, Ben/Aït/Abd glued or separate). Given-with-given
  and family-with-family are compared, and crosswise (given and family names swapped); the better
  arrangement counts. Each field's similarity s in [0, 1] weighs 15 (s - 0.7) when above 0.7 (at most
  +3) and 25 (s - 0.7) below (at least -8): a clearly different given name (a sibling) or family name
  (a namesake from another family) outweighs an equal other name. A missing name is neutral.
* **Date of birth** (`matching_dates`): the same date is strong evidence; day and month swapped is nearly as
  good; an estimated date (flagged, recorded as 1 January) only tells the year, so a year within one
  of the other date is compatible; a date that differs otherwise is evidence against, and years apart
  is strong evidence against (a namesake, or a parent/child pair with the same name).
  A missing date is neutral.
* **Document number**: compared upper case without spaces or punctuation. Equal numbers are
  strong evidence for (+5; only +2 when a name field is clearly different, < 0.6); two different
  numbers of the same type (same letter prefix and length) are evidence against (-4); numbers of
  different types, or a missing number, are neutral.
* **Sex**: different recorded sexes (M/F) are strong evidence against (-12); **nationality**: different
  recorded nationalities are mild evidence against (-1).

With a bias of -1, two records with equal names and no date weigh +5 (a match), equal names with the
same exact date +9, and equal names born years apart -7 (a namesake or another generation).
MATCH_THRESHOLD = 0.5 is a total of 0.

The weights were set by hand from the kinds of variation (not per name), then checked on the labelled
development pairs (tests/data/person_pairs_dev.csv) with a split-half check: the few parameters of the
name weight tuned on one half and measured on the other give the same precision and recall.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from caseapp.beneficiaries.matching_dates import date_evidence
from caseapp.beneficiaries.matching_names import NameKey, name_key, name_similarity

MATCH_THRESHOLD = 0.5

# evidence weights (log-odds)
_BIAS = -1.0
_FIELD_NEUTRAL = 0.7    # a name-field similarity that is neither for nor against
_FIELD_SLOPE_UP = 15.0  # weight per unit of similarity above it ...
_FIELD_SLOPE_DOWN = 25.0  # ... and below it (a clearly different name weighs more than an equal one)
_FIELD_MAX = 3.0
_FIELD_MIN = -8.0
_DOC_EQUAL = 5.0
_DOC_EQUAL_NAME_DIFFERENT = 2.0  # equal documents but a name field clearly different (< 0.6)
_DOC_DIFFERENT = -4.0
_SEX_DIFFERENT = -12.0
_NATIONALITY_DIFFERENT = -1.0


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "t", "on"}
    return bool(value)


@lru_cache(maxsize=65536)
def _document(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", value.upper())


def _document_evidence(a: str, b: str) -> float:
    da, db = _document(a), _document(b)
    if not da or not db:
        return 0.0
    if da == db:
        return _DOC_EQUAL
    type_a = re.match(r"[A-Z]*", da).group(0)
    type_b = re.match(r"[A-Z]*", db).group(0)
    if type_a == type_b and len(da) == len(db):
        return _DOC_DIFFERENT
    return 0.0


_SEXES = frozenset({"M", "F"})


def _sex(value) -> str:
    """M or F (also from male/female, homme/femme, H); anything else is unknown."""
    text = _text(value).upper()[:1]
    return {"H": "M", "W": "F"}.get(text, text)


def name_evidence(ga: NameKey, fa: NameKey, gb: NameKey, fb: NameKey) -> tuple[float | None, float | None]:
    """(given, family) similarities of two people's names, in the better of the straight and swapped
    orders. A similarity is None when a name is missing on either side (neither for nor against)."""
    straight = (_similarity(ga, gb), _similarity(fa, fb))
    swapped = (_similarity(ga, fb), _similarity(fa, gb))
    return max(straight, swapped, key=_names_weight)


def _similarity(a: NameKey, b: NameKey) -> float | None:
    return None if a.empty or b.empty else name_similarity(a, b)


def _names_weight(pair: tuple[float | None, float | None]) -> float:
    return _field_weight(pair[0]) + _field_weight(pair[1])  # one sum of two terms: exactly symmetric


def _field_weight(similarity: float | None) -> float:
    """Log-odds weight of one name field's similarity: +3 when (nearly) equal, 0 at 0.7, down to -8."""
    if similarity is None:
        return 0.0
    if similarity >= _FIELD_NEUTRAL:
        return min(_FIELD_MAX, _FIELD_SLOPE_UP * (similarity - _FIELD_NEUTRAL))
    return max(_FIELD_MIN, _FIELD_SLOPE_DOWN * (similarity - _FIELD_NEUTRAL))


@lru_cache(maxsize=65536)
def _names_evidence(given_a: str, family_a: str, given_b: str, family_b: str) -> tuple[float | None, float | None]:
    """name_evidence of two people's name texts, remembered: candidates for one record often share its names."""
    return name_evidence(name_key(given_a), name_key(family_a), name_key(given_b), name_key(family_b))


def spelling(record: Mapping) -> tuple[str, str]:
    """The (given, family) names of a record."""
    return _text(record.get("given_name")), _text(record.get("family_name"))


def _sex_and_nationality_evidence(a: Mapping, b: Mapping) -> float:
    weight = 0.0
    sa, sb = _sex(a.get("sex")), _sex(b.get("sex"))
    if sa in _SEXES and sb in _SEXES and sa != sb:
        weight += _SEX_DIFFERENT
    na, nb = _text(a.get("nationality")).upper(), _text(b.get("nationality")).upper()
    if na and nb and na != nb:
        weight += _NATIONALITY_DIFFERENT
    return weight


def evidence_without_names(a: Mapping, b: Mapping) -> tuple[float, float]:
    """(dates, sex and nationality; document) log-odds of a pair: everything the names do not change."""
    return (date_evidence(_text(a.get("date_of_birth")), _flag(a.get("dob_is_estimated")),
                          _text(b.get("date_of_birth")), _flag(b.get("dob_is_estimated")))
            + _sex_and_nationality_evidence(a, b),
            _document_evidence(_text(a.get("document_number")), _text(b.get("document_number"))))


def best_score(spellings_a: Iterable[tuple[str, str]], spellings_b: Iterable[tuple[str, str]],
               evidence: tuple[float, float]) -> float:
    """score_pair of two records (their `evidence_without_names`) under the best pair of their spellings, e.g. the
    Latin and the Arabic-script (given, family) names of each."""
    other, doc = evidence
    best = -math.inf
    for mine in spellings_a:
        for theirs in spellings_b:
            names = _names_evidence(*mine, *theirs)
            document = _DOC_EQUAL_NAME_DIFFERENT if doc == _DOC_EQUAL and any(
                s is not None and s < 0.6 for s in names) else doc
            best = max(best, _BIAS + _names_weight(names) + other + document)
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, best))))


def score_pair(a: Mapping, b: Mapping) -> float:
    """Probability-like score in [0, 1] that records a and b describe the same person (symmetric)."""
    return best_score([spelling(a)], [spelling(b)], evidence_without_names(a, b))


_THRESHOLD_LOGIT = math.log(MATCH_THRESHOLD / (1.0 - MATCH_THRESHOLD))


def may_reach(evidence: tuple[float, float]) -> bool:
    """False when two records with this `evidence_without_names` cannot reach MATCH_THRESHOLD whatever their names:
    it plus the most two names can add stays below it. Exact (never drops a pair score_pair would accept) and much
    cheaper than comparing names, so candidates are checked with it first - e.g. namesakes born years apart, or two
    exact dates of birth that differ."""
    return _BIAS + 2 * _FIELD_MAX + sum(evidence) >= _THRESHOLD_LOGIT - 1e-9

