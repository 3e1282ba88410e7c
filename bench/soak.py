"""Soak test: N virtual users on K gunicorn app servers for D minutes, mixed reads and writes, on loopback.

Usage: .venv/bin/python bench/soak.py [--users 20] [--minutes 3] [--servers 2] [--database-url URL]
Fills a fresh database (SQLite in a temporary folder, or the PostgreSQL database given, emptied with
`DROP SCHEMA public CASCADE`: never point it at the test-suite's database) with the demo organisations and
~200 people plus one caseworker account per virtual user, spread over the 11 service points. Starts the servers
as in production (tests/live/servers.py; workers never recycled, so a leak would show), runs the workload of
tests/live/workload.py, then checks that every acknowledged write is in the database and that the audit chain
is intact. Prints requests and latencies per action, errors, writes, and each server's resident memory
(master + workers) averaged over the first and the last minute. Exit status 1 on any error or lost write.
"""
import argparse
import logging
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402

from caseapp import create_app  # noqa: E402
from caseapp.audit.chain import verify_chain  # noqa: E402
from caseapp.auth.services import create_user  # noqa: E402
from caseapp.demo import create_demo_accounts, create_demo_people, create_demo_structure  # noqa: E402
from caseapp.extensions import db  # noqa: E402
from tests.conftest import reset_database  # noqa: E402
from tests.live.servers import AppServers  # noqa: E402
from tests.live.workload import Account, Tally, lost_writes, run_users  # noqa: E402

PASSWORD = "soak test password 2026"
SAMPLE_EVERY = 5.0  # seconds between memory samples


def prepare(url: str, users: int, people: int) -> list[Account]:
    """Migrate, load the demo structure and people, and create one caseworker per virtual user."""
    reset_database(url)
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        partners = create_demo_structure()
        create_demo_people(create_demo_accounts(partners), people)
        points = [point for partner in partners.values() for point in partner.service_points]
        accounts = []
        for index in range(users):
            point = points[index % len(points)]
            user = create_user(None, username=f"soak.{index:02d}", full_name=f"Soak Worker {index:02d}",
                               password=PASSWORD, role="caseworker", partner=point.partner, service_points=[point])
            accounts.append(Account(user.username, PASSWORD))
        db.session.commit()
        db.engine.dispose()
    return accounts


class MemorySampler(threading.Thread):
    """Samples each server's resident memory (KiB) every few seconds, with the time since the start."""

    def __init__(self, servers: AppServers):
        super().__init__(daemon=True)
        self.servers = servers
        self.samples: list[tuple[float, list[int]]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self.stopped.is_set():
            self.samples.append((time.monotonic() - started, [server.rss_kib() for server in self.servers.servers]))
            self.stopped.wait(SAMPLE_EVERY)

    def per_minute(self, seconds: float) -> list[list[float]]:
        """Mean MiB of each server over each minute of a run of `seconds`: [server][minute]."""
        minutes: dict[int, list[list[int]]] = {}
        last_minute = max(0, math.ceil(seconds / 60) - 1)  # the sample taken as the run ends belongs to it
        for at, sizes in self.samples:
            minutes.setdefault(min(int(at // 60), last_minute), []).append(sizes)
        return [[statistics.mean(sizes[server] for sizes in samples) / 1024 for _minute, samples in sorted(minutes.items())]
                for server in range(len(self.servers.servers))]


def report(tally: Tally, lost: list, chain_ok: bool, failures: dict, memory: list, seconds: float, args) -> None:
    total = sum(tally.requests.values())
    print(f"\n{args.users} users on {args.servers} servers ({args.workers} workers × {args.threads or 'default'} threads each), "
          f"{seconds / 60:.1f} min, {args.database}, {os.cpu_count()} cores, load average at the end "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| action | count | median ms | p95 ms |\n|---|---|---|---|")
    for action, count, median, p95 in tally.summary():
        print(f"| {action} | {count} | {median:.0f} | {p95:.0f} |")
    kinds = ", ".join(f"{kind}: {sum(w.kind == kind for w in tally.writes)}"
                      for kind in ("note", "follow_up", "registration"))
    print(f"\nactions: {total} ({total / seconds:.1f}/s); errors: {len(tally.errors)}; "
          f"acknowledged writes: {len(tally.writes)} ({kinds}); lost writes: {len(lost)}; "
          f"audit chain intact: {'yes' if chain_ok else 'NO'}; server log failures: {sum(map(len, failures.values()))}")
    print("\n| server | RSS first minute MiB | RSS last minute MiB | growth | mean RSS per minute MiB |\n"
          "|---|---|---|---|---|")
    for index, minutes in enumerate(memory):
        first, last = minutes[0], minutes[-1]
        print(f"| {index} | {first:.0f} | {last:.0f} | {last - first:+.1f} MiB ({(last - first) / first:+.1%}) "
              f"| {', '.join(f'{size:.0f}' for size in minutes)} |")
    for error in tally.errors[:20]:
        print("error:", error)
    for write in lost[:20]:
        print("lost:", write)
    for url, lines in failures.items():
        print(f"server {url}:", *lines[:10], sep="\n  ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's, 1 on SQLite, "
                                                    "4 on PostgreSQL)")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--think", type=float, default=0.2, help="each user pauses 0..THINK s between actions")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # no line per migration
    folder = Path(tempfile.mkdtemp(prefix="caseapp-soak-"))
    url = args.database_url or f"sqlite:///{folder / 'soak.sqlite3'}"
    args.database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    accounts = prepare(url, args.users, args.people)
    overrides = {"CASEAPP_WORKERS": str(args.workers), "CASEAPP_MAX_REQUESTS": "0"}
    if args.threads:
        overrides["CASEAPP_THREADS"] = str(args.threads)
    seconds = args.minutes * 60
    with AppServers(args.servers, url, folder / "servers", overrides) as servers:
        sampler = MemorySampler(servers)
        sampler.start()
        tally = run_users(servers.urls, accounts, args.users, seconds, think_seconds=args.think)
        sampler.stopped.set()
        sampler.join()
        failures = servers.new_failures()
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        lost = lost_writes(tally.writes)
        chain_ok = verify_chain(db.session).broken is None
        db.engine.dispose()
    report(tally, lost, chain_ok, failures, sampler.per_minute(seconds), seconds, args)
    return 1 if tally.errors or lost or failures or not chain_ok else 0


if __name__ == "__main__":
    sys.exit(main())
