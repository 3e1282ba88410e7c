"""Duplicate-candidate search at scale: times `find_duplicates` among N synthetic people.

Usage: .venv/bin/python bench/duplicate_candidates.py [--people 100000] [--queries 500]
           [--database-url URL] [--rebuild] [--seed 1]
Without --database-url the database is an SQLite file in the system's temporary folder, named after N
(bench-duplicates-<N>.sqlite3), and reused by later runs with the same N; --rebuild starts afresh.
A PostgreSQL database (never the test suite's caseapp_test) is reused too when it holds N people; an empty one is
filled; one holding anything else is emptied (DROP SCHEMA public CASCADE) only with --rebuild. --keys reads the
encryption keys of a database filled by another run (e.g. bench/load.py's key file beside it).

The people are made by `caseapp.generate` (as `flask caseapp generate --people N --seed S` makes them): realistic
names (Moroccan, West-African and Syrian given and family names, Zipf-distributed so that Mohamed, Fatima,
Diallo, El Amrani... are common, in several Latin spellings, with or without particles, with an Arabic-script
spelling for most Arabic names), birth dates (some estimated: 1 January), documents for about a third, blocking
keys from `blocking.person_keys` exactly as registration stores them, and a case each with two years of case
work, over the 11 demo service points; all bulk-inserted.

Half the queries are variants of existing people (another spelling, Arabic script, a particle dropped, given
and family names swapped, a typo, day and month swapped, an estimated year, a document typed with spaces); the
other half are new people. Prints the median, p95 and max of `find_duplicates` in milliseconds, how many
candidates were read and checked and how many had their names compared per query, and how often the original
person was scored as a likely duplicate for the variants (recall, in the actor's scope or not; a limit that drops
the right candidate shows there). Timings are for reading, never for pass/fail tests.
"""
import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask_migrate  # noqa: E402
from sqlalchemy import func, inspect, select, text  # noqa: E402

from caseapp import create_app  # noqa: E402
from caseapp.auth.models import User  # noqa: E402
from caseapp.beneficiaries import duplicates  # noqa: E402
from caseapp.beneficiaries.blocking import candidate_keys  # noqa: E402
from caseapp.beneficiaries.models import Beneficiary, PersonKey  # noqa: E402
from caseapp.demo import seed_demo  # noqa: E402
from caseapp.extensions import db  # noqa: E402
from caseapp.generate.names import another_spelling, new_person  # noqa: E402
from caseapp.generate.run import generate  # noqa: E402


def prepare(url: str, count: int, seed: int, rebuild: bool) -> None:
    """Migrate and fill the database, unless it already holds `count` people."""
    tables = inspect(db.engine).get_table_names()
    if not rebuild and "beneficiary" in tables and db.session.scalar(select(func.count(Beneficiary.id))) == count:
        print(f"reusing {count} people in {db.engine.url.render_as_string(hide_password=True)}")
        return
    db.session.rollback()  # the count's transaction would hold a lock on the tables dropped below
    if tables and not rebuild:
        raise SystemExit(f"{db.engine.url.render_as_string(hide_password=True)} holds other data than {count} "
                         "people: give another database or --people, or --rebuild to empty it")
    if tables:
        if db.engine.dialect.name != "postgresql":
            raise SystemExit(f"{url} is not empty: remove it or run with another --people")
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    flask_migrate.upgrade()
    seed_demo(0)
    db.session.commit()
    began = time.perf_counter()
    generate(count, seed, in_one=True)  # an empty database: one transaction, indexes built at the end
    if db.engine.dialect.name == "postgresql":  # index-only scans need the visibility map
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    keys = db.session.scalar(select(func.count()).select_from(PersonKey))
    print(f"filled {count} people ({keys} keys) in {time.perf_counter() - began:.0f} s ({db.engine.dialect.name})")


# --- queries ----------------------------------------------------------------------------------------------

def _typo(rng: random.Random, name: str) -> str:
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) < 4:
        return name
    i = rng.choice(letters[1:])
    kind = rng.choice(("replace", "delete", "double", "swap"))
    if kind == "replace":
        return name[:i] + rng.choice("aeioulnrst") + name[i + 1:]
    if kind == "delete":
        return name[:i] + name[i + 1:]
    if kind == "double":
        return name[:i] + name[i] + name[i:]
    return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:] if i > 1 else name


def variant(rng: random.Random, person: Beneficiary, document: str) -> tuple[dict, tuple[str, str]]:
    """A record of `person` as another team might have registered them: one to three variations."""
    given, family = person.given_name, person.family_name
    birth, estimated, number = person.date_of_birth, person.dob_estimated, ""
    alt = ("", "")
    kinds = rng.sample(("spelling", "arabic", "swap", "typo", "date", "document"), rng.randint(1, 3))
    if "spelling" in kinds:
        given, family = another_spelling(rng, given), another_spelling(rng, family)
    if "arabic" in kinds and person.given_name_alt:
        given, family, alt = person.given_name_alt, person.family_name_alt, (given, family)
    if "typo" in kinds:
        given, family = (_typo(rng, given), family) if rng.random() < 0.5 else (given, _typo(rng, family))
    if "swap" in kinds:
        given, family = family, given
    if "date" in kinds:
        change = rng.choice(("swap", "estimate", "missing"))
        if change == "swap" and birth.day <= 12 and birth.day != birth.month:
            birth = date(birth.year, birth.day, birth.month)
        elif change == "estimate":
            birth, estimated = date(birth.year + rng.choice((-1, 0, 0, 1)), 1, 1), True
        elif change == "missing":
            birth = None
    if "document" in kinds and document:
        number = " ".join((document[:2], document[2:5], document[5:])).lower()
    record = {"given_name": given, "family_name": family, "sex": person.sex,
              "date_of_birth": birth.isoformat() if birth else "", "dob_is_estimated": estimated,
              "nationality": person.nationality, "document_number": number}
    return record, alt


