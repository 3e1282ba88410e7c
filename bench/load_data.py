"""Database side of the load benchmark: fill or reuse a database of N people, bench passwords, sampled records."""
import os
import random
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from caseapp import create_app  # noqa: E402
from caseapp.auth.models import User  # noqa: E402
from caseapp.beneficiaries.models import Beneficiary  # noqa: E402
from caseapp.config import Config  # noqa: E402
from caseapp.extensions import db  # noqa: E402
from caseapp.security.encryption import new_key_file_text, read_key_file  # noqa: E402

FLASK = Path(sys.executable).parent / "flask"


@dataclass(frozen=True)
class BenchDatabase:
    """Where the people are, and what the app needs to open them (the key file sealed their encrypted fields)."""

    url: str
    key_file: Path
    instance: Path
    default_file: Path | None = None  # the SQLite file named after N, which the bench may delete and refill

    def keys(self) -> dict[str, str]:
        """ENCRYPTION_KEYS and BLIND_INDEX_KEY of this database."""
        return read_key_file(self.key_file)

    def command_environment(self) -> dict[str, str]:
        """Environment of the `flask` commands that fill the database (generate refuses a production setting)."""
        keys = self.keys()
        return {"CASEAPP_ENV": "demo", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": self.url,
                "CASEAPP_ENCRYPTION_KEYS": keys["ENCRYPTION_KEYS"], "CASEAPP_BLIND_INDEX_KEY": keys["BLIND_INDEX_KEY"],
                "CASEAPP_INSTANCE": str(self.instance)}

    def server_overrides(self, workers: int, threads: int) -> dict[str, str]:
        """What the app server of tests/live/servers.py changes for the benchmark: this database's keys, a fresh
        secret, argon2id at its production cost (the suite's is cheap), the workers and their threads."""
        keys = self.keys()
        return {"SECRET_KEY": secrets.token_hex(32), "CASEAPP_ENCRYPTION_KEYS": keys["ENCRYPTION_KEYS"],
                "CASEAPP_BLIND_INDEX_KEY": keys["BLIND_INDEX_KEY"], "ARGON2_TIME_COST": str(Config.ARGON2_TIME_COST),
                "ARGON2_MEMORY_COST": str(Config.ARGON2_MEMORY_COST),
                "ARGON2_PARALLELISM": str(Config.ARGON2_PARALLELISM),
                "CASEAPP_WORKERS": str(workers), "CASEAPP_THREADS": str(threads),
                # Every login of the benchmark comes from 127.0.0.1: the per-address limit (20 per 5 minutes)
                # would answer 429 within a second. The shared counter is still written at every attempt.
                "CASEAPP_LOGIN_RATE_LIMIT": "10000000/5min"}

    @contextmanager
    def app_context(self):
        """An app on the bench database in this process (for preparing it), closed afterwards."""
        app = create_app({"ENV_NAME": "production", "SECRET_KEY": secrets.token_hex(16),
                          "SQLALCHEMY_DATABASE_URI": self.url, "INSTANCE_PATH": str(self.instance), **self.keys()})
        with app.app_context():
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()


def bench_database(url: str | None, people: int, scratch: Path) -> BenchDatabase:
    """The database of the run: `url`, or an SQLite file in `scratch` named after N; its key file beside it."""
    default_file = None
    if url is None:
        default_file = scratch / f"bench-load-{people}.sqlite3"
        url = f"sqlite:///{default_file}"
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        key_file = Path(f"{parsed.database}.keys")
    else:
        key_file = scratch / f"bench-load-{parsed.get_backend_name()}-{parsed.host}-{parsed.database}.keys"
    instance = scratch / "bench-load-instance"
    instance.mkdir(exist_ok=True)
    return BenchDatabase(url, key_file, instance, default_file)


def _people(database: BenchDatabase) -> int | None:
    with database.app_context():
        if "beneficiary" not in inspect(db.engine).get_table_names():
            return None
        return db.session.scalar(select(func.count(Beneficiary.id)))


def _flask(environment: dict[str, str], *arguments: str) -> None:
    subprocess.run([str(FLASK), "--app", "wsgi", *arguments], cwd=ROOT, env={**os.environ, **environment},
                   check=True)


