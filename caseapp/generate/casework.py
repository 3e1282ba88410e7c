"""The work on a generated case, as `caseapp.cases` services record it: stage moves, assessment with risk and
flags, plan goals and actions, notes, follow-ups, referrals, closure and reopening; each with its history entries
and audit events, all within the two years and in an order the workflow allows."""
import random
from datetime import datetime, time, timedelta, timezone

from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import SERVICE_AREAS, CaseNote
from caseapp.generate import texts
from caseapp.generate.people import Registered
from caseapp.generate.plan import CLOSED_TRAJECTORIES, PersonPlan
from caseapp.generate.records import Chunk
from caseapp.generate.referrals import refer
from caseapp.generate.setting import Setting, Staff
from caseapp.generate.timing import between, spread

STAGES = ("assessment", "plan", "active")
STAGE_GAPS = ((0.2, 10), (2, 25), (1, 14))  # days before each stage move
NOTE_KINDS = {"general": 50, "follow_up_visit": 25, "legal": 10, "psychosocial": 10, "protection": 5}
RESTRICTED_KINDS = ("psychosocial", "protection")
RISKS = {"low": 50, "medium": 35, "high": 15}


def _stages_reached(rng: random.Random, trajectory: str) -> int:
    """How many stage moves the case makes (before a closure request, if one comes)."""
    if trajectory in STAGES or trajectory == "registered":
        return (("registered",) + STAGES).index(trajectory)
    weights = (0, 10, 10, 80) if trajectory == "awaiting_closure" else (5, 10, 10, 75)
    return rng.choices(range(4), weights=weights)[0]


