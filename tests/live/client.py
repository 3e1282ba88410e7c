"""A small browser for live tests (standard library only): cookies, forms, hidden fields, logging in.

One connection per request (Connection: close), so a POST is never silently resent on a reused connection;
redirects are not followed, so a test sees every 302 and where it points.
"""
import html
import http.client
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pyotp

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
ACTION = re.compile(r'\baction="([^"]*)"')
INPUT = re.compile(r"<input\b[^>]*>")
ATTRIBUTE = re.compile(r'\b(name|value|type)="([^"]*)"')
SELECT = re.compile(r'<select\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', re.S)
OPTION_VALUE = re.compile(r'<option\b[^>]*\bvalue="([^"]+)"')


@dataclass
class Page:
    """One response to a request for `path`: status, headers (lower-case names), body."""

    path: str
    status: int
    headers: dict[str, str]
    body: str

    @property
    def location(self) -> str:
        """The path a redirect points to ("" when not a redirect)."""
        return urlsplit(self.headers.get("location", "")).path

    def hidden_fields(self, action: str | None = None) -> dict[str, str]:
        """Hidden inputs (CSRF token, form token, version...) of the form that posts to `action` (by default to
        this page, as a form without an action does)."""
        action = action or self.path
        for attributes, content in FORM.findall(self.body):
            form_action = ACTION.search(attributes)
            if (html.unescape(form_action.group(1)) if form_action else self.path) == action:
                inputs = (dict(ATTRIBUTE.findall(tag)) for tag in INPUT.findall(content))
                return {field["name"]: html.unescape(field.get("value", "")) for field in inputs
                        if field.get("type") == "hidden" and "name" in field}
        raise LookupError(f"no form posting to {action} (status {self.status})")

    def first_option(self, select_name: str) -> str:
        """The first non-empty option of a <select>."""
        for name, options in SELECT.findall(self.body):
            if name == select_name and (values := OPTION_VALUE.findall(options)):
                return html.unescape(values[0])
        raise LookupError(f"no option in select {select_name}")


class Browser:
    """Cookies of one user on one server; asks for English pages."""

    def __init__(self, base_url: str, timeout: float = 60.0):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> Page:
        return self._request("GET", path)

    def post(self, path: str, fields: dict[str, str | list[str]]) -> Page:
        return self._request("POST", path, urlencode(fields, doseq=True))

    def _request(self, method: str, path: str, body: str | None = None) -> Page:
        headers = {"Accept-Language": "en", "Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            page = Page(path, response.status, {name.lower(): value for name, value in response.getheaders()},
                        response.read().decode("utf-8", errors="replace"))
            self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
        finally:
            connection.close()
        return page

    def _keep_cookies(self, set_cookie_headers: list[str]) -> None:
        for header in set_cookie_headers:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def log_in(browser: Browser, username: str, password: str, totp_secret: str | None = None) -> Page:
    """Log in through the real forms (CSRF token, then the authenticator code when asked); the last response."""
    form = browser.get("/login").hidden_fields()
    page = browser.post("/login", {**form, "username": username, "password": password})
    if page.status == 302 and page.location == "/login/code":
        if totp_secret is None:
            raise RuntimeError(f"{username} needs a second factor")
        form = browser.get("/login/code").hidden_fields()
        page = browser.post("/login/code", {**form, "code": pyotp.TOTP(totp_secret).now()})
    if page.status != 302 or page.location == "/login":
        raise RuntimeError(f"login of {username} failed: {page.status} {page.location}")
    return page
