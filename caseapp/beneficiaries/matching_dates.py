"""Date-of-birth evidence for duplicate detection (a log-odds weight; positive = same person).

* Same date: strong evidence (weaker when it is only an estimated year, recorded as 1 January).
* Day and month swapped (03/07 vs 07/03): nearly as strong - a common data-entry mix-up.
* An estimated date (dob_is_estimated, or an unflagged 1 January, which is how estimates are usually
  recorded) only tells the year: the same year or one year apart is compatible, two years is
  evidence against, more is strong evidence against.
* Two exact dates that differ: a one-character typo in the day or month (1987-05-14 vs 1987-05-19) is weak
  evidence against (a typo in the year is not forgiven: it cannot be told from a namesake);
  otherwise less than two years apart is evidence against, and years apart is strong evidence against
  (a namesake, or a parent and child with the same name).
* A missing or unreadable date is neutral.
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_SAME_EXACT = 4.0
_SAME_JAN1_UNFLAGGED = 2.5
_SAME_ESTIMATED = 1.5
_SWAPPED = 3.0
_TYPO = -2.0
_NEAR = -5.5
_FAR = -12.0
_EST_YEAR = {0: 1.5, 1: 0.5, 2: -5.0}
_EST_FAR = -12.0
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})")


@lru_cache(maxsize=65536)
def parse_date(text: str) -> date | None:
    """An ISO date (extra time part ignored); None when empty or not a real date."""
    match = _ISO.match(text or "")
    if not match:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _one_typo(a: date, b: date) -> bool:
    sa, sb = a.isoformat(), b.isoformat()
    diffs = [i for i in range(len(sa)) if sa[i] != sb[i]]
    if len(diffs) == 1:
        return True
    # two adjacent digits transposed (1985 vs 1958 is not adjacent; 1985 vs 1895 is)
    return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
            and sa[diffs[0]] == sb[diffs[1]] and sa[diffs[1]] == sb[diffs[0]])


def date_evidence(text_a: str, estimated_a: bool, text_b: str, estimated_b: bool) -> float:
    """Log-odds weight of two dates of birth (symmetric in a and b)."""
    a, b = parse_date(text_a), parse_date(text_b)
    if a is None or b is None:
        return 0.0
    jan1_a = a.month == 1 and a.day == 1
    jan1_b = b.month == 1 and b.day == 1
    if estimated_a or estimated_b:
        if a == b and not (estimated_a and estimated_b):
            return _SAME_EXACT if not (jan1_a or jan1_b) else _SAME_ESTIMATED + 0.5
        years = abs(a.year - b.year)
        return _EST_YEAR.get(years, _EST_FAR)
    if a == b:
        return _SAME_JAN1_UNFLAGGED if jan1_a else _SAME_EXACT
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return _SWAPPED
    if jan1_a or jan1_b:
        # most probably an estimate whose flag was not set: only the year counts, with less confidence
        years = abs(a.year - b.year)
        return {0: 0.5, 1: -0.5, 2: -5.0}.get(years, _EST_FAR)
    if a.year == b.year and _one_typo(a, b):
        return _TYPO
    if abs((a - b).days) < 2 * 365:
        return _NEAR
    return _FAR
