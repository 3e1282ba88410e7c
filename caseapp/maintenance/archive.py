"""The backup file: an uncompressed tar holding manifest.json and the database copy, readable with `tar` too.

The file is written under a temporary name (mode 0600) and renamed when complete, so a backup that fails half-way
never leaves a truncated file under the name asked for. Reading checks the copy's size and sha256 against the
manifest before anything is restored.
"""
import hashlib
import io
import os
import tarfile
import time
from pathlib import Path

from caseapp.maintenance import postgres_store, sqlite_store
from caseapp.maintenance.manifest import CHUNK_BYTES, BackupError, Manifest

MANIFEST_MEMBER = "manifest.json"
DATABASE_MEMBERS = (sqlite_store.MEMBER, postgres_store.MEMBER)
MAX_MANIFEST_BYTES = 1024 * 1024


def _private_tarinfo(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A member entry without the owner's names, readable by its owner only."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def write_archive(output: Path, manifest: Manifest, database_file: Path) -> None:
    """Write manifest and database copy into `output` (mode 0600), which must not exist yet."""
    partial = output.with_name(f".{output.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                data = manifest.to_json()
                info = _private_tarinfo(tarfile.TarInfo(MANIFEST_MEMBER))
                info.size, info.mtime = len(data), int(time.time())
                tar.addfile(info, io.BytesIO(data))
                tar.add(database_file, arcname=manifest.database_member, filter=_private_tarinfo)
            raw.flush()
            os.fsync(raw.fileno())
        if output.exists():
            raise BackupError(f"{output} appeared while the backup was written: not overwritten")
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


def _manifest(tar: tarfile.TarFile) -> Manifest:
    member = tar.getmember(MANIFEST_MEMBER)
    if not member.isfile() or member.size > MAX_MANIFEST_BYTES:
        raise BackupError("the backup's manifest is not a plain file of reasonable size")
    return Manifest.from_json(tar.extractfile(member).read())


def _extract(tar: tarfile.TarFile, manifest: Manifest, workdir: Path) -> Path:
    """Copy the database member into `workdir` (mode 0600), checking its size and checksum against the manifest."""
    if manifest.database_member not in DATABASE_MEMBERS:
        raise BackupError(f"the manifest names an unexpected database member {manifest.database_member!r}")
    target = workdir / manifest.database_member
    member = tar.getmember(manifest.database_member)
    if not member.isfile():
        raise BackupError(f"{manifest.database_member} in the backup is not a plain file")
    digest, size = hashlib.sha256(), 0
    source = tar.extractfile(member)
    with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as copy:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            copy.write(chunk)
    if (size, digest.hexdigest()) != (manifest.size, manifest.sha256):
        raise BackupError(f"the database copy in the backup is damaged: {size} bytes with sha256 "
                          f"{digest.hexdigest()}, the manifest says {manifest.size} bytes with sha256 {manifest.sha256}")
    return target


def read_archive(path: Path, workdir: Path) -> tuple[Manifest, Path]:
    """The backup's manifest, and its database copy unpacked into `workdir` after its checksum was verified."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            manifest = _manifest(tar)
            target = _extract(tar, manifest, workdir)
    except (tarfile.TarError, KeyError, EOFError) as error:
        raise BackupError(f"{path} is not a complete caseapp backup (truncated or damaged?): {error}") from None
    return manifest, target
