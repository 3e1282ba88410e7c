"""Case records without HTTP: assessment (flags, risk), plan, notes (restricted kinds), follow-ups and the home
page's work lists, field-level history, edit conflicts and one-time form tokens."""
from datetime import date, timedelta

import pytest
from flask_babel import gettext as _
from sqlalchemy import func, select

from caseapp.access.policy import can
from caseapp.auth.models import User
from caseapp.beneficiaries.flags import restricted_flag_codes
from caseapp.beneficiaries.models import Beneficiary, VulnerabilityFlag
from caseapp.beneficiaries.services import register_beneficiary, visible_flags
from caseapp.cases.assessment import save_assessment
from caseapp.cases.assignment import decide_transfer, propose_transfer
from caseapp.cases.followups import add_follow_up, case_follow_ups, complete_follow_up, home_work
from caseapp.cases.history import case_history, decoded_changes
from caseapp.cases.models import (
    RESTRICTED_NOTE_KINDS, Assessment, Case, CaseNote, ChangeRecord, FollowUp, PlanAction, PlanGoal,
)
from caseapp.cases.notes import add_note, edit_note, visible_notes
from caseapp.cases.plan import add_action, add_goal, update_action, update_goal
from caseapp.cases.workflow import decide_closure, request_closure
from caseapp.errors import DomainError, EditConflict, NotAllowed, ValidationFailed
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.labels import SERVICE_AREA_LABELS
from caseapp.security.form_tokens import new_form_token
from caseapp.security.encryption import unseal
from tests.conftest import valid_registration

TODAY = date(2026, 3, 15)
NEEDS = {"avrr": "Travel documents", "social_rights": "", "employment": "Looking for work", "psychosocial": ""}


def _user(world, key: str) -> User:
    return db.session.get(User, world.users[key])


def _new_case(world, user_key: str = "caseworker_a", point: str = "A-OUJ", **overrides) -> Case:
    _, case = register_beneficiary(_user(world, user_key), valid_registration(world.service_points[point], **overrides))
    db.session.commit()
    return case


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _rows(actor, case: Case) -> list[ChangeRecord]:
    return case_history(actor, case)


# --- notes: restricted kinds -------------------------------------------------------------------------------------


def test_only_restricted_access_writes_psychosocial_and_protection_notes(app_ctx, world):
    case = _new_case(world)
    written = {}
    with pytest.raises(NotAllowed):  # another organisation's supervisor: not even a validation error
        add_note(_user(world, "supervisor_b"), case, kind="general", body="Seen today", occurred_on=TODAY, today=TODAY)
    for key in ("caseworker_a", "caseworker_restricted", "supervisor_a"):
        for kind in ("general", "legal", *RESTRICTED_NOTE_KINDS):
            try:
                note = add_note(_user(world, key), case, kind=kind, body="Seen today", occurred_on=TODAY, today=TODAY)
            except ValidationFailed as refusal:
                written[key, kind] = sorted(refusal.errors)
            else:
                written[key, kind] = note.restricted
    assert written == {
        **{("caseworker_a", kind): ["kind"] for kind in RESTRICTED_NOTE_KINDS},
        **{(key, kind): False for key in ("caseworker_a", "caseworker_restricted", "supervisor_a")
           for kind in ("general", "legal")},
        **{(key, kind): True for key in ("caseworker_restricted", "supervisor_a") for kind in RESTRICTED_NOTE_KINDS},
    }
    assert _count(CaseNote, CaseNote.restricted.is_(True)) == 4


