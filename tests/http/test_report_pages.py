"""Report pages: preview, publish (versions frozen, one version per form token), downloads, access by role, and the
M&E officer seeing no person anywhere in the app."""
import hashlib
import io
import json
import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.routing import IntegerConverter

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.reports.models import PublishedReport
from tests.conftest import csrf_token

PERIOD = str(date.today().year)
OUJ_NAMES = [("Yasmina", "Bouchtaoui"), ("Karima", "Lahlimi"), ("Rachid", "Ouazzani"), ("Samir", "Tebbaa"),
             ("Nadia", "Zerhouni"), ("Hamza", "Benkirane")]
NAD_NAME = ("Zoubida", "Qarmouti")  # the only person registered in Nador: a count of 1
REGION_BY_COMMUNE = "table-beneficiaries_registered-region-commune"
TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')
NOT_REPORT_ROLES = ("caseworker_a", "supervisor_a", "receiver", "dpo", "admin")


def _english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def people(register):
    """Six people registered in Oujda and one in Nador (both in region 02), all consenting to statistics."""
    ids = [register("caseworker_a", "A-OUJ", given_name=given, family_name=family) for given, family in OUJ_NAMES]
    ids.append(register("caseworker_a2", "A-NAD", given_name=NAD_NAME[0], family_name=NAD_NAME[1],
                        commune_code="NAD"))
    return ids


@pytest.fixture
def officer(login_as):
    return _english(login_as("me_officer"))


