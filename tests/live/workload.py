"""The soak workload: virtual users on live app servers doing mixed reads and writes, and the check that every
acknowledged write is in the database. Used by tests/live/test_soak.py (seconds) and bench/soak.py (minutes).

Each virtual user logs in (through the form) on one server, then until the deadline picks an action at random:
reads (home page, case list, a case page, a person page, a search, the registration form) and writes (a note,
a follow-up, a registration). Every write carries a unique marker; the server's redirect is its acknowledgement.
An error is any failed request: a 5xx, any 4xx (none is expected here), a redirect to the login page, or no
answer at all.
"""
import http.client
import math
import random
import re
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import CaseNote, FollowUp
from caseapp.extensions import db
from tests.live.client import Browser, Page, log_in

CASE_LINK = re.compile(r'href="/cases/(\d+)"')
PERSON_LINK = re.compile(r'href="/beneficiaries/(\d+)"')
CASE_NUMBER = re.compile(r"\b[A-Z]{3}-\d{4}-\d+\b")
# action → weight: about two reads for each write
ACTIONS = {"home": 8, "case_list": 12, "case_page": 16, "person_page": 8, "search": 8, "registration_form": 4,
           "note": 18, "follow_up": 12, "registration": 6}


@dataclass(frozen=True)
class Account:
    """A login of the virtual users (several may share one)."""

    username: str
    password: str


@dataclass(frozen=True)
class Write:
    """An acknowledged write: what (note, follow_up, registration), its unique marker, and where (case or person)."""

    kind: str
    marker: str
    target: int


