"""Security headers on every response and no-store on authenticated pages."""
from flask import Flask, Response, request
from flask_login import current_user

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def set_content_headers(headers) -> None:
    """The content security policy and nosniff: on pages, and on static files (served before Flask)."""
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"


def add_security_headers(response: Response) -> Response:
    """after_request hook: CSP, nosniff, referrer policy, HSTS over HTTPS, no caching of private pages."""
    set_content_headers(response.headers)
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    # is_anonymous, not is_authenticated: a view that committed has expired the user's attributes, and reading
    # `active` again would cost a statement on every such page
    if request.endpoint != "static" and not current_user.is_anonymous:
        response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Server", None)
    return response


def init_headers(app: Flask) -> None:
    """Register the header hook."""
    app.after_request(add_security_headers)
