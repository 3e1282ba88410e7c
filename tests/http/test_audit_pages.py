"""The audit pages through HTTP: a person's access log (scope, other people's events, restricted notes, its own
audit event), the data protection officer's audit search (filters, validation, pagination, its audit event) and
its CSV export (attachment, BOM, filters, CSV injection, audit event with the row count, rate limit).

Labels are computed with the app's own catalogue (French, as the test client asks for no language), never written
here, so the tests hold while translators work.
"""
import csv
import html
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from caseapp.audit.labels import RESTRICTED_NOTE, action_label
from caseapp.audit.models import AuditEvent
from caseapp.audit.service import record
from caseapp.auth.models import User
from caseapp.cases.models import Case
from caseapp.extensions import db
from tests.conftest import USERS

CSV_COLUMNS = ["id", "occurred_at", "actor", "partner", "action", "object_type", "object_id", "ip", "details", "hash"]
ZONE = ZoneInfo("Africa/Casablanca")


# --- helpers -----------------------------------------------------------------------------------------------------


class _TableReader(HTMLParser):
    """The body rows of the table with the given id: each row as the list of its cells' texts."""

    def __init__(self, table_id: str):
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.rows: list[list[str]] = []
        self._inside = self._body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self._inside = True
        elif self._inside and tag == "tbody":
            self._body = True
        elif self._body and tag == "tr":
            self.rows.append([])
        elif self._body and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(_cell_text("".join(self._cell)))
            self._cell = None
        elif tag == "tbody":
            self._body = False
        elif tag == "table":
            self._inside = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _cell_text(text: str) -> str:
    """A text as a table cell reads here: runs of whitespace (the French catalogue's no-break spaces too) as one
    space."""
    return " ".join(text.split())


def _rows(response, table_id: str) -> list[list[str]]:
    reader = _TableReader(table_id)
    reader.feed(response.get_data(as_text=True))
    return reader.rows


def _log_rows(response) -> list[dict]:
    """The access log's rows: time, who, partner, action, record."""
    return [dict(zip(("time", "who", "partner", "action", "record"), row)) for row in _rows(response, "access-log")]


def _listed_ids(response) -> list[int]:
    """Event ids of the audit search's table, in page order."""
    return [int(row[0]) for row in _rows(response, "audit-events")]


def _events(app, *conditions) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id)))
        db.session.expunge_all()
        return events


def _last(app, action: str) -> AuditEvent:
    events = _events(app, AuditEvent.action == action)
    assert events, f"no {action} event"
    return events[-1]


def _case_id(app, number: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Case.id).where(Case.number == number))


def _french(app, work):
    """`work()` in a request context speaking French, as the test client's pages do."""
    with app.test_request_context(), force_locale("fr"):
        return work()


def _in_request(app, world, work):
    """Run `work(actor_of)` in a request context (actor_of(key) → that user) and commit."""
    with app.test_request_context():
        result = work(lambda key: db.session.get(User, world.users[key]))
        db.session.commit()
        return result


def _expected_ids(events, predicate, newest_first=True) -> list[int]:
    chosen = [event for event in events if predicate(event)]
    chosen.sort(key=lambda event: (_utc(event.occurred_at), event.id), reverse=newest_first)
    return [event.id for event in chosen]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@pytest.fixture
def people(app, world, register):
    """Two people registered at A-OUJ (case ids), and a third registered at B-BEM."""
    first_id, first_number = register("caseworker_a", given_name="Amina", family_name="Berrada")
    other_id, other_number = register("caseworker_a", given_name="Youssef", family_name="Alaoui",
                                      phone="+212 600 000 002")
    foreign_id, foreign_number = register("caseworker_b", "B-BEM", given_name="Fatima", family_name="Chraibi",
                                          phone="+212 600 000 003")
    return {
        "person": first_id, "case": _case_id(app, first_number), "number": first_number,
        "other": other_id, "other_case": _case_id(app, other_number), "other_number": other_number,
        "foreign": foreign_id, "foreign_case": _case_id(app, foreign_number),
    }


