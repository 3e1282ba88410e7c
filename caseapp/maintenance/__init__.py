"""Operations on the whole database: backups with a manifest, and verified restores into an empty database."""
