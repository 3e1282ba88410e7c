"""Hostile form input: what a careless paste, a broken client or an attacker may post, per kind of field.

A value drawn for one field is a string, a list of strings (the field posted several times), or MISSING (the
field left out of the post). Lone surrogates cannot travel in an HTTP body, so odd Unicode stands in for them:
zero-width joiners, combining marks, bidi overrides, emoji, Arabic, ligatures that grow under NFKD.

Two sources of examples:
- `edge_mutations(kinds)`: deterministic posts that give every field of one kind the same nasty value, each
  chosen to get past the form's parsing and reach the service and the database (a huge id, an id just over
  INTEGER, NUL, a ligature that grows on normalisation, a short text that doubles when upper-cased, a far
  date...), plus "every field left out" and "every field posted twice";
- `mutations(kinds)`: random changes to one to four fields, mostly from the values of the field's kind.
"""
from hypothesis import strategies as st

# Field kinds: what the form expects in a field.
TEXT, INT, DATE, CHOICE, MULTI, BOOL, URL = "text", "int", "date", "choice", "multi", "bool", "url"

SCRIPT = "<script>alert(1)</script>"
# Substrings that must never reach a page unescaped (every markup value below contains one of them).
RAW_MARKUP = (SCRIPT, "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # the field is left out of the post

# Just over the app's MAX_CONTENT_LENGTH (2 MiB): the whole body is refused (413).
OVERSIZED = "x" * (2 * 1024 * 1024 + 16)
HUGE_INT = "99999999999999999999"  # above 2**63: SQLite cannot bind it

MARKUP = (
    SCRIPT, f'"><{SCRIPT[1:]}', f"'>{SCRIPT}", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>", "</title><svg onload=alert(1)>", '" autofocus onfocus="alert(1)',
    "javascript:alert(1)", "{{ 7*7 }}", "{% raw %}", "${7*7}", "%(name)s %s %d", "{0}",
)
SQL = (
    "' OR 1=1 --", "'; DROP TABLE beneficiary; --", "1; DROP TABLE \"case\"", "\" OR \"\"=\"", "%", "_", "%_%",
    "\\", "' UNION SELECT password_hash FROM \"user\" --",
)
CONTROL = (
    "\x00", "a\x00b", "\x1b[2J\x1b[31mred", "line1\r\nline2", "\r\n", "\r", "\n\n\n", "\t", "\x7f", "\x08\x08",
    "\x0b\x0c", "\x85", "\u2028\u2029",
)
ODD_UNICODE = (
    "\u202egnp.exe\u202c", "\u2066x\u2069", "\u200d", "\u200b\u200b", "\ufeff", "\u00ad", "e\u0301\u0302\u0303\u0304",
    "Z\u0364\u0351\u0313a\u0308\u0347l\u036e\u0312", "👩\u200d👩\u200d👧\u200d👦", "🇲🇦", "💩", "محمد العمراني",
    "ـــ", "\ufdfa", "\ufdfa" * 120, "\ufb03" * 120, "ß" * 120, "\U0010ffff", "\ufffd", "\uffff", "İ", "Ⅻ",
    "١٩٩٠-٠٥-١٧", "٣", "\u3000", "  ",
)
NUMBERS = (
    "-1", "0", "1", "2", "3", "7", "1.5", "1e400", "NaN", "inf", "0x1F", " 1 ", "+1", "00001", HUGE_INT,
    "-" + HUGE_INT, "9223372036854775808", "2147483648", "١", "",
)
DATES = (
    "2026-02-30", "31/12/2026", "9999-99-99", "0000-00-00", "0001-01-01", "9999-12-31", "2026-13-01", "2024-02-29",
    "1900-02-29", "2026-1-1", "+002026-01-01", "2026-01-01T00:00", "2026/01/01", "today", "",
)
CODES = (
    "M", "F", "X", "returnee", "refugee", "MAR", "ZZZ", "mar", "OUJ", "NAD", "BEM", "ZZZ-1", "fr", "ar", "en", "xx",
    "general", "psychosocial", "protection", "high", "low", "medium", "critical", "gbv_survivor", "homeless",
    "signed_form", "oral_witness", "legal_basis", "approve", "reject", "accept", "decline", "closed", "reopened",
    "assessment", "plan", "active", "registered", "todo", "done", "employment", "avrr", "employment.anapec",
    "admin", "caseworker", "normal", "urgent", "emergency", "achieved", "passport", "national_id", "goals_met",
    "withdrew", "y", "on", "false",
)
PATHS = ("/", "//evil.example", "https://evil.example/", "/\\evil.example", "/cases/?x=1", "\x00/", "javascript:x")
LONG = ("x" * 10_000, ("ب" + "\u0651") * 5_000, SCRIPT * 400, "\u202e" * 10_000, "' OR 1=1 --" * 900)

HOSTILE = MARKUP + SQL + CONTROL + ODD_UNICODE + NUMBERS + DATES + CODES + PATHS + LONG + (OVERSIZED,)

BY_KIND = {
    TEXT: MARKUP + SQL + CONTROL + ODD_UNICODE + LONG,
    INT: NUMBERS,
    DATE: DATES,
    CHOICE: CODES + SQL + MARKUP[:3] + CONTROL[:2],
    MULTI: CODES + MARKUP[:3] + CONTROL[:2],
    BOOL: ("y", "n", "0", "1", "false", "off", "", "x" * 10_000),
    URL: PATHS + MARKUP[:2],
}

# The values `edge_mutations` gives to every field of a kind at once, one post per value.
EDGES = {
    INT: (HUGE_INT, "-" + HUGE_INT, "2147483648", SCRIPT),  # 2**31: SQLite binds it, a PostgreSQL INTEGER cannot
    TEXT: ("a\x00b\u202e\u200d\r\n\x1b[31m" + f'"><{SCRIPT[1:]}', "x" * 10_000, "\ufdfa" * 120, "ß" * 30),
    DATE: ("2026-02-30", "0001-01-01", "9999-12-31"),
    CHOICE: ("' OR 1=1 --\x00" + SCRIPT,),
    MULTI: (["homeless", "homeless", "gbv_survivor", "' OR 1=1 --", "a\x00b", SCRIPT],),
    BOOL: ("x" * 10_000,),
    URL: ("//evil.example", "javascript:alert(1)"),
}

# Posted alongside the form: a mass-assignment attempt must be ignored.
EXTRA_FIELDS = ("partner_id", "role", "id", "created_by_id", "restricted", "status", "version", "is_admin")

_random_text = st.text(st.characters(codec="utf-8"), max_size=40)


def edge_mutations(kinds: dict[str, str], valid: dict) -> list[dict]:
    """Deterministic posts: per kind and edge value, every field of that kind gets it; then a body over the size
    limit; every field left out; every field posted twice (its valid value, then a hostile one); every extra
    field at once."""
    found = []
    for kind, values in EDGES.items():
        names = [name for name, field_kind in kinds.items() if field_kind == kind]
        if names:
            found += [{name: value for name in names} for value in values]
    found.append({next(iter(kinds)): OVERSIZED})  # the whole body is refused: 413
    found.append(dict.fromkeys(kinds, MISSING))
    found.append({name: [*(_as_list(valid.get(name))), SCRIPT + "\x00"] for name in kinds})
    found.append({name: "1" for name in EXTRA_FIELDS} | {"role": "admin", "partner_id": "2"})
    return found


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _single(kind: str, extra: tuple[str, ...]) -> st.SearchStrategy[str]:
    own = st.sampled_from(BY_KIND[kind] + tuple(extra))
    anything = st.sampled_from(HOSTILE)
    return st.one_of(own, own, own, anything, _random_text, st.builds(lambda a, b: a + b, own, anything))


def field_values(kind: str, extra: tuple[str, ...] = ()) -> st.SearchStrategy:
    """What is posted for one field of this kind: a value, the field several times, or nothing."""
    single = _single(kind, extra)
    return st.one_of(single, single, single, st.lists(single, min_size=2, max_size=3), st.just(MISSING))


def mutations(kinds: dict[str, str], extra: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    """Random changes to a valid post: one to four fields (or extra mass-assignment fields) get hostile values."""
    fields = {name: field_values(kind, extra) for name, kind in kinds.items()}
    fields |= {name: field_values(TEXT) for name in EXTRA_FIELDS if name not in kinds}
    return st.lists(st.sampled_from(sorted(fields)), min_size=1, max_size=4, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({name: fields[name] for name in names}))
