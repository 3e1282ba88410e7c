"""Log injection defence (requirement 17): control characters in log output are escaped.

A value a user controls (a form field, a URL, an exception message quoting either) cannot start a line that looks
like another log record: every record comes out as one line, with CR, LF, tab and every other control character
written as an escape (and backslashes doubled, so escapes cannot be faked either). Tracebacks come out on that one
line too, with their newlines escaped.
"""
import logging

from flask import Flask

_ESCAPES: dict[int, str] = {ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}
_ESCAPES.update({code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code not in _ESCAPES})
_ESCAPES.update({0x2028: "\\u2028", 0x2029: "\\u2029"})  # line and paragraph separators


def neutralise(text: str) -> str:
    """The text with control characters, line separators and backslashes escaped: always one line."""
    return text.translate(_ESCAPES)


class NeutralisingFormatter(logging.Formatter):
    """Formats with the wrapped formatter (the handler's own), then escapes the result: one record, one line."""

    def __init__(self, inner: logging.Formatter | None = None):
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        """The wrapped formatter's output, neutralised."""
        return neutralise(self.inner.format(record))


def install_log_neutralisation(app: Flask) -> None:
    """Wrap the formatter of every handler the app's records reach (the app's logger up to the root); idempotent.

    Handlers added later (a logging configuration loaded after the app is built) need a NeutralisingFormatter too.
    """
    logger: logging.Logger | None = app.logger  # creating it adds Flask's default handler when nothing else logs
    while logger is not None:
        for handler in logger.handlers:
            if not isinstance(handler.formatter, NeutralisingFormatter):
                handler.setFormatter(NeutralisingFormatter(handler.formatter))
        logger = logger.parent if logger.propagate else None
