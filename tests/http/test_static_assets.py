"""Static files: pages link content-hashed names cached for a year; plain names briefly; outdated hashes 404."""
import hashlib
import re
from pathlib import Path

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from caseapp.assets import HASH_LENGTH, AssetManifest, StaticFiles
from caseapp.config import ROOT

STATIC = ROOT / "static"
ASSET_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')
YEAR = "public, max-age=31536000, immutable"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]


def _file_behind(url: str) -> tuple[Path, str]:
    """The static file a fingerprinted URL names, and the hash the URL carries."""
    match = re.fullmatch(rf"/static/(.+)\.([0-9a-f]{{{HASH_LENGTH}}})(\.[a-z]+)", url)
    assert match, f"{url} carries no content hash"
    return STATIC / (match[1] + match[3]), match[2]


def _asset_urls(client, path: str) -> list[str]:
    urls = ASSET_URL.findall(client.get(path).get_data(as_text=True))
    assert urls, f"{path} links no static file"
    return urls


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_pages_link_the_hash_of_the_current_file_contents(login_as, language):
    client = login_as("caseworker_a")
    with client.session_transaction() as session:
        session["lang"] = language
    urls = _asset_urls(client, "/")
    stylesheet = "bootstrap.rtl.min" if language == "ar" else "bootstrap.min"
    assert any(stylesheet + "." in url for url in urls), urls
    assert any("/js/session-timeout." in url for url in urls), urls
    for url in urls:
        path, carried = _file_behind(url)
        assert path.is_file(), url
        assert carried == _digest(path), f"{url} does not carry the hash of {path.name}'s bytes"


def test_the_login_page_links_fingerprinted_files_too(app):
    for url in _asset_urls(app.test_client(), "/login"):
        path, carried = _file_behind(url)
        assert carried == _digest(path)


def test_fingerprinted_files_are_cached_for_a_year_without_session_cookie(login_as):
    client = login_as("caseworker_a")
    for url in _asset_urls(client, "/"):
        path, _ = _file_behind(url)
        with client.get(url) as response:
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == YEAR
            assert response.get_data() == path.read_bytes()
            # A response every cache may keep never carries (or varies on) the session.
            assert "Set-Cookie" not in response.headers
            assert "Cookie" not in response.headers.get("Vary", "")
            assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_plain_name_still_works_with_a_short_cache(app):
    with app.test_client().get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert response.get_data() == (STATIC / "css" / "app.css").read_bytes()
        cache = response.cache_control
        assert cache.max_age is not None and 0 < cache.max_age <= 3600
        assert not cache.immutable


def test_a_plain_name_revalidates_with_its_etag(app):
    client = app.test_client()
    with client.get("/static/css/app.css") as first:
        etag = first.headers["ETag"]
    with client.get("/static/css/app.css", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


@pytest.mark.parametrize("url", [
    "/static/css/app.000000000000.css",  # a hash this file never had (an outdated one)
    "/static/css/missing.css",
    "/static/css/missing.0123456789ab.css",
    "/static/../caseapp/config.py",
    "/static/%2e%2e/caseapp/config.py",
    "/static/",
])
def test_unknown_names_and_outdated_hashes_answer_404(app, url):
    with app.test_client().get(url) as response:
        assert response.status_code == 404
        assert "immutable" not in response.headers.get("Cache-Control", "")


def test_only_get_and_head(app):
    client = app.test_client()
    with client.post("/static/css/app.css") as response:
        assert response.status_code == 405
    with client.head("/static/css/app.css") as response:
        assert response.status_code == 200


def test_a_changed_file_gets_a_new_name_and_the_old_one_answers_404(tmp_path):
    (tmp_path / "css").mkdir()
    sheet = tmp_path / "css" / "site.min.css"
    sheet.write_text("body { color: black; }")
    before = AssetManifest(tmp_path).url_name("css/site.min.css")
    sheet.write_text("body { color: navy; }")
    manifest = AssetManifest(tmp_path)  # what the next start computes
    after = manifest.url_name("css/site.min.css")
    assert before != after
    assert re.fullmatch(rf"css/site\.min\.[0-9a-f]{{{HASH_LENGTH}}}\.css", after)
    client = Client(StaticFiles(Response("the app"), manifest, "/static"))
    with client.get(f"/static/{after}") as response:
        assert response.get_data() == b"body { color: navy; }"
    with client.get(f"/static/{before}") as response:
        assert response.status_code == 404
    with client.get("/other") as response:
        assert response.get_data() == b"the app"  # everything else goes to the app


def test_a_template_naming_a_missing_file_fails_loudly(app):
    from caseapp.assets import asset

    with app.test_request_context(), pytest.raises(LookupError):
        asset("css/no-such-file.css")
