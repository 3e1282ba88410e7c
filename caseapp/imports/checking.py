"""The dry run: every row through the registration rules, without saving anything; a per-row report.

Rows are validated by `validate_registration` (the very rules `register_beneficiary` applies before it adds a
row), so nothing is written, not even in a savepoint. Likely duplicates are looked up among the people already
registered (those the actor may see, by name; the others only counted) and among the earlier rows of the file.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from caseapp.access.policy import can, has_permission
from caseapp.audit.service import record
from caseapp.beneficiaries.blocking import candidate_keys, person_keys
from caseapp.beneficiaries.duplicates import find_duplicates
from caseapp.beneficiaries.matching import MATCH_THRESHOLD, score_pair
from caseapp.beneficiaries.services import RegistrationData, validate_registration
from caseapp.errors import NotAllowed, ValidationFailed
from caseapp.imports.convert import build_lookups, row_to_registration
from caseapp.imports.reading import Table
from caseapp.places.models import ServicePoint

MAX_SHOWN_DUPLICATES = 3
MAX_FILE_CANDIDATES = 10


@dataclass
class RowReport:
    """What the dry run found for one row of the file."""

    number: int  # the row number in the spreadsheet (the header is row 1)
    errors: dict[str, list[str]] = field(default_factory=dict)  # field → translated messages
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # (person id, name): the first few in scope
    in_scope: int = 0  # likely duplicates the actor may see
    outside_scope: int = 0  # likely duplicates the actor may not see: only counted
    same_as_row: int | None = None  # an earlier row of the file that is likely the same person

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def noteworthy(self) -> bool:
        return bool(self.errors or self.in_scope or self.outside_scope or self.same_as_row)


@dataclass
class CheckReport:
    """The dry run of one file: one RowReport per data row, in file order."""

    rows: list[RowReport]

    @property
    def error_rows(self) -> list[RowReport]:
        return [row for row in self.rows if not row.ok]

    @property
    def valid_count(self) -> int:
        return sum(1 for row in self.rows if row.ok)

    @property
    def duplicate_count(self) -> int:
        return sum(1 for row in self.rows if row.ok and (row.in_scope or row.outside_scope or row.same_as_row))


def ensure_may_import(actor, service_point: ServicePoint | None) -> None:
    """Raise NotAllowed unless the actor manages imports and the service point is one of theirs."""
    if not has_permission(actor, "import.manage") or service_point is None \
            or not can(actor, "beneficiary.register", service_point):
        raise NotAllowed("import.manage refused")


def validated_rows(actor, table: Table, mapping: dict[str, str], service_point: ServicePoint, today: date,
                   progress: Callable[[int], None] | None = None):
    """Yield (row number, RegistrationData or None, field errors) for every row, validated like a registration."""
    lookups = build_lookups()
    for number, row in table.rows:
        data, unparsed = row_to_registration(row, mapping, service_point.id, lookups)
        try:
            validate_registration(actor, data, today, unparsed)
        except ValidationFailed as failure:
            yield number, None, failure.errors
        else:
            yield number, data, {}
        if progress:
            progress(1)


def _record(data: RegistrationData, birth: date | None) -> dict:
    return {"given_name": data.given_name.strip(), "family_name": data.family_name.strip(), "sex": data.sex,
            "date_of_birth": birth.isoformat() if birth else "", "dob_is_estimated": data.dob_estimated,
            "nationality": data.nationality, "document_number": data.document_number.strip()}


def _birth(data: RegistrationData) -> date | None:
    return date(data.birth_year, 1, 1) if data.dob_estimated and data.birth_year else data.date_of_birth


class _FileIndex:
    """The rows already checked, by blocking key, to find a row that repeats an earlier one."""

    def __init__(self):
        self.by_key: dict[str, list[int]] = {}
        self.records: dict[int, dict] = {}

    def earlier_match(self, number: int, data: RegistrationData) -> int | None:
        birth = _birth(data)
        given, family = (data.given_name, data.given_name_alt), (data.family_name, data.family_name_alt)
        record = _record(data, birth)
        shared: dict[int, int] = {}
        for key in candidate_keys(given, family, birth):
            for earlier in self.by_key.get(key, ()):
                shared[earlier] = shared.get(earlier, 0) + 1
        # Only the rows sharing the most keys are scored, so a file full of namesakes stays fast.
        best = sorted(shared, key=lambda earlier: (-shared[earlier], earlier))[:MAX_FILE_CANDIDATES]
        found = next((earlier for earlier in sorted(best)
                      if score_pair(record, self.records[earlier]) >= MATCH_THRESHOLD), None)
        self.records[number] = record
        for key in person_keys(given, family, birth):
            self.by_key.setdefault(key, []).append(number)
        return found


def check_rows(actor, table: Table, mapping: dict[str, str], service_point: ServicePoint,
               today: date | None = None, progress: Callable[[int], None] | None = None) -> CheckReport:
    """Dry run: validate every row as a registration and look for likely duplicates; saves no person.

    Records one audit event "import.check" (counts only); the caller commits it.
    """
    ensure_may_import(actor, service_point)
    today = today or date.today()
    index = _FileIndex()
    reports = []
    for number, data, errors in validated_rows(actor, table, mapping, service_point, today, progress):
        report = RowReport(number=number, errors=errors)
        if data is not None:
            found = find_duplicates(actor, _record(data, _birth(data)), (data.given_name_alt, data.family_name_alt))
            report.duplicates = [(person.id, person.display_name)
                                 for person, _score in found.visible[:MAX_SHOWN_DUPLICATES]]
            report.in_scope = len(found.visible)
            report.outside_scope = found.outside_scope
            report.same_as_row = index.earlier_match(number, data)
        reports.append(report)
    result = CheckReport(reports)
    record(actor, "import.check", service_point, rows=len(result.rows), errors=len(result.error_rows),
           duplicates=result.duplicate_count)
    return result
