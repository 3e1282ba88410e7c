"""Person-level pages never tell which other organisations know the person: their staff and names are masked for
everyone but the dpo (access log, consent table)."""
import html

from caseapp.audit.service import record
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary, ConsentRecord
from caseapp.extensions import db


def _page(client, url) -> str:
    return html.unescape(client.get(url).get_data(as_text=True))


def test_other_organisations_are_masked_in_the_access_log_and_consents(app, world, register, login_as):
    person_id, _ = register("caseworker_a", given_name="Maskedperson")
    with app.app_context():
        outsider = db.session.get(User, world.users["receiver"])  # Receiver, of partner C
        record(outsider, "beneficiary.view", db.session.get(Beneficiary, person_id))
        db.session.add(ConsentRecord(beneficiary_id=person_id, kind="sharing", method="signed_form",
                                     partner_id=world.partners["C"], recorded_by_id=outsider.id))
        db.session.commit()
    supervisor_log = _page(login_as("supervisor_a"), f"/people/{person_id}/access-log")
    assert "Receiver" not in supervisor_log and "Partner C" not in supervisor_log
    assert "Caseworker A" in supervisor_log  # the supervisor's own staff stay named
    person_page = _page(login_as("caseworker_a"), f"/beneficiaries/{person_id}")
    assert "Receiver" not in person_page and "Partner C" not in person_page
    dpo_log = _page(login_as("dpo"), f"/people/{person_id}/access-log")
    assert "Receiver" in dpo_log and "Partner C" in dpo_log
