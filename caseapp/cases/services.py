"""Opening cases with never-reused numbers, and finding cases within the actor's scope; audited."""
import re
from dataclasses import astuple, dataclass
from datetime import date
from functools import cached_property, partial
from typing import Any

from sqlalchemy import and_, exists, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from caseapp.access.policy import scope_condition
from caseapp.audit.service import record, record_read
from caseapp.beneficiaries.flags import allowed_flag_codes
from caseapp.beneficiaries.blocking import search_keys
from caseapp.beneficiaries.lookup import document_lookup_index, phone_lookup_index
from caseapp.beneficiaries.models import Beneficiary, BeneficiaryFlag, IdentityDocument, PersonKey
from caseapp.beneficiaries.normalize import normalize_name, phone_digits
from caseapp.cases.models import CASE_STATUSES, RISK_LEVELS, Case, CaseNumberCounter, CaseTally, FollowUp
from caseapp.cases.rows import CaseRow, case_rows_statement, read_case_rows, read_counted_case_rows
from caseapp.cases.tally import case_count_statement, note_tally_rows_read, read_case_count
from caseapp.extensions import db
from caseapp.i18n import programme_timezone
from caseapp.fragments import kept_statement
from caseapp.pagination import Page, count_statement, page_of, read_count
from caseapp.models_base import utcnow

CASE_NUMBER_TEXT = re.compile(r"^[A-Za-z]{2,8}-\d{0,4}(-\d{0,5})?$|^[A-Za-z]{2,8}-$")
DOCUMENT_NUMBER_TEXT = re.compile(r"^(?=.*\d)[A-Za-z0-9 ./-]{4,64}$")  # has a digit: could be a document number


def next_case_number(commune_code: str, year: int) -> str:
    """Reserve the next number `<COMMUNE>-<YEAR>-<NNNNN>`; the counter row is locked until commit."""
    values = dict(commune_code=commune_code, year=year)
    bump = (
        update(CaseNumberCounter)
        .where(CaseNumberCounter.commune_code == commune_code, CaseNumberCounter.year == year)
        .values(last_value=CaseNumberCounter.last_value + 1)
        .returning(CaseNumberCounter.last_value)
    )
    value = db.session.execute(bump).scalar()
    if value is None:
        try:
            with db.session.begin_nested():
                db.session.add(CaseNumberCounter(**values, last_value=1))
            value = 1
        except IntegrityError:  # another transaction created the row first
            value = db.session.execute(bump).scalar_one()
    return format_case_number(commune_code, year, value)


def format_case_number(commune_code: str, year: int, value: int) -> str:
    """`<COMMUNE>-<YEAR>-<NNNNN>`."""
    return f"{commune_code}-{year}-{value:05d}"


CASE_OPEN_FIELDS = ["number", "service_point_id", "assigned_worker_id", "status"]  # what "case.open" names


def open_case(actor, person: Beneficiary, service_point) -> Case:
    """Open a case for `person` at `service_point`, assigned to the actor."""
    opened_at = utcnow()
    local_year = opened_at.astimezone(programme_timezone()).year
    case = Case(
        number=next_case_number(service_point.commune_code, local_year),
        beneficiary=person, partner_id=service_point.partner_id, service_point_id=service_point.id,
        assigned_worker_id=actor.id, status="registered", opened_at=opened_at, opened_by_id=actor.id,
    )
    db.session.add(case)
    db.session.flush()
    record(actor, "case.open", case, fields=CASE_OPEN_FIELDS)
    return case


MAX_SEARCH_WORDS = 8


def _first_distinct(words: list[str]) -> list[str]:
    """A name's worth of words: the first MAX_SEARCH_WORDS distinct ones."""
    return list(dict.fromkeys(words))[:MAX_SEARCH_WORDS]


# The cases a text finds, under a name of their own: the list's own case_file must not correlate into the search.
_FOUND = aliased(Case, name="found_case")


