"""Writing generated history one chunk per transaction: rows inserted in bulk in foreign-key order, audit events
chained onto the newest event, case-number counters and id sequences moved on.

A chunk's ids and case numbers are given before it is written, from the state the tables were in (`begin`): the
chunk's transaction checks that they still are (nobody else may insert meanwhile). SQLite transactions hold the
write lock (BEGIN IMMEDIATE); on PostgreSQL the transaction locks the tables it writes against writes (reads go
on) and takes the audit writers' lock.
"""
from collections import namedtuple
from contextlib import closing
from dataclasses import dataclass
from operator import itemgetter

from sqlalchemy import Connection, Dialect, column, func, insert, select, text, update
from sqlalchemy import table as sql_table

from caseapp.audit.chain import compute_hash, last_hash, lock_writers
from caseapp.cases.models import CaseNumberCounter
from caseapp.extensions import db
from caseapp.generate.records import Chunk, State

# Every table the generator writes, parents first (audit events come last, see ChunkWriter.write).
INSERT_ORDER = ("beneficiary", "identity_document", "beneficiary_flag", "consent_record", "person_key", "case_file",
                "case_assessment", "plan_goal", "plan_action", "case_note", "follow_up", "change_record", "referral",
                "referral_event", "notification")
ID_TABLES = tuple(table for table in INSERT_ORDER if table not in ("beneficiary_flag", "person_key"))
SQLITE_CACHE_KIB = 1024 * 1024
AUDIT_COLUMNS = ("occurred_at", "actor_id", "partner_id", "action", "object_type", "object_id", "ip", "details")
AuditContent = namedtuple("AuditContent", AUDIT_COLUMNS)  # what the hash covers (audit.chain.EventContent)


@dataclass
class Prepared:
    """A chunk ready to insert: the state it was made from and leads to, its rows as driver-ready values per
    table, and its audit events (chained when written)."""

    start: State
    end: State
    tables: list[tuple[str, list[str], list[list]]]  # (table, column names, values)
    events: list[tuple]  # Chunk.events
    counts: dict[str, int]


def _values(dialect: Dialect, table_name: str, rows: list[dict]) -> tuple[list[str], list[list]]:
    """Column names and one list of values per row (all rows have the same keys), each column's bind processor
    (dates on SQLite, the sealed-value check...) applied once per value: the work of a Core insert, in bulk."""
    table = db.metadata.tables[table_name]
    names = [column.name for column in table.columns if column.name in rows[0]]
    processors = [(index, processor) for index, name in enumerate(names)
                  if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))]
    values = [list(line) for line in map(itemgetter(*names), rows)]
    for line in values:
        for index, processor in processors:
            line[index] = processor(line[index])
    return names, values


def prepare(chunk: Chunk, start: State, dialect: Dialect) -> Prepared:
    """The chunk made from `start`, ready for `ChunkWriter.write` (no database access: any process can do it)."""
    tables = [(table, *_values(dialect, table, chunk.rows[table])) for table in INSERT_ORDER if chunk.rows.get(table)]
    counts = {table: len(rows) for table, rows in chunk.rows.items()} | {"audit_event": len(chunk.events)}
    return Prepared(start, chunk.state(), tables, chunk.events, counts)


def _insert(connection: Connection, table_name: str, names: list[str], values: list[list]) -> None:
    """COPY on PostgreSQL, one executemany of plain values on SQLite, with the driver's own cursor."""
    quote = connection.dialect.identifier_preparer.quote
    columns = f"{quote(table_name)} ({', '.join(quote(name) for name in names)})"
    with closing(connection.connection.cursor()) as cursor:
        if connection.dialect.name == "postgresql":
            with cursor.copy(f"COPY {columns} FROM STDIN") as copy:
                for line in values:
                    copy.write_row(line)
        else:
            table = db.metadata.tables[table_name]
            statement = insert(table).compile(dialect=connection.dialect, column_keys=names)
            if list(statement.positiontup) != names:  # `_values` lists the columns in the table's order too
                raise ValueError(f"{table_name}: the insert's parameters are not in the values' order")
            cursor.executemany(str(statement), values)


