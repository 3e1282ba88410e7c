"""Load benchmark: the app under gunicorn on loopback, driven by wrk page by page, next to a bare route of the app.

Usage: .venv/bin/python bench/load.py [--people 100000] [--database-url URL] [--rebuild] [--seed 1]
           [--workers W] [--threads T] [--connections 8] [--duration 20] [--warmup 3] [--period 2026-Q3] [--report-runs 3]
           [--keepalive S] [--rounds 1] [--only ROW ...]
Without --database-url the database is an SQLite file in the system's temporary folder named after N
(bench-load-<N>.sqlite3), kept and reused by later runs with the same N; a database that does not hold N
people is emptied and filled with `flask caseapp generate` (PostgreSQL: DROP SCHEMA public CASCADE, so never
the test suite's database). Needs wrk (Debian: apt-get install wrk).

The users log in through the real forms (CSRF token, then the authenticator code for the supervisor); wrk then
replays their session cookie. Each endpoint runs `--duration` seconds at `--connections` connections after a
short warm-up, then the reference list and the bare route; every answer must have the expected status (200, or
302 for a login). With `--rounds N` the whole sequence runs N times and each row shows its median round (its
requests/s, latencies and CPU), the ratio to the bare route as the median of each round's own ratio, and the range
of requests/s over the rounds: on a shared machine one round can be 30 % off.
The report build (a quarter, the M&E officer's preview) is timed on its own, one build at a time.
Prints one markdown table: median and p95 latency, requests/s, ratio to the bare route's requests/s, the CPU time
per request of the app server and of the database (bench/cpu_use.py), the cores they kept busy (2.0 on 2 cores is
saturation; well below it, requests waited on something else than the processors: a lock, or wrk's keep-alive
connections piled on a few of gunicorn's workers), errors, and whether each budget holds.
Timings are for reading, never for pass/fail tests.
"""
import argparse
import dataclasses
import os
import runpy
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from unittest import mock

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.engine import make_url

import load_data
from caseapp.config import Config
from cpu_use import CpuMeter
from load_wrk import Target, run_wrk
from reference_app import REFERENCE_PATH, REFERENCE_ROWS
from tests.live.client import Browser, Page, log_in
from tests.live.servers import AppServers

PAGE_USER, INBOX_USER, REPORT_USER = "supervisor", "receiver", "me"
LOGIN_USERS = ("caseworker", "caseworker.nador", "caseworker.bm")  # no second factor: a login is one POST
SESSION_COOKIE = Config.SESSION_COOKIE_NAME
BARE_PATH = "/health/live"  # no database, no login, no layout, no session
APP_MODULE = "bench.reference_app:reference_app()"  # the app, plus the reference point (a 50-row list, nothing else)
P95_BUDGET_MS, CASE_LIST_BUDGET_RATIO, REPORT_BUILD_BUDGET_S = 150, 0.10, 5.0
SEARCH_TERMS, CASE_PAGES = 60, 500
REPORT_BUILD_TIMEOUT_S = 900  # the client's patience: a build at 1,000,000 people must be timed, not abandoned


@dataclass
class Run:
    """The app server, its logged-in users and the sampled records of one benchmark run."""

    base_url: str
    passwords: dict[str, str]
    browsers: dict[str, Browser]
    cases: list[load_data.SampledCase]
    report_id: int
    period: str

    secret_key: str = ""

    def cookie(self, username: str) -> str:
        """The user's session cookie, as its browser holds it now."""
        browser = self.browsers[username]
        expect(browser.get("/"), 200)
        return cookie_header(browser, self.secret_key)


def cookie_header(browser: Browser, secret_key: str) -> str:
    """The browser's cookies for wrk to replay, its session cookie signed just now. The app signs an unchanged
    session again once it is a minute old (caseapp.auth.cookie_session), and a browser keeps the new cookie; wrk
    replays one cookie for the whole run, so a cookie already a minute old would be signed again at every request
    (a cost no browser causes). A run of up to a minute (warm-up included) replays a cookie like a browser's."""
    cookies = dict(browser.cookies)
    if SESSION_COOKIE in cookies:
        signing = Flask("bench-cookies")
        signing.secret_key = secret_key
        serializer = SecureCookieSessionInterface().get_signing_serializer(signing)
        cookies[SESSION_COOKIE] = serializer.dumps(serializer.loads(cookies[SESSION_COOKIE]))
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def expect(page: Page, status: int) -> Page:
    if page.status != status:
        raise RuntimeError(f"{page.path} answered {page.status} (expected {status}) {page.location}")
    return page


