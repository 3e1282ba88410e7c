"""Case-list timing at scale: fills a fresh database with N cases (bulk inserts) and times list pages.

Usage: .venv/bin/python bench/case_list.py [--cases 100000] [--database-url URL]
Prints the median and p95 of the case-list query (count + one page) for a supervisor and a caseworker,
first page and a deep page, with and without filters. Timings are for reading, never for pass/fail tests.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from caseapp import create_app  # noqa: E402
from caseapp.auth.models import User  # noqa: E402
from caseapp.beneficiaries.models import Beneficiary  # noqa: E402
from caseapp.cases.models import Case  # noqa: E402
from caseapp.cases.services import CaseFilters, search_cases  # noqa: E402
from caseapp.demo import create_demo_accounts, create_demo_structure  # noqa: E402
from caseapp.extensions import db  # noqa: E402
from caseapp.places.models import ServicePoint  # noqa: E402


def fill(count: int, seed: int = 1) -> None:
    """Insert `count` people with one case each, spread over every service point."""
    rng = random.Random(seed)
    points = db.session.scalars(select(ServicePoint)).all()
    actor = db.session.scalars(select(User)).first()
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    batch = 5000
    for offset in range(0, count, batch):
        people, cases = [], []
        for index in range(offset, min(count, offset + batch)):
            point = points[index % len(points)]
            opened = start + timedelta(minutes=index * 7)
            people.append(dict(id=index + 1, given_name=f"Given{index}", family_name=f"Family{index % 997}",
                               name_search=f"given{index} family{index % 997}", sex=rng.choice("FM"),
                               date_of_birth=date(1960 + index % 50, 1 + index % 12, 1 + index % 28),
                               dob_estimated=False, nationality="MAR", profile="returnee", commune_code=point.commune_code,
                               languages="ar", is_household_head=False, registered_at=opened, registered_by_id=actor.id,
                               registered_at_service_point_id=point.id, version=1,
                               phone_digits=f"06{index:08d}"))
            cases.append(dict(id=index + 1, number=f"{point.commune_code}-{opened.year}-{index:07d}",
                              beneficiary_id=index + 1, partner_id=point.partner_id, service_point_id=point.id,
                              assigned_worker_id=actor.id, status=rng.choice(("registered", "assessment", "active")),
                              opened_at=opened, updated_at=opened, opened_by_id=actor.id, version=1,
                              risk_level=rng.choice((None, "low", "medium", "high"))))
        db.session.execute(insert(Beneficiary), people)
        db.session.execute(insert(Case), cases)
        db.session.commit()


def timed(function, runs: int = 15) -> tuple[float, float]:
    """Median and p95 in milliseconds."""
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url})
    with app.test_request_context():
        flask_migrate.upgrade()
        accounts = create_demo_accounts(create_demo_structure())
        db.session.commit()
        began = time.perf_counter()
        fill(args.cases)
        print(f"filled {args.cases} cases in {time.perf_counter() - began:.1f} s ({db.engine.dialect.name})")
        supervisor = db.session.get(User, accounts["supervisor"][0].id)
        caseworker = db.session.get(User, accounts["caseworker"][0].id)
        rows = []
        for label, actor, kwargs in (
            ("supervisor, page 1", supervisor, {}),
            ("supervisor, page 200", supervisor, {"page": 200}),
            ("supervisor, risk=high, sorted by number", supervisor,
             {"filters": CaseFilters(risk="high"), "sort": "number"}),
            ("caseworker, page 1", caseworker, {}),
            ("caseworker, name search", caseworker, {"text": "family42"}),
            ("caseworker, phone search", caseworker, {"text": "0600001234"}),
        ):
            median, p95 = timed(lambda: search_cases(actor, audit=False, per_page=25, **kwargs))
            rows.append((label, median, p95))
        print(f"{'query':45} {'median ms':>10} {'p95 ms':>8}")
        for label, median, p95 in rows:
            print(f"{label:45} {median:10.1f} {p95:8.1f}")


if __name__ == "__main__":
    main()
