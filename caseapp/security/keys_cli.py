"""`flask caseapp keys status|rotate`: encryption keys from the command line (a new key file: see encryption.py)."""
import click
from flask.cli import AppGroup

from caseapp.extensions import db

keys_cli = AppGroup("keys", help="Encryption keys: status, rotate.")


@keys_cli.command("status")
def keys_status_command():
    """Show which key ids sealed the stored values."""
    from caseapp.security.encryption import keyring
    from caseapp.security.keys import key_ids_in_use

    click.echo(f"current key: {keyring().current_key_id}")
    for column, counts in key_ids_in_use().items():
        click.echo(f"{column}: " + (", ".join(f"{key} {count}" for key, count in sorted(counts.items())) or "empty"))


@keys_cli.command("rotate")
def keys_rotate_command():
    """Re-encrypt every value with the current (first) key and recompute the blind indexes; one transaction."""
    from caseapp.security.keys import rotate_keys

    report = rotate_keys()
    db.session.commit()
    for column, count in sorted(report.resealed.items()):
        click.echo(f"re-encrypted {column}: {count}")
    for column, count in sorted(report.reindexed.items()):
        click.echo(f"re-indexed {column}: {count}")
    click.echo("key rotation done; older keys can be removed once `keys status` shows none of them in use")