@dataclass
class Row:
    name: str
    user: str
    median_ms: float
    p95_ms: float
    requests_per_second: float | None
    errors: int
    budget: str = ""
    ratio: float | None = None
    cpu_ms: tuple[float, float] | None = None  # CPU per request: (app server, database on this machine)
    cores: float | None = None  # CPU seconds of app server and database per second of the run
    rate_range: tuple[float, float] | None = None  # lowest and highest requests/s over the rounds


# --- what each row measures -----------------------------------------------------------------------------------

def _pages(run: Run, name: str, username: str, paths: list[str]) -> Target:
    target, cookie = Target(name, username), run.cookie(username)
    for path in paths:
        target.add(path, cookie)
    return target


def login_target(run: Run) -> Target:
    """POST /login with a valid CSRF token and cookie pair, over the accounts without a second factor."""
    target = Target("login (POST /login)", "3 caseworkers", expect=302)
    for username in LOGIN_USERS:
        for _ in range(4):
            browser = Browser(run.base_url)
            form = browser.get("/login").hidden_fields()
            target.add("/login", cookie_header(browser, run.secret_key), "POST", urllib.parse.urlencode(
                {**form, "username": username, "password": run.passwords[username]}))
    return target


def search_terms(cases: list[load_data.SampledCase]) -> list[str]:
    """What workers type: a full name (half the searches), a case number or a phone number."""
    terms = []
    for index, case in enumerate(cases[:SEARCH_TERMS]):
        kind = ("name", "name", "number", "phone")[index % 4]
        terms.append(case.number if kind == "number" else case.phone if kind == "phone" and case.phone else case.name)
    return terms


def search_target(run: Run) -> Target:
    """The case list showing a search: the term is posted once (kept in the session), its cookie replayed."""
    target = Target("search (case list with a term)", PAGE_USER)
    browser = run.browsers[PAGE_USER]
    form = browser.get("/cases/").hidden_fields("/cases/")
    for term in search_terms(run.cases):
        searching = Browser(run.base_url)
        searching.cookies = dict(browser.cookies)
        expect(searching.post("/cases/", {**form, "q": term}), 302)
        target.add("/cases/", cookie_header(searching, run.secret_key))
    return target


ENDPOINTS = (
    login_target,
    lambda run: _pages(run, "home", PAGE_USER, ["/"]),
    lambda run: _pages(run, "case list", PAGE_USER, ["/cases/"]),
    lambda run: _pages(run, "case page", PAGE_USER, [f"/cases/{case.case_id}" for case in run.cases]),
    search_target,
    lambda run: _pages(run, "referral inbox", INBOX_USER, ["/referrals/inbox"]),
    lambda run: _pages(run, "report page", REPORT_USER, [f"/reports/{run.report_id}"]),
)


def reference_target(run: Run) -> Target:
    """The issue's yardstick, "a 50-row list with no login or layout" (about 0.14× the bare route on 2 cores)."""
    target = Target(f"reference: {REFERENCE_ROWS}-row list, no login or layout", "anonymous")
    target.add(REFERENCE_PATH)
    return target


def bare_target(run: Run) -> Target:
    target = Target(f"bare route {BARE_PATH}", "anonymous")
    target.add(BARE_PATH)
    return target


# --- measuring ------------------------------------------------------------------------------------------------

def measure(run: Run, target: Target, args, meter: CpuMeter) -> Row:
    """Check the target's first request, warm up, then drive it with wrk: one table row, with the CPU time the
    app server and the database spent per answered request."""
    first, browser = target.requests[0], Browser(run.base_url)
    if first["cookie"]:
        browser.cookies = dict(pair.split("=", 1) for pair in first["cookie"].split("; "))
    page = browser.post(first["path"], dict(urllib.parse.parse_qsl(first["body"]))) if first["body"] \
        else browser.get(first["path"])
    expect(page, target.expect)
    if args.warmup:
        run_wrk(run.base_url, target, args.warmup, args.connections)
    meter.start()
    figures = run_wrk(run.base_url, target, args.duration, args.connections)
    app_seconds, database_seconds = meter.stop()
    cpu_ms = (app_seconds * 1000 / figures.requests, database_seconds * 1000 / figures.requests) \
        if figures.requests else None
    cores = (app_seconds + database_seconds) / args.duration
    print(f"  {target.name}: {figures.requests_per_second:.1f} requests/s, p95 {figures.p95_ms:.0f} ms, "
          f"{figures.errors} errors", flush=True)
    return Row(target.name, target.user, figures.median_ms, figures.p95_ms, figures.requests_per_second,
               figures.errors, cpu_ms=cpu_ms, cores=cores)


