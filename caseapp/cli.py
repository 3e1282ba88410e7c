"""`flask caseapp ...` commands: load-reference, seed-demo, create-admin, demo-logins."""
import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from caseapp.extensions import db

caseapp_cli = AppGroup("caseapp", help="caseapp administration commands.")
MIN_PASSWORD_LENGTH = 12


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
    lines = [f"{username:18} {password:20} {user.role}" for username, (user, password) in accounts.items()]
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


@caseapp_cli.command("create-admin")
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--partner-code", required=True, help="Code of the administrator's organisation.")
@click.option("--partner-name", help="Name of the organisation, when it does not exist yet.")
@click.password_option(help="At least 12 characters; asked for when not given.")
def create_admin_command(username: str, full_name: str, partner_code: str, partner_name: str | None, password: str):
    """Create the first administrator account (and its organisation)."""
    from caseapp.auth.services import create_user
    from caseapp.partners.models import Partner
    from caseapp.places.loader import load_reference_data

    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
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


def register_cli(app: Flask) -> None:
    """Attach the command group to the app."""
    app.cli.add_command(caseapp_cli)
