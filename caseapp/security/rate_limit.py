"""Sliding-window rate limiting: per client IP on POST /login (ASVS 2.2.1), per user on exports (11.1.4).

The login limit is read from the configuration as "COUNT/PERIOD", e.g. LOGIN_RATE_LIMIT = "20/5min": at most
20 login attempts per IP address in any 5-minute window. Further attempts get 429 with a Retry-After header
before any password is hashed (each argon2 verification costs about 0.1 s of CPU).

Two stores implement the same `RateLimiter` interface; RATE_LIMIT_STORE picks one for every limit:
- "database" (the default): `DatabaseRateLimiter` counts in the `rate_limit_counter` table, one row per key and
  fixed window, so every gunicorn worker and every app server shares one budget and a restart forgets nothing.
  Each hit is one short transaction on a connection of its own, committed whatever the request then does; the
  limit is a sliding-window estimate (previous window's count weighted by its overlap, plus the current one).
  On SQLite the request already holds the database's only write lock (BEGIN IMMEDIATE), so the counters live in
  a file of their own beside the database (`NAME-rate-limits.sqlite3`), shared by the workers of that machine —
  all that an SQLite deployment has. An in-memory SQLite database falls back to the in-process store.
- "memory": `InProcessRateLimiter` keeps an exact sliding log in the memory of one process. Under gunicorn with
  N workers each worker counts separately, so a client can make up to N times the limit, and a restart forgets
  every count. The test-suite uses it (tests of the shared store ask for "database").
The per-account failure counter that locks an account (caseapp.auth.services.authenticate) lives in the
database whatever the store; the limiter only bounds the work one address can cause.

The key is `request.remote_addr`: behind a reverse proxy that is the proxy's address, so every client would
share one budget. Such a deployment sets CASEAPP_PROXIES to the number of proxies in front of the app, which
wraps it in werkzeug's ProxyFix (caseapp/__init__.py) so that remote_addr is the client's address.
"""
import hashlib
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, create_engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from caseapp.extensions import db
from caseapp.security.database import configure_sqlite
from caseapp.security.rate_limit_models import RateLimitCounter

_UNITS = {unit: seconds for names, seconds in (("s sec secs second seconds", 1), ("m min mins minute minutes", 60),
                                               ("h hour hours", 3600), ("d day days", 86400))
          for unit in names.split()}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
_EXTENSION_PREFIX = "caseapp.rate_limiter."
_STORE_ENGINE = "caseapp.rate_limit_store"
STORES = ("database", "memory")
_COUNTERS = RateLimitCounter.__table__
_MAX_KEY_LENGTH = _COUNTERS.c.key.type.length


def parse_rate(text: str) -> tuple[int, float]:
    """'20/5min' → (20, 300.0); also '10/minute', '100/1h', '5/30s'. Raises ValueError on anything else."""
    match = _RATE.match(text.lower())
    if not match or match.group(3) not in _UNITS:
        raise ValueError(f"rate limit {text!r} is not COUNT/PERIOD, e.g. '20/5min'")
    count, amount, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    if count < 1 or amount < 1:
        raise ValueError(f"rate limit {text!r} must allow at least one request per non-empty period")
    return count, float(amount * _UNITS[unit])


class RateLimiter(Protocol):
    """What the views need from a limiter, whatever its store."""

    def hit(self, key: str) -> bool:
        """Count one request for `key`; False (and nothing counted) when the key is over its limit."""

    def retry_after(self, key: str) -> int:
        """Whole seconds until `key` may make a request again (0 when it may now)."""