def _number_starts(number: str):
    """Case numbers starting with `number` (upper case letters, digits and hyphens: CASE_NUMBER_TEXT), through the
    number's index: SQLite's LIKE ignores case, so no index serves it, while GLOB compares as the index does."""
    if db.session.get_bind().dialect.name == "sqlite":
        return _FOUND.number.op("GLOB")(f"{number}*")
    return _FOUND.number.startswith(number, autoescape=True)


def _text_condition(text: str):
    """Cases whose number starts with the text, or whose person matches it: phone, document, name words (anywhere
    in any spelling of the names) or the words' phonetic keys. The people are found first, each way through its own
    index (PostgreSQL: a trigram index serves the name words), then their cases."""
    people = []
    compact = text.strip()
    digits = phone_digits(compact)
    if digits and len(digits) >= 6 and re.fullmatch(r"[+\d\s().-]+", compact):
        # Exact match on the keyed blind index: the phone numbers themselves are never compared in SQL.
        people.append(select(Beneficiary.id).where(Beneficiary.phone_index == phone_lookup_index(compact)))
    if DOCUMENT_NUMBER_TEXT.match(compact):
        people.append(select(IdentityDocument.beneficiary_id).where(
            IdentityDocument.number_index == document_lookup_index(compact)))
    # Distinct words, a name's worth: a short text can normalize into hundreds of them (ligatures such as U+FDFA
    # expand into four words), and each is one LIKE in the query (SQLite refuses expressions past depth 1000).
    words = _first_distinct(normalize_name(compact).split())
    if words:
        people.append(select(Beneficiary.id).where(
            *(Beneficiary.name_search.contains(word, autoescape=True) for word in words)))
        # Across scripts and spellings: the typed words' phonetic keys (محمد العمراني finds Mohamed El Amrani). Not
        # of a word with a digit: no name has one, and a case number's letters (NAD-2026-00017) would find everyone
        # whose name sounds like its commune's code.
        named = [word for word in compact.split() if not any(character.isdigit() for character in word)]
        if keys := search_keys(" ".join(_first_distinct(named))):
            people.append(select(PersonKey.beneficiary_id).where(PersonKey.key.in_(sorted(keys))))
    found = (union(*people) if len(people) > 1 else people[0]) if people else None
    if not CASE_NUMBER_TEXT.match(compact):
        return Case.beneficiary_id.in_(found) if found is not None else None
    # Each way through its own index, then the cases found: an OR of the two read every case of the organisation
    # (a case number searched at 100,000 people: ~60 ms of SQL).
    cases = select(_FOUND.id).where(_number_starts(compact.upper()))
    if found is not None:
        cases = union(cases, select(_FOUND.id).where(_FOUND.beneficiary_id.in_(found)))
    return Case.id.in_(cases)


SORTS = {
    "opened_desc": (Case.opened_at.desc(), Case.id.desc()),
    "opened_asc": (Case.opened_at.asc(), Case.id.asc()),
    "updated_desc": (Case.updated_at.desc(), Case.id.desc()),
    "number": (Case.number.asc(),),
}


@dataclass
class CaseFilters:
    """The case list's filters; empty values filter nothing."""

    status: str = ""
    service_point_id: int | None = None
    worker_id: int | None = None
    risk: str = ""
    flag: str = ""
    overdue: bool = False

    def used(self) -> list[str]:
        return [name for name, value in vars(self).items() if value]


def _key_conditions(model, filters: CaseFilters) -> list:
    """The filters on a case's tally key (status, service point, worker), over `model`: Case or CaseTally."""
    conditions = []
    if filters.status in CASE_STATUSES:
        conditions.append(model.status == filters.status)
    if filters.service_point_id:
        conditions.append(model.service_point_id == filters.service_point_id)
    if filters.worker_id:
        conditions.append(model.assigned_worker_id == filters.worker_id)
    return conditions


