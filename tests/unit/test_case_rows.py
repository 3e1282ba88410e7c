"""policy.scope_condition: the rows' statements (cases.rows) and the tally's sums take the scope as a condition, so
it must read no other table than the model's own outside its subqueries: a table it brought along would join
nothing and multiply the rows."""
import pytest
from sqlalchemy import select
from sqlalchemy.sql.util import find_tables

from caseapp.access.policy import scope, scope_condition
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case, CaseNote, CaseTally, CaseTransfer, FollowUp, PlanGoal
from caseapp.extensions import db
from caseapp.places.models import ServicePoint
from caseapp.referrals.models import Referral, ReferralTally
from tests.conftest import USERS

MODELS = (Case, CaseTally, Beneficiary, ServicePoint, CaseNote, FollowUp, PlanGoal, Referral, ReferralTally,
          CaseTransfer)


@pytest.mark.parametrize("user_key", sorted(USERS))
def test_the_scope_condition_reads_only_its_models_table(app, world, user_key):
    with app.app_context():
        user = db.session.get(User, world.users[user_key])
        for model in MODELS:
            query = select(model.id).where(scope_condition(user, model))
            found = {table for selectable in query.get_final_froms() for table in find_tables(selectable)}
            assert found == {model.__table__}, (user_key, model.__name__)
            assert str(scope(user, select(model), model).whereclause) == str(query.whereclause)