def test_restricted_notes_never_reach_users_without_restricted_access(app_ctx, world):
    case = _new_case(world)
    restricted_worker, worker = _user(world, "caseworker_restricted"), _user(world, "caseworker_a")
    general = add_note(worker, case, kind="general", body="Visit", occurred_on=TODAY, today=TODAY)
    protection = add_note(restricted_worker, case, kind="protection", body="Threats", occurred_on=TODAY, today=TODAY)
    psychosocial = add_note(restricted_worker, case, kind="psychosocial", body="Anxiety", occurred_on=TODAY,
                            today=TODAY)

    def seen() -> dict[str, list[str]]:
        return {key: sorted(note.kind for note in visible_notes(_user(world, key), case))
                for key in ("caseworker_a", "caseworker_restricted", "supervisor_a", "caseworker_a2", "caseworker_b",
                            "supervisor_b")}

    assert seen() == {"caseworker_a": ["general"], "caseworker_restricted": ["general", "protection", "psychosocial"],
                      "supervisor_a": ["general", "protection", "psychosocial"], "caseworker_a2": [],
                      "caseworker_b": [], "supervisor_b": []}
    readable = {(key, note.kind): can(_user(world, key), "case.view", note)
                for key in ("caseworker_a", "caseworker_restricted", "supervisor_a")
                for note in (general, protection, psychosocial)}
    assert readable == {("caseworker_a", "general"): True, ("caseworker_a", "protection"): False,
                        ("caseworker_a", "psychosocial"): False,
                        **{(key, kind): True for key in ("caseworker_restricted", "supervisor_a")
                           for kind in ("general", "protection", "psychosocial")}}

    # Once the case moves to partner B, B's (non-restricted) supervisor has it in scope: still no restricted note.
    transfer = propose_transfer(_user(world, "supervisor_a"), case, world.service_points["B-BEM"], "Moved to Berkane")
    decide_transfer(_user(world, "supervisor_b"), transfer, accept=True)
    assert seen() == {"caseworker_a": [], "caseworker_restricted": [], "supervisor_a": [], "caseworker_a2": [],
                      "caseworker_b": ["general"], "supervisor_b": ["general"]}
    assert not can(_user(world, "supervisor_b"), "case.view", protection)


def test_history_of_restricted_notes_is_hidden_and_never_holds_their_text(app_ctx, world):
    case = _new_case(world)
    restricted_worker, worker = _user(world, "caseworker_restricted"), _user(world, "caseworker_a")
    add_note(worker, case, kind="general", body="Visit at home", occurred_on=TODAY, today=TODAY)
    secret = add_note(restricted_worker, case, kind="protection", body="Threatened by smugglers",
                      occurred_on=TODAY, today=TODAY)
    edit_note(restricted_worker, secret, body="Threatened by smugglers in Oujda", occurred_on=TODAY,
              expected_version=secret.version, today=TODAY)

    def note_rows(key: str) -> list[tuple]:
        return [(entry.object_id, entry.action, entry.restricted, decoded_changes(entry))
                for entry in _rows(_user(world, key), case) if entry.object_type == "case_note"]

    general_id = note_rows("caseworker_a")[0][0]
    assert note_rows("caseworker_a") == [
        (general_id, "create", False, {"body": [None, "Visit at home"], "kind": [None, "general"],
                                       "occurred_on": [None, TODAY.isoformat()]})]
    withheld = [(secret.id, "update", True, {"body": None}),
                (secret.id, "create", True, {"body": None, "kind": None, "occurred_on": None})]
    for key in ("caseworker_restricted", "supervisor_a"):
        assert note_rows(key)[:2] == withheld, key
    raw = [entry.changes for entry in db.session.scalars(select(ChangeRecord).where(ChangeRecord.restricted))]
    assert raw and not any("smugglers" in text or "protection" in text for text in raw)


# --- assessment: restricted flags ---------------------------------------------------------------------------------


