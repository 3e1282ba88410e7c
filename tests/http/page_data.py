"""Rows behind the main pages, made through the services: people with cases, case work, referrals in every state,
households, transfers, merges, import batches, published reports and accounts (query budgets, page weight)."""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from caseapp.auth.models import User
from caseapp.extensions import db
from tests.conftest import World, valid_registration

SERVICE = "employment.anapec"
# The moves that bring a new referral to each status, and who makes them.
REFERRAL_PATHS = (
    (), ("submit",), ("submit", "return"), ("submit", "approve"), ("submit", "approve", "accept"),
    ("submit", "approve", "accept", "start"), ("submit", "approve", "accept", "start", "complete"),
    ("submit", "approve", "decline"), ("submit", "approve", "cancel"),
)
MOVED_BY = {"submit": "caseworker_a", "cancel": "caseworker_a", "approve": "supervisor_a", "return": "supervisor_a",
            "accept": "receiver", "decline": "receiver", "start": "receiver", "complete": "receiver"}
CASE_AUTHORS = ("caseworker_restricted", "supervisor_a")  # both may write restricted notes at A-OUJ
COMMUNE_OF = {"A-OUJ": "OUJ", "A-NAD": "NAD", "B-BEM": "BEM"}
WORKER_OF = {"A-OUJ": "caseworker_a", "A-NAD": "caseworker_a2", "B-BEM": "caseworker_b"}


