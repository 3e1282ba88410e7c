"""Backup and restore (requirement 23): a restored copy has every table's row count and a verifying audit chain.

Each test backs up the suite's database and restores into an empty one (SQLite: a new file; PostgreSQL: a second
database, created for the session and emptied before each test), through `flask caseapp backup` and
`flask caseapp restore`.
"""
import base64
import os
import shutil
import stat
import tarfile
import threading
from dataclasses import replace
from datetime import date
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import make_url, select, text
from sqlalchemy.exc import DBAPIError

from caseapp import create_app
from caseapp.audit.chain import verify_chain
from caseapp.audit.models import AuditEvent
from caseapp.audit.service import record
from caseapp.auth.models import User
from caseapp.beneficiaries.services import register_beneficiary
from caseapp.cases.models import CaseNote
from caseapp.cases.notes import add_note
from caseapp.extensions import db
from caseapp.maintenance import postgres_store, sqlite_store
from caseapp.maintenance.archive import MANIFEST_MEMBER, read_archive, write_archive
from caseapp.maintenance.manifest import Manifest, read_snapshot
from tests.conftest import BACKEND, create_database, drop_database, reset_database, valid_registration
from tests.unit.test_referrals import build_referral_world, drive, make_referral

PROTECTION_NOTE = "Threatened by the people who brought him"
MAX_CONCURRENT_EVENTS = 300


def _cli_app(url: str, instance: Path, **config):
    return create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(instance), **config})


def _invoke(application, *args: str):
    return application.test_cli_runner().invoke(args=["caseapp", *args])


def _snapshot(application):
    with application.app_context(), db.engine.connect() as connection:
        return read_snapshot(connection)


def _objects(application) -> list[str]:
    store = postgres_store if BACKEND == "postgresql" else sqlite_store
    with application.app_context(), db.engine.connect() as connection:
        return store.objects(connection)


@pytest.fixture
def source_app(app, database_url, tmp_path):
    """A command-line app on the suite's database."""
    application = _cli_app(database_url, tmp_path / "source")
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def source(source_app, app, world, register):
    """The command-line app on the suite's database, filled with people, cases, a completed referral and notes."""
    register("caseworker_a", given_name="Amina", family_name="Tazi", given_name_alt="أمينة", family_name_alt="التازي",
             sex="F", date_of_birth=date(1985, 2, 3), phone="+212 600 000 001")
    register("caseworker_b", service_point="B-BEM", given_name="Youssef", family_name="Bennani",
             given_name_alt="يوسف", family_name_alt="بناني", commune_code="BEM", phone="+212 600 000 002")
    with app.app_context():
        referrals = build_referral_world(world)
        drive(referrals, make_referral(referrals), "submit", "approve", "accept", "start", "complete")
        add_note(referrals.user("caseworker_a"), referrals.case, kind="general", body="Home visit",
                 occurred_on=date.today())
        add_note(referrals.user("caseworker_restricted"), referrals.case, kind="protection", body=PROTECTION_NOTE,
                 occurred_on=date.today())
        db.session.commit()
    return source_app


@pytest.fixture(scope="session")
def postgres_restore_url(database_url):
    """PostgreSQL: a second database that restores go into, created for the session and dropped at its end."""
    if BACKEND != "postgresql":
        yield None
        return
    parsed = make_url(database_url)
    url = parsed.set(database=f"{parsed.database}_restore").render_as_string(hide_password=False)
    create_database(url, if_missing=True)
    yield url
    drop_database(url)