def test_restricted_flags_survive_a_save_by_someone_who_cannot_see_them(app_ctx, world):
    case = _new_case(world)
    person = case.beneficiary
    restricted_worker, worker = _user(world, "caseworker_restricted"), _user(world, "caseworker_a")
    assessment = save_assessment(restricted_worker, case, needs=NEEDS, risk_level="high",
                                 flags=["homeless", "gbv_survivor", "mental_health"])
    save_assessment(worker, case, needs=NEEDS, risk_level="medium", flags=["no_income"],
                    expected_version=assessment.version)
    assert sorted(flag.flag_code for flag in person.flags) == ["gbv_survivor", "mental_health", "no_income"]
    assert [item.flag_code for item in visible_flags(worker, person)] == ["no_income"]

    with pytest.raises(ValidationFailed) as refusal:  # they cannot set (or name) one either
        save_assessment(worker, case, needs=NEEDS, risk_level="medium", flags=["no_income", "gbv_survivor"],
                        expected_version=assessment.version)
    assert list(refusal.value.errors) == ["flags"]

    save_assessment(restricted_worker, case, needs=NEEDS, risk_level="medium", flags=["no_income", "mental_health"],
                    expected_version=assessment.version)
    assert sorted(flag.flag_code for flag in person.flags) == ["mental_health", "no_income"]

    flag_rows = [(entry.restricted, decoded_changes(entry), entry.actor_id)
                 for entry in _rows(restricted_worker, case) if entry.action == "flags"]
    assert flag_rows == [
        (True, {"restricted_flags": None}, restricted_worker.id),
        (False, {"flags": [["homeless"], ["no_income"]]}, worker.id),
        (True, {"restricted_flags": None}, restricted_worker.id),
        (False, {"flags": [[], ["homeless"]]}, restricted_worker.id),
    ]
    assert [entry.id for entry in _rows(worker, case) if entry.restricted] == []
    open_rows = [entry.changes for entry in db.session.scalars(select(ChangeRecord))]
    leaked = {code for code in restricted_flag_codes() for text in open_rows if code in text}
    assert leaked == set()


# --- edit conflicts ----------------------------------------------------------------------------------------------


def _differing(conflict: EditConflict) -> dict[str, tuple[str, str]]:
    return {label: (saved, mine) for label, saved, mine in conflict.fields if saved != mine}


def test_a_save_from_an_outdated_page_raises_a_conflict_and_saves_nothing(app_ctx, world):
    worker, supervisor = _user(world, "caseworker_a"), _user(world, "supervisor_a")
    case = _new_case(world)
    assessment = save_assessment(worker, case, needs=NEEDS, risk_level="low", flags=["homeless"])
    goal = add_goal(worker, case, area="avrr", title="Get a passport")
    action = add_action(worker, goal, description="Book a consulate visit", owner="Caseworker", due_date=TODAY)
    note = add_note(worker, case, kind="general", body="First visit", occurred_on=TODAY, today=TODAY)
    db.session.commit()
    opened = {"assessment": assessment.version, "goal": goal.version, "action": action.version, "note": note.version}

    # The supervisor saves first, from pages opened at the same versions.
    save_assessment(supervisor, case, needs={**NEEDS, "avrr": "Passport renewal"}, risk_level="low",
                    flags=["homeless"], expected_version=opened["assessment"])
    update_goal(supervisor, goal, area="avrr", title="Renew the passport", expected_version=opened["goal"])
    update_action(supervisor, action, description="Book a consulate visit", owner="Supervisor", due_date=TODAY,
                  status="in_progress", expected_version=opened["action"])
    # Only a note's author corrects it: the author saves from one page first, then from an older one.
    edit_note(worker, note, body="First visit, at home", occurred_on=TODAY, expected_version=opened["note"],
              today=TODAY)
    db.session.commit()
    saved = {"assessment": assessment.version, "goal": goal.version, "action": action.version, "note": note.version}
    history_before, flags_before = _count(ChangeRecord), sorted(f.flag_code for f in case.beneficiary.flags)

    stale_saves = {
        "assessment": lambda: save_assessment(worker, case, needs={**NEEDS, "avrr": "Mine"}, risk_level="high",
                                              flags=["no_income"], expected_version=opened["assessment"]),
        "goal": lambda: update_goal(worker, goal, area="employment", title="Mine", expected_version=opened["goal"]),
        "action": lambda: update_action(worker, action, description="Mine", owner="Caseworker",
                                        due_date=TODAY + timedelta(days=3), status="done",
                                        expected_version=opened["action"]),
        "note": lambda: edit_note(worker, note, body="Mine", occurred_on=TODAY, expected_version=opened["note"],
                                  today=TODAY),
    }
    conflicts = {}
    for name, save in stale_saves.items():
        with pytest.raises(EditConflict) as raised:
            save()
        conflicts[name] = (_differing(raised.value), raised.value.current_version)

    avrr = str(SERVICE_AREA_LABELS["avrr"])
    flag_name = {code: db.session.get(VulnerabilityFlag, code).name for code in ("homeless", "no_income")}
    assert conflicts == {
        "assessment": ({avrr: ("Passport renewal", "Mine"), _("Risk level"): ("low", "high"),
                        _("Vulnerability flags"): (flag_name["homeless"], flag_name["no_income"])},
                       saved["assessment"]),
        "goal": ({_("Service area"): ("avrr", "employment"), _("Goal"): ("Renew the passport", "Mine")},
                 saved["goal"]),
        "action": ({_("Action"): ("Book a consulate visit", "Mine"), _("Owner"): ("Supervisor", "Caseworker"),
                    _("Due date"): (TODAY.isoformat(), (TODAY + timedelta(days=3)).isoformat()),
                    _("Status"): ("in_progress", "done")}, saved["action"]),
        "note": ({_("Note"): ("First visit, at home", "Mine")}, saved["note"]),
    }
    # Nothing of the refused saves reached the database (queries autoflush anything pending).
    stored = {
        "need_avrr": db.session.scalar(select(Assessment.need_avrr).where(Assessment.id == assessment.id)),
        "risk": db.session.scalar(select(Case.risk_level).where(Case.id == case.id)),
        "goal": db.session.scalar(select(PlanGoal.title).where(PlanGoal.id == goal.id)),
        "action": db.session.scalar(select(PlanAction.status).where(PlanAction.id == action.id)),
        "note": unseal(db.session.scalar(select(CaseNote._body_sealed).where(CaseNote.id == note.id)),
                       f"case_note.body:{note.row_key}"),
    }
    assert stored == {"need_avrr": "Passport renewal", "risk": "low", "goal": "Renew the passport",
                      "action": "in_progress", "note": "First visit, at home"}
    assert (_count(ChangeRecord), sorted(f.flag_code for f in case.beneficiary.flags)) == (history_before, flags_before)
    assert {"assessment": assessment.version, "goal": goal.version, "action": action.version,
            "note": note.version} == saved

    # With the current version the same save goes through.
    update_goal(worker, goal, area="employment", title="Mine", expected_version=saved["goal"])
    assert (goal.area, goal.title) == ("employment", "Mine")