@dataclass
class Tally:
    """What the virtual users did: requests and latencies per action, errors, acknowledged writes."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> Counter:
        return Counter({action: len(samples) for action, samples in self.latencies.items()})

    def summary(self) -> list[tuple[str, int, float, float]]:
        """(action, count, median ms, p95 ms) per action."""
        rows = []
        for action, samples in sorted(self.latencies.items()):
            ordered = sorted(samples)
            rows.append((action, len(ordered), statistics.median(ordered) * 1000,
                         ordered[math.ceil(0.95 * len(ordered)) - 1] * 1000))  # nearest rank
        return rows


class FailedRequest(Exception):
    """A request of the workload got an answer it should not have."""


class VirtualUser:
    """One logged-in user on one server, remembering the cases and people it has seen."""

    def __init__(self, url: str, account: Account, tally: Tally, seed: int):
        self.browser = Browser(url)
        self.account = account
        self.tally = tally
        self.rng = random.Random(seed)
        self.cases: list[int] = []
        self.people: list[int] = []
        self.search_terms: list[str] = []

    def _expect(self, page: Page, *statuses: int) -> Page:
        if page.status not in statuses or page.location == "/login":
            raise FailedRequest(f"{page.path}: {page.status} {page.location}".strip())
        return page

    def _get(self, path: str) -> Page:
        page = self._expect(self.browser.get(path), 200)
        self.cases.extend(int(found) for found in CASE_LINK.findall(page.body) if int(found) not in self.cases)
        self.people.extend(int(found) for found in PERSON_LINK.findall(page.body) if int(found) not in self.people)
        self.search_terms.extend(CASE_NUMBER.findall(page.body)[:3])
        del self.search_terms[:-50]
        return page

    def _post(self, path: str, fields: dict) -> Page:
        return self._expect(self.browser.post(path, fields), 302)

    # --- reads ---
    def home(self) -> None:
        self._get("/")

    def case_list(self) -> None:
        self._get("/cases/")

    def case_page(self) -> None:
        self._get(f"/cases/{self._a_case()}")

    def person_page(self) -> None:
        if not self.people:
            self._get(f"/cases/{self._a_case()}")
        self._get(f"/beneficiaries/{self.rng.choice(self.people)}")

    def search(self) -> None:
        form = self._get("/cases/").hidden_fields("/cases/")
        term = self.rng.choice(self.search_terms) if self.search_terms else "Soak"
        self._post("/cases/", {**form, "q": term})
        self._get("/cases/")

    def registration_form(self) -> None:
        self._get("/beneficiaries/new")

    # --- writes ---
    def note(self) -> None:
        case_id = self._a_case()
        form = self._get(f"/cases/{case_id}").hidden_fields(f"/cases/{case_id}/notes")
        marker = f"soak note {uuid.uuid4().hex}"
        self._post(f"/cases/{case_id}/notes", {**form, "kind": "general", "occurred_on": date.today().isoformat(),
                                               "body": marker})
        self._acknowledged("note", marker, case_id)

    def follow_up(self) -> None:
        case_id = self._a_case()
        form = self._get(f"/cases/{case_id}").hidden_fields(f"/cases/{case_id}/follow-ups")
        marker = f"soak follow-up {uuid.uuid4().hex}"
        due = date.today() + timedelta(days=self.rng.randint(0, 30))
        self._post(f"/cases/{case_id}/follow-ups", {**form, "purpose": marker, "due_date": due.isoformat(),
                                                    "assigned_to_id": "0"})
        self._acknowledged("follow_up", marker, case_id)

    def registration(self) -> None:
        page = self._get("/beneficiaries/new")
        family_name = "Soak" + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
        answer = self._post("/beneficiaries/new", {
            **page.hidden_fields(), "service_point_id": page.first_option("service_point_id"),
            "given_name": self.rng.choice(("Mohamed", "Awa", "Youssef", "Khadija", "Moussa", "Rania")),
            "family_name": family_name, "sex": self.rng.choice("FM"),
            "date_of_birth": (date(1960, 1, 1) + timedelta(days=self.rng.randint(0, 20000))).isoformat(),
            "nationality": "MAR", "profile": "returnee", "country_returned_from": "LBY",
            "commune_code": page.first_option("commune_code"), "languages": ["ar"],
            "processing_basis": "signed_form", "statistics_consent": "y", "confirm_new_person": "y"})
        person_id = int(answer.location.rsplit("/", 1)[1])
        self._acknowledged("registration", family_name, person_id)
        self.people.append(person_id)
        self.search_terms.append(family_name)

    def _a_case(self) -> int:
        if not self.cases:
            self._get("/cases/")
        if not self.cases:
            self.registration()
            self._get("/cases/")
        return self.rng.choice(self.cases)

    def _acknowledged(self, kind: str, marker: str, target: int) -> None:
        with self.tally.lock:
            self.tally.writes.append(Write(kind, marker, target))

    def run(self, deadline: float, think_seconds: float) -> None:
        """Log in, then act until the deadline; every failure is counted (and the user goes on)."""
        started = time.perf_counter()
        try:
            log_in(self.browser, self.account.username, self.account.password)
        except (RuntimeError, LookupError, OSError, http.client.HTTPException) as error:
            self._failed("login", error)
            return
        self._timed("login", started)
        names, weights = list(ACTIONS), list(ACTIONS.values())
        while time.monotonic() < deadline:
            action = self.rng.choices(names, weights)[0]
            started = time.perf_counter()
            try:
                getattr(self, action)()
            except (FailedRequest, LookupError, ValueError, OSError, http.client.HTTPException) as error:
                self._failed(action, error)
            else:
                self._timed(action, started)
            time.sleep(self.rng.uniform(0, think_seconds))

    def _timed(self, action: str, started: float) -> None:
        with self.tally.lock:
            self.tally.latencies[action].append(time.perf_counter() - started)

    def _failed(self, action: str, error: Exception) -> None:
        with self.tally.lock:
            self.tally.errors.append(f"{action} as {self.account.username}: {type(error).__name__}: {error}")


def run_users(urls: list[str], accounts: list[Account], users: int, seconds: float, think_seconds: float = 0.2,
              seed: int = 2026) -> Tally:
    """`users` virtual users spread over the servers and the accounts, for `seconds`; what they did."""
    tally = Tally()
    deadline = time.monotonic() + seconds
    crowd = [VirtualUser(urls[index % len(urls)], accounts[index % len(accounts)], tally, seed + index)
             for index in range(users)]
    with ThreadPoolExecutor(max_workers=users, thread_name_prefix="virtual-user") as pool:
        list(pool.map(lambda user: user.run(deadline, think_seconds), crowd))
    return tally


def lost_writes(writes: list[Write]) -> list[Write]:
    """The acknowledged writes not found in the database (call inside an app context with the servers' keys)."""
    notes, follow_ups, registrations = defaultdict(set), defaultdict(set), {}
    note_cases = {write.target for write in writes if write.kind == "note"}
    for note in db.session.scalars(select(CaseNote).where(CaseNote.case_id.in_(note_cases))):
        notes[note.case_id].add(note.body)  # encrypted at rest: compared once decrypted
    follow_up_cases = {write.target for write in writes if write.kind == "follow_up"}
    for case_id, purpose in db.session.execute(select(FollowUp.case_id, FollowUp.purpose)
                                               .where(FollowUp.case_id.in_(follow_up_cases))):
        follow_ups[case_id].add(purpose)
    people = {write.target for write in writes if write.kind == "registration"}
    registrations.update(db.session.execute(select(Beneficiary.id, Beneficiary.family_name)
                                            .where(Beneficiary.id.in_(people))).all())
    found = {"note": lambda write: write.marker in notes[write.target],
             "follow_up": lambda write: write.marker in follow_ups[write.target],
             "registration": lambda write: registrations.get(write.target) == write.marker}
    return [write for write in writes if not found[write.kind](write)]