def _empty(database: BenchDatabase) -> None:
    """Remove what a database holds before filling it again (never the test suite's database)."""
    if database.default_file is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database.default_file}{suffix}").unlink(missing_ok=True)
        return
    with database.app_context():
        tables = inspect(db.engine).get_table_names()
        if not tables:
            return
        if db.engine.dialect.name != "postgresql" or db.engine.url.database == "caseapp_test":
            raise SystemExit(f"{db.engine.url.render_as_string(hide_password=True)} holds other data: "
                             "give an empty database or another --people")
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))


def prepare(database: BenchDatabase, people: int, seed: int, rebuild: bool) -> None:
    """Reuse the database when it holds `people` people (and its key file exists); otherwise fill it afresh."""
    if not database.key_file.exists():
        count = None  # sealed values would not open without the keys that sealed them
    else:
        count = _people(database)
    where = make_url(database.url).render_as_string(hide_password=True)
    if count == people and not rebuild:
        print(f"reusing {people:,} people in {where}")
        _flask(database.command_environment(), "db", "upgrade")  # at the code's schema, as a deployment would be
        return
    database.key_file.write_text(new_key_file_text(), encoding="utf-8")  # fresh keys for fresh data
    database.key_file.chmod(0o600)
    _empty(database)
    environment = database.command_environment()
    began = time.perf_counter()
    _flask(environment, "db", "upgrade")
    _flask(environment, "caseapp", "generate", "--people", str(people), "--seed", str(seed))
    print(f"filled {people:,} people in {where} in {time.perf_counter() - began:.0f} s")
    _vacuum(database)


def _vacuum(database: BenchDatabase) -> None:
    """PostgreSQL: VACUUM the fresh tables, as autovacuum has long done in a database that grew to this size.
    Otherwise the first rounds measure its first pass (the pages' hint bits and visibility map), not the pages:
    the case list's database time was 5.0 ms a request right after a fill, 1.1 ms after a VACUUM."""
    with database.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))


def set_passwords(usernames: list[str]) -> dict[str, str]:
    """Give the bench accounts fresh random passwords (argon2id with the production parameters)."""
    from caseapp.security.passwords import hash_password

    passwords = {}
    for username in usernames:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise SystemExit(f"the database has no account {username!r}")
        passwords[username] = secrets.token_urlsafe(16)
        user.password_hash = hash_password(passwords[username])
        user.must_change_password = False
        user.failed_logins, user.locked_until = 0, None
        user.totp_last_step = None  # a run started again within 30 s would otherwise present a used code
    db.session.commit()
    return passwords


def totp_secret(username: str) -> str | None:
    return db.session.scalar(select(User).where(User.username == username)).totp_secret


@dataclass(frozen=True)
class SampledCase:
    """A case the bench user may open, and what a worker would type to find it."""

    case_id: int
    number: str
    name: str
    phone: str | None


def sample_cases(username: str, count: int, seed: int) -> list[SampledCase]:
    """Up to `count` random cases in the user's scope, drawn by id (no full scan of a large table)."""
    from caseapp.access.policy import scope
    from caseapp.cases.models import Case

    user = db.session.scalar(select(User).where(User.username == username))
    rng = random.Random(seed)
    highest = db.session.scalar(select(func.max(Case.id))) or 0
    found: dict[int, SampledCase] = {}
    for _ in range(20):
        if len(found) >= count or not highest:
            break
        ids = sorted({rng.randint(1, highest) for _ in range(3 * count)})
        rows = db.session.execute(
            scope(user, select(Case.id, Case.number, Beneficiary), Case)
            .join(Beneficiary, Beneficiary.id == Case.beneficiary_id)
            .where(Case.id.in_(ids), Beneficiary.merged_into_id.is_(None))).all()
        for case_id, number, person in rows:
            found.setdefault(case_id, SampledCase(case_id, number, f"{person.given_name} {person.family_name}",
                                                  person.phone))
    if not found:
        raise SystemExit(f"{username} may see no case in this database")
    chosen = list(found.values())
    rng.shuffle(chosen)
    return chosen[:count]


def published_report(period: str, username: str) -> int:
    """The id of the latest published report of `period`, published now by `username` when there is none."""
    from flask import current_app

    from caseapp.reports.content import build_content, publish
    from caseapp.reports.models import PublishedReport

    report_id = db.session.scalar(select(PublishedReport.id).where(PublishedReport.period == period)
                                  .order_by(PublishedReport.version.desc()))
    if report_id is None:
        user = db.session.scalar(select(User).where(User.username == username))
        report_id = publish(user, build_content(period, current_app.config["REPORT_THRESHOLD"])).id
        db.session.commit()
    return report_id