@pytest.fixture
def big_pages(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1000)


# --- a person's access log ---------------------------------------------------------------------------------------


def test_supervisor_sees_who_viewed_the_person_and_nothing_of_other_people(app, world, login_as, people, big_pages):
    caseworker = login_as("caseworker_a")
    assert caseworker.get(f"/beneficiaries/{people['person']}").status_code == 200
    assert caseworker.get(f"/cases/{people['case']}").status_code == 200
    assert caseworker.get(f"/beneficiaries/{people['other']}").status_code == 200
    assert caseworker.get(f"/cases/{people['other_case']}").status_code == 200

    response = login_as("supervisor_a").get(f"/people/{people['person']}/access-log")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    rows = _log_rows(response)
    labels = _french(app, lambda: {code: action_label(code) for code in (
        "beneficiary.create", "case.open", "beneficiary.view", "case.view")})
    # Newest first: the two views, then the registration's events (its case opened after the person was created).
    assert [row["action"] for row in rows] == [labels["case.view"], labels["beneficiary.view"], labels["case.open"],
                                               labels["beneficiary.create"]]
    assert [row["who"] for row in rows] == ["Caseworker A"] * 4
    assert {row["partner"] for row in rows} == {"Partner A"}
    assert people["number"] in rows[0]["record"]
    page = html.unescape(response.get_data(as_text=True))
    assert people["other_number"] not in page


def test_viewing_the_log_is_audited_and_shown_next_time(app, world, login_as, people, big_pages):
    client = login_as("supervisor_a")
    before = len(_log_rows(client.get(f"/people/{people['person']}/access-log")))
    event = _last(app, "person.access_log_view")
    supervisor = world.users["supervisor_a"]
    assert (event.actor_id, event.partner_id, event.object_type, event.object_id, event.ip) == (
        supervisor, world.partners["A"], "beneficiary", people["person"], "127.0.0.1")
    assert json.loads(event.details) == {"page": 1, "results": before}
    rows = _log_rows(client.get(f"/people/{people['person']}/access-log"))
    assert len(rows) == before + 1
    assert rows[0]["action"] == _french(app, lambda: action_label("person.access_log_view"))
    assert rows[0]["who"] == "Supervisor A"


def test_the_log_covers_the_records_of_the_persons_cases(app, world, login_as, people, big_pages):
    from caseapp.cases import followups, notes, plan

    def work(actor_of):
        actor = actor_of("caseworker_a")
        made = {}
        for key in ("case", "other_case"):
            case = db.session.get(Case, people[key])
            note = notes.add_note(actor, case, kind="general", body="Entretien", occurred_on=date.today())
            follow_up = followups.add_follow_up(actor, case, purpose="Rappeler", due_date=date.today(),
                                                assigned_to_id=None)
            goal = plan.add_goal(actor, case, area="employment", title="Trouver un emploi")
            db.session.flush()
            made[key] = {"Note": note.id, "Follow-up": follow_up.id, "Goal": goal.id}
        return made

    made = _in_request(app, world, work)
    rows = _log_rows(login_as("supervisor_a").get(f"/people/{people['person']}/access-log"))
    shown = {row["record"] for row in rows}
    for kind, record_id in made["case"].items():
        assert _record_text(app, kind, record_id) in shown, kind
    for kind, record_id in made["other_case"].items():
        assert _record_text(app, kind, record_id) not in shown, kind
    assert len(rows) == 2 + 3  # registration (person, case) and the three records


def _record_label(kind: str):
    from caseapp.labels import RECORD_LABELS

    return RECORD_LABELS[{"Note": "case_note", "Follow-up": "follow_up", "Goal": "plan_goal"}[kind]]


def _record_text(app, kind: str, record_id: int) -> str:
    """The log's record cell for that record, as the French page shows it ("%(type)s #%(id)s" translated)."""
    from flask_babel import gettext

    return _cell_text(_french(app, lambda: gettext("%(type)s #%(id)s", type=str(_record_label(kind)), id=record_id)))