# --- field-level history -----------------------------------------------------------------------------------------


def test_history_keeps_old_and_new_values_and_the_actor(app_ctx, world):
    worker, supervisor = _user(world, "caseworker_a"), _user(world, "supervisor_a")
    case = _new_case(world)
    assessment = save_assessment(worker, case, needs=NEEDS, risk_level="medium", flags=["homeless"])
    save_assessment(supervisor, case, needs={**NEEDS, "avrr": "Passport renewal", "employment": ""},
                    risk_level="high", flags=["homeless"], expected_version=assessment.version)
    goal = add_goal(worker, case, area="avrr", title="Get a passport")
    update_goal(supervisor, goal, area="avrr", title="Renew the passport", expected_version=goal.version)
    action = add_action(worker, goal, description="Visit the consulate", owner="Caseworker", due_date=TODAY)
    update_action(supervisor, action, description="Visit the consulate", owner="Caseworker",
                  due_date=date(2026, 4, 1), status="in_progress", expected_version=action.version)
    note = add_note(worker, case, kind="general", body="Visit", occurred_on=TODAY, today=TODAY)
    edit_note(worker, note, body="Home visit", occurred_on=TODAY - timedelta(days=1), expected_version=note.version,
              today=TODAY)
    update_goal(supervisor, goal, area="avrr", title="Renew the passport", expected_version=goal.version)  # no change

    rows = [(entry.object_type, entry.action, decoded_changes(entry), entry.actor.username)
            for entry in reversed(_rows(supervisor, case))]
    w, s = "caseworker.a", "supervisor.a"
    assert rows == [
        ("case_assessment", "create", {"need_avrr": [None, "Travel documents"],
                                       "need_employment": [None, "Looking for work"]}, w),
        ("case_file", "risk", {"risk_level": [None, "medium"]}, w),
        ("beneficiary", "flags", {"flags": [[], ["homeless"]]}, w),
        ("case_assessment", "update", {"need_avrr": ["Travel documents", "Passport renewal"],
                                       "need_employment": ["Looking for work", ""]}, s),
        ("case_file", "risk", {"risk_level": ["medium", "high"]}, s),
        ("plan_goal", "create", {"area": [None, "avrr"], "title": [None, "Get a passport"]}, w),
        ("plan_goal", "update", {"title": ["Get a passport", "Renew the passport"]}, s),
        ("plan_action", "create", {"description": [None, "Visit the consulate"], "due_date": [None, TODAY.isoformat()],
                                   "owner": [None, "Caseworker"], "status": [None, "todo"]}, w),
        ("plan_action", "update", {"due_date": [TODAY.isoformat(), "2026-04-01"], "status": ["todo", "in_progress"]},
         s),
        ("case_note", "create", {"body": [None, "Visit"], "kind": [None, "general"],
                                 "occurred_on": [None, TODAY.isoformat()]}, w),
        ("case_note", "update", {"body": ["Visit", "Home visit"],
                                 "occurred_on": [TODAY.isoformat(), (TODAY - timedelta(days=1)).isoformat()]}, w),
    ]