@pytest.fixture
def target(postgres_restore_url, tmp_path):
    """A command-line app on an empty database of the suite's backend (SQLite: a new file)."""
    url = postgres_restore_url or f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    reset_database(url)  # PostgreSQL: whatever the previous test restored goes
    application = _cli_app(url, tmp_path / "target")
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def backup_file(source, tmp_path) -> Path:
    path = tmp_path / "caseapp.backup"
    result = _invoke(source, "backup", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path


def test_backup_then_restore_gives_identical_row_counts_and_a_verified_chain(source, target, tmp_path):
    before = _snapshot(source)
    assert min(before.row_counts[name] for name in ("beneficiary", "case_file", "referral", "referral_event",
                                                    "case_note", "consent_record", "audit_event")) > 0
    path = tmp_path / "caseapp.backup"

    backup = _invoke(source, "backup", "--output", str(path))

    assert backup.exit_code == 0, backup.output
    assert "encryption keys are NOT in the backup" in backup.output
    assert "encrypted values sealed with key ids: t1\n" in backup.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with tarfile.open(path) as archive:
        manifest = Manifest.from_json(archive.extractfile(MANIFEST_MEMBER).read())
    assert manifest.snapshot == before  # counted in the state that was copied
    with source.app_context():  # the live database records the backup
        assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() \
            == "maintenance.backup"

    restore = _invoke(target, "restore", str(path))

    assert restore.exit_code == 0, restore.output
    assert f"row counts identical to the backup in all {len(before.row_counts)} tables" in restore.output
    after = _snapshot(target)
    assert after.row_counts == {**before.row_counts, "audit_event": before.row_counts["audit_event"] + 1}
    with target.app_context():
        chain = verify_chain(db.session)
        assert chain.ok and chain.events == before.row_counts["audit_event"] + 1, chain.broken
        assert db.session.get(AuditEvent, chain.last_id).action == "maintenance.restore"
        notes = db.session.scalars(select(CaseNote).where(CaseNote.kind == "protection")).all()
        assert [note.body for note in notes] == [PROTECTION_NOTE]  # sealed values open with the same keys
        db.session.rollback()
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_event"))
        worker = db.session.scalars(select(User).where(User.username == "caseworker.a")).one()
        person, case = register_beneficiary(worker, valid_registration(worker.service_points[0].id,
                                                                       given_name="Karim", phone="+212 600 000 009"))
        db.session.commit()  # the sequences (PostgreSQL) carry on after the restored ids
        assert verify_chain(db.session).ok
    counts = _snapshot(target).row_counts
    assert counts["beneficiary"] == before.row_counts["beneficiary"] + 1

    again = _invoke(target, "restore", str(path))

    assert again.exit_code == 1 and "the target database is not empty" in again.output
    assert _snapshot(target).row_counts == counts


def test_restore_refuses_a_database_with_tables_even_without_rows(backup_file, target):
    with target.app_context():
        flask_migrate.upgrade()  # the schema, and no row but alembic_version's and the reference stamp's
    objects = _objects(target)

    refused = _invoke(target, "restore", str(backup_file))

    assert refused.exit_code == 1
    assert "the target database is not empty" in refused.output
    assert "restore only into an empty database" in refused.output
    assert _objects(target) == objects and _snapshot(target).rows == 2  # untouched


def _truncate(path: Path, _folder: Path) -> None:
    with path.open("r+b") as stream:
        stream.truncate(path.stat().st_size * 2 // 3)


def _flip_a_byte(path: Path, _folder: Path) -> None:
    with path.open("r+b") as stream:
        stream.seek(path.stat().st_size // 2)
        byte = stream.read(1)
        stream.seek(-1, os.SEEK_CUR)
        stream.write(bytes([byte[0] ^ 0xFF]))


def _forge(path: Path, folder: Path, change) -> None:
    """Replace the backup's manifest by `change(manifest)`; the database copy stays intact."""
    folder.mkdir()
    manifest, database_file = read_archive(path, folder)
    path.unlink()
    write_archive(path, change(manifest), database_file)


def _forge_one_case_more(path: Path, folder: Path) -> None:
    def change(manifest: Manifest) -> Manifest:
        counts = {**manifest.snapshot.row_counts, "case_file": manifest.snapshot.row_counts["case_file"] + 1}
        return replace(manifest, snapshot=replace(manifest.snapshot, row_counts=counts))

    _forge(path, folder, change)


OTHER_BACKEND = "sqlite" if BACKEND == "postgresql" else "postgresql"


def _forge_other_backend(path: Path, folder: Path) -> None:
    _forge(path, folder, lambda manifest: replace(manifest, backend=OTHER_BACKEND))


# name → (what is done to a copy of the backup file, what the refusal says)
SPOILED_BACKUPS = {
    "truncated": (_truncate, ["is not a complete caseapp backup (truncated or damaged?)"]),
    "one byte changed": (_flip_a_byte, ["the database copy in the backup is damaged"]),
    "counts that differ from the copy": (_forge_one_case_more, [
        "the restored database does not match the backup", "table case_file has", "the target database is empty again"]),
    "another kind of database": (_forge_other_backend, [f"this is a backup of a {OTHER_BACKEND} database"]),
}


def test_a_damaged_or_mismatched_backup_is_refused_and_leaves_the_target_empty(backup_file, target, tmp_path,
                                                                                  subtests):
    for number, (name, (spoil, messages)) in enumerate(SPOILED_BACKUPS.items()):
        with subtests.test(name):
            spoiled = tmp_path / f"spoiled-{number}.backup"
            shutil.copyfile(backup_file, spoiled)
            spoil(spoiled, tmp_path / f"unpacked-{number}")

            refused = _invoke(target, "restore", str(spoiled))

            assert refused.exit_code == 1
            assert all(message in refused.output for message in messages), refused.output
            assert _objects(target) == []


def test_backup_never_overwrites_a_file(source_app, tmp_path):
    path = tmp_path / "existing.backup"
    path.write_text("keep me")

    refused = _invoke(source_app, "backup", "--output", str(path))

    assert refused.exit_code == 1 and "already exists" in refused.output
    assert path.read_text() == "keep me"


def test_a_backup_taken_while_events_are_written_matches_its_manifest(source_app, world, target, tmp_path):
    first_written, stop, failures = threading.Event(), threading.Event(), []

    def write_events():
        with source_app.app_context():
            try:
                for _ in range(MAX_CONCURRENT_EVENTS):
                    record(None, "test.concurrent_write")
                    db.session.commit()
                    first_written.set()
                    if stop.is_set():
                        return
            except Exception as error:  # reported below: a thread's exception would go unseen
                failures.append(error)
                first_written.set()

    writer = threading.Thread(target=write_events)
    writer.start()
    try:
        first_written.wait()
        backup = _invoke(source_app, "backup", "--output", str(tmp_path / "busy.backup"))
    finally:
        stop.set()
        writer.join()
    assert not failures and backup.exit_code == 0, (failures, backup.output)

    restore = _invoke(target, "restore", str(tmp_path / "busy.backup"))

    assert restore.exit_code == 0, restore.output  # counts equal the manifest's, chain verifies, head matches
    with source_app.app_context():
        assert verify_chain(db.session).ok


def test_restore_warns_when_the_keys_that_sealed_the_values_are_not_configured(source_app, world, target, tmp_path):
    assert _invoke(source_app, "backup", "--output", str(tmp_path / "world.backup")).exit_code == 0
    other_keys = _cli_app(target.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other-keys",
                          ENCRYPTION_KEYS="t2:" + base64.b64encode(bytes(range(32))).decode())
    try:
        restore = _invoke(other_keys, "restore", str(tmp_path / "world.backup"))
    finally:
        with other_keys.app_context():
            db.engine.dispose()

    assert restore.exit_code == 0, restore.output
    assert "WARNING: values sealed with key ids t1 cannot be opened" in restore.output


def test_the_database_password_is_never_on_the_command_line(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "from-the-caller")  # not handed on: the URL's password is the one used
    url = make_url("postgresql+psycopg://caseapp:pa:ss\\word@db.internal:5433/caseapp?sslmode=require")
    with postgres_store.libpq_connection(url) as (conninfo, environment):
        passfile = Path(environment["PGPASSFILE"])
        assert "pa:ss" not in conninfo and "PGPASSWORD" not in environment
        assert {"host=db.internal", "port=5433", "dbname=caseapp", "user=caseapp", "sslmode=require"} \
            <= set(conninfo.split())
        assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
        assert stat.S_IMODE(passfile.parent.stat().st_mode) == 0o700
        assert passfile.read_text() == "*:*:*:*:pa\\:ss\\\\word\n"
    assert not passfile.exists()
