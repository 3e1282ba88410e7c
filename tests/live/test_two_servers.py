"""Two app servers on one database: concurrent edits of the same case from both never lose data.

Caseworkers of the same service point, logged in on two gunicorn servers (several sessions on each), write notes
on one case and edit one field of its plan at the same time. Every acknowledged note must be stored; every save of
the field either lands or is refused as stale (409 with the conflict message) — never a silent overwrite.
"""
import html
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from flask_babel import gettext
from sqlalchemy import select

from caseapp.audit.chain import verify_chain
from caseapp.auth.models import User
from caseapp.cases import plan
from caseapp.cases.history import decoded_changes
from caseapp.cases.models import Case, CaseNote, ChangeRecord, PlanGoal
from caseapp.extensions import db
from tests.conftest import PASSWORD
from tests.live.client import Browser, Page, log_in

ACCOUNTS = ("caseworker_a", "caseworker_restricted")  # two colleagues of service point A-OUJ
SESSIONS_PER_SERVER = 3
NOTES_PER_SESSION = 4
EDITS_PER_SESSION = 5
STALE_MESSAGES = ("Someone saved this record while you were editing it",  # the version check saw it first
                  "Someone else changed this record at the same time. Reload it and try again.")  # the UPDATE did


def _sessions(app_servers, world) -> list[Browser]:
    browsers = []
    for index in range(SESSIONS_PER_SERVER * len(app_servers.urls)):
        browser = Browser(app_servers.urls[index % len(app_servers.urls)])
        log_in(browser, world.username(ACCOUNTS[index % len(ACCOUNTS)]), PASSWORD)
        browsers.append(browser)
    return browsers


def _all_at_once(work, browsers: list[Browser]) -> list:
    """work(index, browser) in one thread per browser; their results in order (a failure is re-raised here)."""
    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        return list(pool.map(work, range(len(browsers)), browsers))


def _case_with_goal(app, world, register) -> tuple[int, int]:
    _person_id, number = register("caseworker_a")
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == number))
        goal = plan.add_goal(db.session.get(User, world.users["caseworker_a"]), case, area="avrr", title="start")
        db.session.commit()
        return case.id, goal.id


def _stale_messages(app) -> tuple[str, ...]:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        return tuple(html.escape(gettext(message)) for message in STALE_MESSAGES)


def _save_goal(browser: Browser, goal_id: int, title: str) -> tuple[int, Page]:
    """Open the goal's edit form, save `title`: (the version the form was loaded at, the answer)."""
    form = browser.get(f"/goals/{goal_id}/edit").hidden_fields()
    return int(form["version"]), browser.post(f"/goals/{goal_id}/edit", {**form, "area": "avrr", "title": title})


def test_notes_written_at_once_on_two_servers_are_all_kept(app, world, register, app_servers):
    case_id, _goal_id = _case_with_goal(app, world, register)
    browsers = _sessions(app_servers, world)
    notes_url = f"/cases/{case_id}/notes"

    def write_notes(index: int, browser: Browser) -> list[str]:
        acknowledged = []
        for number in range(NOTES_PER_SESSION):
            form = browser.get(f"/cases/{case_id}").hidden_fields(notes_url)
            body = f"note {index}-{number} from {browser.port}"
            page = browser.post(notes_url, {**form, "kind": "general", "occurred_on": date.today().isoformat(),
                                            "body": body})
            assert (page.status, page.location) == (302, f"/cases/{case_id}"), page.body[:500]
            acknowledged.append(body)
        return acknowledged

    acknowledged = [body for bodies in _all_at_once(write_notes, browsers) for body in bodies]
    assert len(acknowledged) == len(browsers) * NOTES_PER_SESSION
    with app.app_context():
        stored = [note.body for note in db.session.scalars(select(CaseNote).where(CaseNote.case_id == case_id))]
        created = db.session.scalars(select(ChangeRecord).where(
            ChangeRecord.case_id == case_id, ChangeRecord.object_type == "case_note")).all()
        assert sorted(stored) == sorted(acknowledged)
        assert len(created) == len(acknowledged)
        assert verify_chain(db.session).broken is None  # one audit chain, whichever server wrote
    assert app_servers.new_failures() == {}


def test_one_field_saved_at_once_on_two_servers_is_never_silently_overwritten(app, world, register, app_servers):
    _case_id, goal_id = _case_with_goal(app, world, register)
    browsers = _sessions(app_servers, world)
    stale = _stale_messages(app)

    # Two people open the form on different servers, then both save: one lands, the other is told.
    first, second = (browsers[0].get(f"/goals/{goal_id}/edit").hidden_fields(),
                     browsers[1].get(f"/goals/{goal_id}/edit").hidden_fields())
    landed = browsers[0].post(f"/goals/{goal_id}/edit", {**first, "area": "avrr", "title": "first"})
    refused = browsers[1].post(f"/goals/{goal_id}/edit", {**second, "area": "avrr", "title": "second"})
    assert landed.status == 302 and refused.status == 409 and stale[0] in refused.body
    accepted = [(int(first["version"]), "first")]

    def edit(index: int, browser: Browser) -> list[tuple[int, str]]:
        landed = []
        for number in range(EDITS_PER_SESSION):
            title = f"title {index}-{number}"
            version, page = _save_goal(browser, goal_id, title)
            if page.status == 302:
                landed.append((version, title))
            else:
                assert page.status == 409 and any(message in page.body for message in stale), page.body[:500]
        return landed

    accepted += [save for saves in _all_at_once(edit, browsers) for save in saves]
    accepted.sort()
    with app.app_context():
        goal = db.session.get(PlanGoal, goal_id)
        history = db.session.scalars(select(ChangeRecord).where(
            ChangeRecord.object_type == "plan_goal", ChangeRecord.object_id == goal_id,
            ChangeRecord.action == "update").order_by(ChangeRecord.id)).all()
        # Each accepted save started from the version the one before it produced: none was based on a stale page.
        assert [version for version, _title in accepted] == list(range(1, len(accepted) + 1))
        assert goal.version == len(accepted) + 1
        assert goal.title == accepted[-1][1]
        assert [decoded_changes(entry)["title"][1] for entry in history] == [title for _version, title in accepted]
        assert verify_chain(db.session).broken is None
    assert app_servers.new_failures() == {}
