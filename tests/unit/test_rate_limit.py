"""The in-process sliding-window limiter and the "COUNT/PERIOD" setting."""
import pytest

from caseapp import create_app
from caseapp.security.rate_limit import InProcessRateLimiter, login_limiter, parse_rate, set_login_limiter


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("text, expected", [
    ("20/5min", (20, 300.0)), ("10/minute", (10, 60.0)), ("100/1h", (100, 3600.0)), ("5/30s", (5, 30.0)),
    (" 3 / 2 hours ", (3, 7200.0)), ("1/day", (1, 86400.0)), ("7/10m", (7, 600.0)),
])
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", [
    "", "20", "20/", "0/5min", "20/0min", "20/5ms", "twenty/min", "-1/min", "5/5 fortnights",
])
def test_parse_rate_refuses_malformed_settings(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_a_malformed_setting_stops_the_app_from_starting():
    with pytest.raises(ValueError, match="COUNT/PERIOD"):
        create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://", "LOGIN_RATE_LIMIT": "lots"})


def test_the_window_slides():
    clock = Clock()
    limiter = InProcessRateLimiter(3, 60, clock=clock)
    for offset in (0, 10, 20):
        clock.now = 1000 + offset
        assert limiter.hit("a")
    clock.now = 1030
    assert not limiter.hit("a")
    assert limiter.retry_after("a") == 30  # the hit at 1000 leaves the window at 1060
    clock.now = 1059.5
    assert not limiter.hit("a") and limiter.retry_after("a") == 1
    clock.now = 1060
    assert limiter.hit("a")  # one slot freed...
    assert not limiter.hit("a")  # ...and taken again
    assert limiter.retry_after("a") == 10  # next to leave: the hit at 1010


def test_refused_requests_are_not_counted():
    clock = Clock()
    limiter = InProcessRateLimiter(1, 10, clock=clock)
    assert limiter.hit("a")
    for step in range(9):
        clock.now = 1000 + step
        assert not limiter.hit("a")
    clock.now = 1010
    assert limiter.hit("a")


def test_keys_are_counted_separately():
    limiter = InProcessRateLimiter(1, 60, clock=Clock())
    assert limiter.hit("192.0.2.1")
    assert not limiter.hit("192.0.2.1")
    assert limiter.hit("192.0.2.2")
    assert limiter.retry_after("192.0.2.3") == 0


def test_idle_keys_are_forgotten_when_the_store_is_full():
    clock = Clock()
    limiter = InProcessRateLimiter(1, 60, clock=clock, max_keys=3)
    for key in "abc":
        assert limiter.hit(key)
    clock.now += 61
    assert limiter.hit("d")
    assert set(limiter._hits) == {"d"}


def test_the_app_limiter_follows_the_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "2/min")
    limiter = login_limiter(app)
    assert (limiter.limit, limiter.period) == (2, 60.0)
    assert login_limiter(app) is limiter
    replacement = InProcessRateLimiter(9, 9)
    set_login_limiter(app, replacement)
    assert login_limiter(app) is replacement
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3/min")
    assert login_limiter(app).limit == 3
