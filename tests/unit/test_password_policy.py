"""Password policy: 12 to 128 characters, no composition rules, not common, not the username or the name."""
from pathlib import Path

import pytest
from flask_babel import gettext

from caseapp.auth.services import create_user
from caseapp.errors import ValidationFailed
from caseapp.security import password_policy
from caseapp.security.password_policy import COMMON_PASSWORDS_FILE, common_passwords, password_problems


def _refused(password: str, **identity) -> bool:
    return bool(password_problems(password, **identity))


@pytest.mark.parametrize("password", [
    "mint lagoons",  # 12 characters, lowercase letters and a space only
    "correct horse battery staple",  # no digit, no capital, no symbol: no composition rule applies
    "ALL UPPER CASE WORDS",
    "zq" * 32,  # 64
    "blue harbour lantern " * 6 + "x" * 2,  # 128
    "mot de passe très long avec des accents é à ç",
    "كلمة مرور طويلة بما فيه الكفاية",
])
def test_accepted(password):
    assert 12 <= len(password) <= 128
    assert password_problems(password, username="caseworker.a", full_name="Caseworker A") == []


@pytest.mark.parametrize("password, length", [("mint lagoon", 11), ("k" * 129, 129), ("x" * 1000, 1000)])
def test_length_outside_12_to_128_is_refused(password, length):
    assert len(password) == length
    problems = password_problems(password)
    assert len(problems) == 1
    assert ("12" if length < 12 else "128") in problems[0]


@pytest.mark.parametrize("password", [
    "password1234", "123456789012", "PASSWORD1234", "PassWord1234", "1q2w3e4r5t6y", " password1234 ",
])
def test_common_passwords_are_refused_whatever_their_case(password):
    assert password_problems(password) == ["This password is too common: choose another one."]


def test_short_common_password_gets_both_reasons():
    assert len(password_problems("password")) == 2


@pytest.mark.parametrize("password", ["caseworker.alpha", "CaseWorker.Alpha", " caseworker.alpha "])
def test_the_username_is_refused(password):
    assert password_problems(password, username="caseworker.alpha") == ["The password must not be the username."]


@pytest.mark.parametrize("password", ["Fatima Zahra Benali", "fatima zahra benali", "FatimaZahraBenali"])
def test_the_full_name_is_refused(password):
    assert password_problems(password, full_name="Fatima Zahra Benali") == [
        "The password must not be the person's name."]


def test_containing_the_username_is_not_refused():
    assert password_problems("caseworker.alpha plus more", username="caseworker.alpha") == []


def test_the_bundled_list_is_small_complete_and_documented():
    assert COMMON_PASSWORDS_FILE.stat().st_size < 300 * 1024
    words = common_passwords()
    assert len(words) > 50_000
    assert all(word == word.lower() for word in words)
    readme = (Path(password_policy.__file__).parent / "data" / "README.md").read_text(encoding="utf-8")
    for fact in ("@zxcvbn-ts/language-common", "4.1.3", "MIT", "Django", "5.2.19", "BSD-3-Clause"):
        assert fact in readme
    for licence in ("LICENSE-zxcvbn-ts.txt", "LICENSE-django.txt"):
        assert (COMMON_PASSWORDS_FILE.parent / licence).exists()


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_messages_go_through_the_catalogue(app, language):
    with app.test_request_context(headers={"Accept-Language": language}):
        expected = gettext("The password needs at least %(count)d characters.", count=12)
        assert password_problems("kq7#vLp2zR9") == [expected]


def test_create_user_refuses_a_password_against_the_policy(app_ctx, world):
    from caseapp.extensions import db
    from caseapp.partners.models import Partner

    partner = db.session.get(Partner, world.partners["A"])
    for password in ("password1234", "short", "new.person1", "New Person One"):
        with pytest.raises(ValidationFailed) as refused:
            create_user(None, username="new.person1", full_name="New Person One", password=password,
                        role="caseworker", partner=partner, service_points=[])
        assert list(refused.value.errors) == ["password"]


def test_create_admin_refuses_a_common_password_and_the_username(app):
    runner = app.test_cli_runner()
    base = ["caseapp", "create-admin", "--full-name", "Root Admin", "--partner-code", "IOM", "--partner-name", "IOM"]
    common = runner.invoke(args=[*base, "--username", "root", "--password", "Password1234"])
    assert common.exit_code != 0 and "too common" in common.output
    same = runner.invoke(args=[*base, "--username", "root.administrator", "--password", "Root.Administrator"])
    assert same.exit_code != 0 and "username" in same.output
    too_long = runner.invoke(args=[*base, "--username", "root", "--password", "p" * 129])
    assert too_long.exit_code != 0 and "128 characters" in too_long.output
    ok = runner.invoke(args=[*base, "--username", "root", "--password", "correct horse battery staple"])
    assert ok.exit_code == 0, ok.output
