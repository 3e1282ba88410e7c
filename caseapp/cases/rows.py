"""The case lists' rows (cases/_table.html) and the home page's follow-ups: the few columns a list shows, read as
plain values in one statement.

Loading whole records cost ~4 ms of CPU for a page of 50 cases with their people and workers (every column,
the workers' password hashes included, and the session's bookkeeping); these rows cost ~1.4 ms. A row answers
the attributes the table reads from a case (`case.number`, `case.beneficiary.display_name`,
`case.assigned_worker.full_name`...), so the same template lists records and rows.

The row classes are plain slotted dataclasses, not frozen ones: a frozen dataclass sets each field through
`object.__setattr__` (~3 µs a row against ~0.6), and a page builds 150 of them. Nothing changes a row once made.
"""
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import aliased

from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary, person_display_name
from caseapp.cases.models import Case, FollowUp, is_awaiting_closure
from caseapp.pagination import window
from caseapp.plain_rows import plain_rows


@dataclass(slots=True)
class PersonCells:
    """The person columns of a case row."""

    given_name: str
    family_name: str
    sex: str
    date_of_birth: date
    dob_estimated: bool

    @property
    def display_name(self) -> str:
        return person_display_name(self.given_name, self.family_name)


@dataclass(slots=True)
class WorkerCells:
    """The assigned worker's column of a case row."""

    full_name: str


@dataclass(slots=True)
class CaseRow:
    """One case of a list, as the table shows it."""

    id: int
    number: str
    beneficiary_id: int
    status: str
    closure_requested_at: datetime | None
    opened_at: datetime
    beneficiary: PersonCells
    assigned_worker: WorkerCells | None

    @property
    def awaiting_closure(self) -> bool:
        return is_awaiting_closure(self.status, self.closure_requested_at)


_WORKER = aliased(User, name="row_worker")
_COLUMNS = (Case.id, Case.number, Case.beneficiary_id, Case.status, Case.closure_requested_at, Case.opened_at,
            Beneficiary.given_name, Beneficiary.family_name, Beneficiary.sex, Beneficiary.date_of_birth,
            Beneficiary.dob_estimated, _WORKER.full_name)
_WIDTH = len(_COLUMNS)


def case_rows(condition: ColumnElement[bool] | None, order_by: tuple, limit: int, offset: int = 0) -> list[CaseRow]:
    """One page of the cases matching `condition` (over the case and its person: `policy.scope_condition`, filters),
    in `order_by` order."""
    return read_case_rows(case_rows_statement(condition, order_by, limit, offset))


def case_rows_statement(condition: ColumnElement[bool] | None, order_by: tuple, limit: int, offset: int = 0,
                        counted_by: Select | None = None):
    """The statement of `case_rows` (for `read_case_rows`), which may be kept and run again. With `counted_by`, a
    statement of one row (a count), its columns follow each row's (for `read_counted_case_rows`): each a scalar
    subquery, which the database runs once and which leaves the rows' plan as it is (a joined subquery did not:
    SQLite then sorted an organisation's every case instead of walking the sort's index)."""
    query = select(*_COLUMNS).join_from(Case, Beneficiary, Beneficiary.id == Case.beneficiary_id) \
        .outerjoin(_WORKER, _WORKER.id == Case.assigned_worker_id)
    if counted_by is not None:
        query = query.add_columns(*(counted_by.with_only_columns(column).scalar_subquery().label(column.name)
                                    for column in counted_by.selected_columns))
    if condition is not None:
        query = query.where(condition)
    return window(query.order_by(*order_by), limit, offset)


def read_case_rows(statement) -> list[CaseRow]:
    """The rows of a `case_rows_statement`."""
    return [_case_row(*row) for row in plain_rows(statement)]


def read_counted_case_rows(statement) -> tuple[list[CaseRow], tuple | None]:
    """The rows of a `case_rows_statement` made with `counted_by`, and its count's columns (None without a row)."""
    result = plain_rows(statement).all()
    return [_case_row(*row[:_WIDTH]) for row in result], (tuple(result[0][_WIDTH:]) if result else None)


def _case_row(case_id, number, person_id, status, requested, opened, given, family, sex, born, estimated,
              worker) -> CaseRow:
    return CaseRow(case_id, number, person_id, status, requested, opened,
                   PersonCells(given, family, sex, born, estimated), WorkerCells(worker) if worker is not None else None)


@dataclass(slots=True)
class FollowUpRow:
    """One open follow-up of the home page's lists."""

    case_id: int
    case_number: str
    person_name: str
    due_date: date
    purpose: str


def follow_up_rows_statement(condition: ColumnElement[bool], order_by: tuple, limit: int) -> Select:
    """The follow-ups matching `condition` (the WHERE of a select of follow-ups joined to their case), in
    `order_by` order, at most `limit`: a statement for `read_follow_up_rows`, which may be kept and run again."""
    query = select(FollowUp.case_id, Case.number, Beneficiary.given_name, Beneficiary.family_name, FollowUp.due_date,
                   FollowUp.purpose).join_from(FollowUp, Case, Case.id == FollowUp.case_id) \
        .join(Beneficiary, Beneficiary.id == Case.beneficiary_id).where(condition)
    return window(query.order_by(*order_by), limit)


def read_follow_up_rows(statement) -> list[FollowUpRow]:
    """The rows of a `follow_up_rows_statement`."""
    return [FollowUpRow(case_id, number, person_display_name(given, family), due, purpose)
            for case_id, number, given, family, due, purpose in plain_rows(statement)]
