"""The case list's filters and assignment drop-down are kept per process (caseapp.fragments) under the reference
stamp: every write to what they show renews the stamp, whoever makes it, and no reader sees another's fragment."""
import pytest
from markupsafe import Markup
from sqlalchemy import inspect, text

from caseapp.extensions import db
from caseapp.fragments import FragmentStore
from caseapp.reference_stamp import STAMPED_ACCOUNT_COLUMNS, current_stamp
from tests.conftest import login

# Columns of user_account that no scope or drop-down reads: a write to them leaves every kept fragment as it was.
ACCOUNT_BOOKKEEPING = {"id", "username", "email", "password_hash", "preferred_language", "failed_logins",
                       "locked_until", "must_change_password", "created_at", "last_login_at", "row_key",
                       "totp_secret", "totp_pending_secret", "totp_last_step", "mfa_enabled_at"}


def _elsewhere(app, statement: str, **values) -> None:
    """A write committed on a connection of its own, as another app server would make it."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(statement), values)


def _stamp(app) -> int:
    with app.app_context():
        stamp = current_stamp()
        db.session.remove()
        return stamp


def _filters(client) -> str:
    html = client.get("/cases/").get_data(as_text=True)
    return html[html.index('<form method="get"'):html.index("</form>", html.index('<form method="get"'))]


def test_a_second_visit_reads_no_drop_down(app, world, login_as, count_queries):
    client = login_as("supervisor_a")
    with count_queries() as cold:
        first = client.get("/cases/").get_data(as_text=True)
    with count_queries() as warm:
        second = client.get("/cases/").get_data(as_text=True)
    assert "Point A-NAD" in first and 'name="case_ids"' not in first  # no case yet: no assignment form
    assert first.replace(_csrf(first), "") == second.replace(_csrf(second), "")
    names = " ".join(warm.statements)
    assert "service_point.name" in " ".join(cold.statements) and "service_point.name" not in names
    assert "vulnerability_flag" in " ".join(cold.statements) and "vulnerability_flag" not in names
    assert warm.count == cold.count - 3, (cold.statements, warm.statements)
    # the stamp comes with the account, in one statement, before anything of the account's scope is read
    assert "reference_stamp" in warm.statements[0] and "user_account" in warm.statements[0]
    assert sum("reference_stamp" in statement for statement in warm.statements) == 1


def _csrf(html: str) -> str:
    start = html.index('name="csrf_token" value="') + len('name="csrf_token" value="')
    return html[start:html.index('"', start)]


CHANGES = [
    ("a service point renamed", "UPDATE service_point SET name = 'Nador Centre' WHERE code = 'A-NAD'",
     "Nador Centre", "Point A-NAD"),
    ("a worker renamed", "UPDATE user_account SET full_name = 'Amina Nadori' WHERE username = 'caseworker.a2'",
     "Amina Nadori", "Caseworker A2"),
    ("a worker deactivated", "UPDATE user_account SET active = false WHERE username = 'caseworker.a2'",
     None, "Caseworker A2"),
    ("a worker moved to another organisation",
     "UPDATE user_account SET partner_id = (SELECT id FROM partner WHERE code = 'B') WHERE username = 'caseworker.a2'",
     None, "Caseworker A2"),
    ("a flag renamed", "UPDATE vulnerability_flag SET name_fr = 'Sans domicile (revu)' WHERE code = 'homeless'",
     "Sans domicile (revu)", None),
    ("a service point added",
     "INSERT INTO service_point (code, name, commune_code, partner_id, active) "
     "SELECT 'A-BER', 'Berkane Annexe', 'BER', id, true FROM partner WHERE code = 'A'", "Berkane Annexe", None),
    ("a service point moved to another organisation",
     "UPDATE service_point SET partner_id = (SELECT id FROM partner WHERE code = 'B') WHERE code = 'A-NAD'",
     None, "Point A-NAD"),
]


@pytest.mark.parametrize("label, statement, shown, gone", CHANGES, ids=[change[0] for change in CHANGES])
def test_a_change_made_elsewhere_shows_at_the_next_visit(app, world, login_as, label, statement, shown, gone):
    client = login_as("supervisor_a")
    before = _filters(client)
    assert _filters(client) == before  # kept
    stamp = _stamp(app)

    _elsewhere(app, statement)

    assert _stamp(app) != stamp
    after = _filters(client)
    if shown:
        assert shown not in before and shown in after
    if gone:
        assert gone in before and gone not in after


def test_the_readers_own_scope_and_restricted_flags_change_their_filters(app, world, login_as):
    client = login_as("caseworker_a")
    before = _filters(client)
    assert "Point A-OUJ" in before and "Point A-NAD" not in before

    _elsewhere(app, "INSERT INTO user_service_point (user_id, service_point_id) VALUES (:user, :point)",
               user=world.users["caseworker_a"], point=world.service_points["A-NAD"])
    widened = _filters(client)
    assert "Point A-NAD" in widened

    restricted = _restricted_flag_name(app)
    assert restricted not in widened
    _elsewhere(app, "UPDATE user_account SET restricted_access = true WHERE username = 'caseworker.a'")
    assert restricted in _filters(client)


def _restricted_flag_name(app) -> str:
    with app.app_context():
        name = db.session.execute(text("SELECT name_fr FROM vulnerability_flag WHERE restricted")).scalars().first()
        db.session.remove()
    assert name
    return name


def test_readers_never_share_a_kept_fragment(app, world, login_as):
    readers = {key: login_as(key) for key in ("supervisor_a", "supervisor_b", "caseworker_a")}
    for _ in range(2):  # the second round reads what the first kept
        seen = {key: _filters(client) for key, client in readers.items()}
        assert "Point A-NAD" in seen["supervisor_a"] and "Point B-BEM" not in seen["supervisor_a"]
        assert "Point B-BEM" in seen["supervisor_b"] and "Point A-OUJ" not in seen["supervisor_b"]
        assert "Caseworker B" in seen["supervisor_b"] and "Caseworker A2" not in seen["supervisor_b"]
        assert "Point A-NAD" not in seen["caseworker_a"]


def test_the_filters_show_the_request_and_the_language(app, world, login_as):
    client = login_as("supervisor_a")
    plain = _filters(client)
    chosen = client.get("/cases/?risk=high&sort=number").get_data(as_text=True)
    assert '<option selected value="high">' in chosen and '<option selected value="high">' not in plain
    assert _filters(client) == plain
    token = _csrf(client.get("/cases/").get_data(as_text=True))
    client.post("/language", data={"language": "en", "next": "/cases/", "csrf_token": token})
    english = _filters(client)
    assert "Sort by" in english and "Trier par" in plain


def test_a_login_keeps_the_stamp_and_a_password_reset_too(app, world):
    stamp = _stamp(app)
    assert login(app.test_client(), "caseworker.b").status_code == 302
    assert login(app.test_client(), "caseworker.b", "wrong password").status_code == 200
    assert _stamp(app) == stamp
    _elsewhere(app, "UPDATE user_account SET session_version = session_version + 1 WHERE username = 'caseworker.b'")
    assert _stamp(app) != stamp


def test_every_account_column_is_stamped_or_known_as_bookkeeping(app):
    with app.app_context():
        columns = {column["name"] for column in inspect(db.engine).get_columns("user_account")}
    assert set(STAMPED_ACCOUNT_COLUMNS) | ACCOUNT_BOOKKEEPING == columns, \
        "a new account column: stamp it (migration) if a scope or a drop-down reads it, or list it as bookkeeping"


def test_the_store_is_bounded_and_emptied_by_a_new_stamp():
    store = FragmentStore(limit=3)
    for index in range(5):
        store.put(1, index, Markup(str(index)))
    assert [store.get(1, index) for index in range(5)] == [None, None, "2", "3", "4"]
    assert store.get(2, 4) is None
    store.put(2, "new", Markup("n"))
    assert store.get(1, 4) is None and store.get(2, "new") == "n"
