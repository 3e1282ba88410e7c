"""`flask caseapp backup --output FILE` and `flask caseapp restore FILE`: the whole database, checked both ways."""
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import with_appcontext

from caseapp.extensions import db
from caseapp.maintenance.manifest import BackupError

KEYS_WARNING = (
    "The encryption keys are NOT in the backup: keep CASEAPP_ENCRYPTION_KEYS and CASEAPP_BLIND_INDEX_KEY (or the key "
    "file) separately and safely; without them the encrypted values of a restored copy cannot be read. The other "
    "personal data are in clear in the file: store it encrypted, where only administrators can read it."
)


@contextmanager
def _clear_errors() -> Iterator[None]:
    """A BackupError ends the command with its message and exit status 1, without a traceback."""
    try:
        yield
    except BackupError as error:
        raise click.ClickException(str(error)) from None


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1024 / 1024:.1f} MiB"


@click.command("backup")
@with_appcontext
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The backup file to create (it must not exist yet).")
def backup_command(output: Path):
    """Back up the whole database into one file (mode 600) with a manifest of row counts and the audit chain head."""
    from caseapp.maintenance.backup import backup_database

    with _clear_errors():
        manifest = backup_database(output)
    db.session.commit()
    snapshot = manifest.snapshot
    click.echo(f"backup written: {output} ({_size(output)}, {manifest.backend}), sha256 {manifest.sha256}")
    click.echo(f"{len(snapshot.row_counts)} tables, {snapshot.rows} rows; audit chain head: event "
               f"{snapshot.audit_last_id}, hash {snapshot.audit_last_hash}")
    click.echo(f"encrypted values sealed with key ids: {', '.join(manifest.key_ids) or 'none'}")
    click.echo(f"WARNING: {KEYS_WARNING}")


@click.command("restore")
@with_appcontext
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(backup_file: Path):
    """Restore a backup into the configured database, which must be empty; check row counts and the audit chain."""
    from caseapp.maintenance.backup import restore_database

    with _clear_errors():
        report = restore_database(backup_file)
    db.session.commit()
    manifest, snapshot = report.manifest, report.manifest.snapshot
    click.echo(f"restored {backup_file} (backup of {manifest.created_at}, {manifest.backend}, schema revision "
               f"{snapshot.revision}; `flask db upgrade` brings an older one up to date)")
    click.echo(f"row counts identical to the backup in all {len(snapshot.row_counts)} tables ({snapshot.rows} rows)")
    click.echo(f"audit chain OK: {report.audit_events} events, ending at event {snapshot.audit_last_id} as in the "
               f"backup; the restore is recorded as event {report.restore_event_id}")
    if report.missing_key_ids:
        click.echo(f"WARNING: values sealed with key ids {', '.join(report.missing_key_ids)} cannot be opened: "
                   "those keys are not configured here (CASEAPP_ENCRYPTION_KEYS or the key file)")
