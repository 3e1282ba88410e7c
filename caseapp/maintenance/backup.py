"""Backing up the whole database into one file, and restoring it into an empty database, checked against its manifest.

A backup is consistent while the app serves requests (SQLite online backup API, or pg_dump on an exported
snapshot) and its manifest holds the row counts of every table and the audit chain head, read from that same
state. A restore goes only into an empty database, checks the file's checksum before touching the target, loads
it all at once, then checks every table's row count and the audit chain against the manifest; a copy that fails
is removed again, so the target is never left half-restored. The encryption keys are never in a backup.
"""
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from sqlalchemy.engine import Engine

from caseapp.audit.chain import verify_chain
from caseapp.audit.service import record
from caseapp.extensions import db
from caseapp.maintenance import postgres_store, sqlite_store
from caseapp.maintenance.archive import read_archive, write_archive
from caseapp.maintenance.manifest import BackupError, Manifest, read_snapshot
from caseapp.security.encryption import keyring
from caseapp.security.keys import key_ids_in_use

STORES = {store.NAME: store for store in (sqlite_store, postgres_store)}
SHOWN_OBJECTS = 5


def _store(engine: Engine) -> ModuleType:
    try:
        return STORES[engine.dialect.name]
    except KeyError:
        raise BackupError(f"backups of {engine.dialect.name} databases are not supported") from None


def _sealing_key_ids() -> set[str]:
    """The key ids that sealed the stored encrypted values."""
    return {key_id for counts in key_ids_in_use().values() for key_id in counts}


def backup_database(output: Path, actor=None) -> Manifest:
    """Write a backup of the app's database to `output` (mode 0600, must not exist yet); audited, not committed."""
    if output.exists():
        raise BackupError(f"{output} already exists: choose a new file name")
    if not output.parent.is_dir():
        raise BackupError(f"the folder {output.parent} does not exist")
    engine = db.engine
    store = _store(engine)
    key_ids = sorted(_sealing_key_ids())
    db.session.rollback()  # ends that read (on SQLite its transaction holds the write lock)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".caseapp-backup-") as workdir:
        database_file, snapshot = store.dump(engine, Path(workdir))
        manifest = Manifest.describe(store.NAME, database_file, snapshot, key_ids)
        write_archive(output, manifest, database_file)
    record(actor, "maintenance.backup", None, sha256=manifest.sha256, tables=len(snapshot.row_counts),
           rows=snapshot.rows, audit_last_id=snapshot.audit_last_id)
    return manifest


@dataclass(frozen=True)
class RestoreReport:
    """What was restored and checked, the audit event that records it, and the key ids the app lacks."""

    manifest: Manifest
    audit_events: int
    restore_event_id: int
    missing_key_ids: list[str]


def _check_empty(engine: Engine, store: ModuleType) -> None:
    with engine.connect() as connection:
        found = store.objects(connection)
    if found:
        shown = ", ".join(found[:SHOWN_OBJECTS]) + (", ..." if len(found) > SHOWN_OBJECTS else "")
        raise BackupError(f"the target database is not empty ({len(found)} objects: {shown}); "
                          "restore only into an empty database")


def _verify(engine: Engine, manifest: Manifest) -> int:
    """Compare the restored database with the manifest and walk its audit chain; returns the events checked."""
    with engine.connect() as connection:
        problems = manifest.snapshot.differences(read_snapshot(connection))
    chain = verify_chain(db.session)
    if not chain.ok:
        problems.append(f"audit chain broken at event {chain.broken.event_id}: {chain.broken.problem}")
    if problems:
        raise BackupError("the restored database does not match the backup:\n  " + "\n  ".join(problems))
    return chain.events


def restore_database(backup_file: Path, actor=None) -> RestoreReport:
    """Restore `backup_file` into the app's database, which must be empty, and check it; audited, not committed.

    BackupError, with the target left empty, when the target is not empty, the file is damaged or of another
    database kind, or the restored copy differs from the manifest.
    """
    engine = db.engine
    store = _store(engine)
    _check_empty(engine, store)
    with tempfile.TemporaryDirectory(prefix="caseapp-restore-") as workdir:
        manifest, database_file = read_archive(backup_file, Path(workdir))
        if manifest.backend != store.NAME:
            raise BackupError(f"this is a backup of a {manifest.backend} database; the target is {store.NAME}")
        store.load(engine, database_file)
    try:
        events = _verify(engine, manifest)
    except Exception as error:
        db.session.close()
        store.wipe(engine)
        if isinstance(error, BackupError):
            raise BackupError(f"{error}\nThe restored copy was removed: the target database is empty again.") \
                from None
        raise
    missing = sorted(_sealing_key_ids() - keyring().encryption_keys.keys())
    event = record(actor, "maintenance.restore", None, backup_created_at=manifest.created_at, sha256=manifest.sha256,
                   tables=len(manifest.snapshot.row_counts), rows=manifest.snapshot.rows, audit_events=events)
    return RestoreReport(manifest, events, event.id, missing)
