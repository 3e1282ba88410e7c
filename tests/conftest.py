"""Fixtures: the app on a real database (SQLite, or PostgreSQL when asked), clean tables, users per role."""
import base64
import hashlib
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

import flask_migrate
import pyotp
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from caseapp import create_app
from caseapp.extensions import db

PASSWORD = "correct horse battery staple"
BACKEND = os.environ.get("CASEAPP_TEST_BACKEND", "sqlite")


@contextmanager
def postgres_maintenance(url: str):
    """An autocommit connection to the server's `postgres` database, as the test role (which has CREATEDB)."""
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def create_database(url: str, if_missing: bool = False) -> None:
    """Create the PostgreSQL database named in `url` (owned by the test role)."""
    name = make_url(url).database
    with postgres_maintenance(url) as connection:
        if if_missing and connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                             {"name": name}).first():
            return
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database named in `url` (fails while the test still has a connection open to it)."""
    with postgres_maintenance(url) as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}"')


def _database_url(tmp_path_factory) -> str:
    """SQLite: a file in this process's temporary folder (one per xdist worker). PostgreSQL: TEST_DATABASE_URL, or
    under pytest-xdist its database name suffixed with the worker id (`caseapp_test_gw0`), created when missing."""
    if BACKEND == "postgresql":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            raise RuntimeError("CASEAPP_TEST_BACKEND=postgresql needs TEST_DATABASE_URL")
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            parsed = make_url(url)
            url = parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)
            create_database(url, if_missing=True)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def reset_database(url: str) -> None:
    """Drop everything in the test database so migrations start from empty."""
    if not url.startswith("postgresql"):
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return _database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url):
    reset_database(database_url)
    application = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url})
    with application.app_context():
        flask_migrate.upgrade()
        _without_autovacuum()
    yield application
    with application.app_context():
        db.engine.dispose()


def _without_autovacuum() -> None:
    """PostgreSQL: autovacuum never analyses the test tables, so no statistics gathered mid-run from whatever an
    earlier test left steer the plans later tests judge (tests/unit/test_indexes.py); every test plans from
    never-analysed tables, as on a fresh database."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            connection.exec_driver_sql(f'ALTER TABLE "{table.name}" SET (autovacuum_enabled = false)')


@contextmanager
def audit_triggers_suspended(connection):
    """Test-only: inside this block (and the caller's transaction) audit_event rows can be changed and deleted.

    PostgreSQL: the test role owns the table but is no superuser (`SET session_replication_role` is refused), so
    the append-only triggers are disabled then enabled again (ALTER TABLE is transactional and keeps the
    migration's triggers). SQLite has no way to disable a trigger: they are dropped, then created again with the
    migration's own DDL (caseapp.audit.triggers). Either way another connection never sees the table unprotected.
    """
    from caseapp.audit import triggers

    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
    else:
        for statement in triggers.drop_statements(dialect):
            connection.exec_driver_sql(statement)
    yield
    if dialect == "postgresql":
        connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
    else:
        for statement in triggers.create_statements(dialect):
            connection.exec_driver_sql(statement)


def _delete_all_rows(app) -> None:
    with app.app_context():
        # the reference stamp's one row is the migration's, like the schema: kept (the deletes renew its stamp)
        tables = [table for table in reversed(db.metadata.sorted_tables) if table.name != "reference_stamp"]
        with db.engine.begin() as connection, audit_triggers_suspended(connection):
            if db.engine.dialect.name == "postgresql":
                names = ", ".join(f'"{table.name}"' for table in tables)
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    connection.execute(table.delete())
                for tally in ("case_tally", "referral_tally"):  # what deleting the rows appended, in any order
                    connection.execute(text(f"DELETE FROM {tally}"))


@pytest.fixture(autouse=True)
def clean_tables(app):
    yield
    _delete_all_rows(app)


@pytest.fixture
def app_ctx(app):
    """An application context for service tests (no HTTP)."""
    with app.app_context():
        yield
        db.session.rollback()


@dataclass
class World:
    """Two partners, three service points, and one user per role (ids and usernames only)."""

    users: dict[str, int] = field(default_factory=dict)
    service_points: dict[str, int] = field(default_factory=dict)
    partners: dict[str, int] = field(default_factory=dict)

    def username(self, key: str) -> str:
        return key.replace("_", ".")


# key → (role, partner, service points, restricted access)
USERS = {
    "caseworker_a": ("caseworker", "A", ("A-OUJ",), False),
    "caseworker_a2": ("caseworker", "A", ("A-NAD",), False),
    "caseworker_b": ("caseworker", "B", ("B-BEM",), False),
    "caseworker_restricted": ("caseworker", "A", ("A-OUJ",), True),
    "supervisor_a": ("supervisor", "A", ("A-OUJ", "A-NAD"), True),
    "supervisor_b": ("supervisor", "B", ("B-BEM",), False),
    "receiver": ("referral_receiver", "C", (), False),
    "me_officer": ("me_officer", "A", (), False),
    "dpo": ("dpo", "A", (), False),
    "admin": ("admin", "A", (), False),
}