# --- one-time form tokens ----------------------------------------------------------------------------------------


def test_a_form_posted_twice_creates_one_record(app_ctx, world):
    worker = _user(world, "caseworker_a")
    case = _new_case(world)
    goal = add_goal(worker, case, area="avrr", title="Existing goal")
    db.session.commit()
    posts = {
        PlanGoal: lambda token: add_goal(worker, case, area="employment", title="Find work", form_token=token),
        PlanAction: lambda token: add_action(worker, goal, description="CV workshop", owner="ANAPEC", due_date=TODAY,
                                             form_token=token),
        CaseNote: lambda token: add_note(worker, case, kind="general", body="Called", occurred_on=TODAY,
                                         form_token=token, today=TODAY),
        FollowUp: lambda token: add_follow_up(worker, case, purpose="Call back", due_date=TODAY, assigned_to_id=None,
                                              form_token=token, today=TODAY),
        Beneficiary: lambda token: register_beneficiary(
            worker, valid_registration(world.service_points["A-OUJ"], given_name="Salma"), form_token=token)[0],
    }
    outcome = {}
    for model, post in posts.items():
        before = _count(model)
        token = new_form_token()
        first = post(token)
        second = post(token)  # the same form posted again before the first was committed
        db.session.commit()
        third = post(token)  # and again later (back button, retry)
        db.session.commit()
        outcome[model.__name__] = (second.id == first.id == third.id, _count(model) - before,
                                   _count(ChangeRecord, ChangeRecord.object_type == model.__tablename__,
                                          ChangeRecord.object_id == first.id))
    assert outcome == {"PlanGoal": (True, 1, 1), "PlanAction": (True, 1, 1), "CaseNote": (True, 1, 1),
                       "FollowUp": (True, 1, 1), "Beneficiary": (True, 1, 0)}
    assert _count(Case, Case.beneficiary_id.in_(select(Beneficiary.id).where(Beneficiary.given_name == "Salma"))) == 1

    token = new_form_token()
    add_goal(worker, case, area="avrr", title="One", form_token=token)
    with pytest.raises(LookupError):  # a token belongs to one kind of record
        add_note(worker, case, kind="general", body="Two", occurred_on=TODAY, form_token=token, today=TODAY)


# --- follow-ups --------------------------------------------------------------------------------------------------


