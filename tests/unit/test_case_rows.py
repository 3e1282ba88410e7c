"""cases.rows.where_of: the rows' statement takes a scoped select's WHERE only when that select reads no other
table than the ones the rows' statement joins itself (a join the scope added would otherwise be lost)."""
import pytest
from sqlalchemy import select

import caseapp.models  # noqa: F401 - every model mapped (relationships name each other)
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.cases.rows import where_of


def test_the_where_is_taken_when_the_tables_are_the_rows_own():
    query = select(Case).where(Case.partner_id == 1)
    assert str(where_of(query, Case.__table__)) == str(query.whereclause)
    searched = query.join(Case.beneficiary).where(Beneficiary.family_name == "x")
    assert str(where_of(searched, Case.__table__, Beneficiary.__table__)) == str(searched.whereclause)


def test_a_select_reading_another_table_is_refused():
    joined = select(Case).join(User, User.id == Case.assigned_worker_id).where(User.active.is_(True))
    with pytest.raises(ValueError, match="user_account"):
        where_of(joined, Case.__table__)
    with pytest.raises(ValueError):
        where_of(select(Case).where(Case.partner_id == 1), Case.__table__, Beneficiary.__table__)
