"""Every filter and sort the pages offer is served by an index: the SQL each page sends, EXPLAINed on both backends.

Each use below opens a page as its user with one filter or sort (case list and search, referral inbox and lists,
home pages, team dashboard, audit search and access log, report build, imports, administration lists), captures
every SELECT the page sends with its parameters, and EXPLAINs each one on the suite's backend:

- SQLite (EXPLAIN QUERY PLAN): no table that grows with the programme's work (GROWING) is read by a full
  `SCAN <table>` without an index, except in primary-key order under a LIMIT (the audit chain's newest hash, the
  newest referrals), which reads only the rows it returns;
- PostgreSQL (with SET LOCAL enable_seqscan = off): no growing table is read by a sequential scan;
- where the page lists rows through an index made for that filter and sort, the plan of that statement names it.

Deliberately not index-backed: the words of a name search are substring matches (LIKE '%word%') applied to the
cases of the user's scope, which an index finds; typed names are matched by index through their phonetic keys. The
report's count of people left out for want of consent reads every person (`Use.reads_whole`).
"""
import json
import re
from dataclasses import dataclass, field
from datetime import date

import pytest
from sqlalchemy import event

from caseapp.extensions import db
from tests.conftest import csrf_token
from tests.http.page_data import PageRows

GROWING = frozenset({
    "beneficiary", "identity_document", "consent_record", "beneficiary_flag", "person_key", "person_merge",
    "household", "case_file", "case_assessment", "plan_goal", "plan_action", "case_note", "follow_up",
    "case_transfer", "change_record", "referral", "referral_event", "notification", "audit_event", "import_batch",
    "import_job", "case_tally", "referral_tally",
})  # not the staff accounts (hundreds), organisations, places, services and other reference lists


@dataclass(frozen=True)
class Use:
    """A filter or sort of a page: who opens it, and optionally the index that must serve its listing statement
    (`marker`: a regular expression matching that statement; `index`: one name, or one per backend)."""

    label: str
    user: str
    path: str
    marker: str = ""
    index: str | dict[str, str] = ""
    form: dict = field(default_factory=dict)  # a POST instead of a GET, with the CSRF token of `form_page`
    form_page: str = ""
    reads_whole: str = ""  # a regular expression matching the one statement of the page that may read a table whole


class Statements:
    """The SELECT statements (with their parameters) the app's engine sends while active."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def _on_execute(self, _conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, parameters))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on_execute)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on_execute)


def _tables(statement: str) -> set[str]:
    return {name for name in GROWING if re.search(rf"\b{name}\b", statement)}


def _sqlite_plan(connection, statement: str, parameters) -> tuple[list[str], list[str]]:
    """(plan lines, problems): a full scan of a growing table, unless in primary-key order under a LIMIT."""
    lines = [row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    problems = []
    for line in lines:
        scanned = re.fullmatch(r"SCAN (\w+)", line.strip())
        if scanned and scanned[1] in GROWING and not re.search(
                rf"ORDER BY ({scanned[1]}\.)?id DESC LIMIT", " ".join(statement.split())):
            problems.append(line.strip())
    return lines, problems


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _walks_whole_table(node: dict, limited: bool) -> bool:
    """A sequential scan of a growing table; or, sequential scans being off, an index walked from end to end only to
    filter the rows (no index condition), unless a LIMIT stops the walk (an ordered top-N read)."""
    if node.get("Relation Name") not in GROWING:
        return False
    if node["Node Type"] == "Seq Scan":
        return True
    return (node["Node Type"] in ("Index Scan", "Index Only Scan") and "Index Cond" not in node
            and "Filter" in node and not limited)


def _postgresql_plan(connection, statement: str, parameters) -> tuple[list[str], list[str]]:
    """(plan lines, problems): a growing table read whole although sequential scans are turned off."""
    with connection.begin():
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
    root = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    limited = root["Node Type"] == "Limit"
    lines = [" ".join(filter(None, (node["Node Type"], node.get("Relation Name"), node.get("Index Name"),
                                    node.get("Index Cond") and f"cond {node['Index Cond']}",
                                    node.get("Filter") and f"filter {node['Filter']}"))) for node in _nodes(root)]
    problems = [line for node, line in zip(_nodes(root), lines) if _walks_whole_table(node, limited)]
    return lines, problems


def _explain(app, client, use: Use) -> list[str]:
    """The problems of the use's page, each with the statement and its plan."""
    with app.app_context():
        engine = db.engine
    with Statements(engine) as captured:
        if use.form:
            response = client.post(use.path, data=use.form | {"csrf_token": csrf_token(client, use.form_page)})
        else:
            response = client.get(use.path)
    assert response.status_code == 200, f"{use.label}: {use.path} answered {response.status_code}"
    problems, served = [], not use.index
    with app.app_context(), db.engine.connect() as connection:
        dialect = connection.dialect.name
        explain = _sqlite_plan if dialect == "sqlite" else _postgresql_plan
        index = use.index.get(dialect, "") if isinstance(use.index, dict) else use.index
        served = served or not index
        for statement, parameters in captured.seen:
            if not _tables(statement) or (use.reads_whole and re.search(use.reads_whole, " ".join(statement.split()))):
                continue
            lines, found = explain(connection, statement, parameters)
            shown = " ".join(statement.split())[:300]
            problems += [f"{use.label}: {line}\n  in {shown}\n  plan: {lines}" for line in found]
            if index and re.search(use.marker, statement):
                if any(index in line for line in lines):
                    served = True
                else:
                    problems.append(f"{use.label}: {index} not used\n  in {shown}\n  plan: {lines}")
    if not served:
        problems.append(f"{use.label}: no statement matched {use.marker!r}")
    return problems


