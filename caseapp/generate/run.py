"""Generating N people with two years of history into the current database, chunk by chunk."""
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select, text

from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases import tally as case_tally
from caseapp.referrals import tally as referral_tally
from caseapp.extensions import db
from caseapp.generate import pipeline
from caseapp.generate.bulk import drop_secondary_indexes, make_again
from caseapp.generate.casework import CaseWork
from caseapp.generate.people import register
from caseapp.generate.plan import PersonPlan, make_plan
from caseapp.generate.records import Chunk, State
from caseapp.generate.setting import Setting, load_setting
from caseapp.generate.writer import INSERT_ORDER, ChunkWriter, Prepared, prepare
from caseapp.models_base import utcnow
from caseapp.security.encryption import keyring

CHUNK_SIZE = 2000
BULK_TABLES = INSERT_ORDER + ("audit_event",)  # the tables a run writes (the counters' table: a few rows)


class GenerateError(Exception):
    """The database cannot take generated people (no service point with staff)."""


def person_rng(seed: int, index: int) -> random.Random:
    """The random source of one person of a run: the same seed and index give the same person."""
    return random.Random(f"{seed}:{index}")


def make_chunk(setting: Setting, seed: int, end: datetime, plans: Sequence[PersonPlan], state: State) -> Prepared:
    """The rows of these people's histories, with ids and case numbers following `state` (no database access)."""
    chunk = Chunk(state, keyring(), setting.timezone)
    for plan in plans:
        rng = person_rng(seed, plan.index)
        registered = register(chunk, setting, setting.points[plan.point], rng, end - timedelta(days=plan.age_days))
        CaseWork(chunk, setting, registered, rng, end).run(plan)
    return prepare(chunk, state, db.engine.dialect)


def generate(count: int, seed: int, end: datetime | None = None, progress: Callable[[int], None] | None = None,
             chunk_size: int = CHUNK_SIZE, in_one: bool = False) -> Counter:
    """Register `count` people over the two years before `end` (default: now) at the active service points, with
    their case work, referrals and audit events; commits each chunk (or the run, `in_one`). Returns the rows
    written per table.

    With more than one chunk, a second process makes the chunks ahead while this one writes. `in_one` (for an
    empty database): the whole run is one transaction, with the written tables' secondary indexes and foreign keys
    dropped first and made again at the end (`generate.bulk`); the tables stay locked until it ends. A person
    registered meanwhile (seen once the tables are locked) makes it write chunk by chunk instead.
    """
    setting = load_setting()
    if not setting.points:
        raise GenerateError("No active service point has a caseworker or a supervisor to register people.")
    plans = make_plan(count, seed, len(setting.points), with_referrals=bool(setting.directory))
    make = partial(make_chunk, setting, seed, end or utcnow())
    slices = [plans[start:start + chunk_size] for start in range(0, count, chunk_size)]
    writer, written = ChunkWriter(commit_each=not in_one), Counter()
    ahead = None
    try:
        if in_one:
            writer.begin()  # the tables locked (SQLite: the write lock), then checked still empty
            if db.session.scalar(select(Beneficiary.id).limit(1)) is not None:  # someone registered meanwhile
                in_one, writer.commit_each = False, True  # chunk by chunk, as on any database with people
                db.session.rollback()
            else:
                deferred = drop_secondary_indexes(db.session.connection(), BULK_TABLES)
        if len(slices) > 1 and pipeline.available():
            start = writer.begin()
            if not in_one:
                db.session.rollback()  # only the state was read: each chunk's own transaction locks
            ahead = pipeline.Ahead(make, slices, start)
        for plans_of_chunk in slices:
            prepared = ahead.next() if ahead else None
            state = writer.begin()
            if prepared is None or prepared.start != state:  # made here, or again: someone else wrote meanwhile
                if ahead:
                    ahead.stop()
                    ahead = None
                prepared = make(plans_of_chunk, state)
            writer.write(prepared)
            written.update(prepared.counts)
            if progress:
                progress(len(plans_of_chunk))
        if in_one:
            make_again(db.session.connection(), deferred)
            db.session.commit()
    finally:
        db.session.rollback()
        if ahead:
            ahead.stop()
    with db.engine.begin() as connection:  # one tally row per key again, instead of one per row written
        case_tally.fold(connection)
        referral_tally.fold(connection)
    if count >= ANALYZE_FROM:
        _analyze()
    return written


ANALYZE_FROM = 1000  # people: below, the databases' own statistics upkeep is enough


def _analyze() -> None:
    """Refresh the query planner's statistics after the bulk inserts (SQLite: sampled, so it stays quick)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("PRAGMA analysis_limit = 1000"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
