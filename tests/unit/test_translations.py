"""The fr/ar/en catalogues are complete, not fuzzy, and keep the msgids' placeholders.

Messages are extracted from the sources with Babel's Python API, using the same
mappings (`[[tool.babel.mappings]]` in pyproject.toml) and keywords as
`make extract-messages`, so a string added to the code without refreshing and
translating the catalogues makes these tests fail with its msgid and location.
Fix: `make extract-messages`, fill the new msgstr in every language, `make translations`.
"""
import gettext
import io
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
LANGUAGES = ("fr", "ar", "en")
# Keywords passed with -k to `pybabel extract` (on top of Babel's defaults: _, gettext, ngettext...).
# The Makefile's own -k options are added too, so the two cannot drift apart.
EXTRA_KEYWORDS = ("_l", "lazy_gettext")

# One printf-style conversion as Python's %-operator reads it: %(name)s, %(years)d, %s, %5.2f, %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conversion>[diouxXeEfFgGcrsa%])"
)


def _makefile_keywords() -> list[str]:
    makefile = ROOT / "Makefile"
    if not makefile.exists():
        return []
    keywords = []
    for line in makefile.read_text(encoding="utf-8").splitlines():
        if "pybabel" in line and " extract " in f"{line} ":
            words = shlex.split(line.replace("$(BIN)/", ""))
            keywords += [words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-k", "--keyword", "--keywords")]
    return keywords


def _mappings() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    """method_map and options_map from pyproject.toml, as `pybabel extract -F pyproject.toml` reads them."""
    with open(ROOT / "pyproject.toml", "rb") as handle:
        babel_config = tomllib.load(handle)["tool"]["babel"]
    extractors = babel_config.get("extractors", {})
    method_map, options_map = [], {}
    for entry in babel_config["mappings"]:
        entry = dict(entry)
        method = entry.pop("method")
        patterns = entry.pop("pattern")
        for pattern in [patterns] if isinstance(patterns, str) else patterns:
            method_map.append((pattern, extractors.get(method, method)))
            options_map[pattern] = {key: str(value) for key, value in entry.items()}
    return method_map, options_map


@cache
def extracted() -> Catalog:
    """Every translatable message in caseapp/ and templates/, with where it was found."""
    method_map, options_map = _mappings()
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords([*EXTRA_KEYWORDS, *_makefile_keywords()]))
    catalog = Catalog(domain="messages")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


@cache
def catalogue(language: str) -> Catalog:
    with open(po_path(language), "rb") as handle:
        return read_po(handle, locale=language, domain="messages")


def entries(language: str) -> list:
    """The catalogue's messages, header left out."""
    return [message for message in catalogue(language) if message.id]


def label(message) -> str:
    """How a message is named in failure reports: its msgid (and msgctxt)."""
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    where = ", ".join(f"{filename}:{lineno}" for filename, lineno in message.locations[:3])
    return (f"{msgid!r}" + (f" [msgctxt {message.context!r}]" if message.context else "")
            + (f" ({where})" if where else ""))


def translations_of(message) -> list[tuple[str, int | None, str]]:
    """(form name, plural index, msgstr) for the singular msgstr, or for each msgstr[i] of a plural entry."""
    if message.pluralizable:
        strings = message.string if isinstance(message.string, (list, tuple)) else (message.string,)
        return [(f"msgstr[{index}]", index, string or "") for index, string in enumerate(strings)]
    return [("msgstr", None, message.string or "")]


def report(language: str, problem: str, offenders: list[str]) -> str:
    return (f"{len(offenders)} {problem} in {po_path(language).relative_to(ROOT)} ({language}):\n  "
            + "\n  ".join(offenders))


def placeholders(text: str) -> tuple[set[str], list[str], list[str]]:
    """(named placeholders and %%, positional placeholders in order, stray '%' problems) of a format string."""
    named, positional, stray = set(), [], []
    position = 0
    while (position := text.find("%", position)) != -1:
        match = PLACEHOLDER.match(text, position)
        if match is None:
            stray.append(f"stray '%' at {text[position:position + 12]!r}")
            position += 1
            continue
        token = match.group(0)
        if match.group("name") is not None or match.group("conversion") == "%":
            named.add(token)
        else:
            positional.append(token)
        position = match.end()
    return named, positional, stray


@cache
def single_value_forms(language: str) -> frozenset[int]:
    """Plural forms that only one n uses (zero/one/two...): those may leave out the count placeholder."""
    plural = gettext.c2py(catalogue(language).plural_expr)
    users: dict[int, set[int]] = {}
    for n in range(0, 1001):
        users.setdefault(plural(n), set()).add(n)
    return frozenset(form for form, numbers in users.items() if len(numbers) == 1)


