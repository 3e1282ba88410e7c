"""The header's menu offers each account exactly the pages its role opens, in its language, whatever menus the
same process rendered before for other accounts and languages (caseapp.navigation keeps one copy per kind)."""
import re

from flask import url_for

from caseapp.access.policy import can
from caseapp.auth.models import User
from caseapp.extensions import db
from caseapp.navigation import MENU
from tests.conftest import USERS, csrf_token

MENU_LIST = re.compile(r'<ul class="navbar-nav me-auto">(.*?)</ul>', re.S)


def _menu_links(html: str) -> list[str]:
    return re.findall(r'class="nav-link" href="([^"]+)"', MENU_LIST.search(html).group(1))


def _expected_links(app, user_id: int) -> list[str]:
    with app.test_request_context():
        user = db.session.get(User, user_id)
        links = [url_for(endpoint) for permission, endpoint, _ in MENU if can(user, permission)]
        return [*links, url_for("referrals.notification_list")]


def test_every_role_sees_the_links_it_may_open_and_no_other(app, world, login_as):
    for key in [*USERS, "admin", "caseworker_a"]:  # after every other role's menu, the first ones again
        links = _menu_links(login_as(key).get("/").get_data(as_text=True))
        assert links == _expected_links(app, world.users[key]), key
        for path in links:
            assert login_as(key).get(path).status_code == 200, (key, path)


def test_the_menu_is_in_the_accounts_language(app, world, login_as):
    client = login_as("supervisor_a")
    french = client.get("/").get_data(as_text=True)
    assert ">Dossiers</a>" in MENU_LIST.search(french).group(1)
    client.post("/language", data={"language": "ar", "next": "/", "csrf_token": csrf_token(client, "/")})
    arabic = MENU_LIST.search(client.get("/").get_data(as_text=True)).group(1)
    assert ">Dossiers</a>" not in arabic and ">الملفات</a>" in arabic
    client.post("/language", data={"language": "en", "next": "/", "csrf_token": csrf_token(client, "/")})
    assert ">Cases</a>" in MENU_LIST.search(client.get("/").get_data(as_text=True)).group(1)


def test_an_anonymous_page_has_no_menu(app, world):
    assert MENU_LIST.search(app.test_client().get("/login").get_data(as_text=True)) is None
