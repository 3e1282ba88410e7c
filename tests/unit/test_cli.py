"""Command-line tools: seed-demo only on purpose and only on an empty database; create-admin."""
import pytest
from sqlalchemy import func, select

from caseapp import create_app
from caseapp.auth.models import User
from caseapp.beneficiaries.models import Beneficiary
from caseapp.cases.models import Case
from caseapp.extensions import db


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def cli(app, tmp_path):
    """A second app on the test database whose instance folder is a temporary directory."""
    cli_app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "INSTANCE_PATH": str(tmp_path)})
    yield cli_app, cli_app.test_cli_runner()
    with cli_app.app_context():
        db.engine.dispose()


def test_empty_database_has_no_account(app):
    with app.app_context():
        assert _count(User) == 0


def test_seed_demo_creates_accounts_people_and_cases_once(cli, tmp_path):
    cli_app, runner = cli
    result = runner.invoke(args=["caseapp", "seed-demo", "--people", "22"])
    assert result.exit_code == 0, result.output
    logins = (tmp_path / "demo-logins.txt").read_text(encoding="utf-8").splitlines()
    assert {line.split()[2] for line in logins} == {
        "caseworker", "supervisor", "referral_receiver", "me_officer", "dpo", "admin"}
    assert oct((tmp_path / "demo-logins.txt").stat().st_mode & 0o777) == "0o600"
    with cli_app.app_context():
        assert _count(User) == len(logins)
        assert _count(Beneficiary) == 22
        assert _count(Case) == 22
        service_points = set(db.session.scalars(select(Case.service_point_id)))
        assert len(service_points) == 11  # spread over every service point
    again = runner.invoke(args=["caseapp", "seed-demo"])
    assert again.exit_code != 0 and "already has users" in again.output
    quiet = runner.invoke(args=["caseapp", "seed-demo", "--if-empty"])
    assert quiet.exit_code == 0
    with cli_app.app_context():
        assert _count(Beneficiary) == 22


def test_demo_passwords_log_in(cli, tmp_path):
    cli_app, runner = cli
    assert runner.invoke(args=["caseapp", "seed-demo", "--people", "0"]).exit_code == 0
    username, password = (tmp_path / "demo-logins.txt").read_text(encoding="utf-8").splitlines()[0].split()[:2]
    from caseapp.auth.services import authenticate

    with cli_app.test_request_context():
        assert authenticate(username, password) is not None
        assert authenticate(username, password + "x") is None
        db.session.rollback()


def test_create_admin(cli, tmp_path):
    cli_app, runner = cli
    short = runner.invoke(args=["caseapp", "create-admin", "--username", "root", "--full-name", "R",
                                "--partner-code", "IOM", "--partner-name", "IOM", "--password", "short"])
    assert short.exit_code != 0 and "12 characters" in short.output
    unknown = runner.invoke(args=["caseapp", "create-admin", "--username", "root", "--full-name", "R",
                                  "--partner-code", "NOPE", "--password", "a long enough password"])
    assert unknown.exit_code != 0
    ok = runner.invoke(args=["caseapp", "create-admin", "--username", "root", "--full-name", "Root Admin",
                             "--partner-code", "IOM", "--partner-name", "IOM", "--password", "a long enough password"])
    assert ok.exit_code == 0, ok.output
    with cli_app.app_context():
        admin = db.session.scalars(select(User).where(User.username == "root")).one()
        assert admin.role == "admin" and admin.password_hash.startswith("$argon2id$")
