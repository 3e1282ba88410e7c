"""The signed-cookie session: none for health probes, and an unchanged session's cookie signed again at most once
a minute (its signature's time is the idle timeout's start)."""
from datetime import datetime, timedelta, timezone

from flask import Flask, current_app, session
from flask import request as current_request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from caseapp.health import PREFIX as HEALTH_PREFIX

# An unchanged session's cookie is signed again (its idle timeout restarted) at most this often: signing and
# serialising it cost ~0.3 ms of every page. The idle timeout (PERMANENT_SESSION_LIFETIME, 30 minutes) then runs
# from the last re-signed request: it ends up to a minute earlier after the last request, never later.
SESSION_REFRESH_AFTER = timedelta(seconds=60)


class CookieSessionInterface(SecureCookieSessionInterface):
    """The app's signed-cookie sessions, except under /health/: there the cookie is not read (a fresh, empty
    session) and nothing is sent back, whatever an error page rendered there writes into it. An unchanged
    session's cookie is re-signed only when its signature is `SESSION_REFRESH_AFTER` old."""

    @staticmethod
    def _is_probe(path: str) -> bool:
        return path.startswith(HEALTH_PREFIX + "/")

    def open_session(self, app: Flask, request):
        if self._is_probe(request.path):
            return self.session_class()
        serializer = self.get_signing_serializer(app)
        cookie = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not cookie:
            return super().open_session(app, request)
        try:
            data, signed_at = serializer.loads(cookie, max_age=int(app.permanent_session_lifetime.total_seconds()),
                                               return_timestamp=True)
        except BadSignature:
            return self.session_class()
        opened = self.session_class(data)
        opened.signed_at = signed_at
        return opened

    def should_set_cookie(self, app: Flask, session) -> bool:
        if session.modified:
            return True
        if not super().should_set_cookie(app, session):
            return False
        return _signature_age(session) >= SESSION_REFRESH_AFTER

    def save_session(self, app: Flask, session, response) -> None:
        if not self._is_probe(current_request.path):
            super().save_session(app, session, response)


def _signature_age(session) -> timedelta:
    """How long ago the request's cookie was signed (zero for a session without one)."""
    signed_at = getattr(session, "signed_at", None)
    return datetime.now(timezone.utc) - signed_at if signed_at is not None else timedelta(0)


def session_seconds_left() -> int:
    """Seconds until the current session ends if the user does nothing more (the page's warning counts them down):
    the whole lifetime, less the cookie's age when this response does not sign it again."""
    lifetime = current_app.permanent_session_lifetime
    age = _signature_age(session)
    return int((lifetime if session.modified or age >= SESSION_REFRESH_AFTER else lifetime - age).total_seconds())