def test_follow_up_rules_due_date_and_assigned_worker(app_ctx, world):
    worker = _user(world, "caseworker_a")
    case = _new_case(world)
    attempts = {
        "yesterday": dict(due_date=TODAY - timedelta(days=1)),
        "no date": dict(due_date=None),
        "today": dict(due_date=TODAY),
        "next month": dict(due_date=TODAY + timedelta(days=30)),
        "no purpose": dict(purpose="  "),
        "other service point": dict(assigned_to_id=world.users["caseworker_a2"]),
        "other partner": dict(assigned_to_id=world.users["caseworker_b"]),
        "other partner's supervisor": dict(assigned_to_id=world.users["supervisor_b"]),
        "no case role": dict(assigned_to_id=world.users["receiver"]),
        "unknown user": dict(assigned_to_id=987654),
        "colleague": dict(assigned_to_id=world.users["caseworker_restricted"]),
        "supervisor": dict(assigned_to_id=world.users["supervisor_a"]),
    }
    outcome = {}
    for name, overrides in attempts.items():
        values = {"purpose": "Check the papers", "due_date": TODAY + timedelta(days=7), "assigned_to_id": None,
                  "today": TODAY, **overrides}
        try:
            follow_up = add_follow_up(worker, case, **values)
        except ValidationFailed as refusal:
            outcome[name] = sorted(refusal.errors)
        else:
            outcome[name] = db.session.get(User, follow_up.assigned_to_id).username
    assert outcome == {
        "yesterday": ["due_date"], "no date": ["due_date"], "today": "caseworker.a", "next month": "caseworker.a",
        "no purpose": ["purpose"], "other service point": ["assigned_to_id"], "other partner": ["assigned_to_id"],
        "other partner's supervisor": ["assigned_to_id"], "no case role": ["assigned_to_id"],
        "unknown user": ["assigned_to_id"], "colleague": "caseworker.restricted", "supervisor": "supervisor.a",
    }

    first = case_follow_ups(worker, case)[0]
    complete_follow_up(worker, first)
    assert (first.done_by_id, first.done_at is not None) == (worker.id, True)
    with pytest.raises(DomainError):
        complete_follow_up(worker, first)
    assert [item.done_at is None for item in case_follow_ups(worker, case)] == [True] * 3 + [False]

    request_closure(worker, case, "goals_met")
    decide_closure(_user(world, "supervisor_a"), case, approve=True)
    with pytest.raises(ValidationFailed):
        add_follow_up(worker, case, purpose="Too late", due_date=TODAY, assigned_to_id=None, today=TODAY)


def test_home_work_lists_own_follow_ups_for_caseworkers_and_the_team_for_supervisors(app_ctx, world):
    earlier = TODAY - timedelta(days=10)
    mine = _new_case(world, "caseworker_a")
    colleague = _new_case(world, "caseworker_restricted")
    nador = _new_case(world, "caseworker_a2", "A-NAD")
    berkane = _new_case(world, "caseworker_b", "B-BEM")
    closed = _new_case(world, "caseworker_a")

    def plan(case: Case, worker: str, purpose: str, due: date, done: bool = False) -> None:
        item = add_follow_up(_user(world, worker), case, purpose=purpose, due_date=due, assigned_to_id=None,
                             today=earlier)
        if done:
            complete_follow_up(_user(world, worker), item)

    plan(mine, "caseworker_a", "mine today", TODAY)
    plan(mine, "caseworker_a", "mine overdue 2d", TODAY - timedelta(days=2))
    plan(mine, "caseworker_a", "mine overdue 5d", TODAY - timedelta(days=5))
    plan(mine, "caseworker_a", "mine next week", TODAY + timedelta(days=7))
    plan(mine, "caseworker_a", "mine done", TODAY - timedelta(days=1), done=True)
    plan(colleague, "caseworker_restricted", "colleague today", TODAY)
    plan(colleague, "caseworker_restricted", "colleague overdue", TODAY - timedelta(days=3))
    plan(nador, "caseworker_a2", "nador today", TODAY)
    plan(berkane, "caseworker_b", "berkane overdue", TODAY - timedelta(days=1))
    plan(closed, "caseworker_a", "closed case today", TODAY)
    request_closure(_user(world, "caseworker_a"), closed, "goals_met")
    decide_closure(_user(world, "supervisor_a"), closed, approve=True)
    request_closure(_user(world, "caseworker_restricted"), colleague, "moved")
    db.session.commit()

    def lists(key: str) -> dict:
        work = home_work(_user(world, key), today=TODAY)
        return {"due_today": sorted(item.purpose for item in work.due_today),
                "overdue": [item.purpose for item in work.overdue],
                "recent": sorted(case.number for case in work.recently_updated),
                "awaiting_closure": [case.number for case in work.awaiting_closure],
                "workload": dict(work.workload)}

    seen = {key: lists(key) for key in ("caseworker_a", "caseworker_restricted", "caseworker_a2", "caseworker_b",
                                        "supervisor_a", "supervisor_b")}
    assert seen == {
        "caseworker_a": {"due_today": ["mine today"], "overdue": ["mine overdue 5d", "mine overdue 2d"],
                         "recent": sorted([mine.number, closed.number]), "awaiting_closure": [], "workload": {}},
        "caseworker_restricted": {"due_today": ["colleague today"], "overdue": ["colleague overdue"],
                                  "recent": [colleague.number], "awaiting_closure": [], "workload": {}},
        "caseworker_a2": {"due_today": ["nador today"], "overdue": [], "recent": [nador.number],
                          "awaiting_closure": [], "workload": {}},
        "caseworker_b": {"due_today": [], "overdue": ["berkane overdue"], "recent": [berkane.number],
                         "awaiting_closure": [], "workload": {}},
        "supervisor_a": {"due_today": ["colleague today", "mine today", "nador today"],
                         "overdue": ["mine overdue 5d", "colleague overdue", "mine overdue 2d"],
                         "recent": sorted([mine.number, colleague.number, nador.number, closed.number]),
                         "awaiting_closure": [colleague.number],
                         "workload": {"Caseworker A": 1, "Caseworker Restricted": 1, "Caseworker A2": 1}},
        "supervisor_b": {"due_today": [], "overdue": ["berkane overdue"], "recent": [berkane.number],
                         "awaiting_closure": [], "workload": {"Caseworker B": 1}},
    }


