"""routing.IdUrls: a list's row links, joined from one url_for, are the URLs url_for itself gives."""
import pytest
from flask import url_for

from caseapp.routing import IdUrls


@pytest.mark.parametrize("script_root", ["", "/caseapp"])
def test_row_links_are_url_for_s_urls(app, script_root):
    routes = [("cases.show", "case_id"), ("beneficiaries.show", "beneficiary_id"), ("referrals.show", "referral_id")]
    with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
        for endpoint, argument in routes:
            links = IdUrls(endpoint, argument)
            for record_id in (0, 7, 123456, 2**31 - 1):
                assert links(record_id) == url_for(endpoint, **{argument: record_id})
            assert links(42).startswith(f"{script_root}/")


def test_row_links_take_only_numbers(app):
    with app.test_request_context("/"):
        links = IdUrls("cases.show", "case_id")
        with pytest.raises(ValueError):
            links("1/../../admin")
