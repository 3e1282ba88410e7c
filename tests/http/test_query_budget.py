"""List pages send a fixed number of SQL statements whatever the number of rows (no N+1)."""
import pytest

LIST_BUDGET = 10


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