def _check(app, login_as, uses: list[Use]) -> None:
    clients: dict = {}
    problems = []
    for use in uses:
        client = clients.setdefault(use.user, login_as(use.user))
        problems += _explain(app, client, use)
    assert not problems, "\n".join(problems)


@pytest.fixture(autouse=True)
def no_planner_statistics(app):
    """Plans are judged without statistics left by earlier tests' bulk data (`generate` ends with ANALYZE): on
    SQLite the statistics tables are dropped. (PostgreSQL's test tables are never analysed: the suite turns
    autovacuum off for them, see tests/conftest.py, and no test generates enough people for `generate`'s ANALYZE.)"""
    with app.app_context():
        with db.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                for table in ("sqlite_stat1", "sqlite_stat4"):
                    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        db.engine.dispose()  # pooled SQLite connections keep the statistics they loaded


@pytest.fixture
def rows(app, world) -> PageRows:
    """People at two service points with case work, referrals in every status, a merge, an import batch."""
    made = PageRows(app, world)
    made.directory()
    made.many_people(3)
    made.many_people(2, "A-NAD")
    made.case_work(made.case_ids[0], 2)
    made.referrals_of(made.case_ids[0], 9)
    made.consents(made.person_ids[0], 1)
    made.add_to_batch(made.import_batch(), 2)
    made.transfers(1)
    return made


SCOPES = (("supervisor_a", "partner"), ("caseworker_a", "service_point"))  # an organisation; one service point
SORTS = (  # the sort parameter, its ORDER BY, the index (after the scope) that gives that order
    ("", r"ORDER BY case_file\.opened_at DESC", "opened"),
    ("opened_asc", r"ORDER BY case_file\.opened_at ASC", "opened"),
    ("updated_desc", r"ORDER BY case_file\.updated_at DESC", "updated"),
    ("number", r"ORDER BY case_file\.number", "number"),
)


def test_case_list_sorts_and_filters_and_search(app, world, login_as, rows):
    uses = [Use(f"case list of a {scope} sorted {sort or 'by default'}", user, f"/cases/?sort={sort}", marker,
                f"ix_case_file_{scope}_{suffix}") for user, scope in SCOPES for sort, marker, suffix in SORTS]
    point, worker = world.service_points["A-OUJ"], world.users["caseworker_a"]
    for name, value in (("status", "registered"), ("service_point", point), ("worker", worker), ("risk", "high"),
                        ("flag", "homeless"), ("overdue", "y")):
        uses += [Use(f"case list of a {scope} filtered by {name}", user, f"/cases/?{name}={value}")
                 for user, scope in SCOPES]
    _check(app, login_as, uses)
    for text in ("Personne001", "+212 601 11 22 01", "PX0000001", "OUJ-2026", "محمد العمراني"):
        client = login_as("caseworker_a")
        with client.session_transaction() as session:
            session["case_search"] = text
        problems = _explain(app, client, Use(f"search for {text}", "caseworker_a", "/cases/"))
        assert not problems, "\n".join(problems)
    # The words of a name, anywhere in the names (LIKE '%word%'): PostgreSQL's trigram index; SQLite has none that
    # could serve such a LIKE.
    client = login_as("caseworker_a")
    with client.session_transaction() as session:
        session["case_search"] = "ersonne001"
    problems = _explain(app, client, Use("search for part of a name", "caseworker_a", "/cases/",
                                         r"name_search LIKE", {"postgresql": "ix_beneficiary_name_search"}))
    assert not problems, "\n".join(problems)


