"""plain_rows: lists and counts read on the session's connection still see the session's pending changes, as the
ORM's autoflush let them."""
from sqlalchemy import select

from caseapp.extensions import db


def test_a_list_and_a_count_read_after_an_unflushed_change_show_it(app, world, register):
    from caseapp.cases.models import Case
    from caseapp.cases.rows import case_rows_statement, read_case_rows
    from caseapp.pagination import count_statement, read_count

    register("caseworker_a", given_name="Amina", phone="+212 612 000 001")
    register("caseworker_a", given_name="Youssef", phone="+212 612 000 002")
    with app.app_context():
        first, second = db.session.scalars(select(Case).order_by(Case.id))
        assert first.status == second.status == "registered"
        first.status = "assessment"  # pending: not flushed yet
        assessed = count_statement(select(Case).where(Case.status == "assessment"))
        assert read_count(assessed) == 1
        rows = read_case_rows(case_rows_statement(Case.id.in_([first.id, second.id]), (Case.id,), 10))
        assert [row.status for row in rows] == ["assessment", "registered"]
        db.session.rollback()
        assert read_count(assessed) == 0
