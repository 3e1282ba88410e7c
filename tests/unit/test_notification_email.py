"""E-mail copies of notifications: sent once when SMTP is configured, never with personal data."""
import smtplib

from flask_babel import force_locale
from sqlalchemy import select

from caseapp.auth.models import User
from caseapp.extensions import db
from caseapp.referrals.models import Notification
from caseapp.referrals.notifications import NOTIFICATION_LABELS, send_pending_emails


class FakeSMTP:
    """Stands in for smtplib.SMTP and keeps what was sent."""

    sent: list = []

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send_message(self, message):
        FakeSMTP.sent.append(message)


class BrokenSMTP(FakeSMTP):
    def __init__(self, *args, **kwargs):
        raise smtplib.SMTPConnectError(421, "down")


def _pending_notification(world, referral_id=None) -> Notification:
    user = db.session.get(User, world.users["supervisor_a"])
    user.email = "supervisor@example.org"
    notification = Notification(user_id=user.id, kind="referral.submitted", referral_id=referral_id)
    db.session.add(notification)
    db.session.commit()
    return notification


def test_no_smtp_server_sends_nothing(app, app_ctx, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    _pending_notification(world)
    assert send_pending_emails() == 0
    assert db.session.scalars(select(Notification.emailed_at)).one() is None


def test_pending_notifications_are_mailed_once(app, app_ctx, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    FakeSMTP.sent = []
    _pending_notification(world)
    assert send_pending_emails() == 1
    assert send_pending_emails() == 0  # already marked
    message = FakeSMTP.sent[0]
    assert message["To"] == "supervisor@example.org"
    with app.test_request_context(), force_locale("fr"):  # the user chose no language: French
        assert message["Subject"] == str(NOTIFICATION_LABELS["referral.submitted"])
    assert message.get_content().strip().splitlines()[-1] == "/referrals/None"  # a link, no personal data


def test_an_unreachable_server_keeps_them_pending(app, app_ctx, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setattr(smtplib, "SMTP", BrokenSMTP)
    _pending_notification(world)
    assert send_pending_emails() == 0
    assert db.session.scalars(select(Notification.emailed_at)).one() is None
