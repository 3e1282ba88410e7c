"""`flask caseapp ...` commands: load-reference, seed-demo, create-admin, demo-logins, audit verify; keys and retention
sub-groups live with their features."""
import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import func, select

from caseapp.extensions import db

caseapp_cli = AppGroup("caseapp", help="caseapp administration commands.")


def _logins_file() -> Path:
    return Path(current_app.instance_path) / "demo-logins.txt"


@caseapp_cli.command("load-reference")
def load_reference_command():
    """Create or update regions, provinces, communes and vulnerability flags."""
    from caseapp.places.loader import load_reference_data

    load_reference_data()
    db.session.commit()
    click.echo("Reference data loaded.")


@caseapp_cli.command("seed-demo")
@click.option("--people", default=200, show_default=True, help="Synthetic beneficiaries to create.")
@click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
def seed_demo_command(people: int, if_empty: bool):
    """Load demo partners, service points, one account per role and synthetic people."""
    from caseapp.auth.models import User
    from caseapp.demo import seed_demo

    if db.session.scalar(select(func.count()).select_from(User)):
        if if_empty:
            click.echo("The database already has users: demo data not loaded.")
            return
        raise click.ClickException("The database already has users; seed-demo only runs on an empty database.")
    accounts = seed_demo(people)
    db.session.commit()
    lines = [f"{username:18} {password:20} {user.role:18} {'two-step login' if user.mfa_enabled else ''}".rstrip()
             for username, (user, password) in accounts.items()]
    path = _logins_file()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(path, 0o600)
    click.echo(f"Demo data loaded: {people} people, {len(lines)} accounts. "
               f"Logins saved in {path} (`flask caseapp demo-logins` prints them).")


@caseapp_cli.command("demo-logins")
def demo_logins_command():
    """Print the demo logins saved by seed-demo on this machine."""
    path = _logins_file()
    if path.exists():
        click.echo(f"Demo logins (username, password, role):\n{path.read_text(encoding='utf-8')}")
        click.echo("Accounts with two-step login ask for a code: `make demo-code ACCOUNT=<username>` prints it.")


@caseapp_cli.command("demo-code")
@click.argument("username")
def demo_code_command(username: str):
    """Print the current second-factor code of a demo account (dev and demo only: stands in for the phone)."""
    import pyotp

    from caseapp.auth.models import User

    if current_app.config["ENV_NAME"] not in ("dev", "demo"):
        raise click.ClickException("demo-code only works on a development or demo installation.")
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or user.totp_secret is None:
        raise click.ClickException(f"{username}: no such account with two-step login.")
    click.echo(pyotp.TOTP(user.totp_secret).now())


@caseapp_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--partner-code", required=True, help="Code of the administrator's organisation.")
@click.option("--partner-name", help="Name of the organisation, when it does not exist yet.")
@click.password_option(help="12 to 128 characters, not a common password; asked for when not given.")
def create_admin_command(username: str, full_name: str, partner_code: str, partner_name: str | None, password: str):
    """Create the first administrator account (and its organisation)."""
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner
    from caseapp.places.loader import load_reference_data
    from caseapp.security.password_policy import password_problems

    with force_locale("en"):  # the command line speaks English
        problems = password_problems(password, username=username, full_name=full_name)
    if problems:
        raise click.ClickException(" ".join(problems))
    load_reference_data()
    partner = db.session.scalars(select(Partner).where(Partner.code == partner_code)).first()
    if partner is None:
        if not partner_name:
            raise click.ClickException("Unknown partner code: give --partner-name to create it.")
        partner = Partner(code=partner_code, name=partner_name, kind="other")
        db.session.add(partner)
        db.session.flush()
    create_user(None, username=username, full_name=full_name, password=password, role="admin",
                partner=partner, service_points=[])
    db.session.commit()
    click.echo(f"Administrator {username} created.")


@caseapp_cli.group("audit")
def audit_cli():
    """Audit trail checks."""


@audit_cli.command("verify")
def audit_verify_command():
    """Recompute the audit hash chain; exit 1 at the first edited, missing or wrongly linked event."""
    from caseapp.audit.chain import verify_chain

    report = verify_chain(db.session)
    if report.broken is not None:
        click.echo(f"audit chain BROKEN at event {report.broken.event_id}: {report.broken.problem} "
                   f"({report.events} events before it are intact)")
        click.get_current_context().exit(1)
    click.echo(f"audit chain OK: {report.events} events")
    if report.last_id is not None:
        click.echo(f"last event: id {report.last_id}, hash {report.last_hash} "
                   "(keep a copy elsewhere: only that reveals deleted newest events)")


def register_cli(app: Flask) -> None:
    """Attach the command group (and its feature sub-groups) to the app."""
    from caseapp.generate.cli import generate_command
    from caseapp.imports.cli import import_command
    from caseapp.maintenance.cli import backup_command, restore_command
    from caseapp.privacy.cli import retention_cli
    from caseapp.reports.cli import report_cli
    from caseapp.security.keys_cli import keys_cli

    caseapp_cli.add_command(retention_cli)
    caseapp_cli.add_command(report_cli)
    caseapp_cli.add_command(keys_cli)
    caseapp_cli.add_command(import_command)
    caseapp_cli.add_command(generate_command)
    caseapp_cli.add_command(backup_command)
    caseapp_cli.add_command(restore_command)
    app.cli.add_command(caseapp_cli)