@dataclass
class PageRows:
    """Adds rows through the services, each call in its own request context and transaction; remembers ids."""

    app: object
    world: World
    person_ids: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)
    referral_ids: list[int] = field(default_factory=list)
    merge_ids: list[int] = field(default_factory=list)
    batch_ids: list[int] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)
    _serial: int = 0

    def _run(self, work):
        with self.app.test_request_context():
            result = work(lambda key: db.session.get(User, self.world.users[key]))
            db.session.commit()
            return result

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def person(self, point: str = "A-OUJ", **overrides) -> tuple[int, int]:
        """Register one person (a distinct name, phone and document) with an open case; (person id, case id)."""
        from caseapp.beneficiaries.services import register_beneficiary

        number = self._next()
        values = dict(given_name=f"Personne{number:03d}", given_name_alt="", family_name_alt="",
                      family_name=f"Famille{number:03d}", commune_code=COMMUNE_OF[point],
                      phone=f"+212 6{number:02d} 11 22 {number % 100:02d}", document_type="passport",
                      document_number=f"PX{number:07d}", flags=["homeless"],
                      date_of_birth=date(1970, 1, 1) + timedelta(days=97 * number))
        values.update(overrides)

        def work(actor_of):
            person, case = register_beneficiary(actor_of(WORKER_OF[point]),
                                                valid_registration(self.world.service_points[point], **values))
            db.session.flush()
            return person.id, case.id

        person_id, case_id = self._run(work)
        self.person_ids.append(person_id)
        self.case_ids.append(case_id)
        return person_id, case_id

    def many_people(self, count: int, point: str = "A-OUJ") -> None:
        for _ in range(count):
            self.person(point)

    def case_work(self, case_id: int, count: int) -> None:
        """`count` of each: general and restricted notes, follow-ups (one overdue), goals with an action; each call
        by the next of CASE_AUTHORS, so that more rows also means more people named on the page."""
        from caseapp.cases.followups import add_follow_up
        from caseapp.cases.models import Case
        from caseapp.cases.notes import add_note
        from caseapp.cases.plan import add_action, add_goal

        def work(actor_of):
            worker = actor_of(CASE_AUTHORS[self._next() % len(CASE_AUTHORS)])
            case = db.session.get(Case, case_id)
            today = date.today()
            for index in range(count):
                add_note(worker, case, kind="general", body=f"Note {index}", occurred_on=today)
                add_note(worker, case, kind="psychosocial", body=f"Restricted note {index}", occurred_on=today)
                add_follow_up(worker, case, purpose=f"Visit {index}", due_date=today + timedelta(days=index - 1),
                              assigned_to_id=self.world.users["caseworker_a"], today=today - timedelta(days=2))
                goal = add_goal(worker, case, area="employment", title=f"Goal {index}")
                add_action(worker, goal, description=f"Action {index}", owner="Worker",
                           due_date=today + timedelta(days=7))

        self._run(work)

    def directory(self) -> None:
        """Partner C (the receiver's) offers SERVICE in every commune of the world."""
        from caseapp.referrals.models import DirectoryEntry

        def work(_actor_of):
            db.session.add_all(DirectoryEntry(partner_id=self.world.partners["C"], service_code=SERVICE,
                                              commune_code=commune) for commune in COMMUNE_OF.values())

        self._run(work)

    def referrals_of(self, case_id: int, count: int) -> None:
        """`count` referrals of the case to partner C, going through the statuses in turn (needs `directory`)."""
        from caseapp.cases.models import Case
        from caseapp.referrals.services import create_referral, transition

        def work(actor_of):
            case = db.session.get(Case, case_id)
            made = []
            for _ in range(count):
                referral = create_referral(actor_of("caseworker_a"), case, service_code=SERVICE,
                                           receiving_partner_id=self.world.partners["C"], priority="urgent",
                                           reason="Looking for work", consent_method="signed_form")
                for action in REFERRAL_PATHS[len(self.referral_ids + made) % len(REFERRAL_PATHS)]:
                    transition(actor_of(MOVED_BY[action]), referral, action, comment="Checked",
                               outcome="service_delivered" if action == "complete" else "")
                made.append(referral.id)
            return made

        self.referral_ids.extend(self._run(work))

    def timeline(self, referral_id: int, rounds: int) -> None:
        """Make a submitted referral's timeline longer: returned with a comment and submitted again, `rounds` times."""
        from caseapp.referrals.models import Referral
        from caseapp.referrals.services import transition

        def work(actor_of):
            referral = db.session.get(Referral, referral_id)
            for _ in range(rounds):
                transition(actor_of("supervisor_a"), referral, "return", comment="Add the diploma")
                transition(actor_of("caseworker_a"), referral, "submit")

        self._run(work)

    def other_cases(self, person_id: int, count: int) -> None:
        """`count` more cases of the person, opened by partner B (whose work partner A never sees)."""
        from caseapp.beneficiaries.models import Beneficiary
        from caseapp.cases.services import open_case
        from caseapp.places.models import ServicePoint

        def work(actor_of):
            person = db.session.get(Beneficiary, person_id)
            point = db.session.get(ServicePoint, self.world.service_points["B-BEM"])
            for _ in range(count):
                open_case(actor_of("caseworker_b"), person, point)

        self._run(work)

    def consents(self, person_id: int, count: int) -> None:
        """`count` more consents of the person to share with partner C."""
        from caseapp.beneficiaries.models import Beneficiary
        from caseapp.privacy.consents import record_consent

        def work(actor_of):
            person = db.session.get(Beneficiary, person_id)
            for _ in range(count):
                record_consent(actor_of("supervisor_a"), person, kind="sharing", method="signed_form",
                               partner_id=self.world.partners["C"])

        self._run(work)

    def flags(self, person_id: int, count: int) -> None:
        """`count` more vulnerability flags on the person (restricted ones among them), set by a supervisor."""
        from caseapp.beneficiaries.models import BeneficiaryFlag, VulnerabilityFlag

        def work(actor_of):
            taken = set(db.session.scalars(select(BeneficiaryFlag.flag_code)
                                           .where(BeneficiaryFlag.beneficiary_id == person_id)))
            codes = [code for code in db.session.scalars(select(VulnerabilityFlag.code)
                                                         .order_by(VulnerabilityFlag.restricted.desc(),
                                                                   VulnerabilityFlag.code)) if code not in taken]
            db.session.add_all([BeneficiaryFlag(beneficiary_id=person_id, flag_code=code,
                                                set_by_id=actor_of("supervisor_a").id) for code in codes[:count]])

        self._run(work)

    def household(self, person_ids: list[int]) -> None:
        """Link the people into one household."""
        from caseapp.beneficiaries.households import link_household
        from caseapp.beneficiaries.models import Beneficiary

        def work(actor_of):
            first = db.session.get(Beneficiary, person_ids[0])
            for other in person_ids[1:]:
                link_household(actor_of("supervisor_a"), first, db.session.get(Beneficiary, other))

        self._run(work)

    def transfers(self, count: int) -> None:
        """`count` new cases of partner B proposed for transfer to partner A's Oujda point."""
        from caseapp.cases.assignment import propose_transfer
        from caseapp.cases.models import Case

        for _ in range(count):
            _person, case_id = self.person("B-BEM")
            self._run(lambda actor_of, case_id=case_id: propose_transfer(
                actor_of("supervisor_b"), db.session.get(Case, case_id), self.world.service_points["A-OUJ"],
                "Moved to Oujda"))

    def merge(self, kept: int, merged: int) -> int:
        """Supervisor A merges record `merged` into `kept`; the merge's id."""
        from caseapp.beneficiaries.merge import merge_people
        from caseapp.beneficiaries.models import Beneficiary

        self.merge_ids.append(self._run(lambda actor_of: merge_people(
            actor_of("supervisor_a"), db.session.get(Beneficiary, kept), db.session.get(Beneficiary, merged), {}).id))
        return self.merge_ids[-1]

    def import_batch(self) -> int:
        """A new import batch of partner A (empty: see `add_to_batch`)."""
        from caseapp.imports.models import ImportBatch

        def work(_actor_of):
            number = self._next()
            batch = ImportBatch(created_by_id=self.world.users["supervisor_a"], partner_id=self.world.partners["A"],
                                service_point_id=self.world.service_points["A-OUJ"], filename=f"file{number}.xlsx",
                                file_sha256=f"{number:064d}")
            db.session.add(batch)
            db.session.flush()
            return batch.id

        self.batch_ids.append(self._run(work))
        return self.batch_ids[-1]

    def add_to_batch(self, batch_id: int, count: int) -> None:
        """`count` more registered people counted as imported by the batch."""
        from caseapp.beneficiaries.models import Beneficiary
        from caseapp.imports.models import ImportBatch

        added = [self.person()[0] for _ in range(count)]

        def work(_actor_of):
            batch = db.session.get(ImportBatch, batch_id)
            batch.row_count += count
            batch.imported_count += count
            for person in db.session.scalars(select(Beneficiary).where(Beneficiary.id.in_(added))):
                person.import_batch_id = batch_id

        self._run(work)

    def published_reports(self, count: int) -> None:
        """`count` published versions of this year's report."""
        from caseapp.reports.content import build_content, publish

        for _ in range(count):
            self.report_ids.append(self._run(lambda actor_of: publish(
                actor_of("me_officer"), build_content(str(date.today().year), 5)).id))

    def accounts(self, count: int) -> None:
        """`count` more partners, each with a service point, a caseworker and an entry in the service directory."""
        from caseapp.auth.services import create_user
        from caseapp.partners.models import Partner
        from caseapp.places.models import ServicePoint
        from caseapp.referrals.models import DirectoryEntry

        def work(_actor_of):
            for _ in range(count):
                number = self._next()
                partner = Partner(code=f"P{number}", name=f"Partner {number}", kind="association")
                point = ServicePoint(code=f"P{number}-OUJ", name=f"Point {number}", commune_code="OUJ",
                                     partner=partner)
                db.session.add_all([partner, point, DirectoryEntry(partner=partner, service_code=SERVICE,
                                                                   commune_code="OUJ")])
                db.session.flush()
                create_user(None, username=f"worker{number}", full_name=f"Worker {number}",
                            password="correct horse battery staple", role="caseworker", partner=partner,
                            service_points=[point])

        self._run(work)