def test_other_partners_and_other_roles_cannot_read_the_log(app, world, login_as, people):
    url = f"/people/{people['person']}/access-log"
    statuses = {key: login_as(key).get(url).status_code for key in USERS}
    assert statuses == {
        "caseworker_a": 403, "caseworker_a2": 403, "caseworker_b": 403, "caseworker_restricted": 403,
        "supervisor_a": 200, "supervisor_b": 404, "receiver": 403, "me_officer": 403, "dpo": 200, "admin": 403,
    }
    assert login_as("supervisor_a").get(f"/people/{people['foreign']}/access-log").status_code == 404
    assert login_as("supervisor_b").get(f"/people/{people['foreign']}/access-log").status_code == 200
    assert login_as("dpo").get("/people/999999/access-log").status_code == 404
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    # Refusals leave no access-log event behind.
    viewers = {event.actor_id for event in _events(app, AuditEvent.action == "person.access_log_view")}
    assert viewers == {world.users["supervisor_a"], world.users["supervisor_b"], world.users["dpo"]}


def test_the_dpo_sees_every_event_of_the_person(app, world, login_as, people, big_pages):
    login_as("caseworker_a").get(f"/beneficiaries/{people['person']}")
    login_as("caseworker_b").get(f"/beneficiaries/{people['person']}")  # out of B's scope: 404, nothing logged
    response = login_as("dpo").get(f"/people/{people['person']}/access-log")
    assert response.status_code == 200
    rows = _log_rows(response)
    assert len(rows) == 3
    assert rows[0]["who"] == "Caseworker A"


def test_restricted_note_events_are_masked_without_restricted_access(app, world, login_as, people, big_pages):
    from caseapp.cases import notes

    secret = "Récit de la traversée MASQUE-7Z"

    def work(actor_of):
        case = db.session.get(Case, people["case"])
        return notes.add_note(actor_of("caseworker_restricted"), case, kind="psychosocial", body=secret,
                              occurred_on=date.today()).id

    note_id = _in_request(app, world, work)
    created_label = _french(app, lambda: action_label("case_note.create"))
    masked = _french(app, lambda: str(RESTRICTED_NOTE))
    note_record = _record_text(app, "Note", note_id)

    rows = _log_rows(login_as("supervisor_a").get(f"/people/{people['person']}/access-log"))  # restricted access
    assert rows[0]["action"] == _cell_text(created_label) and rows[0]["record"] == note_record
    assert rows[0]["who"] == "Caseworker Restricted"

    response = login_as("dpo").get(f"/people/{people['person']}/access-log")  # no restricted access
    rows = _log_rows(response)
    assert rows[0]["action"] == _french(app, lambda: action_label("person.access_log_view"))  # the supervisor's
    assert rows[1]["action"] == _cell_text(masked) and rows[1]["record"] == "—"
    assert rows[1]["who"] == "Caseworker Restricted"
    page = html.unescape(response.get_data(as_text=True))
    flat_page = _cell_text(page)
    assert created_label not in page and _cell_text(created_label) not in flat_page
    assert note_record not in flat_page and secret not in page