class InProcessRateLimiter:
    """Sliding-window log in this process's memory; thread-safe. See the module docstring for its scope."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        self.limit = limit
        self.period = period
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _window(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is not None:
            while hits and hits[0] <= now - self.period:
                hits.popleft()
        return hits

    def _forget_idle_keys(self, now: float) -> None:
        """Drop keys with no hit inside the window, so memory stays bounded by the active clients."""
        for key in [key for key, hits in self._hits.items() if not hits or hits[-1] <= now - self.period]:
            del self._hits[key]

    def hit(self, key: str) -> bool:
        with self._lock:
            now = self._clock()
            hits = self._window(key, now)
            if hits is not None and len(hits) >= self.limit:
                return False
            if hits is None:
                if len(self._hits) >= self._max_keys:
                    self._forget_idle_keys(now)
                hits = self._hits[key] = deque()
            hits.append(now)
            return True

    def retry_after(self, key: str) -> int:
        with self._lock:
            now = self._clock()
            hits = self._window(key, now)
            if not hits or len(hits) < self.limit:
                return 0
            return max(1, math.ceil(hits[-self.limit] + self.period - now))


class DatabaseRateLimiter:
    """Counts per key and fixed window in the shared `rate_limit_counter` table; see the module docstring.

    A hit is allowed while previous × (share of the previous window still inside the sliding window) + current
    stays within the limit. The upsert locks the key's row until the transaction ends, so concurrent hits on one
    key (from any worker or server) are decided one after the other and never overshoot; a refused hit is rolled
    back, so it is not counted. Windows older than the previous one are purged now and then.
    """

    def __init__(self, limit: int, period: float, engine: Engine, namespace: str,
                 clock: Callable[[], float] = time.time):
        self.limit = limit
        self.period = period
        self.engine = engine
        self.namespace = namespace
        self._clock = clock  # wall clock: the servers sharing the table must agree on the windows
        self._next_purge = 0.0

    def _stored_key(self, key: str) -> str:
        stored = f"{self.namespace}:{key}"
        if len(stored) <= _MAX_KEY_LENGTH:
            return stored
        return f"{self.namespace}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"

    def _window_start(self, now: float) -> int:
        return int(now // self.period * self.period)

    def _previous_weight(self, now: float, start: int) -> float:
        """Share of the previous window that the sliding window ending `now` still covers."""
        return (start + self.period - now) / self.period

    def _increment(self, connection: Connection, key: str, start: int) -> int:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(_COUNTERS).values(key=key, window_start=start, count=1)
        statement = statement.on_conflict_do_update(
            index_elements=[_COUNTERS.c.key, _COUNTERS.c.window_start], set_={"count": _COUNTERS.c.count + 1})
        return connection.execute(statement.returning(_COUNTERS.c.count)).scalar_one()

    def _counts(self, connection: Connection, key: str, start: int) -> tuple[int, int]:
        """(previous window's count, current window's count) of `key`."""
        previous = start - int(self.period)
        rows = dict(connection.execute(select(_COUNTERS.c.window_start, _COUNTERS.c.count).where(
            _COUNTERS.c.key == key, _COUNTERS.c.window_start.in_((previous, start)))).all())
        return rows.get(previous, 0), rows.get(start, 0)

    def _purge(self, connection: Connection, start: int, now: float) -> None:
        if now < self._next_purge:
            return
        self._next_purge = now + self.period
        connection.execute(delete(_COUNTERS).where(_COUNTERS.c.key.startswith(f"{self.namespace}:", autoescape=True),
                                                   _COUNTERS.c.window_start < start - int(self.period)))

    def hit(self, key: str) -> bool:
        stored, now = self._stored_key(key), self._clock()
        start = self._window_start(now)
        with self.engine.connect() as connection, connection.begin() as transaction:
            previous, _ = self._counts(connection, stored, start)
            current = self._increment(connection, stored, start)
            if previous * self._previous_weight(now, start) + current > self.limit + 1e-9:
                transaction.rollback()
                return False
            self._purge(connection, start, now)
        return True

    def retry_after(self, key: str) -> int:
        stored, now = self._stored_key(key), self._clock()
        start = self._window_start(now)
        with self.engine.connect() as connection, connection.begin():
            previous, current = self._counts(connection, stored, start)
        room = self.limit - 1  # the estimate a hit may find and still pass
        if previous * self._previous_weight(now, start) + current <= room + 1e-9:
            return 0
        if current > room:  # only the next window, once this one's count has slid far enough out
            free_at = start + self.period + self.period * (1 - room / current)
        else:
            free_at = start + self.period - self.period * (room - current) / previous
        return max(1, math.ceil(free_at - now - 1e-9))


def store_engine(app: Flask) -> Engine | None:
    """The engine the shared store counts with (None: an in-memory SQLite database, counted in-process)."""
    if _STORE_ENGINE not in app.extensions:
        with app.app_context():
            engine = db.engine
        app.extensions[_STORE_ENGINE] = _sqlite_counter_file(engine) if engine.dialect.name == "sqlite" else engine
    return app.extensions[_STORE_ENGINE]


def _sqlite_counter_file(engine: Engine) -> Engine | None:
    """SQLite: an engine on `NAME-rate-limits.sqlite3` beside the database file, with the counter table."""
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        return None
    path = Path(database)
    counters = create_engine(engine.url.set(database=str(path.with_name(f"{path.stem}-rate-limits{path.suffix}"))))
    configure_sqlite(counters)
    with counters.begin() as connection:
        connection.execute(CreateTable(_COUNTERS, if_not_exists=True))
    counters.dispose()  # no connection opened at start, so none is inherited by forked gunicorn workers
    return counters


def _build_limiter(app: Flask, setting: str, spec: tuple[str, str]) -> RateLimiter:
    rate, store = spec
    limit, period = parse_rate(rate)
    if store not in STORES:
        raise ValueError(f"RATE_LIMIT_STORE {store!r} is not one of {', '.join(STORES)}")
    engine = store_engine(app) if store == "database" else None
    if engine is None:
        return InProcessRateLimiter(limit, period)
    return DatabaseRateLimiter(limit, period, engine, namespace=setting)


def _spec(app: Flask, setting: str) -> tuple[str, str]:
    return app.config[setting], app.config["RATE_LIMIT_STORE"]


def configured_limiter(setting: str, app: Flask | None = None) -> RateLimiter:
    """The app's limiter for the COUNT/PERIOD in config[`setting`], in the RATE_LIMIT_STORE store (rebuilt when
    either setting changes; an in-process one starts empty)."""
    app = app or current_app._get_current_object()
    spec = _spec(app, setting)
    installed = app.extensions.get(_EXTENSION_PREFIX + setting)
    if installed is None or installed[0] != spec:
        installed = app.extensions[_EXTENSION_PREFIX + setting] = (spec, _build_limiter(app, setting, spec))
    return installed[1]


def login_limiter(app: Flask | None = None) -> RateLimiter:
    """The limiter for POST /login, per client address (LOGIN_RATE_LIMIT)."""
    return configured_limiter("LOGIN_RATE_LIMIT", app)


def export_limiter(app: Flask | None = None) -> RateLimiter:
    """The limiter for exports of personal data, per user (EXPORT_RATE_LIMIT; ASVS 11.1.4)."""
    return configured_limiter("EXPORT_RATE_LIMIT", app)


def set_login_limiter(app: Flask, limiter: RateLimiter) -> None:
    """Install another limiter (e.g. one with a shared store) for the current LOGIN_RATE_LIMIT setting."""
    app.extensions[_EXTENSION_PREFIX + "LOGIN_RATE_LIMIT"] = (_spec(app, "LOGIN_RATE_LIMIT"), limiter)


def limit_exports(user) -> None:
    """Count one export of personal data by `user`; 429 with Retry-After once EXPORT_RATE_LIMIT is used up."""
    from werkzeug.exceptions import TooManyRequests

    limiter = export_limiter()
    key = f"user:{user.id}"
    if not limiter.hit(key):
        raise TooManyRequests(retry_after=limiter.retry_after(key))