def _other_conditions(actor, filters: CaseFilters, today: date) -> list:
    """The filters that read more of a case than its tally key: risk, flag, overdue follow-ups."""
    conditions = []
    if filters.risk in RISK_LEVELS:
        conditions.append(Case.risk_level == filters.risk)
    if filters.flag and filters.flag in allowed_flag_codes(actor):
        conditions.append(exists().where(BeneficiaryFlag.beneficiary_id == Case.beneficiary_id,
                                         BeneficiaryFlag.flag_code == filters.flag))
    if filters.overdue:
        conditions.append(exists().where(FollowUp.case_id == Case.id, FollowUp.done_at.is_(None),
                                         FollowUp.due_date < today))
    return conditions


@dataclass(frozen=True)
class _Counting:
    """A case search's count statement, and whether it sums the case tally (else it counts rows)."""

    statement: Any
    from_tally: bool

    def total(self) -> int:
        return read_case_count(self.statement) if self.from_tally else read_count(self.statement)


class _CaseSearch:
    """The statements of one case search, each built only when asked for (without a text, they are kept)."""

    def __init__(self, actor, text: str, filters: CaseFilters, today: date):
        self.actor, self.filters, self.today = actor, filters, today
        self.condition = _text_condition(text) if text.strip() else None

    @cached_property
    def others(self) -> list:
        return _other_conditions(self.actor, self.filters, self.today)

    @cached_property
    def where(self) -> list:
        where = [scope_condition(self.actor, Case)]
        if self.condition is not None:  # never a merge's tombstone, even with a case left on it (as an import could)
            where += [self.condition, Beneficiary.merged_into_id.is_(None)]
        return where + _key_conditions(Case, self.filters) + self.others

    def counting(self) -> _Counting:
        if self.condition is None and not self.others:  # the same cases, counted from their tally
            return _Counting(case_count_statement(self.actor, *_key_conditions(CaseTally, self.filters)), True)
        return _Counting(count_statement((select(Case).join(Case.beneficiary) if self.condition is not None
                                          else select(Case)).where(*self.where)), False)

    def rows(self, order: tuple, limit: int, offset: int, counted_by=None):
        return case_rows_statement(and_(*self.where), order, limit, offset, counted_by)


def search_cases(actor, *, text: str = "", filters: CaseFilters | None = None, sort: str = "opened_desc",
                 page: int = 1, per_page: int = 25, audit: bool = True, today: date | None = None) -> Page:
    """Cases the actor may see, matching a name, case number or phone and the filters, in the chosen order."""
    filters = filters or CaseFilters()
    sort = sort if sort in SORTS else "opened_desc"
    today = today or date.today()
    search = _CaseSearch(actor, text, filters, today)
    # Without a text, the statements are kept for the reader (caseapp.fragments.kept_statement): building and keying
    # them cost ~1.5 ms of every case list. A text (perhaps a name) is never kept.
    key = (astuple(filters), sort, today if filters.overdue else None) if not text.strip() else None

    def kept(name: str, arguments: tuple, build):
        return kept_statement(actor, name, (key, *arguments), build) if key is not None else build()

    counting = kept("cases.count", (), search.counting)

    def read(offset: int, limit: int) -> list[CaseRow]:
        return read_case_rows(kept("cases.rows", (limit, offset), partial(search.rows, SORTS[sort], limit, offset)))

    if counting.from_tally and page <= 1:  # the first page and its total in one statement
        rows, counted = read_counted_case_rows(kept("cases.first_page", (per_page,), partial(
            search.rows, SORTS[sort], per_page, 0, counting.statement)))
        total, tally_rows = counted if counted is not None else (0, 0)  # no row: none to count, the same snapshot
        note_tally_rows_read(tally_rows)
        result = Page(items=rows, total=total, page=1, per_page=per_page)
    else:  # counted first: a page past the end gives the last one
        result = page_of(counting.total(), page, per_page, read)
    used = (["text"] if search.condition is not None else []) + filters.used()
    if audit and used:
        record_read(actor, "case.search", None, filters=used, results=result.total)
    return result


def recent_cases(actor: Any, limit: int = 10) -> list[CaseRow]:
    """The most recently opened cases in the actor's scope."""
    return search_cases(actor, per_page=limit, audit=False).items