class CaseWork:
    """The history of one case after registration, written into a chunk."""

    def __init__(self, chunk: Chunk, setting: Setting, reg: Registered, rng: random.Random, end: datetime):
        self.chunk, self.setting, self.reg, self.rng, self.end = chunk, setting, reg, rng, end
        self.case, self.worker = reg.case, reg.worker
        self.areas: list[str] = []  # the service areas the assessment found needs in

    def run(self, plan: PersonPlan) -> None:
        """Milestones first (they change the case), then the work done between them."""
        rng, opened = self.rng, self.case["opened_at"]
        stages = _stages_reached(rng, plan.trajectory)
        gaps = [rng.uniform(*STAGE_GAPS[step]) for step in range(stages)]
        closing = plan.trajectory in ("awaiting_closure",) + CLOSED_TRAJECTORIES
        supervisors = self.reg.point.supervisors
        if closing:
            gaps.append(rng.uniform(20, 240))
            if plan.trajectory in CLOSED_TRAJECTORIES and supervisors:
                gaps.append(rng.uniform(0.1, 6))
                if plan.trajectory == "reopened":
                    gaps.append(rng.uniform(10, 150))
        moments = spread(opened, gaps, self.end)
        for stage, at in zip(STAGES, moments[:stages]):
            self._update(at, self.worker, {"status": stage}, "stage")
        following = moments + [self.end]  # each stage's work happens before the next milestone
        work_end = moments[stages] if closing else self.end
        windows = [(opened, work_end)]
        if stages:
            self._assess(between(rng, following[0], between(rng, following[0], following[1])))
        if stages >= 2:
            self._plan(min(following[1] + timedelta(hours=rng.uniform(0.1, 4)), following[2]), work_end)
        for status in plan.referrals:
            refer(self.chunk, self.setting, self.reg, status, (moments[0] if stages else opened, work_end),
                  work_end if plan.trajectory in CLOSED_TRAJECTORIES else self.end, self.end, rng)
        if closing:
            self._close(moments[stages:], rng.choice(supervisors) if supervisors else None)
            if self.case["status"] == "reopened":
                windows.append((moments[-1], self.end))
        for window in windows:
            self._notes(window)
            self._follow_ups(window, closes=window[1] < self.end)
        self._withdraw_statistics_consent()

    def _update(self, at: datetime, actor: Staff, values: dict, action: str) -> None:
        self.chunk.update(at, actor, self.case, "case_file", self.case, values, action)

    def _close(self, moments: list[datetime], supervisor: Staff | None) -> None:
        """Closure requested by the worker, approved by a supervisor, maybe reopened (`cases.workflow`)."""
        requested = moments[0]
        reason = self.rng.choice(self.setting.closure_reasons)
        self._update(requested, self.worker, {"closure_reason": reason, "closure_requested_at": requested,
                                              "closure_requested_by_id": self.worker.id}, "closure_request")
        if len(moments) < 2 or supervisor is None:
            return
        self._update(moments[1], supervisor, {"status": "closed", "closed_at": moments[1]}, "close")
        if len(moments) > 2:
            self._update(moments[2], supervisor, {
                "status": "reopened", "closed_at": None, "closure_reason": None, "closure_requested_at": None,
                "closure_requested_by_id": None, "reopen_reason": self.rng.choice(texts.REOPEN_REASONS)}, "reopen")

    def _assess(self, at: datetime) -> None:
        """The needs assessment, the case's risk level and the person's flags (`cases.assessment.save_assessment`)."""
        rng, chunk, case, worker = self.rng, self.chunk, self.case, self.worker
        areas = rng.sample(SERVICE_AREAS, rng.randint(1, 3))
        values = {f"need_{area}": rng.choice(texts.NEEDS[area]) if area in areas else "" for area in SERVICE_AREAS}
        assessment = chunk.add("case_assessment", {"case_id": case["id"], **values, "assessed_at": at,
                                                   "assessed_by_id": worker.id, "version": 1})
        chunk.created(at, worker, case, "case_assessment", assessment, values)
        self._update(at, worker, {"risk_level": rng.choices(list(RISKS), weights=list(RISKS.values()))[0]}, "risk")
        self._flags(at)
        assessment["version"] += 1  # re-stamped after the risk level changed
        self.areas = areas

    def _flags(self, at: datetime) -> None:
        """Flags found at the assessment, among those the worker may set (`assessment._save_flags`)."""
        restricted = {code for code, is_restricted in self.setting.flags if is_restricted}
        visible = {code for code, is_restricted in self.setting.flags
                   if not is_restricted or self.worker.restricted_access}
        current = set(self.reg.flags)
        wanted = current | (set(self.reg.flag_candidates) & visible)
        if wanted == current:
            return
        person_id = self.reg.person["id"]
        for code in sorted(wanted - current):
            self.chunk.add("beneficiary_flag", {"beneficiary_id": person_id, "flag_code": code, "set_at": at,
                                                "set_by_id": self.worker.id})
        table = Beneficiary.__tablename__
        if current - restricted != wanted - restricted:
            self.chunk.change(at, self.worker, self.case, table, person_id, "flags",
                              {"flags": [sorted(current - restricted), sorted(wanted - restricted)]})
        if current & restricted != wanted & restricted:
            self.chunk.change(at, self.worker, self.case, table, person_id, "flags", {"restricted_flags": None},
                              restricted=True)

    def _plan(self, at: datetime, work_end: datetime) -> None:
        """Goals in the assessed areas, actions with owners and due dates, and how far they got."""
        rng, chunk, case, worker = self.rng, self.chunk, self.case, self.worker
        for area in self.areas[:1 if rng.random() < 0.7 else 2]:
            values = {"area": area, "title": rng.choice(texts.GOALS[area])}
            goal = chunk.add("plan_goal", {"case_id": case["id"], **values, "created_at": at,
                                           "created_by_id": worker.id, "version": 1})
            chunk.created(at, worker, case, "plan_goal", goal, values)
            for _ in range(1 if rng.random() < 0.8 else 2):
                action_values = {"description": rng.choice(texts.ACTIONS), "owner": rng.choice(texts.ACTION_OWNERS),
                                 "due_date": at.date() + timedelta(days=rng.randint(7, 90)), "status": "todo"}
                action = chunk.add("plan_action", {"goal_id": goal["id"], **action_values, "version": 1})
                chunk.created(at, worker, case, "plan_action", action, action_values)
                progress = rng.choices(("todo", "in_progress", "done", "cancelled"), weights=(45, 20, 30, 5))[0]
                if progress != "todo":
                    chunk.update(between(rng, at, work_end), worker, case, "plan_action", action,
                                 {**action_values, "status": progress})

    def _notes(self, window: tuple[datetime, datetime]) -> None:
        """Notes written during the window, some restricted (by a worker with restricted access)."""
        rng, chunk, case = self.rng, self.chunk, self.case
        days = (window[1] - window[0]).total_seconds() / 86400
        for _ in range(min(6, round(rng.uniform(0.3, 1.7) * (0.4 + days / 150)))):
            kind = rng.choices(list(NOTE_KINDS), weights=list(NOTE_KINDS.values()))[0]
            author = self.worker
            if kind in RESTRICTED_KINDS:
                restricted_workers = self.reg.point.restricted_workers
                if not restricted_workers:
                    kind = "general"
                else:
                    author = rng.choice(restricted_workers)
            at = between(rng, *window)
            body = texts.note_text(rng, kind, self.reg.person["given_name"])
            occurred_on = max(window[0].date(), (at - timedelta(days=rng.uniform(0, 3))).date())
            row_key, token = chunk.sealed(CaseNote, "body", body)
            restricted = kind in RESTRICTED_KINDS
            note = chunk.add("case_note", {"case_id": case["id"], "kind": kind, "restricted": restricted,
                                           "row_key": row_key, "body": token, "occurred_on": occurred_on,
                                           "author_id": author.id, "created_at": at, "version": 1})
            chunk.created(at, author, case, "case_note", note,
                          {"kind": kind, "body": body, "occurred_on": occurred_on}, restricted=restricted)

    def _follow_ups(self, window: tuple[datetime, datetime], closes: bool) -> None:
        """Follow-ups planned during the window; done before a closure, otherwise mostly done, some overdue."""
        rng, chunk, case, worker = self.rng, self.chunk, self.case, self.worker
        days = (window[1] - window[0]).total_seconds() / 86400
        for _ in range(min(3, round(rng.uniform(0, 1.5) * (0.4 + days / 200)))):
            planned = between(rng, *window)
            due_date = planned.date() + timedelta(days=rng.randint(2, 30))
            due = datetime.combine(due_date, time(10), tzinfo=timezone.utc)
            values = {"purpose": rng.choice(texts.FOLLOW_UPS), "due_date": due_date, "assigned_to_id": worker.id}
            follow_up = chunk.add("follow_up", {"case_id": case["id"], **values, "done_at": None, "done_by_id": None,
                                                "created_by_id": worker.id, "version": 1})
            chunk.created(planned, worker, case, "follow_up", follow_up, values)
            if closes:
                done = between(rng, planned, min(window[1], due + timedelta(days=5)))
            elif due + timedelta(days=3) < self.end and rng.random() < 0.8:
                done = between(rng, planned, min(self.end, due + timedelta(days=7)))
            else:
                continue  # still to do (overdue when its date has passed)
            chunk.update(done, worker, case, "follow_up", follow_up, {"done_at": done, "done_by_id": worker.id},
                         action="done")

    def _withdraw_statistics_consent(self) -> None:
        """A few people withdraw their consent to statistical use (`privacy.consents.withdraw_consent`)."""
        consent = self.reg.statistics_consent
        if consent is None or self.rng.random() >= 0.03:
            return
        at = between(self.rng, consent["given_at"], self.end)
        consent["withdrawn_at"], consent["withdrawn_by_id"] = at, self.worker.id
        self.chunk.audit(at, self.worker, "consent.withdraw", "consent_record", consent["id"],
                         beneficiary_id=self.reg.person["id"], kind="statistics", partner_id=None,
                         cancelled_referrals=[])