class ChunkWriter:
    """Opens each chunk's transaction (locks, current state) and writes a prepared chunk in it."""

    def __init__(self, commit_each: bool = True):
        self.commit_each = commit_each  # False: the caller commits the whole run at once (`run.generate`, in_one)
        self.postgresql = db.engine.dialect.name == "postgresql"
        self.sequences: dict[str, str] = {}
        self.before = State({}, {})

    def begin(self) -> State:
        """Start a transaction, lock, and return where the tables stand: a chunk made from it can be written."""
        connection = db.session.connection()
        if not self.postgresql:  # the indexes of a big database stay in memory while rows go in at random places
            connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        else:
            connection.exec_driver_sql(f"LOCK TABLE {', '.join(INSERT_ORDER + ('case_number_counter',))} "
                                       "IN SHARE ROW EXCLUSIVE MODE")
            # the commit need not wait for the disk: a crash can lose the last chunks, never break the database
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
        lock_writers(db.session)
        counters = {(commune, year): value for commune, year, value in connection.execute(select(
            CaseNumberCounter.commune_code, CaseNumberCounter.year, CaseNumberCounter.last_value))}
        self.before = State({table: self._next_id(connection, table) for table in ID_TABLES}, counters)
        return self.before

    def _next_id(self, connection: Connection, table: str) -> int:
        top = connection.execute(select(func.max(db.metadata.tables[table].c.id))).scalar() or 0
        if self.postgresql:
            if table not in self.sequences:
                self.sequences[table] = connection.execute(text("SELECT pg_get_serial_sequence(:table, 'id')"),
                                                           {"table": table}).scalar_one()
            schema, _, name = self.sequences[table].rpartition(".")
            sequence = sql_table(name.strip('"'), column("last_value"), column("is_called"),
                                 schema=schema.strip('"') or None)
            last, called = connection.execute(select(sequence.c.last_value, sequence.c.is_called)).one()
            top = max(top, last if called else last - 1)
        return top + 1

    def write(self, prepared: Prepared) -> None:
        """Insert a chunk made from the state `begin` returned, chain its audit events, move the counters and
        sequences on, and commit (unless the whole run is one transaction)."""
        if prepared.start != self.before:
            raise ValueError("the chunk was made from another state of the tables")
        connection = db.session.connection()
        for table, names, values in prepared.tables:
            _insert(connection, table, names, values)
        self._write_audit(connection, prepared.events)
        for (commune, year), value in prepared.end.counters.items():
            before = self.before.counters.get((commune, year))
            if before is None:
                connection.execute(insert(CaseNumberCounter), {"commune_code": commune, "year": year,
                                                               "last_value": value})
            elif value != before:
                connection.execute(update(CaseNumberCounter).where(
                    CaseNumberCounter.commune_code == commune, CaseNumberCounter.year == year).values(last_value=value))
        if self.postgresql:
            for table, next_id in prepared.end.next_ids.items():
                if next_id != self.before.next_ids[table]:
                    connection.execute(text("SELECT setval(:sequence, :value)"),
                                       {"sequence": self.sequences[table], "value": next_id - 1})
        if self.commit_each:
            db.session.commit()

    def _write_audit(self, connection: Connection, events: list[tuple]) -> None:
        """The events in time order after the newest one, each hash chained to the one before
        (`audit.service.record`); the audit writers' lock is held since `begin`."""
        if not events:
            return
        previous, next_id = last_hash(db.session), self._next_id(connection, "audit_event")
        rows = []
        for event_id, event in enumerate(sorted(events, key=lambda event: event[:2]), start=next_id):
            content = AuditContent(event[0], *event[2:7], None, event[7])
            digest = compute_hash(previous, content)
            rows.append({"id": event_id, **content._asdict(), "prev_hash": previous, "hash": digest})
            previous = digest
        _insert(connection, "audit_event", *_values(connection.dialect, "audit_event", rows))
        if self.postgresql:
            connection.execute(text("SELECT setval(:sequence, :value)"),
                               {"sequence": self.sequences["audit_event"], "value": next_id + len(rows) - 1})
