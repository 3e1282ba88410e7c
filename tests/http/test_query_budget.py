"""List pages send a fixed number of SQL statements whatever the number of rows (no N+1)."""
import pytest

# 10, plus 2 when the page writes an audit event (a filtered search): the chain's last hash, and on PostgreSQL the
# audit writers' lock taken just before it.
LIST_BUDGET = 12


@pytest.fixture
def many_people(register):
    for index in range(30):
        register(given_name=f"Person{index}", phone=f"+212 600 000 {index:03d}")


@pytest.mark.parametrize("path", ["/", "/cases/", "/cases/?page=2", "/cases/?status=registered"])
def test_list_pages_have_a_fixed_query_budget(app, login_as, many_people, count_queries, path):
    client = login_as("caseworker_a")
    counts = {}
    for page_size in (5, 25):
        app.config["PAGE_SIZE"] = page_size
        try:
            with count_queries() as counter:
                assert client.get(path).status_code == 200
        finally:
            app.config["PAGE_SIZE"] = 25
        counts[page_size] = counter.count
    assert counts[5] == counts[25], counts
    assert counts[25] <= LIST_BUDGET, (counts, counter.statements)


def test_person_page_budget_does_not_grow_with_cases(app, login_as, register, count_queries):
    person_id, _number = register()
    client = login_as("caseworker_a")
    with count_queries() as counter:
        assert client.get(f"/beneficiaries/{person_id}").status_code == 200
    assert counter.count <= 14, counter.statements


def test_case_page_budget_does_not_grow_with_referrals(app, world, register, login_as, count_queries):
    """Each referral shows its timeline on the case page: loaded in one query, not one per referral."""
    from sqlalchemy import select

    from caseapp.auth.models import User
    from caseapp.cases.models import Case
    from caseapp.extensions import db
    from caseapp.referrals.models import DirectoryEntry
    from caseapp.referrals.services import create_referral, transition

    _person, number = register()
    with app.test_request_context():
        db.session.add(DirectoryEntry(partner_id=world.partners["C"], service_code="employment.anapec",
                                      commune_code="OUJ"))
        db.session.commit()
        case_id = db.session.scalar(select(Case.id).where(Case.number == number))
    client = login_as("caseworker_a")
    counts = {}
    for total in (1, 6):
        with app.test_request_context():
            actor, case = db.session.get(User, world.users["caseworker_a"]), db.session.get(Case, case_id)
            while _count_referrals(case_id) < total:
                referral = create_referral(actor, case, service_code="employment.anapec",
                                           receiving_partner_id=world.partners["C"], priority="normal",
                                           reason="Job", consent_method="signed_form")
                transition(actor, referral, "submit")
            db.session.commit()
        with count_queries() as counter:
            assert client.get(f"/cases/{case_id}").status_code == 200
        counts[total] = counter.count
    assert counts[1] == counts[6], counts


def _count_referrals(case_id: int) -> int:
    from sqlalchemy import func, select

    from caseapp.extensions import db
    from caseapp.referrals.models import Referral

    return db.session.scalar(select(func.count(Referral.id)).where(Referral.case_id == case_id))