def median_round(rounds: list[list[Row]]) -> list[Row]:
    """One row per endpoint from rounds of [pages..., reference, bare]: the round with the median requests/s (the
    upper one of two), its ratio replaced by the median of every round's own ratio to its bare route, its errors
    by the sum over the rounds, and the range of requests/s."""
    rows, bares = [], [measured[-1] for measured in rounds]
    for measured in zip(*rounds):
        ratios = [row.requests_per_second / bare.requests_per_second
                  for row, bare in zip(measured, bares) if bare.requests_per_second]
        rates = sorted(row.requests_per_second for row in measured)
        middle = sorted(measured, key=lambda row: row.requests_per_second)[len(measured) // 2]
        rows.append(dataclasses.replace(middle, ratio=statistics.median(ratios) if ratios else None,
                                        errors=sum(row.errors for row in measured),
                                        rate_range=(rates[0], rates[-1]) if len(measured) > 1 else None))
    return rows


def _timed(action) -> tuple[Page, float]:
    began = time.perf_counter()
    page = action()
    return page, time.perf_counter() - began


def single_login_ms(run: Run, count: int = 5) -> float:
    """Median of `count` logins one at a time: the argon2id verification and the session, without queueing."""
    samples = []
    for _ in range(count):
        browser = Browser(run.base_url)
        form = {**browser.get("/login").hidden_fields(), "username": LOGIN_USERS[0],
                "password": run.passwords[LOGIN_USERS[0]]}
        page, seconds = _timed(lambda: browser.post("/login", form))
        expect(page, 302)
        samples.append(seconds * 1000)
    return statistics.median(samples)


def report_build(run: Run, runs: int) -> Row:
    """The M&E officer's preview of the period's report, built `runs` times one after the other."""
    browser = run.browsers[REPORT_USER]
    form = {**browser.get("/reports/").hidden_fields("/reports/preview"), "period": run.period}
    seconds, errors = [], 0
    for _ in range(runs):
        page, took = _timed(lambda: browser.post("/reports/preview", form))
        errors += page.status != 200 or 'action="/reports/publish"' not in page.body  # a preview, not the form
        seconds.append(took)
    median = statistics.median(seconds)
    holds = median <= REPORT_BUILD_BUDGET_S and not errors
    return Row(f"report build {run.period} ({runs} runs, one at a time)", REPORT_USER, median * 1000,
               max(seconds) * 1000, None, errors, f"median ≤ {REPORT_BUILD_BUDGET_S:.0f} s: {_yes(holds)}")


def _yes(holds: bool) -> str:
    return "yes" if holds else "**NO**"


def budget(row: Row) -> str:
    """Which budgets the row has, and whether they hold (any error fails them)."""
    if not row.requests_per_second:
        return "**NO**: no answer within the run (try a longer --duration)"
    if row.name.startswith("login"):
        return f"no time budget (argon2id); no errors: {_yes(not row.errors)}"
    checks = [f"p95 ≤ {P95_BUDGET_MS} ms: {_yes(row.p95_ms <= P95_BUDGET_MS and not row.errors)}"]
    if row.name == "case list":
        holds = row.ratio is not None and row.ratio >= CASE_LIST_BUDGET_RATIO and not row.errors
        checks.append(f"≥ {CASE_LIST_BUDGET_RATIO:.2f}× bare: {_yes(holds)}")
    return "; ".join(checks)


def table(rows: list[Row]) -> str:
    lines = ["| endpoint | user | median ms | p95 ms | requests/s | × bare | CPU ms/request (app + database) "
             "| cores busy | errors | budget |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        rate = f"{row.requests_per_second:.1f}" if row.requests_per_second is not None else "—"
        if row.rate_range:
            rate += f" ({row.rate_range[0]:.0f}–{row.rate_range[1]:.0f})"
        ratio = f"{row.ratio:.3f}" if row.ratio is not None else "—"
        cpu = f"{sum(row.cpu_ms):.1f} ({row.cpu_ms[0]:.1f} + {row.cpu_ms[1]:.1f})" if row.cpu_ms else "—"
        cores = f"{row.cores:.2f}" if row.cores is not None else "—"
        lines.append(f"| {row.name} | {row.user} | {row.median_ms:.1f} | {row.p95_ms:.1f} | {rate} | {ratio} "
                     f"| {cpu} | {cores} | {row.errors} | {row.budget or '—'} |")
    return "\n".join(lines)


# --- the run --------------------------------------------------------------------------------------------------

def last_full_quarter(today: date) -> str:
    quarter = (today.month - 1) // 3  # the current quarter's index 0..3; the one before it is complete
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: an SQLite file in the temporary folder, named after N")
    parser.add_argument("--rebuild", action="store_true", help="fill the database again even if it holds N people")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's for this machine)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's for the database)")
    parser.add_argument("--connections", type=int, default=8, help="open connections, each one request at a time")
    parser.add_argument("--duration", type=int, default=20, help="seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load before each endpoint")
    parser.add_argument("--period", default=last_full_quarter(date.today()), help="report period (a quarter)")
    parser.add_argument("--report-runs", type=int, default=3, help="report builds to time (0: none)")
    parser.add_argument("--keepalive", type=int, help="gunicorn's keep-alive seconds (CASEAPP_KEEPALIVE; 0: off)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="run every endpoint this many times, interleaved, and show the median round of each")
    parser.add_argument("--only", action="append", metavar="ROW",
                        help="measure only the rows whose name starts with ROW (repeatable; the bare route always)")
    return parser.parse_args()


def gunicorn_settings(database_url: str) -> dict:
    """gunicorn.conf.py's settings as the app server reads them (its threads depend on the database)."""
    with mock.patch.dict(os.environ, {"DATABASE_URL": database_url}):
        return runpy.run_path(str(load_data.ROOT / "gunicorn.conf.py"))


def _commit() -> str:
    finished = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=load_data.ROOT, capture_output=True,
                              text=True, check=False)
    return finished.stdout.strip() or "unknown"


def main() -> None:
    args = options()
    database = load_data.bench_database(args.database_url, args.people, Path(tempfile.gettempdir()))
    load_data.prepare(database, args.people, args.seed, args.rebuild)
    with database.app_context():
        passwords = load_data.set_passwords([PAGE_USER, INBOX_USER, REPORT_USER, *LOGIN_USERS])
        secret = load_data.totp_secret(PAGE_USER)
        cases = load_data.sample_cases(PAGE_USER, CASE_PAGES, args.seed)
        report_id = load_data.published_report(args.period, REPORT_USER)
    production = gunicorn_settings(database.url)
    workers, threads = args.workers or production["workers"], args.threads or production["threads"]
    overrides = database.server_overrides(workers, threads)
    servers = AppServers(1, database.url, Path(tempfile.mkdtemp(prefix="bench-load-server-")), overrides | (
                             {"CASEAPP_KEEPALIVE": str(args.keepalive)} if args.keepalive is not None else {}),
                         app_module=APP_MODULE)
    with servers:
        run = Run(servers.urls[0], passwords, {}, cases, report_id, args.period, overrides["SECRET_KEY"])
        url = make_url(database.url)
        meter = CpuMeter(servers.servers[0].pids, url.database if url.get_backend_name() == "postgresql" else None)
        for username in (PAGE_USER, INBOX_USER, REPORT_USER):
            run.browsers[username] = Browser(run.base_url, timeout=REPORT_BUILD_TIMEOUT_S)
            log_in(run.browsers[username], username, passwords[username], secret if username == PAGE_USER else None)
        print(f"measuring {len(ENDPOINTS) + 2} endpoints, {args.duration} s each at {args.connections} connections"
              f", {args.rounds} round(s)", flush=True)
        rounds = []
        for _ in range(args.rounds):
            pages = [measure(run, target, args, meter) for target in map(lambda build: build(run), ENDPOINTS)
                     if not args.only or target.name.startswith(tuple(args.only))]
            rounds.append([*pages, measure(run, reference_target(run), args, meter),
                           measure(run, bare_target(run), args, meter)])
        *pages, reference, bare = median_round(rounds)
        login_alone = single_login_ms(run)
        builds = [report_build(run, args.report_runs)] if args.report_runs else []
        failures = servers.new_failures()  # everything the server logged as failed during the run
    for row in pages:
        row.budget = budget(row)
    dialect = database.url.split(":", 1)[0].split("+")[0]
    print(f"\n{args.people:,} people, {dialect}, gunicorn {workers} workers × {threads} threads, "
          f"wrk {args.connections} connections × {args.duration} s per endpoint (after {args.warmup} s of warm-up), "
          f"{args.rounds} round(s), "
          f"{os.cpu_count()} CPU cores, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit {_commit()}\n")
    print(table([*pages, reference, bare, *builds]))
    print(f"\nOne login at a time (argon2id verification and the session, no queue): median {login_alone:.0f} ms.")
    for lines in failures.values():
        print(f"The server logged {len(lines)} failures (logs in {servers.folder}), the first: {lines[0][:300]}")
    if not failures:
        shutil.rmtree(servers.folder)


if __name__ == "__main__":
    main()