def test_a_supervisors_home_lists_the_oldest_closure_requests_and_counts_them_all(app_ctx, world, count_queries):
    cases = [_new_case(world, "caseworker_a") for _ in range(3)] + [_new_case(world, "caseworker_b", "B-BEM")]
    for case in cases:
        request_closure(_user(world, "caseworker_a" if case is not cases[-1] else "caseworker_b"), case, "moved")
    for age, case in enumerate(reversed(cases[:3]), start=1):  # the first case asked longest ago
        case.closure_requested_at = utcnow() - timedelta(days=age)
    db.session.commit()
    work = home_work(_user(world, "supervisor_a"), today=TODAY, limit=2)
    assert ([case.number for case in work.awaiting_closure], work.awaiting_total) == (
        [cases[0].number, cases[1].number], 3)
    # A list not full holds them all: counted without a count statement, for every length up to the list's.
    for limit, shown in ((3, 3), (4, 3), (20, 3)):
        with count_queries() as counter:
            work = home_work(_user(world, "supervisor_a"), today=TODAY, limit=limit)
        assert (len(work.awaiting_closure), work.awaiting_total) == (shown, 3), limit
        counted = [text for text in counter.statements if text.lstrip().startswith("SELECT count(*)")
                   and "closure_requested_at" in text]
        assert len(counted) == (0 if limit > shown else 1), limit
    assert home_work(_user(world, "supervisor_b"), today=TODAY, limit=1).awaiting_total == 1


def test_services_check_the_policy_themselves(app_ctx, world):
    """Behind the views' 404, each write service refuses an actor outside the case's scope."""
    from caseapp.cases.followups import add_follow_up
    from caseapp.cases.plan import add_goal
    from caseapp.cases.workflow import move_stage, request_closure

    case = _new_case(world)
    outsider = _user(world, "caseworker_b")
    attempts = {
        "stage": lambda: move_stage(outsider, case, "assessment"),
        "closure": lambda: request_closure(outsider, case, "goals_met"),
        "note": lambda: add_note(outsider, case, kind="general", body="x", occurred_on=TODAY, today=TODAY),
        "goal": lambda: add_goal(outsider, case, area="avrr", title="x"),
        "follow-up": lambda: add_follow_up(outsider, case, purpose="x", due_date=TODAY, assigned_to_id=None,
                                           today=TODAY),
        "assessment": lambda: save_assessment(outsider, case, needs={}, risk_level="low", flags=[]),
    }
    refused = {}
    for name, attempt in attempts.items():
        try:
            attempt()
        except NotAllowed:
            refused[name] = True
        else:
            refused[name] = False
    assert refused == {name: True for name in attempts}
    assert case.status == "registered" and _count(CaseNote) == 0
