"""Requirement 17: a logged value cannot forge a log line (CR, LF and other control characters are escaped)."""
import io
import logging
import sys

import pytest
from flask import Blueprint, Flask, request

from caseapp import create_app
from caseapp.access.policy import PUBLIC, requires
from caseapp.security.logging import NeutralisingFormatter, install_log_neutralisation, neutralise

FORGED = "[2026-11-23 10:00:00,000] INFO in views: login ok for admin"


@pytest.mark.parametrize("raw, escaped", [
    ("plain text, accents é and Arabic محمد", "plain text, accents é and Arabic محمد"),
    ("a\nb", "a\\nb"),
    ("a\r\nb", "a\\r\\nb"),
    ("tab\there", "tab\\there"),
    ("bell\x07 escape\x1b[31m del\x7f nel\x85", "bell\\x07 escape\\x1b[31m del\\x7f nel\\x85"),
    ("line\u2028separator\u2029", "line\\u2028separator\\u2029"),
    ("C:\\new", "C:\\\\new"),  # a backslash is doubled, so a real "\n" and an escaped one never look alike
])
def test_neutralise(raw, escaped):
    assert neutralise(raw) == escaped


def _record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("caseapp", logging.WARNING, __file__, 1, message, args, exc_info)


def test_formatter_keeps_a_record_on_one_line_with_the_inner_format():
    formatter = NeutralisingFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    line = formatter.format(_record("login failed for %s", f"bob\n{FORGED}"))
    assert line == f"WARNING caseapp: login failed for bob\\n{FORGED}"
    assert "\n" not in line


def test_a_traceback_quoting_user_text_stays_on_the_record_line():
    try:
        raise ValueError(f"unknown commune 'x\r\n{FORGED}'")
    except ValueError:
        exc_info = sys.exc_info()
    line = NeutralisingFormatter().format(_record("unhandled error %s", "abc123", exc_info=exc_info))
    assert "\n" not in line and "\r" not in line
    assert line.startswith("unhandled error abc123\\nTraceback (most recent call last):")
    assert f"\\r\\n{FORGED}" in line


def test_install_wraps_the_app_handlers_once():
    app = Flask("neutralisation_check")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    app.logger.addHandler(handler)
    try:
        install_log_neutralisation(app)
        install_log_neutralisation(app)  # a second app on the same logger does not wrap twice
        assert isinstance(handler.formatter, NeutralisingFormatter)
        assert not isinstance(handler.formatter.inner, NeutralisingFormatter)
        app.logger.warning("search for %s", f"x\n{FORGED}")
    finally:
        app.logger.removeHandler(handler)
    assert stream.getvalue() == f"WARNING search for x\\n{FORGED}\n"


@pytest.fixture
def echo_app(app):
    """An app with a route that logs user input (its factory wraps the handlers of pytest's log capture)."""
    other = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    blueprint = Blueprint("echo", __name__)

    @blueprint.route("/echo")
    @requires(PUBLIC)
    def echo():
        value = request.args.get("q", "")
        logging.getLogger("caseapp").warning("search for %s", value)
        raise RuntimeError(f"cannot search for {value}")

    other.register_blueprint(blueprint)
    yield other
    with other.app_context():
        from caseapp.extensions import db

        db.engine.dispose()


def test_the_factory_neutralises_the_app_log_output(echo_app, caplog):
    """Through the app: a URL parameter with CR/LF, logged as is and quoted in an error, forges no line."""
    response = echo_app.test_client().get("/echo", query_string={"q": f"x\r\n{FORGED}"})
    assert response.status_code == 500
    output = caplog.text
    assert "search for x\\r\\n" + FORGED in output
    assert f"cannot search for x\\r\\n{FORGED}" in output
    assert [line for line in output.splitlines() if line.startswith(FORGED)] == []
    assert len(output.splitlines()) == 2  # two records, one line each (the second with its traceback)
    # the records themselves are untouched: only what reaches the log output is escaped
    assert caplog.records[0].getMessage() == f"search for x\r\n{FORGED}"
