"""The home page's heading names the account's organisation and its own service points, by code."""
import pytest


@pytest.mark.parametrize("key, heading", [
    ("supervisor_a", "Partner A · Point A-NAD et Point A-OUJ"),  # by code: A-NAD before A-OUJ; French "et"
    ("caseworker_a2", "Partner A · Point A-NAD"),
    ("caseworker_b", "Partner B · Point B-BEM"),
    ("receiver", "Partner C"),
])
def test_home_names_the_account_s_organisation_and_service_points(app, world, login_as, key, heading):
    page = login_as(key).get("/").get_data(as_text=True)
    assert f'<p class="text-body-secondary">{heading}</p>' in page
    others = {"Point A-OUJ", "Point A-NAD", "Point B-BEM"} - set(heading.replace(" et ", " · ").split(" · "))
    assert not any(point in page for point in others)  # never another account's service point
