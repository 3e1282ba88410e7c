"""Blocking keys: short phonetic keys computed when a person is saved and indexed, so that the people who might be
the same as a new record (or who match a typed name in any script) are found with an index lookup, not a scan.

Keys come from the coarse consonant skeletons of `matching_names.name_key` (the same for محمد, Mohamed and
Muhammad), for the Latin and the Arabic-script spelling of each name:
  w:<skeleton>                      each name field alone (a one-word search);
  p:<skeleton>|<skeleton>           a given and a family name, sorted (so swapped names give the same key);
  g:<skeleton>:<year>, f:<skeleton>:<year>
                                    a given or a family name with the birth year (a typo in the other name).
Candidates are then scored one by one with `matching.score_pair`.
"""
from collections.abc import Iterable
from datetime import date

from caseapp.beneficiaries.matching_names import name_key

MAX_KEY_LENGTH = 64


def _skeletons(*names: str | None) -> set[str]:
    """Coarse skeletons of the names' spelling variants; a name of vowels and semivowels only (Aya, Yao) keeps its
    phonetic form instead, so that everyone has keys."""
    found = set()
    for name in names:
        if name and name.strip():
            key = name_key(name)
            found.update(skeleton or f"={form}" for skeleton, form in zip(key.coarse, key.forms) if skeleton or form)
    return found


def name_keys(given: Iterable[str | None], family: Iterable[str | None]) -> set[str]:
    """The name keys (w: and p:) of a person's given names and family names (any script)."""
    givens, families = _skeletons(*given), _skeletons(*family)
    keys = {f"w:{skeleton}" for skeleton in givens | families}
    keys |= {"p:" + "|".join(sorted((g, f))) for g in givens for f in families}
    return {key[:MAX_KEY_LENGTH] for key in keys}


def person_keys(given: Iterable[str | None], family: Iterable[str | None], birth: date | None) -> set[str]:
    """Every blocking key of one person record."""
    keys = name_keys(given, family)
    if birth is not None:
        keys |= {f"g:{skeleton}:{birth.year}" for skeleton in _skeletons(*given)}
        keys |= {f"f:{skeleton}:{birth.year}" for skeleton in _skeletons(*family)}
    return {key[:MAX_KEY_LENGTH] for key in keys}


def candidate_keys(given: Iterable[str | None], family: Iterable[str | None], birth: date | None) -> set[str]:
    """The keys to look up for a new record: its pair keys, and its single names with the birth year ± 1, each
    both as a given and as a family name (so that a record with swapped names and a typo in one of them is
    still found, and shares as many keys with the person as one written the right way round)."""
    given, family = list(given), list(family)
    keys = {key for key in name_keys(given, family) if key.startswith("p:")}
    if birth is not None:
        names = _skeletons(*given) | _skeletons(*family)
        for year in (birth.year - 1, birth.year, birth.year + 1):
            keys |= {f"{kind}:{skeleton}:{year}" for skeleton in names for kind in "gf"}
    return {key[:MAX_KEY_LENGTH] for key in keys}


def search_keys(text: str) -> set[str]:
    """Keys for a typed name: every word alone, and every pair of words (in any order)."""
    words = [word for word in text.split() if word]
    if len(words) == 1:
        return {f"w:{skeleton}"[:MAX_KEY_LENGTH] for skeleton in _skeletons(words[0])}
    keys = set()
    for split in range(1, len(words)):
        keys |= {key for key in name_keys([" ".join(words[:split])], [" ".join(words[split:])])
                 if key.startswith("p:")}
    return keys
