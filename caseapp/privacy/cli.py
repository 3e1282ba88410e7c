"""`flask caseapp retention ...`: anonymise cases closed longer than the retention period."""
import click
from flask import current_app
from flask.cli import AppGroup

from caseapp.extensions import db

retention_cli = AppGroup("retention", help="Retention of closed cases.")


@retention_cli.command("run")
@click.option("--dry-run", "dry_run", is_flag=True, help="List the people due for anonymisation; change nothing.")
@click.option("--apply", "apply_", is_flag=True, help="Anonymise them (reason: retention) and commit.")
def run_command(dry_run: bool, apply_: bool):
    """Anonymise people whose cases are all closed since longer than RETENTION_DAYS (give --dry-run or --apply)."""
    from caseapp.privacy.services import apply_retention, retention_candidates

    if dry_run == apply_:
        raise click.UsageError("Give exactly one of --dry-run or --apply.")
    days = current_app.config["RETENTION_DAYS"]
    if dry_run:
        candidates = retention_candidates(days)
        for candidate in candidates:
            click.echo(f"{', '.join(candidate.case_numbers)}\tclosed {candidate.last_closed_at:%Y-%m-%d}")
        db.session.rollback()
        click.echo(f"{len(candidates)} person(s) would be anonymised (retention period {days} days). "
                   "Nothing was changed.")
        return
    candidates = apply_retention(days)
    db.session.commit()
    click.echo(f"{len(candidates)} person(s) anonymised (retention period {days} days).")
