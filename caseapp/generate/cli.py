"""`flask caseapp generate --people N --seed S`: synthetic people with two years of case work (never in production)."""
import sys
import time
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from caseapp.extensions import db


@click.command("generate")
@with_appcontext
@click.option("--people", type=click.IntRange(min=1), required=True, help="People to register, each with a case.")
@click.option("--seed", type=int, default=1, show_default=True, help="The same seed gives the same people.")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="End of the two generated years, a UTC date (default: now).")
@click.pass_context
def generate_command(ctx: click.Context, people: int, seed: int, until: datetime | None):
    """Add synthetic people with cases, referrals, notes, follow-ups and audit events over two years.

    On an empty database the demo organisations and accounts are created first (as seed-demo does). When no person
    is registered yet, the run is one transaction: the tables it writes, and those their foreign keys point to
    (accounts, organisations, places), are locked until it ends, so a running app waits; their indexes and foreign
    keys are built once at the end, and a run that stops leaves nothing behind.
    """
    from caseapp.auth.models import User
    from caseapp.beneficiaries.models import Beneficiary
    from caseapp.cli import demo_logins_command, seed_demo_command
    from caseapp.generate.run import GenerateError, generate

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("generate never runs on a production installation.")
    if not db.session.scalar(select(func.count()).select_from(User)):
        ctx.invoke(seed_demo_command, people=0, if_empty=False)
        ctx.invoke(demo_logins_command)
    in_one = not db.session.scalar(select(func.count()).select_from(Beneficiary))
    db.session.rollback()  # the counts' transaction: the run opens its own
    began = time.perf_counter()
    end = until.replace(tzinfo=timezone.utc) if until else None
    try:
        with click.progressbar(length=people, label="Generating people", file=sys.stderr) as bar:
            written = generate(people, seed, end, progress=bar.update, in_one=in_one)
    except GenerateError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Generated {people} people in {time.perf_counter() - began:.0f} s: {written['case_file']} cases, "
               f"{written['referral']} referrals, {written['case_note']} notes, {written['follow_up']} follow-ups, "
               f"{written['audit_event']} audit events.")
