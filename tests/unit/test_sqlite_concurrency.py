"""SQLite settings: WAL, foreign keys, busy timeout, and concurrent writers never see 'database is locked'."""
import threading

from sqlalchemy import text

from caseapp import create_app
from caseapp.extensions import db


def _sqlite_app(tmp_path):
    import flask_migrate

    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite3'}"})
    with app.app_context():
        flask_migrate.upgrade()
    return app


def test_pragmas(tmp_path):
    app = _sqlite_app(tmp_path)
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        db.engine.dispose()


def test_two_writer_threads_read_then_write_without_lock_errors(tmp_path):
    """Each thread reads the counter then writes it back; BEGIN IMMEDIATE serialises them, so none is lost."""
    from caseapp.places.loader import load_reference_data

    app = _sqlite_app(tmp_path)
    with app.app_context():
        load_reference_data()
        db.session.commit()
    errors: list[Exception] = []
    rounds = 40

    def writer():
        from caseapp.cases.services import next_case_number

        for _ in range(rounds):
            try:
                with app.app_context():
                    db.session.execute(text("SELECT count(*) FROM case_number_counter")).scalar()
                    next_case_number("OUJ", 2026)
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        last = db.session.execute(text("SELECT last_value FROM case_number_counter")).scalar()
        db.engine.dispose()
    assert last == 2 * rounds