def test_referral_lists_home_pages_and_dashboard(app, login_as, rows):
    _check(app, login_as, [
        Use("referral inbox by deadline", "receiver", "/referrals/inbox", r"ORDER BY referral\.deadline_at",
            "ix_referral_inbox_open"),
        Use("referral inbox count", "receiver", "/referrals/inbox",
            r"(?s)SELECT count\(\*\) AS count_1\s+FROM referral\s+WHERE referral\.receiving_partner_id",
            {"sqlite": "ix_referral_receiver_status", "postgresql": "ix_referral_inbox_open"}),
        Use("review queue, oldest first", "supervisor_a", "/referrals/review", r"ORDER BY referral\.created_at",
            "ix_referral_status_created"),
        Use("referrals of my cases, newest first", "caseworker_a", "/referrals/"),
        Use("a worker's home: recent cases", "caseworker_a", "/",
            r"assigned_worker_id = \S+ ORDER BY case_file\.updated_at DESC", "ix_case_file_worker_updated"),
        # The overdue referrals, from the referral's copy of its case's organisation, without the cases (PostgreSQL
        # picks any index over this few rows; at 100,000 and 1,000,000 people it reads this one alone); the counts by
        # status from the referral tally's index (PostgreSQL may as well read a table this small whole).
        Use("a supervisor's home: overdue referrals", "supervisor_a", "/", r"referral\.deadline_at <",
            {"sqlite": "ix_referral_scope_status"}),
        Use("a supervisor's home: referral counts", "supervisor_a", "/", r"GROUP BY referral_tally\.status",
            {"sqlite": "ix_referral_tally_key"}),
        Use("the receiver's home: referral counts", "receiver", "/", r"GROUP BY referral_tally\.status",
            {"sqlite": "ix_referral_tally_receiver"}),
        # In id order from the open follow-ups' index (PostgreSQL reads this few rows through the cases instead).
        Use("a supervisor's home: follow-ups due today", "supervisor_a", "/",
            r"follow_up\.due_date = \S+ ORDER BY follow_up\.id", {"sqlite": "ix_follow_up_open_due_id"}),
        # The oldest requests (counted only when they fill the list: see test_case_records).
        Use("a supervisor's home: closure requests waiting", "supervisor_a", "/",
            r"(?s)closure_requested_at IS NOT NULL.*ORDER BY case_file\.closure_requested_at",
            "ix_case_file_awaiting_closure"),
        # Summed from the case tally's index (PostgreSQL may as well read a table this small whole).
        Use("a supervisor's home: open cases per worker", "supervisor_a", "/", r"GROUP BY case_tally\.assigned_worker_id",
            {"sqlite": "ix_case_tally_key"}),
        Use("unread notifications (every page)", "caseworker_a", "/notifications", r"notification\.read_at IS NULL",
            "ix_notification_user_unread"),
        Use("home of the receiving partner", "receiver", "/"),
        Use("team dashboard", "supervisor_a", "/cases/team"),
        Use("transfers proposed", "supervisor_a", "/transfers"),
    ])


def test_audit_search_filters_and_access_log(app, world, login_as, rows):
    newest = r"ORDER BY audit_event\.occurred_at DESC"
    _check(app, login_as, [
        Use("audit search, newest first", "dpo", "/audit", newest, "ix_audit_event_occurred_at"),
        Use("audit search by dates", "dpo", "/audit?date_from=2020-01-01&date_to=2999-12-31", newest,
            "ix_audit_event_occurred_at"),
        Use("audit search by user", "dpo", "/audit?actor=caseworker.a", newest, "ix_audit_event_actor_time"),
        Use("audit search by organisation", "dpo", "/audit?partner=A", newest, "ix_audit_event_partner_time"),
        # SQLite's LIKE is case-insensitive, so no index serves a prefix there: its rows come through the date
        # index (newest first) and the count through the action index; PostgreSQL uses the pattern index.
        Use("audit search by action prefix", "dpo", "/audit?action=case.", r"LIKE",
            {"postgresql": "ix_audit_event_action"}),
        Use("audit search by object", "dpo", f"/audit?object_type=case_file&object_id={rows.case_ids[0]}", newest,
            "ix_audit_event_object"),
        Use("audit search by address", "dpo", "/audit?ip=127.0.0.1", newest, "ix_audit_event_ip_time"),
        Use("a person's access log", "dpo", f"/people/{rows.person_ids[0]}/access-log"),
    ])


