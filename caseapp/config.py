"""Settings read from the environment; no logic beyond reading them."""
import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def _deadlines(text: str) -> dict[str, int]:
    """'emergency:24,urgent:72,normal:336' → hours per referral priority."""
    return {name.strip(): int(hours) for name, hours in (item.split(":") for item in text.split(",") if item.strip())}


class Config:
    """Production defaults: everything sensitive must come from the environment."""

    ENV_NAME = os.environ.get("CASEAPP_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE / 'caseapp.sqlite3'}"
    )
    # hide_parameters: a database error logged with its statement never carries the values (names, phones...).
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    # A pooled connection unused for longer than this is checked before use (security/database.py).
    DATABASE_PING_AFTER_IDLE_SECONDS = float(os.environ.get("CASEAPP_DATABASE_PING_AFTER_IDLE_SECONDS", "1"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    SESSION_COOKIE_NAME = "caseapp_session"
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=30)
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = 3600
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("CASEAPP_TIMEZONE", "Africa/Casablanca")
    PAGE_SIZE = int(os.environ.get("CASEAPP_PAGE_SIZE", "25"))
    REFERRAL_DEADLINE_HOURS = _deadlines(os.environ.get("CASEAPP_REFERRAL_DEADLINES",
                                                        "emergency:24,urgent:72,normal:336"))
    MAIL_SERVER = os.environ.get("MAIL_SERVER")  # no server: notifications stay in the app only
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "caseapp@localhost")
    # argon2id parameters (OWASP: m=19 MiB, t=2, p=1 is the floor; we go above it).
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "3"))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", str(64 * 1024)))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "1"))
    # Where rate limits count: "database" (one table every app server shares) or "memory" (this process only);
    # see security/rate_limit.py.
    RATE_LIMIT_STORE = os.environ.get("CASEAPP_RATE_LIMIT_STORE", "database")
    # Login protection: per-IP attempts on POST /login ("COUNT/PERIOD", see security/rate_limit.py),
    # and per account: after LOGIN_LOCK_AFTER consecutive failures the account is locked for LOGIN_LOCK_SECONDS,
    # doubled at each further failure up to LOGIN_LOCK_MAX_SECONDS.
    LOGIN_RATE_LIMIT = os.environ.get("CASEAPP_LOGIN_RATE_LIMIT", "20/5min")
    LOGIN_LOCK_AFTER = int(os.environ.get("CASEAPP_LOGIN_LOCK_AFTER", "5"))
    LOGIN_LOCK_SECONDS = int(os.environ.get("CASEAPP_LOGIN_LOCK_SECONDS", "60"))
    LOGIN_LOCK_MAX_SECONDS = int(os.environ.get("CASEAPP_LOGIN_LOCK_MAX_SECONDS", "3600"))
    # Exports of personal data (subject access, audit CSV...): at most this many per user ("COUNT/PERIOD").
    EXPORT_RATE_LIMIT = os.environ.get("CASEAPP_EXPORT_RATE_LIMIT", "20/hour")
    # Spreadsheets parsed per user for import ("COUNT/PERIOD"); each costs seconds of work.
    IMPORT_RATE_LIMIT = os.environ.get("CASEAPP_IMPORT_RATE_LIMIT", "100/hour")
    # Reverse proxies in front of the app (nginx: 1): their X-Forwarded-For/-Proto are trusted, so the client's
    # address is request.remote_addr (rate limits, audit) and https is seen as such. 0: no proxy, trust no header.
    PROXIES = int(os.environ.get("CASEAPP_PROXIES", "0"))
    # Encryption at rest and blind indexes (see security/encryption.py): keys from the environment or a key file.
    ENCRYPTION_KEYS = os.environ.get("CASEAPP_ENCRYPTION_KEYS")
    BLIND_INDEX_KEY = os.environ.get("CASEAPP_BLIND_INDEX_KEY")
    KEY_FILE = os.environ.get("CASEAPP_KEY_FILE")
    # Second factor: required for these roles, optional for the others.
    MFA_REQUIRED_ROLES = tuple(role.strip() for role in os.environ.get(
        "CASEAPP_MFA_REQUIRED_ROLES", "supervisor,dpo,admin").split(",") if role.strip())
    MFA_ISSUER = os.environ.get("CASEAPP_MFA_ISSUER", "caseapp")
    # Retention: cases closed longer than this many days are anonymised by `flask caseapp retention run --apply`.
    RETENTION_DAYS = int(os.environ.get("CASEAPP_RETENTION_DAYS", str(5 * 365)))
    # Published reports never show a count from 1 to REPORT_THRESHOLD - 1 (see reports/disclosure.py).
    REPORT_THRESHOLD = int(os.environ.get("CASEAPP_REPORT_THRESHOLD", "5"))


class DevConfig(Config):
    """Local development and the demo started by `make run`."""

    ENV_NAME = "dev"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    KEY_FILE = os.environ.get("CASEAPP_KEY_FILE", str(INSTANCE / "keys"))  # written by `make run`


class TestConfig(Config):
    """Used by the test-suite; the database comes from the fixture."""

    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1
    # The whole suite logs in from 127.0.0.1; tests of the limit itself set a small LOGIN_RATE_LIMIT.
    LOGIN_RATE_LIMIT = "100000/5min"
    EXPORT_RATE_LIMIT = "100000/hour"
    IMPORT_RATE_LIMIT = "100000/hour"  # the session-wide limiter would otherwise count every test's uploads
    RATE_LIMIT_STORE = "memory"  # tests of the shared store set "database" themselves
    # Fixed test keys (never used outside the suite).
    ENCRYPTION_KEYS = "t1:" + "dGVzdC1lbmNyeXB0aW9uLWtleS0wMDAwMDAwMDAwMDA="
    BLIND_INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1rZXktMDAwMDAwMDAwMDA="


CONFIGS = {"production": Config, "dev": DevConfig, "demo": DevConfig, "test": TestConfig}