def _cell(html: str, table_id: str, key: str) -> str:
    """The text of the cell `key` (e.g. "commune=NAD;region=02") of the table `table_id` on a report page."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    match = re.search(rf'data-key="{re.escape(key)}">(.*?)</td>', table, re.S)
    assert match, (table_id, key)
    return match.group(1).strip()


def _preview(client, period: str = PERIOD):
    token = csrf_token(client, "/reports/")
    return client.post("/reports/preview", data={"csrf_token": token, "period": period})


def _publish(client, page: str, period: str = PERIOD):
    data = {"csrf_token": csrf_token(client, "/reports/"), "form_token": TOKEN.search(page).group(1), "period": period}
    return client.post("/reports/publish", data=data), data


def _reports(app) -> list[tuple[int, int, str, str]]:
    with app.app_context():
        return [(row.id, row.version, row.content, row.content_sha256) for row in db.session.scalars(
            select(PublishedReport).order_by(PublishedReport.version))]


def test_preview_shows_tables_and_hides_small_counts(app, people, officer):
    index = officer.get("/reports/")
    assert index.status_code == 200 and "No report has been published yet." in index.get_data(as_text=True)
    response = _preview(officer)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview: not published." in html and 'action="/reports/publish"' in html
    assert "People registered" in html and "<caption" in html
    # One person in Nador: the cell shows a dash, explained, never the 1.
    nador = _cell(html, REGION_BY_COMMUNE, "commune=NAD;region=02")
    assert "—" in nador and "visually-hidden" in nador and "title=" in nador
    assert not re.search(r">\s*1\s*<", nador)
    assert _cell(html, REGION_BY_COMMUNE, "") == "7"  # the grand total is published
    assert "not shown: a count from 1 to 4" in html  # the legend
    assert "report-chart" in html and 'aria-hidden="true"' in html and "style=" not in html.split("<main", 1)[1]
    assert "Fewer than" not in html and "No one was left out" in html
    assert "Counts from 1 to 4 are not shown" in html  # the method in the footer
    assert "Yasmina" not in html and NAD_NAME[1] not in html
    assert _reports(app) == []  # a preview is not stored


def test_bad_period_gives_a_message_not_an_error(app, world, officer):
    for period in ("2026-Q5", "26", "2026-13", "", "1999", "2026-q1", "x" * 300):
        response = _preview(officer, period)
        assert response.status_code == 200, period
        html = response.get_data(as_text=True)
        assert "Enter a period as YYYY-MM (e.g. 2026-03), YYYY-Qn (e.g. 2026-Q1) or YYYY" in html, period
        assert 'aria-invalid="true"' in html and "Unknown period" not in html, period
    assert _reports(app) == []


def test_publish_twice_makes_two_versions_and_keeps_the_first(app, people, officer, register):
    first, _ = _publish(officer, _preview(officer).get_data(as_text=True))
    assert first.status_code == 302
    [(report_id, version, content, sha)] = _reports(app)
    assert version == 1 and urlsplit(first.headers["Location"]).path == f"/reports/{report_id}"
    assert hashlib.sha256(content.encode()).hexdigest() == sha
    page = officer.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "Preview: not published." not in page and "version 1" in page
    assert _cell(page, REGION_BY_COMMUNE, "") == "7"
    assert "—" in _cell(page, REGION_BY_COMMUNE, "commune=NAD;region=02")

    # New data after publishing: the published page does not change, a new preview and version 2 do. One more
    # person would change the total by 1: the new version hides it (subtracting the versions would show them).
    register("caseworker_a", "A-OUJ", given_name="Latifa", family_name="Sbai")
    again = officer.get(f"/reports/{report_id}").get_data(as_text=True)
    assert _cell(again, REGION_BY_COMMUNE, "") == "7"
    assert "—" in _cell(_preview(officer).get_data(as_text=True), REGION_BY_COMMUNE, "")
    for number in range(4):  # four more: the total moves by 5, no longer a small difference
        register("caseworker_a", "A-OUJ", given_name=f"Latifa{number}", family_name="Sbai")
    preview = _preview(officer).get_data(as_text=True)
    assert _cell(preview, REGION_BY_COMMUNE, "") == "12"
    second, _ = _publish(officer, preview)
    assert second.status_code == 302
    rows = _reports(app)
    assert [row[1] for row in rows] == [1, 2]
    assert rows[0] == (report_id, 1, content, sha)  # version 1 unchanged, byte for byte
    assert rows[1][3] != sha
    assert _cell(officer.get(f"/reports/{report_id}").get_data(as_text=True), REGION_BY_COMMUNE, "") == "7"
    assert _cell(officer.get(f"/reports/{rows[1][0]}").get_data(as_text=True), REGION_BY_COMMUNE, "") == "12"
    listing = officer.get("/reports/").get_data(as_text=True)
    assert listing.index(f"/reports/{rows[1][0]}") < listing.index(f"/reports/{report_id}")  # newest first
    with app.app_context():
        published = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "report.publish"))
    assert published == 2


def test_publishing_ignores_posted_figures_and_rebuilds(app, people, officer):
    page = _preview(officer).get_data(as_text=True)
    data = {"csrf_token": csrf_token(officer, "/reports/"), "form_token": TOKEN.search(page).group(1),
            "period": PERIOD, "content": '{"tables": []}', "tables": "[]"}
    assert officer.post("/reports/publish", data=data).status_code == 302
    [(_, _, content, _)] = _reports(app)
    assert '"beneficiaries_registered"' in content


def test_a_double_click_on_publish_makes_one_version(app, people, officer):
    page = _preview(officer).get_data(as_text=True)
    first, data = _publish(officer, page)
    second = officer.post("/reports/publish", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_reports(app)) == 1


def test_publish_with_a_bad_period_publishes_nothing(app, people, officer):
    page = _preview(officer).get_data(as_text=True)
    response, _ = _publish(officer, page, period="2026-Q9")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/reports/"
    assert _reports(app) == []


def test_downloads(app, people, officer):
    response, _ = _publish(officer, _preview(officer).get_data(as_text=True))
    report_id = int(response.headers["Location"].rsplit("/", 1)[1])

    workbook = officer.get(f"/reports/{report_id}/report.xlsx")
    assert workbook.status_code == 200
    assert workbook.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert workbook.headers["Content-Disposition"] == f'attachment; filename="caseapp-{PERIOD}-v1.xlsx"'
    book = load_workbook(io.BytesIO(workbook.data))
    first = book.worksheets[0]
    assert str(first.cell(row=2, column=1).value).startswith("#")
    assert "Notes" in book.sheetnames

    long = officer.get(f"/reports/{report_id}/report-long.csv")
    assert long.status_code == 200 and long.mimetype == "text/csv"
    assert long.headers["Content-Disposition"] == f'attachment; filename="caseapp-{PERIOD}-v1-long.csv"'
    text = long.data.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text[1:].splitlines()
    header = lines[0].split(",")
    assert header[0] == "indicator" and header[-1] == "value" and "region" in header and "commune" in header
    values = [line.rsplit(",", 1)[1] for line in lines[1:]]
    assert values and all(value == "" or value.isdigit() for value in values)
    assert "" in values  # the suppressed cells are empty

    people_csv = officer.get(f"/reports/{report_id}/report.csv")
    assert people_csv.status_code == 200 and people_csv.data.startswith("\ufeff".encode())
    assert people_csv.headers["Content-Disposition"] == f'attachment; filename="caseapp-{PERIOD}-v1.csv"'
    assert "suppressed" in people_csv.data.decode("utf-8")

    with app.app_context():
        formats = sorted(json.loads(event.details).get("format") for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "report.export", AuditEvent.object_id == report_id)))
    assert formats == ["csv", "long_csv", "xlsx"]
    assert officer.get("/reports/999999/report.xlsx").status_code == 404


def _report_rules(app):
    return sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("reports.")),
                  key=lambda rule: rule.rule)


def _publish_one(app, world) -> int:
    from caseapp.auth.models import User
    from caseapp.reports.content import build_content, publish

    with app.app_context():
        report = publish(db.session.get(User, world.users["me_officer"]), build_content(PERIOD, 5))
        db.session.commit()
        return report.id


@pytest.mark.parametrize("key", NOT_REPORT_ROLES)
def test_every_report_route_is_refused_to_other_roles(app, world, login_as, key):
    report_id = _publish_one(app, world)
    client = login_as(key)
    token = csrf_token(client, "/")
    rules = _report_rules(app)
    assert {rule.endpoint for rule in rules} >= {"reports.index", "reports.preview", "reports.publish",
                                                 "reports.show", "reports.download_csv",
                                                 "reports.download_long_csv", "reports.download_xlsx"}
    for rule in rules:
        url = app.url_map.bind("localhost").build(rule.endpoint, {"report_id": report_id} if rule.arguments else {})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token, "period": PERIOD})
            assert response.status_code == 403, (key, method, url)
    assert len(_reports(app)) == 1
    assert 'href="/reports/"' not in client.get("/").get_data(as_text=True)  # no menu entry either


def test_the_officer_menu_has_reports(officer, world):
    assert 'href="/reports/"' in officer.get("/").get_data(as_text=True)


def _record_ids(app, world, people) -> dict[str, int]:
    """Ids of real records for every integer argument of the URL map: a person, their case, a note, a report..."""
    from caseapp.auth.models import User
    from caseapp.beneficiaries.models import ConsentRecord
    from caseapp.cases.models import Case
    from caseapp.cases.notes import add_note

    person_id, case_number = people[-1]
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.number == case_number))
        worker = db.session.get(User, world.users["caseworker_a2"])
        note = add_note(worker, case, kind="general", body="Private note text", occurred_on=date.today())
        db.session.commit()
        consent_id = db.session.scalar(select(func.min(ConsentRecord.id)))
        ids = {"beneficiary_id": person_id, "person_id": person_id, "case_id": case.id, "note_id": note.id,
               "consent_id": consent_id, "user_id": world.users["caseworker_a2"],
               "partner_id": world.partners["A"], "point_id": world.service_points["A-NAD"]}
    ids["report_id"] = _publish_one(app, world)
    return ids


def test_the_officer_sees_no_person_on_any_page(app, world, people, officer):
    ids = _record_ids(app, world, people)
    names = [name for pair in [*OUJ_NAMES, NAD_NAME] for name in pair]
    allowed_pages = ("reports.", "home.", "auth.", "health.")  # health: a probe, no person
    checked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {name: ids.get(name, 1) if isinstance(rule._converters[name], IntegerConverter) else "x"
                  for name in rule.arguments}
        url = app.url_map.bind("localhost").build(rule.endpoint, values)
        response = officer.get(url)
        body = response.get_data(as_text=True) if response.mimetype.startswith("text") else \
            response.data.decode("utf-8", "replace")
        for name in names:
            assert name not in body, (url, name)
        assert "Private note text" not in body, url
        if response.status_code not in (403, 404, 405):
            assert rule.endpoint.startswith(allowed_pages) or rule.endpoint == "referrals.notification_list", \
                (url, response.status_code)
            assert response.status_code in (200, 302), url
        checked += 1
    assert checked > 20


def test_a_published_page_is_rendered_once_per_language_and_stays_right(app, people, officer, monkeypatch):
    from caseapp.auth.models import User
    from caseapp.reports import views

    _publish(officer, _preview(officer).get_data(as_text=True))
    [(report_id, *_)] = _reports(app)
    officer.get(f"/reports/{report_id}")  # shows the flash message "published" once
    rendered = []
    render = views._report_html
    monkeypatch.setattr(views, "_report_html", lambda *args: rendered.append(args[1].id) or render(*args))
    views._PUBLISHED_PAGES.clear()

    def body() -> str:  # the page's main part: the layout around it carries a CSRF token signed with the time
        return officer.get(f"/reports/{report_id}").get_data(as_text=True).split("<main", 1)[1].split("</main>")[0]

    english = body()
    assert body() == english
    assert rendered == [report_id]  # the second page came from the kept body
    officer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    french = body()
    assert "À propos de ces chiffres" in french and "About these figures" not in french
    officer.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert body() == english
    assert rendered == [report_id, report_id]  # one rendering per language

    views._PUBLISHED_PAGES.clear()
    assert body() == english  # kept = rendered afresh

    with app.app_context():  # the publisher's account renamed: the page names them anew
        publisher = db.session.scalar(select(User).where(User.role == "me_officer"))
        publisher.full_name = "Renamed Officer"
        db.session.commit()
    assert "Renamed Officer" in body()

    with app.app_context():  # a commune renamed (reference data): the page names it anew
        from caseapp.places.models import Commune

        db.session.get(Commune, "NAD").name_fr = "Nador (renamed)"  # English falls back to French
        db.session.commit()
    assert "Nador (renamed)" in body()
