"""Merge pages over HTTP: comparison, merge, tombstone redirect, merge page and undo; scope (404), role (403),
conflicts (409), one merge per form; the person page lists likely duplicates for supervisors only."""
import re
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy import func, select

from caseapp.beneficiaries.merge import CHOICE_FIELDS
from caseapp.beneficiaries.models import Beneficiary, PersonMerge
from caseapp.extensions import db
from tests.conftest import csrf_token

FORM_FIELD = re.compile(r'<input[^>]*name="(csrf_token|form_token|kept_version|merged_version)"[^>]*value="([^"]*)"')


def _pair(register) -> tuple[int, int]:
    kept, _ = register()
    merged, _ = register("caseworker_a2", "A-NAD", given_name="Mohammed", family_name="Elamrani",
                         given_name_alt="", family_name_alt="", date_of_birth=date(1990, 5, 18),
                         phone="+212 655 00 11 22")
    return kept, merged


def _form(client, kept: int, merged: int) -> dict:
    page = client.get(f"/people/{kept}/merge?with={merged}")
    assert page.status_code == 200
    return dict(FORM_FIELD.findall(page.get_data(as_text=True)))


def _merges(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(PersonMerge.id)))


def test_compare_merge_redirect_and_undo(app, world, register, login_as):
    kept, merged = _pair(register)
    client = login_as("supervisor_a")
    person_page = client.get(f"/beneficiaries/{kept}").get_data(as_text=True)
    assert f"/people/{kept}/merge?with={merged}" in person_page  # "Compare and merge" for a likely duplicate

    page = client.get(f"/people/{kept}/merge?with={merged}").get_data(as_text=True)
    assert page.count("<fieldset") == len(CHOICE_FIELDS) and page.count("<legend") == len(CHOICE_FIELDS)
    assert 'value="kept" checked' in page and 'value="merged" checked' not in page
    assert "Mohammed" in page and not re.search(r"<script(?![^>]*\bsrc=)|<style|style=", page)

    form = _form(client, kept, merged)
    response = client.post(f"/people/{kept}/merge?with={merged}", data={**form, "given_name": "merged"})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == f"/beneficiaries/{kept}"
    with app.app_context():
        assert db.session.get(Beneficiary, kept).given_name == "Mohammed"
        assert db.session.get(Beneficiary, merged).merged_into_id == kept
        merge_id = db.session.scalar(select(PersonMerge.id))

    tombstone = client.get(f"/beneficiaries/{merged}")
    assert tombstone.status_code == 302 and urlsplit(tombstone.headers["Location"]).path == f"/beneficiaries/{kept}"
    person_page = client.get(f"/beneficiaries/{kept}").get_data(as_text=True)
    assert f"/merges/{merge_id}" in person_page and f"with={merged}" not in person_page

    shown = client.get(f"/merges/{merge_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Undo the merge" in shown
    token = FORM_FIELD.search(shown).group(2)
    assert client.post(f"/merges/{merge_id}/undo", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Beneficiary, kept).given_name == "Mohamed"
        assert db.session.get(Beneficiary, merged).merged_into_id is None
        assert db.session.get(PersonMerge, merge_id).undone_at is not None
    assert client.get(f"/beneficiaries/{merged}").status_code == 200
    english = {"Accept-Language": "en"}
    client.post(f"/merges/{merge_id}/undo", data={"csrf_token": token}, headers=english)
    assert "already undone" in client.get(f"/merges/{merge_id}", headers=english).get_data(as_text=True)


def test_the_same_form_posted_twice_merges_once(app, world, register, login_as):
    kept, merged = _pair(register)
    client = login_as("supervisor_a")
    form = _form(client, kept, merged)
    for _attempt in range(2):
        response = client.post(f"/people/{kept}/merge?with={merged}", data=form)
        assert response.status_code == 302
    assert _merges(app) == 1


def test_a_record_saved_meanwhile_is_a_conflict(app, world, register, login_as):
    kept, merged = _pair(register)
    client = login_as("supervisor_a")
    form = _form(client, kept, merged)
    with app.app_context():
        db.session.get(Beneficiary, merged).is_household_head = True  # saved by someone else meanwhile
        db.session.commit()
    response = client.post(f"/people/{kept}/merge?with={merged}", data=form, headers={"Accept-Language": "en"})
    assert response.status_code == 409
    assert "changed since you opened this page" in response.get_data(as_text=True)
    assert _merges(app) == 0
    fresh = dict(FORM_FIELD.findall(response.get_data(as_text=True)))
    assert fresh["merged_version"] != form["merged_version"]
    assert client.post(f"/people/{kept}/merge?with={merged}", data=fresh).status_code == 302  # checked again: merged


def test_other_partners_supervisor_gets_404_and_a_caseworker_403(app, world, register, login_as):
    kept, merged = _pair(register)
    supervisor = login_as("supervisor_a")
    form = _form(supervisor, kept, merged)
    outsider, worker = login_as("supervisor_b"), login_as("caseworker_a")
    assert outsider.get(f"/people/{kept}/merge?with={merged}").status_code == 404
    assert outsider.post(f"/people/{kept}/merge?with={merged}",
                         data={**form, "csrf_token": csrf_token(outsider, "/")}).status_code == 404
    assert worker.get(f"/people/{kept}/merge?with={merged}").status_code == 403
    assert worker.post(f"/people/{kept}/merge?with={merged}",
                       data={**form, "csrf_token": csrf_token(worker, "/")}).status_code == 403
    assert f"with={merged}" not in worker.get(f"/beneficiaries/{kept}").get_data(as_text=True)
    assert _merges(app) == 0

    assert supervisor.post(f"/people/{kept}/merge?with={merged}", data=form).status_code == 302
    merge_id = _merges(app)
    assert outsider.get(f"/merges/{merge_id}").status_code == 404
    assert outsider.post(f"/merges/{merge_id}/undo", data={"csrf_token": csrf_token(outsider, "/")}).status_code == 404
    assert outsider.get(f"/beneficiaries/{merged}").status_code == 404  # no redirect out of scope
    assert worker.get(f"/merges/{merge_id}").status_code == 403


def test_a_record_out_of_scope_cannot_be_merged(app, world, register, login_as):
    kept, _ = register()
    foreign, _ = register("caseworker_b", "B-BEM", commune_code="BEM")
    client = login_as("supervisor_a")
    assert client.get(f"/people/{kept}/merge?with={foreign}").status_code == 404
    assert client.get(f"/people/{kept}/merge?with={kept}").status_code == 404
    assert client.get(f"/people/{kept}/merge?with=abc").status_code == 404
    assert client.get(f"/people/{kept}/merge?with=99999999999999999999").status_code == 404
    assert f"with={foreign}" not in client.get(f"/beneficiaries/{kept}").get_data(as_text=True)
