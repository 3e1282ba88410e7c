"""Case counts read from the case tally (`CaseTally`, kept by caseapp.cases.tally_triggers) instead of from every
case: an organisation's ~55,000 cases at 100,000 people took ~5 ms of database time to count on each case list and
home page; its tally is a few hundred rows. How a tally is read and folded: caseapp.tallies."""
from sqlalchemy import Connection, ColumnElement, func, select

from caseapp import tallies
from caseapp.access.policy import scope
from caseapp.cases.models import OPEN_STATUSES, CaseTally

CASES = tallies.Tally(CaseTally, ("partner_id", "service_point_id", "status", "assigned_worker_id"),
                      fold_lock=0x6361_7365_7461_6C6C)  # "casetall"


def count_cases(actor, *conditions: ColumnElement[bool]) -> int:
    """How many cases in the actor's scope match `conditions` (over CaseTally's key columns)."""
    return read_case_count(case_count_statement(actor, *conditions))


def case_count_statement(actor, *conditions: ColumnElement[bool]):
    """The statement of `count_cases` (for `read_case_count`), which may be kept and run again: the count, and the
    tally rows it read."""
    return scope(actor, select(func.coalesce(func.sum(CaseTally.delta), 0).label("total"),
                               func.count().label("tally_rows")), CaseTally).where(*conditions)


def read_case_count(statement) -> int:
    """The count of a `case_count_statement`."""
    [(total,)] = sums(statement)
    return total


def note_tally_rows_read(rows_read: int) -> None:
    """A `case_count_statement` read along another statement read `rows_read` tally rows (tallies.note_rows_read)."""
    tallies.note_rows_read(CASES, rows_read)


def open_cases_per_worker(actor):
    """A subquery of (worker_id, open_cases, rows) for the workers with open cases in the actor's scope; `rows`: the
    tally rows each sum read, for `sums`."""
    return scope(actor, select(CaseTally.assigned_worker_id.label("worker_id"),
                               func.sum(CaseTally.delta).label("open_cases"), func.count().label("rows")),
                 CaseTally).where(CaseTally.status.in_(OPEN_STATUSES), CaseTally.assigned_worker_id.is_not(None)) \
        .group_by(CaseTally.assigned_worker_id).having(func.sum(CaseTally.delta) > 0).subquery()


def sums(query) -> list[tuple]:
    """`tallies.sums` over the case tally."""
    return tallies.sums(CASES, query)


def fold(connection: Connection) -> int:
    """`tallies.fold` of the case tally."""
    return tallies.fold(connection, CASES)
