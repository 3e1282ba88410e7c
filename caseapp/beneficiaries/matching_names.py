"""Phonetic keys and similarity of personal names across Arabic script and Latin spellings.

Method
------
A name field ("Abd el-Kader", "Al-Amrani", "العمراني", "Nour Eddine") becomes a `NameKey` in four steps:

1. **Normalise** with `normalize.normalize_name` (case, accents, Arabic letter forms and diacritics
   folded; hyphens and apostrophes become spaces). Before that, the Arabic tā' marbūṭa (ة) is turned
   into alif (ا), since it is pronounced -a at the end of a name (فاطمة = Fatima); `normalize_name`
   would fold it to ه. Doubled letters become single.
2. **Particles.** The definite article is optional in practice (El Amrani = Amrani = العمراني):
   a separate article word (el, al, ed, es, ...) is dropped, the Arabic prefix ال is dropped, and a
   Latin word glued to its article ("Elamrani", "Alhaddad") gets a second variant without it. "Abdel",
   "Abdul", "Abd al", "Abd el" are all reduced to "abd". The remaining words of the field are joined,
   so Ben Ali = Ben-Ali = Benali and Aït Ali = Ayt Ali = Aitali whatever the spacing or hyphenation.
   Lineage particles are part of the family name: Ben X, Aït X and Ould X are different families.
3. **Transliteration to a common phonetic alphabet.** Arabic letters are mapped consonant by
   consonant (ح/خ/ه → h, ق/ك → k, ث/س/ص → s, ط/ت → t, ذ/ض/د → d, ظ/ز → z, ش → S, ع and ء silent;
   ا, و, ي are the vowels a, u, i, or the consonants w, y at the start of a word or before another
   vowel letter). Latin spellings go through the usual French/English transliteration equivalences:
   ch/sh → S, kh → h, gh → g, dj → j, word-initial di/dy + vowel → j (Diallo = Jallow), th → s
   (Othmane = Osman), q/ck/c(a,o,u) → k, c(e,i) → s, ph/v → f, p → b, a final h after a vowel is
   silent (Fatimah), y before a vowel is the consonant y, ou/w/u before a vowel the consonant w
   (Alaoui), and the vowels fall into three classes a / i (e, i, y) / u (o, ou, u).
4. **Keys.** The *skeleton* is the phonetic form without its vowels (Mohamed, Muhammad, محمد → mhmd);
   the *form* keeps the vowel classes, the *spelling* is the normalised Latin text itself.

Two fields are compared (`name_similarity`) by the normalised OSA edit-distance similarity (rapidfuzz)
of their skeletons - with a floor of 0.9 when they agree up to voiced/voiceless pairs (t/d, s/z, k/g)
and w/y - averaged, between two Latin spellings, with the similarity of their forms, or the plain
spelling similarity when higher (a typo can derail a phonetic rule). The best variant pair counts.
Only general spelling rules are used - no table of names - so that names never seen before are
handled; the limits are transliterations that differ in consonants not covered above, very short
names (one consonant: compared by spelling only), and distinct names that share a skeleton
(Ahmed / Hamid, Mohamed / Mahmoud score high: the date of birth has to separate them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import Indel, OSA

from caseapp.beneficiaries.normalize import normalize_name

# Definite-article words (with the assimilated forms before "sun letters": ed-Dine, es-Saïd, ...).
ARTICLES = frozenset({
    "el", "al", "ul", "il", "l", "ed", "ad", "ez", "az", "es", "as", "et", "er", "ar", "en", "an", "ech",
    "esh", "ach", "ash", "ej",
})
_ABD = re.compile(r"^abd(?:el|al|ul|oul|il|ol)(?=[a-z]{3})")
_ABD_WORDS = frozenset({"abd", "abdel", "abdal", "abdul", "abdoul", "abdil", "abdol"})

_ARABIC = re.compile(r"[\u0600-\u06ff]")
_AR_VOWEL_LETTERS = "اوي"
_AR_MAP = {
    "ا": "a", "ب": "b", "ت": "t", "ث": "s", "ج": "j", "ح": "h", "خ": "h", "د": "d", "ذ": "d", "ر": "r",
    "ز": "z", "س": "s", "ش": "S", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "", "غ": "g", "ف": "f",
    "ق": "k", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "ء": "", "پ": "b", "چ": "S", "ڤ": "f",
    "گ": "g", "ک": "k", "ی": "i", "ى": "a",
}

# Latin rules, applied in order on one word (already lower case, accent-free, doubled letters single).
_LATIN_RULES = [
    (re.compile(r"s?ch|sh"), "S"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"gh"), "g"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"th"), "s"),
    (re.compile(r"dh"), "d"),
    (re.compile(r"dj|dg"), "j"),
    (re.compile(r"^d[iy](?=[aeou])"), "j"),
    (re.compile(r"ck|q"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"v"), "f"),
    (re.compile(r"p"), "b"),
    (re.compile(r"(?<=[aeiouy])h$"), ""),
    # semivowels: consonant before a vowel, vowel otherwise
    (re.compile(r"(?:^y|(?<=[aeiou])[iy])(?=[aeiou])"), "Y"),
    (re.compile(r"(?:ou|w|(?<=[aeio])u)(?=[aeiouy])"), "W"),
    (re.compile(r"y"), "i"),
    (re.compile(r"w"), "u"),
    (re.compile(r"ou|o"), "u"),
    (re.compile(r"e"), "i"),
]
_NON_LETTER = re.compile(r"[^a-zSWY]")
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aiu]+")


def _arabic_word(word: str) -> str:
    """Arabic word (already folded) to the phonetic alphabet."""
    if word.startswith("ال") and len(word) > 3:
        word = word[2:]
    out = []
    last = len(word) - 1
    for i, ch in enumerate(word):
        if ch in "وي":
            before_vowel = i < last and word[i + 1] in _AR_VOWEL_LETTERS
            if i == 0 or before_vowel:
                out.append("W" if ch == "و" else "Y")
            else:
                out.append("u" if ch == "و" else "i")
        else:
            out.append(_AR_MAP.get(ch, ""))
    text = "".join(out)
    text = re.sub(r"(?<=[aiu])h$", "", text)
    return _DOUBLE.sub(r"\1", text)


def _latin_word(word: str) -> str:
    """Latin word (lower case, accent-free) to the phonetic alphabet."""
    word = _DOUBLE.sub(r"\1", word)
    for pattern, repl in _LATIN_RULES:
        word = pattern.sub(repl, word)
    word = _NON_LETTER.sub("", word)
    return _DOUBLE.sub(r"\1", word)


def _word(word: str) -> str:
    return _arabic_word(word) if _ARABIC.search(word) else _latin_word(word)


@dataclass(frozen=True, slots=True)
class NameKey:
    skeletons: tuple[str, ...]  # consonant skeletons of the variants (first = main)
    coarse: tuple[str, ...]     # the skeletons with coarse consonant classes
    forms: tuple[str, ...]      # phonetic forms with vowel classes, same order
    spellings: tuple[str, ...]  # the normalised spelling itself (Latin only), same order
    arabic: bool                # written (at least partly) in Arabic script
    lineage: str = ""           # "B" for Ben/Bin/Ibn/بن, "A" for Aït/Ayt/آيت, "O" for Ould/Oulad/ولد, or ""

    @property
    def empty(self) -> bool:
        return not self.forms[0]


def _skeleton(form: str) -> str:
    return _VOWELS.sub("", form)


# Coarse consonant classes: voiced/voiceless pairs that transliterations (and dialects) mix up, and the
# semivowels w/y dropped (Souad/سعاد, Zakaria/زكرياء, Ould/ولد write them differently).
_COARSE = str.maketrans({"d": "t", "z": "s", "S": "s", "g": "k", "W": None, "Y": None})
_COARSE_EQUAL = 0.9
_OTHER_LINEAGE = 0.5  # at most, for two names with different lineage particles (Ben X / Aït X)


def _phonetic(words: list[str]) -> str:
    words = ["abd" if w in _ABD_WORDS else _ABD.sub("abd", w) for w in words]
    return _DOUBLE.sub(r"\1", "".join(_word(w) for w in words))


# Lineage particles: unlike the article, they are part of the family name - Ben Omar, Aït Omar and
# Ould Omar are three families. Recognised glued (Benjelloun, Aitali) or separate.
_LINEAGE = (
    (re.compile(r"^(?:ben|bin|bn|ibn|bent|bint|بن|ابن|بنت)"), "B"),
    (re.compile(r"^(?:ait|ayt|ايت)"), "A"),
    (re.compile(r"^(?:ould|oulad|ouled|ولد|اولاد)"), "O"),
)


def _lineage(first_word: str) -> str:
    for pattern, lineage in _LINEAGE:
        if pattern.match(first_word):
            return lineage
    return ""


@lru_cache(maxsize=65536)
def name_key(text: str | None) -> NameKey:
    """The phonetic keys of one name field (given or family name)."""
    normalized = normalize_name((text or "").replace("ة", "ا"))
    words = [_DOUBLE.sub(r"\1", w) for w in normalized.split()]
    if len(words) > 1:
        words = [w for w in words if w not in ARTICLES] or words
    arabic = bool(_ARABIC.search(normalized))
    variants = [(_phonetic(words), "".join(words))]
    if words and not _ARABIC.search(words[0]):
        first = words[0]
        for article in ("el", "al"):
            if first.startswith(article) and len(first) > len(article) + 2:
                rest = [first[len(article):], *words[1:]]
                form = _phonetic(rest)
                if len(_skeleton(form)) >= 2:
                    variants.append((form, "".join(rest)))
    forms = tuple(v[0] for v in variants)
    skeletons = tuple(_skeleton(f) for f in forms)
    coarse = tuple(sk.translate(_COARSE) for sk in skeletons)
    spellings = tuple("" if arabic else v[1] for v in variants)
    return NameKey(skeletons, coarse, forms, spellings, arabic, _lineage(words[0]) if words else "")


def _sim(x: str, y: str) -> float:
    if not x or not y:
        return 0.0
    return OSA.normalized_similarity(x, y)


def name_similarity(a: NameKey, b: NameKey) -> float:
    """Similarity in [0, 1] of two name fields, the best over their variants (with/without a glued article).

    Between two Latin spellings: the mean of the skeleton similarity and the vowelled-form similarity,
    or the plain spelling similarity when higher (a typo can disturb the phonetic rules, e.g. a
    transposed "ou"). With Arabic script on either side: the skeleton similarity (short vowels are not
    written in Arabic). Two skeletons that differ only within the coarse consonant classes (or by w/y) count
    0.9. Names of at most one consonant (Ba, Sy) are compared by their spellings only. Two names with
    different lineage particles (Ben X / Aït X / Ould X) are at most 0.5 similar.
    """
    if a.empty or b.empty:
        return 0.0
    best = 0.0
    latin = not (a.arabic or b.arabic)
    for sa, ca, fa, ra in zip(a.skeletons, a.coarse, a.forms, a.spellings):
        for sb, cb, fb, rb in zip(b.skeletons, b.coarse, b.forms, b.spellings):
            if len(sa) <= 1 and len(sb) <= 1 and latin:
                # one consonant or none (Ba, Sy, Sow): the skeleton says nothing, compare the spellings
                s = max(_sim(fa, fb), _sim(ra, rb))
                if s > best:
                    best = s
                continue
            s = _sim(sa, sb)
            if s < _COARSE_EQUAL and ca == cb and len(ca) >= 2:
                s = _COARSE_EQUAL
            if latin:
                s = max(0.5 * s + 0.5 * max(_sim(fa, fb), Indel.normalized_similarity(fa, fb)), _sim(ra, rb))
            if s > best:
                best = s
    if a.lineage and b.lineage and a.lineage != b.lineage:
        best = min(best, _OTHER_LINEAGE)
    return best
