"""Login, logout and the first pages."""
from tests.conftest import login


def test_login_then_home(app, world):
    client = app.test_client()
    response = login(client, "caseworker.a")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
