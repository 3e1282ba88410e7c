"""bench/load.py: rounds of the load benchmark folded into one table row per endpoint, and the budgets read from it."""
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench"


@pytest.fixture(scope="module")
def load():
    sys.path.insert(0, str(BENCH))
    try:
        import load as module
    finally:
        sys.path.remove(str(BENCH))
    return module


def _round(load, case_list_rate: float, bare_rate: float, errors: int = 0, cpu: float = 20.0):
    return [load.Row("case list", "supervisor", 90.0, case_list_rate * 2, case_list_rate, errors, cpu_ms=(cpu, 1.0)),
            load.Row("bare route /health/live", "anonymous", 4.0, 9.0, bare_rate, 0, cpu_ms=(1.0, 0.0))]


def test_each_row_is_its_median_round_with_the_median_of_the_rounds_own_ratios(load):
    rounds = [_round(load, 60.0, 1200.0, cpu=30.0), _round(load, 80.0, 2000.0, cpu=20.0),
              _round(load, 90.0, 1000.0, errors=2, cpu=25.0)]
    case_list, bare = load.median_round(rounds)
    assert case_list.requests_per_second == 80.0 and case_list.cpu_ms == (20.0, 1.0)  # the middle round, whole
    assert case_list.p95_ms == 160.0
    # each round against its own bare route: 0.05, 0.04, 0.09 -> 0.05 (not 80 / 1200, rounds mixed)
    assert case_list.ratio == pytest.approx(0.05)
    assert case_list.rate_range == (60.0, 90.0)
    assert case_list.errors == 2  # every round's errors count
    assert bare.ratio == 1.0


def test_one_round_shows_no_range_and_its_own_ratio(load):
    (case_list, bare) = load.median_round([_round(load, 150.0, 1000.0)])
    assert case_list.ratio == pytest.approx(0.15) and case_list.rate_range is None
    assert "≥ 0.10× bare: yes" in load.budget(case_list)
    assert "range" not in load.table([case_list, bare]) and "150.0 |" in load.table([case_list, bare])


def test_the_case_list_budget_reads_the_ratio_and_fails_on_errors(load):
    (case_list, _) = load.median_round([_round(load, 90.0, 1000.0)])
    assert "≥ 0.10× bare: **NO**" in load.budget(case_list)
    (with_errors, _) = load.median_round([_round(load, 150.0, 1000.0, errors=1)])
    assert "≥ 0.10× bare: **NO**" in load.budget(with_errors)


def test_the_table_shows_the_range_and_the_cores_kept_busy(load):
    rounds = [_round(load, 60.0, 1200.0), _round(load, 80.0, 2000.0)]
    rows = load.median_round(rounds)
    rows[0].cores = 1.13
    text = load.table(rows)
    assert "| 80.0 (60–80) |" in text and "| 1.13 |" in text


def test_the_replayed_session_cookie_is_signed_just_now_with_its_content_unchanged(load, monkeypatch):
    """wrk replays one cookie for a whole run: the bench signs it again first, as the app would have within the last
    minute for a browser (caseapp.auth.cookie_session), or the app would sign it again at every request."""
    import time

    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import SignatureExpired, TimestampSigner

    signing = Flask("test")
    signing.secret_key = "s" * 32
    serializer = SecureCookieSessionInterface().get_signing_serializer(signing)
    with monkeypatch.context() as earlier:
        earlier.setattr(TimestampSigner, "get_timestamp", lambda signer: int(time.time()) - 300)
        old = serializer.dumps({"_user_id": "4:1", "csrf_token": "t"})
    browser = load.Browser("http://127.0.0.1:1")
    browser.cookies = {load.SESSION_COOKIE: old, "other": "kept"}
    fields = dict(part.split("=", 1) for part in load.cookie_header(browser, "s" * 32).split("; "))
    assert fields["other"] == "kept" and fields[load.SESSION_COOKIE] != old
    with pytest.raises(SignatureExpired):
        serializer.loads(old, max_age=60)
    assert serializer.loads(fields[load.SESSION_COOKIE], max_age=60) == {"_user_id": "4:1", "csrf_token": "t"}