def test_extraction_finds_the_messages():
    messages = [message for message in extracted() if message.id]
    assert len(messages) > 50, f"only {len(messages)} messages extracted: are the [[tool.babel.mappings]] right?"
    files = {Path(filename).parts[0] for message in messages for filename, _lineno in message.locations}
    assert {"caseapp", "templates"} <= files, f"messages were extracted only from {sorted(files)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_header_is_valid(language):
    catalog = catalogue(language)
    expected = get_plural(language)
    assert str(catalog.locale) == language, f"{language}: Language header is {catalog.locale!r}"
    assert not catalog.fuzzy, f"{language}: the header entry is marked fuzzy (pybabel compile would skip the file)"
    assert catalog.num_plurals == expected.num_plurals, (
        f"{language}: Plural-Forms has nplurals={catalog.num_plurals}, {language} needs {expected.num_plurals}")
    assert (catalog.mime_headers and dict(catalog.mime_headers).get("Content-Type", "").lower()
            == "text/plain; charset=utf-8"), f"{language}: Content-Type must be text/plain; charset=utf-8"
    plural = gettext.c2py(catalog.plural_expr)
    used = {plural(n) for n in range(0, 1001)}
    assert used == set(range(catalog.num_plurals)), (
        f"{language}: the Plural-Forms expression yields forms {sorted(used)}, expected 0..{catalog.num_plurals - 1}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_source_message_is_in_the_catalogue(language):
    catalog = catalogue(language)
    offenders = []
    for message in extracted():
        if not message.id:
            continue
        msgid = message.id[0] if message.pluralizable else message.id
        entry = catalog.get(msgid, context=message.context)
        if entry is None:
            offenders.append(f"missing: {label(message)}")
        elif message.pluralizable and (not entry.pluralizable or tuple(entry.id) != tuple(message.id)):
            offenders.append(f"plural msgid differs: source has {tuple(message.id)!r}, catalogue has "
                             f"{entry.id!r}: {label(message)}")
        elif not message.pluralizable and entry.pluralizable:
            offenders.append(f"catalogue entry is plural but the source is not: {label(message)}")
    assert not offenders, report(language, "source messages missing or different (run `make extract-messages`)",
                                 offenders)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_entries(language):
    offenders = [label(message) for message in entries(language) if message.fuzzy]
    assert not offenders, report(language, "fuzzy entries (check the translation, then remove '#, fuzzy')",
                                 offenders)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_empty_translations(language):
    catalog = catalogue(language)
    offenders = []
    for message in entries(language):
        forms = translations_of(message)
        if message.pluralizable and len(forms) != catalog.num_plurals:
            offenders.append(f"{label(message)}: {len(forms)} plural forms, Plural-Forms says {catalog.num_plurals}")
        offenders += [f"{label(message)}: empty {form}" for form, _index, string in forms if not string.strip()]
    assert not offenders, report(language, "untranslated entries", offenders)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_the_msgid(language):
    """Same %(name)s placeholders (with the same conversion) as the msgid; no stray '%'.

    Templates format every translation with `%` (Jinja's newstyle gettext), so a lone '%'
    breaks the page. In a plural entry, a form used for a single n only (Arabic zero, one
    and two; English one) may leave a placeholder out, e.g. "ملفان" for two cases.
    """
    offenders = []
    for message in entries(language):
        sources = message.id if message.pluralizable else (message.id,)
        parsed = [placeholders(source) for source in sources]
        expected_named = set().union(*(named for named, _, _ in parsed))
        expected_positional = max((positional for _, positional, _ in parsed), key=len)
        for form, index, string in translations_of(message):
            if not string:
                continue  # reported by test_no_empty_translations
            named, positional, stray = placeholders(string)
            problems = list(stray)
            if extra := named - expected_named:
                problems.append(f"unknown {sorted(extra)}")
            may_omit = index is not None and index in single_value_forms(language)
            if (absent := expected_named - named) and not may_omit:
                problems.append(f"missing {sorted(absent)}")
            if positional != expected_positional and not (may_omit and not positional):
                problems.append(f"positional placeholders {positional} instead of {expected_positional}")
            if problems:
                offenders.append(f"{label(message)} {form} {string!r}: {'; '.join(problems)}")
    assert not offenders, report(language, "translations whose placeholders differ from the msgid", offenders)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_passes_babel_checks_and_compiles(language):
    catalog = catalogue(language)
    offenders = [f"{label(message)}: {error}" for message, errors in catalog.check() for error in errors]
    assert not offenders, report(language, "entries failing Babel's checks", offenders)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    compiled = gettext.GNUTranslations(io.BytesIO(buffer.getvalue()))
    assert compiled.info().get("language") == language