def queries(rng: random.Random, count: int, total: int) -> list[tuple[dict, tuple[str, str], int | None]]:
    """`count` query records: (record, alternative names, the id of the person it is a variant of, or None)."""
    result = []
    for index in range(count):
        if index % 2 == 0:
            person = db.session.get(Beneficiary, rng.randint(1, total))
            document = person.documents[0].number if person.documents else ""
            record, alt = variant(rng, person, document)
            result.append((record, alt, person.id))
        else:
            person = new_person(rng)
            record = {key: person[key] for key in ("given_name", "family_name", "sex", "nationality",
                                                   "document_number")}
            record |= {"date_of_birth": person["date_of_birth"].isoformat(),
                       "dob_is_estimated": person["dob_estimated"]}
            result.append((record, (person["given_name_alt"], person["family_name_alt"]), None))
    db.session.expunge_all()
    return result


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[int(share * (len(ordered) - 1))]


def run(count: int, query_count: int, seed: int, username: str) -> None:
    rng = random.Random(seed + 1000)
    todo = queries(rng, query_count, count)
    checked, scored = [], []  # per query: candidates read and checked (may_reach), names compared (best_score)
    original_check, original_score, original_likely = (duplicates.may_reach, duplicates.best_score,
                                                       duplicates.likely_duplicates)

    def counting_check(*args):
        checked[-1] += 1
        return original_check(*args)

    def counting_score(*args):
        scored[-1] += 1
        return original_score(*args)

    def recording_likely(*args):
        scores = original_likely(*args)
        likely.update(scores)  # in scope or not: recall does not depend on the actor
        return scores

    likely = set()

    duplicates.may_reach, duplicates.best_score, duplicates.likely_duplicates = (counting_check, counting_score,
                                                                              recording_likely)
    actor_id = db.session.scalar(select(User.id).where(User.username == username))
    for record, alt, _ in todo[:20]:  # warm-up: caches and query plans, as in a running server
        checked.append(0), scored.append(0)
        duplicates.find_duplicates(db.session.get(User, actor_id), record, alt)
        db.session.expunge_all()
    checked.clear(), scored.clear()
    samples, key_rows, found, variants = [], [], 0, 0
    for record, alt, original in todo:
        birth = date.fromisoformat(record["date_of_birth"]) if record["date_of_birth"] else None
        keys = candidate_keys((record["given_name"], alt[0]), (record["family_name"], alt[1]), birth)
        key_rows.append(db.session.scalar(select(func.count()).select_from(PersonKey).where(
            PersonKey.key.in_(sorted(keys)))))
        actor = db.session.get(User, actor_id)
        actor.service_points  # noqa: B018 - loaded before timing, as a request's current user is
        checked.append(0), scored.append(0)
        likely.clear()
        began = time.perf_counter()
        duplicates.find_duplicates(actor, record, alt)
        samples.append((time.perf_counter() - began) * 1000)
        if original is not None:
            variants += 1
            found += original in likely
        db.session.expunge_all()
    duplicates.may_reach, duplicates.best_score, duplicates.likely_duplicates = (original_check, original_score,
                                                                              original_likely)
    print(f"{query_count} queries among {count} people ({db.engine.dialect.name}, actor {username}):")
    print(f"  find_duplicates  median {statistics.median(samples):.1f} ms  p95 {percentile(samples, 0.95):.1f} ms"
          f"  max {max(samples):.1f} ms")
    for label, counts in (("candidates read and checked", checked), ("candidates with names compared", scored)):
        print(f"  {label} per query: mean {statistics.mean(counts):.0f}, median {statistics.median(counts):.0f},"
              f" p95 {percentile(counts, 0.95):.0f}, max {max(counts)}")
    print(f"  key rows matched per query (before any limit): mean {statistics.mean(key_rows):.0f},"
          f" median {statistics.median(key_rows):.0f}, p95 {percentile(key_rows, 0.95):.0f}, max {max(key_rows)}")
    print(f"  variants whose original was scored as likely (in scope or not): {found}/{variants}"
          f" ({100 * found / variants:.1f} %)")
    biggest = db.session.execute(select(PersonKey.key, func.count()).group_by(PersonKey.key)
                                 .order_by(func.count().desc()).limit(5)).all()
    print("  largest key buckets: " + ", ".join(f"{key} {n}" for key, n in biggest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument("--rebuild", action="store_true", help="fill the database again even if it holds N people")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keys", help="key file of the database (lines ENCRYPTION_KEYS=... BLIND_INDEX_KEY=...)")
    parser.add_argument("--actor", default="supervisor", help="a demo account (default: IOM's supervisor)")
    args = parser.parse_args()
    url = args.database_url
    if not url:
        path = Path(tempfile.gettempdir()) / f"bench-duplicates-{args.people}.sqlite3"
        if args.rebuild:
            path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    if "caseapp_test" in url.rsplit("/", 1)[-1]:
        raise SystemExit("caseapp_test belongs to the test suite: use another database")
    settings = {"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": url}
    if args.keys:
        settings |= {"ENCRYPTION_KEYS": None, "BLIND_INDEX_KEY": None, "KEY_FILE": args.keys}
    app = create_app(settings)
    with app.test_request_context():
        prepare(url, args.people, args.seed, args.rebuild)
        run(args.people, args.queries, args.seed, args.actor)


if __name__ == "__main__":
    main()
