"""Retention: `flask caseapp retention run` lists (dry run, changing nothing) or anonymises (apply) exactly the people
whose cases are all closed since longer than RETENTION_DAYS."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from caseapp.audit.models import AuditEvent
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.cases.services import open_case
from caseapp.cases.workflow import decide_closure, request_closure
from caseapp.extensions import db
from caseapp.models_base import utcnow
from caseapp.places.models import ServicePoint
from caseapp.privacy.services import ANONYMISED, anonymise_person, retention_candidates
from tests.unit.test_privacy_services import new_person, privacy_setup

DAYS = 5 * 365


def _close(ps, case: Case, days_ago: int) -> None:
    """Close the case through the workflow, then date the closure `days_ago` days back (test setup)."""
    supervisor = ps.user("supervisor_a" if case.partner_id == ps.partner("A") else "supervisor_b")
    worker = ps.user("caseworker_a" if case.partner_id == ps.partner("A") else "caseworker_b")
    request_closure(worker, case, "goals_met")
    decide_closure(supervisor, case, True)
    case.closed_at = utcnow() - timedelta(days=days_ago)
    db.session.flush()


@pytest.fixture
def people(app, world, monkeypatch) -> dict[str, dict]:
    """name → {"id", "numbers"}: who is due and who is not, for every reason."""
    monkeypatch.setitem(app.config, "RETENTION_DAYS", DAYS)
    with app.app_context():
        ps = privacy_setup(world)
        result = {}

        def person(name: str, closures: list[int | None]) -> None:
            """A person with one case per entry: closed that many days ago, or open (None)."""
            someone, case = new_person(ps, given_name=name.capitalize(), family_name="Retentionfam")
            cases = [case]
            for _ in closures[1:]:
                cases.append(open_case(ps.user("caseworker_b"), someone,
                                       db.session.get(ServicePoint, ps.point("B-BEM"))))
            for case_, days_ago in zip(cases, closures):
                if days_ago is not None:
                    _close(ps, case_, days_ago)
            result[name] = {"id": someone.id, "numbers": sorted(c.number for c in cases)}

        person("old", [DAYS + 30])                      # due
        person("old_twice", [DAYS + 400, DAYS + 10])    # due: both closures are old
        person("recent", [DAYS - 30])                   # closed, but not long enough
        person("one_open", [DAYS + 400, None])          # one case still open
        person("latest_recent", [DAYS + 400, 100])      # the latest closure decides
        person("open", [None])                          # never closed
        person("gone", [DAYS + 30])                     # already anonymised
        anonymise_person(ps.user("dpo"), db.session.get(Beneficiary, result["gone"]["id"]), "subject_request")
        db.session.commit()
    return result


def _snapshot(app) -> dict:
    with app.app_context():
        return {
            "people": sorted(db.session.execute(select(
                Beneficiary.id, Beneficiary.given_name, Beneficiary.anonymised_at, Beneficiary.version)).all()),
            "audit": db.session.scalar(select(func.count(AuditEvent.id))),
        }


def test_the_candidates_are_exactly_the_people_due(app, people):
    with app.app_context():
        due = retention_candidates()
        assert {candidate.person_id for candidate in due} == {people["old"]["id"], people["old_twice"]["id"]}
        twice = next(candidate for candidate in due if candidate.person_id == people["old_twice"]["id"])
        assert twice.case_numbers == people["old_twice"]["numbers"]
        assert retention_candidates(days=10 * 365) == []
        assert {c.person_id for c in retention_candidates(days=90)} == {
            people[name]["id"] for name in ("old", "old_twice", "recent", "latest_recent")}


def test_a_dry_run_lists_them_and_changes_nothing(app, people):
    before = _snapshot(app)
    result = app.test_cli_runner().invoke(args=["caseapp", "retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    for name in ("old", "old_twice"):
        for number in people[name]["numbers"]:
            assert number in result.output
    for name in ("recent", "one_open", "latest_recent", "open", "gone"):
        for number in people[name]["numbers"]:
            assert number not in result.output, name
    assert "2 person(s)" in result.output
    assert "Retentionfam" not in result.output and "Old" not in result.output  # no names on the terminal
    assert _snapshot(app) == before


def test_apply_anonymises_only_the_people_due(app, people):
    result = app.test_cli_runner().invoke(args=["caseapp", "retention", "run", "--apply"])
    assert result.exit_code == 0, result.output
    assert "2 person(s) anonymised" in result.output
    with app.app_context():
        for name, values in people.items():
            person = db.session.get(Beneficiary, values["id"])
            expected = name in ("old", "old_twice", "gone")
            assert (person.anonymised_at is not None) == expected, name
            assert (person.given_name == ANONYMISED) == expected, name
            assert sorted(case.number for case in person.cases) == values["numbers"]  # cases stay
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "person.anonymise")))
        retention = [event for event in events if json.loads(event.details)["reason"] == "retention"]
        assert {event.object_id for event in retention} == {people["old"]["id"], people["old_twice"]["id"]}
        assert all(event.actor_id is None for event in retention)
    again = app.test_cli_runner().invoke(args=["caseapp", "retention", "run", "--apply"])
    assert again.exit_code == 0 and "0 person(s) anonymised" in again.output


@pytest.mark.parametrize("flags", [[], ["--dry-run", "--apply"]])
def test_exactly_one_of_the_two_flags_is_required(app, people, flags):
    before = _snapshot(app)
    result = app.test_cli_runner().invoke(args=["caseapp", "retention", "run", *flags])
    assert result.exit_code == 2
    assert "exactly one of --dry-run or --apply" in result.output
    assert _snapshot(app) == before
