"""The rate limiters (in-process, and the database store shared by app servers) and the "COUNT/PERIOD" setting."""
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, select

from caseapp import create_app
from caseapp.extensions import db
from caseapp.security.rate_limit import (
    DatabaseRateLimiter, InProcessRateLimiter, store_engine, export_limiter, login_limiter, parse_rate,
    set_login_limiter,
)
from caseapp.security.rate_limit_models import RateLimitCounter
from tests.conftest import csrf_token


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


# --- the shared store (RATE_LIMIT_STORE = "database") -------------------------------------------------------------


@pytest.fixture
def shared_store_app(database_url):
    """shared_store_app(**settings) → an app on the suite's database counting in the shared store, as another
    app server would; the counters and the engines are cleared afterwards."""
    made = []

    def _make(**settings):
        made.append(create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": database_url,
                                "RATE_LIMIT_STORE": "database", **settings}))
        if len(made) == 1:  # start from no count: the live tests' gunicorn servers count their logins here too
            with store_engine(made[0]).begin() as connection:
                connection.execute(delete(RateLimitCounter.__table__))
        return made[-1]

    yield _make
    for application in made:
        with store_engine(application).begin() as connection:
            connection.execute(delete(RateLimitCounter.__table__))
        store_engine(application).dispose()
        with application.app_context():
            db.engine.dispose()


def _stored_counts(limiter: DatabaseRateLimiter) -> dict[int, int]:
    table = RateLimitCounter.__table__
    with limiter.engine.connect() as connection:
        return dict(connection.execute(select(table.c.window_start, table.c.count)
                                       .where(table.c.key.startswith(limiter.namespace + ":"))).all())


def _database_limiter(shared_store_app, limit: int, period: float, clock=None) -> DatabaseRateLimiter:
    engine = store_engine(shared_store_app())
    return DatabaseRateLimiter(limit, period, engine, namespace="TEST_LIMIT", clock=clock or Clock())


def _login_attempt(application, address: str = "127.0.0.1"):
    client = application.test_client()
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": "nobody", "password": "wrong", "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def test_two_app_servers_share_one_login_budget(shared_store_app):
    first, second = shared_store_app(LOGIN_RATE_LIMIT="3/hour"), shared_store_app(LOGIN_RATE_LIMIT="3/hour")
    assert isinstance(login_limiter(first), DatabaseRateLimiter)
    assert [_login_attempt(app).status_code for app in (first, second, first)] == [200, 200, 200]
    refused = [_login_attempt(app) for app in (second, first)]
    assert [response.status_code for response in refused] == [429, 429]
    assert all(int(response.headers["Retry-After"]) > 0 for response in refused)
    assert _login_attempt(second, address="192.0.2.44").status_code == 200  # another address, its own budget


def test_the_database_window_slides(shared_store_app):
    clock = Clock()
    clock.now = 1200.0  # the start of a 60-second window
    limiter = _database_limiter(shared_store_app, 4, 60, clock)
    assert all(limiter.hit("a") for _ in range(4))
    clock.now = 1230
    assert not limiter.hit("a")
    assert limiter.retry_after("a") == 45  # at 1275 the 4 hits of [1200, 1260) weigh 4 × 45/60 = 3
    clock.now = 1274
    assert not limiter.hit("a") and limiter.retry_after("a") == 1
    clock.now = 1275
    assert limiter.retry_after("a") == 0 and limiter.hit("a")
    assert not limiter.hit("a")
    assert limiter.retry_after("a") == 15  # 4 × 30/60 + 1 = 3 leaves room for one more at 1290
    clock.now = 1290
    assert limiter.hit("a")
    assert _stored_counts(limiter) == {1200: 4, 1260: 2}


def test_refused_database_hits_are_not_counted(shared_store_app):
    clock = Clock()
    limiter = _database_limiter(shared_store_app, 1, 10, clock)
    assert limiter.hit("a")
    for step in range(19):
        clock.now = 1000 + step
        assert not limiter.hit("a")
    assert _stored_counts(limiter) == {1000: 1}
    clock.now = 1020  # the window of the single counted hit has slid out entirely
    assert limiter.hit("a")
    assert limiter.retry_after("unknown") == 0


def test_old_windows_are_purged(shared_store_app):
    clock = Clock()
    limiter = _database_limiter(shared_store_app, 5, 10, clock)
    for now in (1000, 1010, 1020, 1030):
        clock.now = now
        assert limiter.hit("a") and limiter.hit("b")
    counts = _stored_counts(limiter)
    assert set(counts) == {1020, 1030}  # the previous window is still needed; older ones are gone


def test_long_keys_are_stored_as_a_digest(shared_store_app):
    limiter = _database_limiter(shared_store_app, 1, 60)
    long_key = "user:" + "x" * 500
    assert limiter.hit(long_key) and not limiter.hit(long_key) and limiter.hit(long_key + "y")
    assert limiter.retry_after(long_key) > 0


def test_a_hit_is_committed_whatever_the_request_does(shared_store_app):
    application = shared_store_app(EXPORT_RATE_LIMIT="2/hour")
    with application.app_context():
        db.session.execute(select(1))  # the request's own transaction is open (on SQLite: the write lock)...
        limiter = export_limiter(application)
        assert limiter.hit("user:1")
        db.session.rollback()  # ...and rolled back
        assert limiter.hit("user:1") and not limiter.hit("user:1")


def test_concurrent_hits_on_one_key_never_exceed_the_limit(shared_store_app):
    limiter = DatabaseRateLimiter(25, 3600, store_engine(shared_store_app()), namespace="TEST_LIMIT")
    with ThreadPoolExecutor(max_workers=8) as pool:  # 8 clients × 10 hits; an error is re-raised here
        answers = [answer for batch in pool.map(lambda _: [limiter.hit("busy") for _ in range(10)], range(8))
                   for answer in batch]
    assert answers.count(True) == 25 and len(answers) == 80
    assert sum(_stored_counts(limiter).values()) == 25


def test_the_store_setting_is_checked_at_start_and_memory_databases_count_in_process():
    with pytest.raises(ValueError, match="RATE_LIMIT_STORE"):
        create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATE_LIMIT_STORE": "redis"})
    in_memory = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://", "RATE_LIMIT_STORE": "database"})
    assert isinstance(login_limiter(in_memory), InProcessRateLimiter)
