"""Template filters: numbers in the interface language, the same as Babel writes them, whatever was written before."""
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from flask_babel import force_locale


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_numbers_are_written_as_babel_writes_them_in_each_language(app, language):
    number = app.jinja_env.filters["number"]
    values = [0, 7, 1234, 1234567, -4321, 12.5, 0.125, Decimal("98765.4"), -0.0, 0.0]
    with app.test_request_context():
        for other in ("fr", "ar", "en"):  # remembered values of another language never leak into this one
            with force_locale(other):
                [number(value) for value in values]
        with force_locale(language):
            written = [number(value) for value in values]
    assert written == [format_decimal(value, locale=language) for value in values]
    assert (written[3] == "1\u202f234\u202f567") == (language == "fr")  # French groups with a narrow no-break space
