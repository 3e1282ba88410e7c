"""Case counts read from the tally (`CaseTally`) instead of from every case: an organisation's ~55,000 cases at
100,000 people took ~5 ms of database time to count on each case list and home page; its tally is a few hundred
rows.

The triggers append a row per change, so a count also reads the rows appended since the last fold. A count that
read more than `FOLD_AFTER` rows has the tally folded (one row per key, every sum unchanged) once its response has
been sent, in a transaction of its own. Writers only ever append, so they never wait for a fold nor for each other.
"""
import logging
from collections import Counter
from functools import partial

from flask import after_this_request, g, has_request_context
from sqlalchemy import Connection, ColumnElement, Engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from caseapp.access.policy import scope
from caseapp.cases.models import OPEN_STATUSES, CaseTally
from caseapp.extensions import db

FOLD_AFTER = 200  # tally rows read by one count
FOLD_LOCK = 0x6361_7365_7461_6C6C  # PostgreSQL advisory lock ("casetall"): one fold at a time, the others skip
_KEY = ("partner_id", "service_point_id", "status", "assigned_worker_id")
log = logging.getLogger(__name__)


def count_cases(actor, *conditions: ColumnElement[bool]) -> int:
    """How many cases in the actor's scope match `conditions` (over CaseTally's key columns)."""
    query = scope(actor, select(func.coalesce(func.sum(CaseTally.delta), 0), func.count()), CaseTally)
    [(total,)] = sums(query.where(*conditions))
    return total


def open_cases_per_worker(actor):
    """A subquery of (worker_id, open_cases, rows) for the workers with open cases in the actor's scope; `rows`: the
    tally rows each sum read, for `sums`."""
    return scope(actor, select(CaseTally.assigned_worker_id.label("worker_id"),
                               func.sum(CaseTally.delta).label("open_cases"), func.count().label("rows")),
                 CaseTally).where(CaseTally.status.in_(OPEN_STATUSES), CaseTally.assigned_worker_id.is_not(None)) \
        .group_by(CaseTally.assigned_worker_id).having(func.sum(CaseTally.delta) > 0).subquery()


def sums(query) -> list[tuple]:
    """The rows of a query over the tally whose last column counts the tally rows each read, without that column;
    many rows read have the tally folded after the response."""
    rows = db.session.execute(query).all()
    _fold_when_long(sum(row[-1] for row in rows))
    return [tuple(row[:-1]) for row in rows]


def _fold_when_long(rows_read: int) -> None:
    if rows_read <= FOLD_AFTER or not has_request_context() or g.get("case_tally_fold"):
        return
    g.case_tally_fold = True
    engine = db.engine

    @after_this_request
    def fold_once_sent(response):
        response.call_on_close(partial(fold_quietly, engine))
        return response


def fold(connection: Connection) -> int:
    """Merge the tally's rows into one per key (dropping keys whose sum is 0), in the caller's transaction; returns
    how many rows fewer there are. On PostgreSQL, if another fold is running, this one does nothing."""
    if connection.dialect.name == "postgresql" and not connection.scalar(select(func.pg_try_advisory_xact_lock(
            FOLD_LOCK))):
        return 0
    table = CaseTally.__table__
    key = [table.c[name] for name in _KEY]
    totals: Counter = Counter()
    # Exactly the rows this statement deletes come back: rows appended meanwhile stay, and count as they are.
    deleted = connection.execute(delete(table).returning(*key, table.c.delta)).all()
    for *row_key, delta in deleted:
        totals[tuple(row_key)] += delta
    folded = [dict(zip(_KEY, row_key), delta=total) for row_key, total in totals.items() if total]
    if folded:
        connection.execute(insert(table), folded)
    return len(deleted) - len(folded)


def fold_quietly(engine: Engine) -> None:
    """`fold` in a transaction of its own; a failure (a lock timeout...) is logged: the counts stay right unfolded."""
    try:
        with engine.begin() as connection:
            fold(connection)
    except SQLAlchemyError:
        log.warning("folding the case tally failed; it will be tried again", exc_info=True)