# Which of the world's service points each user's scope covers (their cases, people and service points).
EXPECTED_SCOPE = {
    "caseworker_a": {"A-OUJ"},
    "caseworker_restricted": {"A-OUJ"},
    "caseworker_a2": {"A-NAD"},
    "caseworker_b": {"B-BEM"},
    "supervisor_a": {"A-OUJ", "A-NAD"},
    "supervisor_b": {"B-BEM"},
    "receiver": set(),
    "me_officer": set(),
    "dpo": set(),
    "admin": set(),
}
NON_CASE_USERS = tuple(key for key, points in EXPECTED_SCOPE.items() if not points)


@pytest.fixture
def world(app) -> World:
    """Reference data, partners A (two service points), B (one) and C (none), and USERS."""
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner
    from caseapp.places.loader import load_reference_data
    from caseapp.places.models import ServicePoint

    result = World()
    with app.app_context():
        load_reference_data()
        partners = {code: Partner(code=code, name=f"Partner {code}", kind="association") for code in "ABC"}
        db.session.add_all(partners.values())
        db.session.flush()
        points = {}
        for code, partner, commune in (("A-OUJ", "A", "OUJ"), ("A-NAD", "A", "NAD"), ("B-BEM", "B", "BEM")):
            points[code] = ServicePoint(code=code, name=f"Point {code}", commune_code=commune,
                                        partner_id=partners[partner].id)
        db.session.add_all(points.values())
        db.session.flush()
        for key, (role, partner, codes, restricted) in USERS.items():
            user = create_user(None, username=result.username(key), full_name=key.replace("_", " ").title(),
                               password=PASSWORD, role=role, partner=partners[partner],
                               service_points=[points[c] for c in codes], restricted_access=restricted)
            if role in app.config["MFA_REQUIRED_ROLES"]:
                give_second_factor(user)
            result.users[key] = user.id
        result.partners = {code: partner.id for code, partner in partners.items()}
        result.service_points = {code: point.id for code, point in points.items()}
        db.session.commit()
    return result


def valid_registration(service_point_id: int, **overrides):
    """A registration that passes every rule; override fields to test one rule at a time."""
    from caseapp.beneficiaries.services import RegistrationData

    values = dict(
        service_point_id=service_point_id, given_name="Mohamed", family_name="El Amrani",
        given_name_alt="محمد", family_name_alt="العمراني", sex="M", nationality="MAR", profile="returnee",
        country_returned_from="LBY", commune_code="OUJ", date_of_birth=date(1990, 5, 17),
        phone="+212 612 345 678", languages=["ar", "fr"], processing_basis="signed_form",
        statistics_consent=True,
    )
    values.update(overrides)
    return RegistrationData(**values)


@pytest.fixture
def register(app, world):
    """register(user_key, **overrides) → (beneficiary id, case number), committed through the service."""
    from caseapp.auth.models import User
    from caseapp.beneficiaries.services import register_beneficiary

    def _register(user_key: str = "caseworker_a", service_point: str = "A-OUJ", **overrides):
        with app.app_context():
            actor = db.session.get(User, world.users[user_key])
            person, case = register_beneficiary(actor, valid_registration(world.service_points[service_point],
                                                                          **overrides))
            db.session.commit()
            return person.id, case.number

    return _register


CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page hands out to this client."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def totp_secret_of(username: str) -> str:
    """The authenticator secret the `world` fixture gives a user who needs a second factor."""
    return base64.b32encode(hashlib.sha256(username.encode()).digest()[:20]).decode()


def give_second_factor(user) -> None:
    """Turn the second factor on for `user` as enrolment would, with the known secret of `totp_secret_of`."""
    user.totp_secret = totp_secret_of(user.username)
    user.mfa_enabled_at = datetime.now(timezone.utc)


def current_totp_code(app, username: str) -> str:
    """A valid code for `username` now, after clearing the replay guard so one test can log in several times.

    The refusal of a replayed code has its own tests (tests/http/test_mfa.py), which do not use this helper.
    """
    from sqlalchemy import update

    from caseapp.auth.models import User

    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(totp_last_step=None))
        db.session.commit()
    return pyotp.TOTP(totp_secret_of(username)).now()


def login(client, username: str, password: str = PASSWORD):
    """Log in through the real forms (password, then the authenticator code when asked); returns the last response."""
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login/code":
        token = csrf_token(client, "/login/code")
        response = client.post("/login/code", data={"code": current_totp_code(client.application, username),
                                                            "csrf_token": token})
    return response


@pytest.fixture
def login_as(app, world):
    """login_as(user_key) → a test client logged in as that user."""

    def _login_as(key: str):
        client = app.test_client()
        response = login(client, world.username(key))
        assert response.status_code == 302, f"login as {key} failed"
        return client

    return _login_as


def pytest_sessionfinish(session, exitstatus):
    """In CI (CI=true) a skipped or xfailed test fails the run: a skip hides a missing feature or install."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    hidden = [report.nodeid for kind in ("skipped", "xfailed") for report in (reporter.stats.get(kind, []) if reporter else [])]
    if hidden:
        print("\nCI=true: skipped or xfailed tests count as failures:\n  " + "\n  ".join(hidden))
        session.exitstatus = 1


class QueryCounter:
    """Counts SQL statements sent by the app's engine while active."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _on_execute(self, _conn, _cursor, statement, _params, _context, _many):
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
            self.statements.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """count_queries() → a context manager counting the SQL statements of the requests made inside it."""
    with app.app_context():
        engine = db.engine
    return lambda: QueryCounter(engine)
