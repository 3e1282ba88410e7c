"""Sliding-window rate limiting: per client IP on POST /login (ASVS 2.2.1), per user on exports (11.1.4).

The login limit is read from the configuration as "COUNT/PERIOD", e.g. LOGIN_RATE_LIMIT = "20/5min": at most
20 login attempts per IP address in any 5-minute window. Further attempts get 429 with a Retry-After header
before any password is hashed (each argon2 verification costs about 0.1 s of CPU).

Scope of the store: `InProcessRateLimiter` keeps its counts in the memory of one process. Under gunicorn with
N workers each worker counts separately, so a client can make up to N times the limit, and a restart forgets
every count. A production deployment with several workers (or several machines) should give the app a limiter
with a shared store (Redis, memcached, or a database table) implementing the same `RateLimiter` interface and
installed with `set_login_limiter`. Only the in-process implementation exists for now. The per-account failure
counter that locks an account (caseapp.auth.services.authenticate) lives in the database and is exact across
workers; this limiter only bounds the work one address can cause.

The key is `request.remote_addr`: behind a reverse proxy that is the proxy's address, so every client would
share one budget. Such a deployment must wrap the app in werkzeug's ProxyFix (trusting exactly the number of
proxies in front of it) so that remote_addr is the client's address.
"""
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from flask import Flask, current_app

_UNITS = {unit: seconds for names, seconds in (("s sec secs second seconds", 1), ("m min mins minute minutes", 60),
                                               ("h hour hours", 3600), ("d day days", 86400))
          for unit in names.split()}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")
_EXTENSION_PREFIX = "caseapp.rate_limiter."


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


def configured_limiter(setting: str, app: Flask | None = None) -> RateLimiter:
    """The app's limiter for the COUNT/PERIOD in config[`setting`] (rebuilt, empty, when that setting changes)."""
    app = app or current_app._get_current_object()
    spec = app.config[setting]
    installed = app.extensions.get(_EXTENSION_PREFIX + setting)
    if installed is None or installed[0] != spec:
        installed = app.extensions[_EXTENSION_PREFIX + setting] = (spec, InProcessRateLimiter(*parse_rate(spec)))
    return installed[1]


def login_limiter(app: Flask | None = None) -> RateLimiter:
    """The limiter for POST /login, per client address (LOGIN_RATE_LIMIT)."""
    return configured_limiter("LOGIN_RATE_LIMIT", app)


def export_limiter(app: Flask | None = None) -> RateLimiter:
    """The limiter for exports of personal data, per user (EXPORT_RATE_LIMIT; ASVS 11.1.4)."""
    return configured_limiter("EXPORT_RATE_LIMIT", app)


def set_login_limiter(app: Flask, limiter: RateLimiter) -> None:
    """Install another limiter (e.g. one with a shared store) for the current LOGIN_RATE_LIMIT setting."""
    app.extensions[_EXTENSION_PREFIX + "LOGIN_RATE_LIMIT"] = (app.config["LOGIN_RATE_LIMIT"], limiter)


def limit_exports(user) -> None:
    """Count one export of personal data by `user`; 429 with Retry-After once EXPORT_RATE_LIMIT is used up."""
    from werkzeug.exceptions import TooManyRequests

    limiter = export_limiter()
    key = f"user:{user.id}"
    if not limiter.hit(key):
        raise TooManyRequests(retry_after=limiter.retry_after(key))