def test_report_build_imports_and_administration_lists(app, world, login_as, rows):
    _check(app, login_as, [
        # The count of people left out for want of consent tests three conditions (registered, a case active, a
        # referral in the period) OR-ed for every person without a statistics consent: it reads the people whole.
        # Before the tombstone index was made partial, an index of merged_into_id (NULL for every standing person)
        # only seemed to serve it.
        Use("report build for the year", "me_officer", "/reports/preview", form={"period": str(date.today().year)},
            form_page="/reports/", reads_whole=r"^SELECT count\(beneficiary\.id\) AS count_1 FROM beneficiary WHERE NOT"
                                               r" \(EXISTS \(SELECT \* FROM consent_record"),
        # Whether each case was open during the period: from its own closures and reopenings alone.
        Use("report build: cases active in the year", "me_officer", "/reports/preview",
            form={"period": str(date.today().year)}, form_page="/reports/",
            marker=r"AS commune, beneficiary\.sex AS sex, beneficiary\.profile AS profile\s+FROM case_file",
            index="ix_change_record_case_closes",
            reads_whole=r"^SELECT count\(beneficiary\.id\) AS count_1 FROM beneficiary WHERE NOT"
                        r" \(EXISTS \(SELECT \* FROM consent_record"),
        Use("imports of my organisation", "supervisor_a", "/imports/"),
        Use("an import batch", "supervisor_a", f"/imports/{rows.batch_ids[0]}"),
        Use("accounts", "admin", "/admin/users"),
        Use("accounts of one partner and role", "admin", f"/admin/users?partner={world.partners['A']}&role=caseworker"),
        Use("partners", "admin", "/admin/partners"),
        Use("service points", "admin", "/admin/service-points"),
        Use("service directory", "admin", "/directory/"),
    ])


@pytest.mark.parametrize("statement", ["SELECT id FROM referral WHERE reason = 'x'",
                                       "SELECT count(*) FROM case_note WHERE kind = 'legal'"])
def test_the_check_sees_a_table_read_whole(app, statement):
    """The plan checks are not vacuous: a filter on a column no index serves is reported on either backend."""
    with app.app_context(), db.engine.connect() as connection:
        explain = _sqlite_plan if connection.dialect.name == "sqlite" else _postgresql_plan
        _lines, problems = explain(connection, statement, {} if connection.dialect.name != "sqlite" else ())
    assert problems


def test_former_spellings_of_500_candidates_are_read_through_the_tombstone_index(app_ctx, world, register):
    """The duplicate search reads the records merged into its (up to 500) candidates. With planner statistics
    (SQLite's ANALYZE, which `generate` runs) a full index on merged_into_id - NULL on every standing record - looked
    useless, and SQLite read the whole table (18 ms at 100,000 people); the partial index of tombstones is used."""
    from caseapp.beneficiaries.duplicates import MAX_CANDIDATES, _former_records

    for number in range(20):  # standing records only: merged_into_id is NULL on every row
        register(given_name=f"Person {number}")
    with Statements(db.engine) as statements:
        _former_records(list(range(1, MAX_CANDIDATES + 1)))
    statement, parameters = next((s, p) for s, p in statements.seen if "merged_into_id" in s)
    if db.engine.dialect.name == "sqlite":
        savepoint = db.session.begin_nested()
        connection = db.session.connection()
        connection.exec_driver_sql("ANALYZE")  # undone with the savepoint, and the statistics it loaded with it
        lines, problems = _sqlite_plan(connection, statement, parameters)
        savepoint.rollback()
    else:
        with db.engine.connect() as connection:
            lines, problems = _postgresql_plan(connection, statement, parameters)
    assert not problems and any("ix_beneficiary_merged_into_id" in line for line in lines), lines