def test_the_access_log_is_paginated(app, world, login_as, people, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = login_as("supervisor_a")
    for _ in range(3):
        client.get(f"/beneficiaries/{people['person']}")
    url = f"/people/{people['person']}/access-log"
    first, second = client.get(url), client.get(url + "?page=2")
    assert len(_log_rows(first)) == 2 and len(_log_rows(second)) == 2
    assert f'href="{url}?page=2"' in first.get_data(as_text=True)
    assert client.get(url + "?page=99").status_code == 200  # past the end: the last page


# --- the audit search ----------------------------------------------------------------------------------------------


def test_only_the_dpo_may_search_or_export(app, world, login_as):
    statuses = {key: (login_as(key).get("/audit").status_code, login_as(key).get("/audit/export.csv").status_code)
                for key in USERS}
    assert statuses == {key: (200, 200) if key == "dpo" else (403, 403) for key in USERS}
    for path in ("/audit", "/audit/export.csv"):
        response = app.test_client().get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def trail(app, world, login_as, people):
    """Events by several actors, partners and addresses: logins, views, a failed login (every HTTP event comes from
    127.0.0.1; the registrations made by services outside a request have no address)."""
    login_as("caseworker_a").get(f"/beneficiaries/{people['person']}")
    login_as("caseworker_b").get(f"/beneficiaries/{people['foreign']}")
    login_as("supervisor_a").get(f"/cases/{people['case']}")
    return people


def _search(client, **args):
    response = client.get("/audit", query_string=args)
    assert response.status_code == 200, response.status_code
    return response


def test_each_filter_narrows_the_search(app, world, login_as, trail, big_pages):
    client = login_as("dpo")
    everything = _events(app)
    assert _listed_ids(_search(client)) == _expected_ids(everything, lambda event: True)
    case_b = trail["foreign_case"]
    checks = {
        "actor": ({"actor": "CaseWorker.B"}, lambda e: e.actor_id == world.users["caseworker_b"]),
        "partner": ({"partner": "B"}, lambda e: e.partner_id == world.partners["B"]),
        "action": ({"action": "login."}, lambda e: e.action.startswith("login.")),
        "object_type": ({"object_type": "case_file"}, lambda e: e.object_type == "case_file"),
        "object_id": ({"object_type": "case_file", "object_id": str(case_b)},
                      lambda e: e.object_type == "case_file" and e.object_id == case_b),
        "ip": ({"ip": "127.0.0.1"}, lambda e: e.ip == "127.0.0.1"),
        "combined": ({"partner": "A", "action": "beneficiary."},
                     lambda e: e.partner_id == world.partners["A"] and e.action.startswith("beneficiary.")),
    }
    last = everything[-1].id
    for name, (args, predicate) in checks.items():
        expected = _expected_ids(everything, predicate)
        assert 0 < len(expected) < len(everything), name
        # The searches made here add audit.search events of their own: compare the events that existed before.
        assert [event_id for event_id in _listed_ids(_search(client, **args)) if event_id <= last] == expected, name
    assert _listed_ids(_search(client, actor="nobody")) == []
    assert _listed_ids(_search(client, action="%")) == []  # a prefix, not a pattern


def test_dates_are_local_calendar_days(app, world, login_as, monkeypatch, big_pages):
    """An event at 23:30 UTC on 15 June happens on 16 June in Casablanca (UTC+1): the filters use local days."""
    late = datetime(2025, 6, 15, 23, 30, tzinfo=timezone.utc)
    monkeypatch.setattr("caseapp.audit.service.utcnow", lambda: late)
    event_id = _in_request(app, world, lambda actor_of: record(actor_of("caseworker_a"), "case.search", None,
                                                                filters=["text"], results=0).id)
    monkeypatch.undo()
    client = login_as("dpo")
    assert event_id in _listed_ids(_search(client, date_from="2025-06-16", date_to="2025-06-16"))
    assert event_id not in _listed_ids(_search(client, date_to="2025-06-15"))
    assert event_id not in _listed_ids(_search(client, date_from="2025-06-17"))
    today = datetime.now(ZONE).date()
    listed_today = _listed_ids(_search(client, date_from=today.isoformat(), date_to=today.isoformat()))
    assert event_id not in listed_today and len(listed_today) > 0
    assert _listed_ids(_search(client, date_from=(today + timedelta(days=1)).isoformat())) == []


@pytest.mark.parametrize("args, field", [
    ({"date_from": "2025-13-45"}, "date_from"),
    ({"date_to": "yesterday"}, "date_to"),
    ({"date_to": "9999-12-31"}, "date_to"),
    ({"date_from": "2025-06-16", "date_to": "2025-06-15"}, "date_to"),
    ({"object_id": "12abc"}, "object_id"),
    ({"ip": "<script>"}, "ip"),
])
def test_bad_filters_get_a_message_not_an_error(app, world, login_as, args, field):
    client = login_as("dpo")
    searches = len(_events(app, AuditEvent.action == "audit.search"))
    response = _search(client, **args)
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', page), page
    assert f'id="{field}-errors"' in page
    assert 'id="audit-events"' not in page
    assert len(_events(app, AuditEvent.action == "audit.search")) == searches  # nothing searched, nothing logged
    export = client.get("/audit/export.csv", query_string=args)
    assert export.status_code == 302 and export.headers["Location"].startswith("/audit?")


def test_bad_date_message_is_the_translated_one(app, world, login_as):
    from flask_babel import gettext

    page = html.unescape(_search(login_as("dpo"), date_from="31/12/2025").get_data(as_text=True))
    assert _french(app, lambda: gettext("Enter a date as YYYY-MM-DD, for example 2025-03-31.")) in page


def test_search_is_audited_with_filter_names_only(app, world, login_as, trail):
    client = login_as("dpo")
    _search(client, actor="caseworker.b", action="beneficiary.", ip="127.0.0.1", date_from="2025-01-01")
    event = _last(app, "audit.search")
    details = json.loads(event.details)
    assert details["filters"] == ["date_from", "actor", "action", "ip"]
    assert details["results"] == 1
    assert (event.actor_id, event.partner_id, event.ip, event.object_type) == (
        world.users["dpo"], world.partners["A"], "127.0.0.1", None)
    for value in ("caseworker.b", "beneficiary.", "2025-01-01"):
        assert value not in event.details
    _search(client)
    assert json.loads(_last(app, "audit.search").details)["filters"] == []


def test_search_pages_are_stable_newest_first(app, world, login_as, trail, monkeypatch):
    # Three events at the very same instant: the id breaks the tie, newest first.
    same = datetime(2025, 6, 1, 10, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("caseapp.audit.service.utcnow", lambda: same)
    tied = _in_request(app, world, lambda actor_of: [
        record(actor_of("caseworker_a"), "case.search", None, filters=["status"], results=n).id for n in range(3)])
    monkeypatch.undo()
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    client = login_as("dpo")
    # "case." leaves out the searches' own audit.search events, which would shift the pages while walking them.
    expected = _expected_ids(_events(app), lambda event: event.action.startswith("case."))
    assert len(expected) == 3 + 3 + 1  # three case.open, the tied searches, one case.view
    pages = [_listed_ids(_search(client, action="case.", page=number)) for number in range(1, 5)]
    assert [len(ids) for ids in pages] == [2, 2, 2, 1]
    assert [event_id for ids in pages for event_id in ids] == expected
    assert [event_id for event_id in expected if event_id in tied] == sorted(tied, reverse=True)
    assert _listed_ids(_search(client, action="case.", page=9)) == pages[-1]  # past the end: the last page


def test_page_links_keep_the_filters(app, world, login_as, trail, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    page = login_as("dpo").get("/audit?partner=A&action=login.").get_data(as_text=True)
    links = re.findall(r'href="(/audit\?[^"]*page=2[^"]*)"', html.unescape(page))
    assert links and "partner=A" in links[0] and "action=login." in links[0]
    export = re.findall(r'href="(/audit/export\.csv[^"]*)"', html.unescape(page))
    assert export and "partner=A" in export[0] and "page" not in export[0]


# --- the CSV export ------------------------------------------------------------------------------------------------


def _csv(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]
    reader = csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    header = next(reader)
    assert header == CSV_COLUMNS
    return [dict(zip(header, row)) for row in reader]


def test_export_is_an_attachment_with_the_filtered_rows(app, world, login_as, trail):
    client = login_as("dpo")
    before = _events(app)
    response = client.get("/audit/export.csv?partner=B&action=beneficiary.")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params.get("charset") == "utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Content-Disposition"].endswith('.csv"')
    assert response.headers["Cache-Control"] == "no-store"
    rows = _csv(response)
    expected = [event for event in before
                if event.partner_id == world.partners["B"] and event.action.startswith("beneficiary.")]
    expected.sort(key=lambda event: (_utc(event.occurred_at), event.id), reverse=True)
    assert [int(row["id"]) for row in rows] == [event.id for event in expected]
    first, event = rows[0], expected[0]
    assert first["actor"] == "caseworker.b" and first["partner"] == "B"
    assert first["occurred_at"] == _utc(event.occurred_at).isoformat()
    assert first["occurred_at"].endswith("+00:00")
    assert (first["action"], first["object_type"], first["object_id"], first["ip"], first["details"],
            first["hash"]) == (event.action, event.object_type, str(event.object_id), event.ip or "", event.details,
                               event.hash)


def test_export_batches_keep_the_order_across_ties(app, world, login_as, trail, monkeypatch):
    """The file is read a few rows at a time (keyset on occurred_at, id): rows at one instant straddle batches."""
    same = datetime(2025, 6, 1, 10, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("caseapp.audit.service.utcnow", lambda: same)
    _in_request(app, world, lambda actor_of: [
        record(actor_of("caseworker_a"), "case.search", None, filters=["status"], results=n) for n in range(5)])
    monkeypatch.undo()
    monkeypatch.setattr("caseapp.audit.queries.EXPORT_BATCH", 3)
    expected = _expected_ids(_events(app), lambda event: True)
    rows = _csv(login_as("dpo").get("/audit/export.csv"))
    exported = [int(row["id"]) for row in rows]
    assert [event_id for event_id in exported if event_id in expected] == expected
    assert len(exported) == len(set(exported))
    assert all(event_id > max(expected) for event_id in set(exported) - set(expected))  # the dpo's login events


def test_export_is_audited_with_its_row_count(app, world, login_as, trail):
    client = login_as("dpo")
    rows = _csv(client.get("/audit/export.csv"))
    event = _last(app, "audit.export")
    assert json.loads(event.details) == {"filters": [], "rows": len(rows)}
    assert event.id not in {int(row["id"]) for row in rows}  # the file ends where its own event begins
    assert (event.actor_id, event.partner_id, event.ip) == (world.users["dpo"], world.partners["A"], "127.0.0.1")
    rows = _csv(client.get("/audit/export.csv?actor=caseworker.a&ip=127.0.0.1"))
    details = json.loads(_last(app, "audit.export").details)
    assert details == {"filters": ["actor", "ip"], "rows": len(rows)} and len(rows) > 0
    assert "caseworker.a" not in _last(app, "audit.export").details


def test_export_neutralises_formula_cells(app, world, login_as):
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner

    formulas = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]

    def work(actor_of):
        partner = db.session.get(Partner, world.partners["A"])
        odd = create_user(actor_of("admin"), username=formulas[0], full_name="Odd Name",
                          password="correct horse battery", role="caseworker", partner=partner, service_points=[])
        for action in formulas[1:]:
            record(odd, action, None)
        return odd.id

    _in_request(app, world, work)
    rows = _csv(login_as("dpo").get("/audit/export.csv", query_string={"actor": formulas[0]}))
    assert sorted(row["action"] for row in rows) == sorted("'" + action for action in formulas[1:])
    assert {row["actor"] for row in rows} == {"'" + formulas[0]}
    assert all(not row[column].startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for column in row)


def test_export_is_rate_limited(app, world, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_RATE_LIMIT", "2/hour")
    client = login_as("dpo")
    assert [client.get("/audit/export.csv").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/audit/export.csv")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert len(_events(app, AuditEvent.action == "audit.export")) == 2  # the refused export is not audited as done
    assert client.get("/audit").status_code == 200  # the page itself is not limited


# --- query budget --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key, path", [("supervisor_a", "/people/{person}/access-log"), ("dpo", "/audit"),
                                       ("dpo", "/audit?partner=A&action=beneficiary.")])
def test_audit_pages_have_a_fixed_query_budget(app, world, login_as, people, count_queries, key, path):
    client = login_as(key)
    url = path.format(person=people["person"])
    counts = {}
    for views in (0, 12):
        for _ in range(views):
            login_as("caseworker_a").get(f"/beneficiaries/{people['person']}")
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts[views] = counter.count
    assert counts[0] == counts[12], counts
    assert counts[12] <= 12, counter.statements
