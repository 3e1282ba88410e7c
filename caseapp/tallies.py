"""Counts read from a tally instead of from every row they count: a table of (key columns, delta) rows that triggers
append to, +1 under a row's new key and -1 under its old one (caseapp.cases.tally, caseapp.referrals.tally).

A count is the sum of `delta` over the keys asked for, so it also reads the rows appended since the last fold. A
count that read more than `FOLD_AFTER` rows has its tally folded (one row per key, every sum unchanged) once the
response has been sent, in a transaction of its own. Writers only ever append, so they never wait for a fold nor for
each other.
"""
import logging
from collections import Counter
from dataclasses import dataclass
from functools import partial

from flask import after_this_request, g, has_request_context
from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from caseapp.extensions import db
from caseapp.plain_rows import plain_rows

FOLD_AFTER = 200  # tally rows read by one count
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tally:
    """A tally table: its mapped class, its key columns, and the PostgreSQL advisory lock its folds take."""

    model: type
    key: tuple[str, ...]
    fold_lock: int


@dataclass(frozen=True)
class TallyTriggers:
    """The statements creating and dropping a tally's triggers, per dialect ("sqlite" or "postgresql")."""

    creating: dict[str, tuple[str, ...]]
    dropping: dict[str, tuple[str, ...]]

    def create_statements(self, dialect: str) -> tuple[str, ...]:
        return self.creating[dialect]

    def drop_statements(self, dialect: str) -> tuple[str, ...]:
        return self.dropping[dialect]


def sums(tally: Tally, query) -> list[tuple]:
    """The rows of a query over `tally` whose last column counts the tally rows each read, without that column;
    many rows read have the tally folded after the response."""
    rows = plain_rows(query).all()
    note_rows_read(tally, sum(row[-1] for row in rows))
    return [tuple(row[:-1]) for row in rows]


def note_rows_read(tally: Tally, rows_read: int) -> None:
    """A count read `rows_read` rows of `tally`: past `FOLD_AFTER`, the tally is folded once the response is sent."""
    flag = f"{tally.model.__tablename__}_fold"
    if rows_read <= FOLD_AFTER or not has_request_context() or g.get(flag):
        return
    setattr(g, flag, True)
    engine = db.engine

    @after_this_request
    def fold_once_sent(response):
        response.call_on_close(partial(fold_quietly, engine, tally))
        return response


def fold(connection: Connection, tally: Tally) -> int:
    """Merge the tally's rows into one per key (dropping keys whose sum is 0), in the caller's transaction; returns
    how many rows fewer there are. On PostgreSQL, if another fold of this tally is running, this one does nothing."""
    if connection.dialect.name == "postgresql" and not connection.scalar(select(func.pg_try_advisory_xact_lock(
            tally.fold_lock))):
        return 0
    table = tally.model.__table__
    key = [table.c[name] for name in tally.key]
    totals: Counter = Counter()
    # Exactly the rows this statement deletes come back: rows appended meanwhile stay, and count as they are.
    deleted = connection.execute(delete(table).returning(*key, table.c.delta)).all()
    for *row_key, delta in deleted:
        totals[tuple(row_key)] += delta
    folded = [dict(zip(tally.key, row_key), delta=total) for row_key, total in totals.items() if total]
    if folded:
        connection.execute(insert(table), folded)
    return len(deleted) - len(folded)


def fold_quietly(engine: Engine, tally: Tally) -> None:
    """`fold` in a transaction of its own; a failure (a lock timeout...) is logged: the counts stay right unfolded."""
    try:
        with engine.begin() as connection:
            fold(connection, tally)
    except SQLAlchemyError:
        log.warning("folding %s failed; it will be tried again", tally.model.__tablename__, exc_info=True)
